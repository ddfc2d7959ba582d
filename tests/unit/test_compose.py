"""The production shape (docker-compose.yml, Dockerfile, infra/) agrees with the code and is safe.

No Docker engine runs here: these tests render docker-compose.yml themselves (the `${VAR:-default}`
interpolation of the Compose spec, then YAML with its merge keys) and check what `docker compose up`
relies on: every service gets the token verification keys and only intake the reporter-data key,
no port is published on all interfaces unless FANGFEI_BIND_ADDRESS says so, every service is
scraped, every alert receiver is a host that compose runs, and the one-shot key service and the
stand-in on-call gateway really do what compose expects of them (they are run here as processes).
Where a Compose v2 CLI is installed (`docker compose version`), its own `config` rendering is
compared too; otherwise that one test is skipped with the reason."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from fangfei.config import DEFAULT_PORTS, PLATFORM_SERVICES, SERVICE_NAMES

ROOT = Path(__file__).resolve().parents[2]
CONTAINER_PORT = 8100
MONGO_URI_RE = re.compile(r"^mongodb://(?P<hosts>[^/]+)/\?(?P<query>.*)$")
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def _yaml(relpath: str) -> Any:
    path = ROOT / relpath
    assert path.is_file(), f"{relpath} is missing"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# -- rendering, as `docker compose config` does --------------------------------------------------
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BRACED = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:-|-|:\?|\?|:\+|\+)(?P<arg>.*))?$", re.DOTALL)


def _expand(spec: str, env: dict[str, str]) -> str:
    match = _BRACED.match(spec)
    assert match, f"cannot interpolate ${{{spec}}}"
    name, op, value = match["name"], match["op"], env.get(match["name"])
    arg = interpolate(match["arg"] or "", env)
    if op is None:
        assert value is not None, f"${{{name}}} has no default: write ${{{name}:-…}}"
        return value
    if op == ":-":
        return value if value else arg
    if op == "-":
        return value if value is not None else arg
    if op in (":?", "?"):
        if value is None or (op == ":?" and not value):
            raise AssertionError(f"compose refuses to start: {name}: {arg}")
        return value
    if op == ":+":
        return arg if value else ""
    return arg if value is not None else ""


def interpolate(text: str, env: dict[str, str]) -> str:
    """The Compose spec's interpolation: $VAR, ${VAR}, ${VAR:-default}, ${VAR-default},
    ${VAR:?error}, ${VAR?error}, ${VAR:+alt}, ${VAR+alt} (defaults may nest), and $$ for a literal $.
    An unset variable without a default is an error here (compose would warn and substitute ""),
    so the file cannot lean on a variable an operator forgot."""
    out, i = [], 0
    while i < len(text):
        if text[i] != "$":
            out.append(text[i])
            i += 1
        elif text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text.startswith("${", i):
            depth, j = 1, i + 2
            while j < len(text) and depth:
                if text.startswith("${", j):
                    depth, j = depth + 1, j + 2
                    continue
                depth -= text[j] == "}"
                j += 1
            assert depth == 0, f"unclosed ${{ in {text!r}"
            out.append(_expand(text[i + 2 : j - 1], env))
            i = j
        else:
            name = _NAME.match(text, i + 1)
            assert name, f"a lone $ in {text!r}: write $$"
            raise AssertionError(f"${name[0]} has no default: write ${{{name[0]}:-…}}")
    return "".join(out)


def _walk(node: Any, env: dict[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, dict):
        return {key: _walk(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [_walk(value, env) for value in node]
    return node


def render(env: dict[str, str] | None = None) -> dict[str, Any]:
    """docker-compose.yml as compose sees it with these variables set (and no .env file): the YAML
    is parsed (merge keys included), then every string value is interpolated."""
    return _walk(_yaml("docker-compose.yml"), env or {})


def test_interpolation_follows_the_compose_spec() -> None:
    env = {"SET": "x", "EMPTY": ""}
    assert interpolate("${SET:-d} ${EMPTY:-d} ${UNSET:-d} ${EMPTY-d} ${UNSET-d}", env) == "x d d  d"
    assert interpolate("$$HOME ${SET:+alt} ${EMPTY:+alt}|", env) == "$HOME alt |"
    assert interpolate("${UNSET:-${SET}}", env) == "x"
    with pytest.raises(AssertionError):
        interpolate("${UNSET}", env)
    with pytest.raises(AssertionError):
        interpolate("${EMPTY:?must be set}", env)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return render()


@pytest.fixture(scope="module")
def opened() -> dict[str, Any]:
    """The file rendered by an operator who deliberately opens the ports to the network."""
    return render({"FANGFEI_BIND_ADDRESS": "0.0.0.0"})


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the `- KEY=value` form
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def _command(service: dict[str, Any]) -> list[str]:
    cmd = service.get("command") or []
    return cmd.split() if isinstance(cmd, str) else [str(c) for c in cmd]


def _depends_on(service: dict[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {d: "service_started" for d in deps}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def _healthcheck_text(service: dict[str, Any]) -> str:
    test = (service.get("healthcheck") or {}).get("test") or []
    return test if isinstance(test, str) else " ".join(str(t) for t in test)


def _mongo_members(services: dict[str, Any]) -> dict[str, Any]:
    return {name: svc for name, svc in services.items() if "--replSet" in _command(svc)}


def _ports(service: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(host ip, host port, container port) of each published port; host ip "" means every
    interface, which is what compose does when the short syntax names none."""
    out = []
    for port in service.get("ports", []):
        if isinstance(port, dict):  # the long syntax
            out.append((str(port.get("host_ip", "")), str(port.get("published", "")), str(port["target"])))
            continue
        text = str(port).split("/")[0]
        if text.startswith("["):  # [::1]:8101:8100
            ip, _, rest = text[1:].partition("]:")
            published, _, target = rest.partition(":")
        else:
            parts = text.split(":")
            ip, published, target = {1: lambda: ("", "", parts[0]), 2: lambda: ("", parts[0], parts[1]),
                                      3: lambda: (parts[0], parts[1], parts[2])}[len(parts)]()
        out.append((ip, published, target))
    return out


def _mounts(service: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """container path -> (source, read-only) of each volume and bind mount."""
    out = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            out[volume["target"]] = (str(volume.get("source", "")), bool(volume.get("read_only")))
            continue
        source, target, *mode = str(volume).split(":")
        out[target] = (source, bool(mode) and "ro" in mode[0].split(","))
    return out


# -- the six services (five event services and the web console) ---------------------------------
@pytest.mark.parametrize("name", PLATFORM_SERVICES)
def test_each_service_runs_in_its_own_container(services: dict[str, Any], name: str) -> None:
    assert name in services, f"docker-compose.yml has no service {name!r}"
    env = _env(services[name])
    assert env.get("FANGFEI_SERVICE") == name, f"{name}: FANGFEI_SERVICE is {env.get('FANGFEI_SERVICE')!r}"
    assert env.get("FANGFEI_HTTP_ADDRESS") == f"0.0.0.0:{CONTAINER_PORT}", (
        f"{name}: must listen on all interfaces, port {CONTAINER_PORT}"
    )


@pytest.mark.parametrize("name", PLATFORM_SERVICES)
def test_each_service_publishes_its_usual_port(services: dict[str, Any], name: str) -> None:
    ports = [(published, target) for _, published, target in _ports(services[name])]
    wanted = (str(DEFAULT_PORTS[name]), str(CONTAINER_PORT))
    assert wanted in ports, f"{name}: expected port mapping {':'.join(wanted)} (the embedded default port), got {ports}"


@pytest.mark.parametrize("name", PLATFORM_SERVICES)
def test_each_service_is_healthchecked_on_health(services: dict[str, Any], name: str) -> None:
    text = _healthcheck_text(services[name])
    assert f"127.0.0.1:{CONTAINER_PORT}/health" in text or f"localhost:{CONTAINER_PORT}/health" in text, (
        f"{name}: the healthcheck must request /health on port {CONTAINER_PORT}, got {text!r}"
    )


@pytest.mark.parametrize("name", PLATFORM_SERVICES)
def test_each_service_waits_for_kafka_and_the_replica_set(services: dict[str, Any], name: str) -> None:
    deps = _depends_on(services[name])
    if name in SERVICE_NAMES:  # the console has no consumer and no relay: it never talks to Kafka
        assert deps.get("kafka") == "service_healthy", f"{name}: must wait for a healthy kafka, has {deps}"
    assert deps.get("mongo-init") == "service_completed_successfully", (
        f"{name}: must wait until the replica set is initiated (mongo-init), has {deps}"
    )


@pytest.mark.parametrize("name", PLATFORM_SERVICES)
def test_each_service_talks_to_the_compose_broker_and_replica_set(
    services: dict[str, Any], name: str
) -> None:
    env = _env(services[name])
    kafka_env = _env(services["kafka"])
    assert f"PLAINTEXT://{env['FANGFEI_KAFKA_BOOTSTRAP']}" in kafka_env["KAFKA_ADVERTISED_LISTENERS"], (
        f"{name}: FANGFEI_KAFKA_BOOTSTRAP={env['FANGFEI_KAFKA_BOOTSTRAP']} is not a listener kafka advertises"
    )
    match = MONGO_URI_RE.match(env.get("FANGFEI_STORE_URI", ""))
    assert match, (
        f"{name}: FANGFEI_STORE_URI must be a mongodb:// rs URI, got {env.get('FANGFEI_STORE_URI')!r}"
    )
    hosts = {h.split(":")[0] for h in match["hosts"].split(",")}
    assert hosts == set(_mongo_members(services)), f"{name}: store URI hosts {hosts} != replica set members"
    assert "replicaSet=rs0" in match["query"], f"{name}: the store URI must name replicaSet=rs0"


# -- Kafka and MongoDB ---------------------------------------------------------------------------
def test_kafka_runs_in_kraft_mode_without_auto_created_topics(services: dict[str, Any]) -> None:
    kafka = services.get("kafka")
    assert kafka, "docker-compose.yml has no kafka service"
    assert kafka["image"].startswith("apache/kafka:"), f"kafka must be the Apache image, got {kafka['image']}"
    env = _env(kafka)
    assert set(env.get("KAFKA_PROCESS_ROLES", "").split(",")) == {"broker", "controller"}, "single KRaft node"
    assert env.get("KAFKA_CONTROLLER_QUORUM_VOTERS"), "KRaft needs KAFKA_CONTROLLER_QUORUM_VOTERS"
    assert "CONTROLLER" in env.get("KAFKA_CONTROLLER_LISTENER_NAMES", ""), "KRaft needs a controller listener"
    assert env.get("CLUSTER_ID"), "KRaft storage is formatted with CLUSTER_ID"
    assert not any("ZOOKEEPER" in k for k in env), "KRaft mode has no ZooKeeper settings"
    assert env.get("KAFKA_AUTO_CREATE_TOPICS_ENABLE") == "false", (
        "topic auto-creation must be off: services create their topics with their own partition count"
    )
    assert "kafka" in _healthcheck_text(kafka), "kafka needs a healthcheck the services can wait for"


def test_mongodb_replica_set_of_three_is_initiated(services: dict[str, Any]) -> None:
    members = _mongo_members(services)
    assert len(members) == 3, f"expected 3 replica-set members (mongod --replSet), found {sorted(members)}"
    for name, svc in members.items():
        cmd = _command(svc)
        assert cmd[cmd.index("--replSet") + 1] == "rs0", f"{name}: must join replica set rs0"
        assert svc["image"].startswith("mongo:7"), f"{name}: expected a mongo:7.x image, got {svc['image']}"

    init = services.get("mongo-init")
    assert init, "docker-compose.yml needs a one-shot mongo-init service that runs rs.initiate()"
    assert {m: "service_healthy" for m in members}.items() <= _depends_on(init).items(), (
        "mongo-init must wait for all three members to be healthy"
    )
    script_mounts = [v for v in init.get("volumes", []) if v.split(":")[1] in " ".join(_command(init))]
    assert script_mounts, "mongo-init must run a script mounted from the repository"
    script = (ROOT / script_mounts[0].split(":")[0]).read_text(encoding="utf-8")
    assert "rs.initiate(" in script and '"rs0"' in script, "the init script must initiate rs0"
    hosts = set(re.findall(r'host:\s*"([a-z0-9-]+):27017"', script))
    assert hosts == set(members), f"the init script's members {hosts} != compose members {set(members)}"


# -- observability -------------------------------------------------------------------------------
def _scrape_targets() -> dict[str, dict[str, str]]:
    config = _yaml("infra/prometheus/prometheus.yml")
    targets: dict[str, dict[str, str]] = {}
    for job in config["scrape_configs"]:
        for static in job.get("static_configs", []):
            for target in static["targets"]:
                targets[target] = {"job": job["job_name"], "path": job.get("metrics_path", "/metrics"),
                                   **static.get("labels", {})}
    return targets


def test_every_service_is_scraped_with_its_service_label() -> None:
    targets = _scrape_targets()
    for name in PLATFORM_SERVICES:
        target = f"{name}:{CONTAINER_PORT}"
        assert target in targets, f"Prometheus does not scrape {target}"
        assert targets[target]["path"] == "/metrics", f"{target}: scrape path must be /metrics"
        assert targets[target].get("service") == name, f"{target}: needs the label service={name}"


def test_every_scrape_target_is_a_compose_service(services: dict[str, Any]) -> None:
    for target in _scrape_targets():
        host = target.split(":")[0]
        assert host in services, f"Prometheus scrapes {target}, but compose has no service {host!r}"


def test_prometheus_and_grafana_are_provisioned_from_infra(services: dict[str, Any]) -> None:
    assert any(v.startswith("./infra/prometheus/prometheus.yml:") for v in services["prometheus"]["volumes"])
    grafana_mounts = dict(v.split(":")[:2] for v in services["grafana"]["volumes"] if v.startswith("./"))
    assert grafana_mounts.get("./infra/grafana/provisioning") == "/etc/grafana/provisioning"

    provider = _yaml("infra/grafana/provisioning/dashboards/fangfei.yml")["providers"][0]
    dash_dir = provider["options"]["path"]
    assert grafana_mounts.get("./infra/grafana/dashboards") == dash_dir, (
        f"the dashboards provider reads {dash_dir}, which must be where infra/grafana/dashboards is mounted"
    )
    datasource = _yaml("infra/grafana/provisioning/datasources/prometheus.yml")["datasources"][0]
    assert datasource["url"] == "http://prometheus:9090"


def test_prometheus_loads_the_alert_rules_and_sends_alerts_to_alertmanager(services: dict[str, Any]) -> None:
    config = _yaml("infra/prometheus/prometheus.yml")
    mounts = dict(v.split(":")[:2] for v in services["prometheus"]["volumes"] if v.startswith("./"))
    container_dir = mounts.get("./infra/prometheus/rules")
    assert container_dir, "compose must mount infra/prometheus/rules into the prometheus container"
    config_dir = str(Path(mounts["./infra/prometheus/prometheus.yml"]).parent)
    rule_files = config.get("rule_files") or []
    assert rule_files, "prometheus.yml loads no rule_files"
    for pattern in rule_files:
        # Prometheus resolves relative rule paths against the config file's directory.
        in_container = pattern if pattern.startswith("/") else f"{config_dir}/{pattern}"
        assert in_container.startswith(container_dir + "/"), (
            f"rule_files {pattern!r} is {in_container} in the container, outside the mounted {container_dir}"
        )
        repo_files = list((ROOT / "infra/prometheus").glob(pattern)) if not pattern.startswith("/") else []
        assert repo_files, f"rule_files {pattern!r} matches nothing in infra/prometheus"

    targets = [t for am in config["alerting"]["alertmanagers"]
               for static in am["static_configs"] for t in static["targets"]]
    assert targets == ["alertmanager:9093"], f"Prometheus must send alerts to the compose alertmanager: {targets}"


def test_alertmanager_runs_the_routing_in_infra(services: dict[str, Any]) -> None:
    alertmanager = services.get("alertmanager")
    assert alertmanager, "docker-compose.yml has no alertmanager service"
    assert alertmanager["image"].startswith("prom/alertmanager:"), alertmanager["image"]
    mounts = dict(v.split(":")[:2] for v in alertmanager["volumes"] if v.startswith("./"))
    config_path = mounts.get("./infra/alertmanager/alertmanager.yml")
    assert config_path, "compose must mount infra/alertmanager/alertmanager.yml"
    assert f"--config.file={config_path}" in _command(alertmanager), (
        f"alertmanager must be started with --config.file={config_path}"
    )
    assert ("9093", "9093") in [(published, target) for _, published, target in _ports(alertmanager)]


# -- images and files ----------------------------------------------------------------------------
def test_every_image_is_pinned_to_a_version(services: dict[str, Any]) -> None:
    for name, svc in services.items():
        image = svc.get("image")
        assert image, f"{name}: needs an image name with a version tag"
        repo, _, tag = image.rpartition(":")
        assert repo and "/" not in tag, f"{name}: image {image!r} has no tag"
        assert tag != "latest", f"{name}: image {image!r} floats on 'latest'"
        assert re.search(r"\d", tag), f"{name}: image tag {tag!r} is not a version"


def test_every_file_compose_mounts_exists(services: dict[str, Any]) -> None:
    for name, svc in services.items():
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name}: mounts {source}, which is not in the repository"


# -- the image -----------------------------------------------------------------------------------
def _dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    text = re.sub(r"\\\n", " ", text)
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, args = line.partition(" ")
            out.append((instruction.upper(), args.strip()))
    return out


def _dockerignored(path: str) -> bool:
    patterns = [p.strip().rstrip("/") for p in (ROOT / ".dockerignore").read_text().splitlines()]
    patterns = [p for p in patterns if p and not p.startswith("#")]
    for pattern in patterns:
        if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, pattern + "/*"):
            return True
        if pattern.startswith("**/") and any(fnmatch.fnmatch(part, pattern[3:]) for part in path.split("/")):
            return True
    return False


def test_image_is_slim_python_non_root_on_port_8100() -> None:
    steps = _dockerfile()
    assert steps[0] == ("FROM", "python:3.11-slim"), f"base image must be python:3.11-slim, got {steps[0]}"
    users = [args for ins, args in steps if ins == "USER"]
    assert users and users[-1] not in ("root", "0"), "the service must not run as root"
    assert ("EXPOSE", str(CONTAINER_PORT)) in steps
    runs = " ".join(args for ins, args in steps if ins == "RUN")
    assert "requirements" in runs and "pip install --no-deps ." in runs, (
        "dependencies come from requirements.lock, the project itself with --no-deps"
    )


def test_image_copies_only_files_that_exist_and_are_not_dockerignored() -> None:
    for ins, args in _dockerfile():
        if ins != "COPY" or args.startswith("--from"):
            continue
        sources = [a for a in args.split() if not a.startswith("--")][:-1]
        for source in sources:
            rel = source.rstrip("/")
            assert (ROOT / rel).exists(), f"the Dockerfile copies {source}, which is not in the repository"
            assert not _dockerignored(rel), f"the Dockerfile copies {source}, but .dockerignore excludes it"
    for needed in ("infra/nameko/config.yaml", "infra/docker/entrypoint.sh"):
        assert not _dockerignored(needed), f".dockerignore excludes {needed}, which the container runs"


def _entrypoint_classes() -> dict[str, str]:
    steps = _dockerfile()
    cmd = [args for ins, args in steps if ins == "CMD"]
    assert cmd and "infra/docker/entrypoint.sh" in cmd[-1], "CMD must run infra/docker/entrypoint.sh"
    script = (ROOT / "infra/docker/entrypoint.sh").read_text(encoding="utf-8")
    run_line = (r'exec nameko run --config infra/nameko/config\.yaml '
                r'"services\.\$\{service\}\.service:\$\{class\}"')
    assert re.search(run_line, script), "the entrypoint must exec nameko run services.<name>.service:<Class>"
    return dict(re.findall(r"^\s*([a-z]+)\)\s*class=([A-Za-z_]\w*)\s*;;", script, re.MULTILINE))


def test_entrypoint_knows_exactly_the_six_services() -> None:
    assert set(_entrypoint_classes()) == set(PLATFORM_SERVICES)


@pytest.mark.parametrize("name", PLATFORM_SERVICES)
def test_entrypoint_class_exists_in_the_service_module(name: str) -> None:
    cls = _entrypoint_classes().get(name)
    assert cls, f"infra/docker/entrypoint.sh does not map FANGFEI_SERVICE={name}"
    module = ROOT / "services" / name / "service.py"
    assert module.is_file(), f"services/{name}/service.py does not exist (the entrypoint runs {cls} from it)"
    assert re.search(rf"^class {cls}\b", module.read_text(encoding="utf-8"), re.MULTILINE), (
        f"services/{name}/service.py defines no class {cls}, which infra/docker/entrypoint.sh runs"
    )


# -- what each service may read: keys as volumes the one-shot `keys` service fills ---------------
KEYS_SERVICE = "keys"


def _keys_env(services: dict[str, Any]) -> dict[str, str]:
    return _env(services[KEYS_SERVICE])


def _volume_at(service: dict[str, Any], path: str) -> tuple[str, bool] | None:
    return _mounts(service).get(path.rstrip("/"))


def test_a_one_shot_service_creates_the_keys_before_anything_starts(services: dict[str, Any]) -> None:
    keys = services.get(KEYS_SERVICE)
    assert keys, "docker-compose.yml needs a one-shot `keys` service (fangfei keys init) that fills the key volumes"
    assert str(keys.get("restart", "no")) == "no", "the keys service runs once and exits"
    entrypoint = keys.get("entrypoint") or []
    entrypoint = entrypoint.split() if isinstance(entrypoint, str) else [str(e) for e in entrypoint]
    assert "/app/infra/docker/keys.py" in entrypoint, f"keys must run infra/docker/keys.py, runs {entrypoint}"
    assert _command(keys) == ["init"], "the keys service's default command is `init` (create if missing, publish)"
    env = _keys_env(services)
    for var in ("FANGFEI_AUTH_KEYS_DIR", "FANGFEI_KEYS_PUBLISH_DIR", "FANGFEI_GRAFANA_ADMIN_PASSWORD_FILE"):
        assert env.get(var), f"the keys service needs {var}"
    master = _volume_at(keys, env["FANGFEI_AUTH_KEYS_DIR"])
    assert master and not master[0].startswith("."), "the master key directory must be a named volume"
    for name in (*PLATFORM_SERVICES, "grafana"):
        assert _depends_on(services[name]).get(KEYS_SERVICE) == "service_completed_successfully", (
            f"{name}: must wait until the keys service has created and published the keys"
        )


def _published_volumes(services: dict[str, Any]) -> dict[str, str]:
    """subfolder of a key directory (tokens, data) -> the named volume the keys service publishes it to."""
    env = _keys_env(services)
    out = {}
    for sub in ("tokens", "data"):
        mount = _volume_at(services[KEYS_SERVICE], f"{env['FANGFEI_KEYS_PUBLISH_DIR']}/{sub}")
        assert mount and not mount[1], f"the keys service must mount a writable volume at <publish dir>/{sub}"
        out[sub] = mount[0]
    return out


@pytest.mark.parametrize("name", PLATFORM_SERVICES)
def test_each_service_gets_the_verification_keys_read_only(services: dict[str, Any], name: str) -> None:
    env = _env(services[name])
    keys_dir = env.get("FANGFEI_AUTH_KEYS_DIR", "")
    assert keys_dir.startswith("/"), f"{name}: FANGFEI_AUTH_KEYS_DIR must be set (else every request gets 401)"
    mount = _volume_at(services[name], f"{keys_dir}/tokens")
    assert mount, f"{name}: nothing is mounted at {keys_dir}/tokens, where TokenKeys reads the public keys"
    assert mount == (_published_volumes(services)["tokens"], True), (
        f"{name}: {keys_dir}/tokens must be the keys service's published token volume, read-only; got {mount}"
    )


def test_only_intake_gets_the_reporter_data_key_and_nobody_the_signing_key(services: dict[str, Any]) -> None:
    published = _published_volumes(services)
    master = _volume_at(services[KEYS_SERVICE], _keys_env(services)["FANGFEI_AUTH_KEYS_DIR"])[0]
    intake = _env(services["intake"])["FANGFEI_AUTH_KEYS_DIR"]
    assert _volume_at(services["intake"], f"{intake}/data") == (published["data"], True), (
        "intake must mount the published data-key volume read-only at <its key dir>/data (DataKeys reads it)"
    )
    assert published["data"] != published["tokens"] != master
    for name, svc in services.items():
        sources = {source for source, _ in _mounts(svc).values()}
        if name != KEYS_SERVICE:
            assert master not in sources, f"{name} mounts the master key volume (signing key): only `keys` may"
        if name not in (KEYS_SERVICE, "intake"):
            assert published["data"] not in sources, f"{name} mounts the reporter-data key: only intake may"
    declared = set(_yaml("docker-compose.yml").get("volumes") or {})
    assert {master, *published.values()} <= declared, "the key volumes must be declared named volumes"


def _run_keys(tmp_path: Path, services: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    """infra/docker/keys.py as the keys container runs it, with its container paths moved under tmp_path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANGFEI_")}
    for var in ("FANGFEI_AUTH_KEYS_DIR", "FANGFEI_KEYS_PUBLISH_DIR", "FANGFEI_GRAFANA_ADMIN_PASSWORD_FILE"):
        env[var] = str(tmp_path / _keys_env(services)[var].lstrip("/"))
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "shared"), str(ROOT)])
    return subprocess.run([sys.executable, str(ROOT / "infra/docker/keys.py"), *args], env=env,
                          capture_output=True, text=True, timeout=60)


def test_the_keys_service_publishes_public_keys_and_the_data_key_apart(
    tmp_path: Path, services: dict[str, Any]
) -> None:
    from fangfei.auth.config import AuthSettings
    from fangfei.auth.keys import DataKeys, TokenKeys
    from fangfei.auth.tokens import claims_for, sign, verify

    env = _keys_env(services)
    master = tmp_path / env["FANGFEI_AUTH_KEYS_DIR"].lstrip("/")
    publish = tmp_path / env["FANGFEI_KEYS_PUBLISH_DIR"].lstrip("/")
    password = tmp_path / env["FANGFEI_GRAFANA_ADMIN_PASSWORD_FILE"].lstrip("/")

    first = _run_keys(tmp_path, services, "init")
    assert first.returncode == 0, first.stdout + first.stderr
    tokens = sorted(p.name for p in (publish / "tokens").iterdir())
    assert tokens and all(n.endswith(".pub.pem") or n == "active" for n in tokens), tokens
    assert not list(publish.rglob("*.key.pem")), "a private signing key was published"
    assert sorted(p.name for p in (publish / "data").iterdir()) == sorted(
        p.name for p in (master / "data").iterdir()), "the data keys published for intake are the master's"
    secret = password.read_text().strip()
    assert len(secret) >= 20 and secret != "admin", "Grafana's admin password must be generated"

    # a token the operator issues from the master directory verifies with what a service sees
    settings = AuthSettings(keys_dir=str(publish))
    token = sign(TokenKeys(str(master)), claims_for(settings=settings, subject="ops-1", role="ops", ttl_s=60))
    assert verify(token, TokenKeys(str(publish)), settings).subject == "ops-1"
    assert DataKeys(str(publish)).available, "intake could not seal reporter data with what it is given"

    again = _run_keys(tmp_path, services, "init")
    assert again.returncode == 0 and password.read_text().strip() == secret, "init must keep existing secrets"

    old_kid = (publish / "tokens" / "active").read_text().strip()
    rotated = _run_keys(tmp_path, services, "rotate")
    assert rotated.returncode == 0, rotated.stdout + rotated.stderr
    new_kid = (publish / "tokens" / "active").read_text().strip()
    assert new_kid != old_kid and (publish / "tokens" / f"{old_kid}.pub.pem").exists()
    retired = _run_keys(tmp_path, services, "retire", old_kid)
    assert retired.returncode == 0, retired.stdout + retired.stderr
    assert not (publish / "tokens" / f"{old_kid}.pub.pem").exists(), "a retired key must leave the services"
    assert not list(publish.rglob("*.key.pem"))


# -- nothing on all interfaces unless asked -------------------------------------------------------
def test_no_port_is_published_on_all_interfaces_by_default(compose: dict[str, Any]) -> None:
    for name, svc in compose["services"].items():
        for ip, published, target in _ports(svc):
            assert ip in LOOPBACK, f"{name}: port {published}:{target} is published on {ip or 'every interface'}"


def test_one_variable_opens_the_ports_but_never_kafka(opened: dict[str, Any]) -> None:
    opened_services = {name for name, svc in opened["services"].items()
                       if any(ip == "0.0.0.0" for ip, _, _ in _ports(svc))}
    assert set(PLATFORM_SERVICES) <= opened_services, "FANGFEI_BIND_ADDRESS=0.0.0.0 must open the services"
    for name, svc in opened["services"].items():
        if name == "kafka":
            assert all(ip in LOOPBACK for ip, _, _ in _ports(svc)), (
                "Kafka has no authentication: its host listener stays on loopback whatever FANGFEI_BIND_ADDRESS says"
            )
        assert "mongo" not in name or not _ports(svc), f"{name}: MongoDB is never published"


# -- Grafana ------------------------------------------------------------------------------------
def test_grafana_admin_password_comes_from_the_generated_secret(services: dict[str, Any]) -> None:
    env = _env(services["grafana"])
    assert "GF_SECURITY_ADMIN_PASSWORD" not in env, "no admin password in the compose file (it would be admin/admin or public)"
    path = env.get("GF_SECURITY_ADMIN_PASSWORD__FILE", "")
    assert path, "Grafana must read its admin password from a file (GF_SECURITY_ADMIN_PASSWORD__FILE)"
    secret_file = _keys_env(services)["FANGFEI_GRAFANA_ADMIN_PASSWORD_FILE"]
    grafana_mount = _volume_at(services["grafana"], str(Path(path).parent))
    keys_mount = _volume_at(services[KEYS_SERVICE], str(Path(secret_file).parent))
    assert grafana_mount and keys_mount and grafana_mount[0] == keys_mount[0] and grafana_mount[1], (
        "Grafana must mount, read-only, the volume the keys service writes the password to"
    )
    assert Path(path).name == Path(secret_file).name
    users = [n for n, s in services.items() if grafana_mount[0] in {src for src, _ in _mounts(s).values()}]
    assert sorted(users) == sorted(["grafana", KEYS_SERVICE]), f"the Grafana secret volume is mounted by {users}"
    assert env.get("GF_USERS_ALLOW_SIGN_UP") == "false", "sign-up must be off"
    assert env.get("GF_AUTH_ANONYMOUS_ENABLED", "false") == "false", "anonymous access must be off"


# -- healthchecks and start order ----------------------------------------------------------------
@pytest.mark.parametrize(("name", "probe"), [("prometheus", "9090/-/healthy"), ("alertmanager", "9093/-/healthy"),
                                              ("grafana", "3000/api/health"), ("oncall-gateway", "9095/health")])
def test_monitoring_is_healthchecked(services: dict[str, Any], name: str, probe: str) -> None:
    text = _healthcheck_text(services[name])
    assert f"127.0.0.1:{probe}" in text or f"localhost:{probe}" in text, f"{name}: healthcheck {text!r}"


def test_monitoring_starts_in_order(services: dict[str, Any]) -> None:
    assert _depends_on(services["alertmanager"]).get("oncall-gateway") == "service_healthy"
    assert _depends_on(services["prometheus"]).get("alertmanager") == "service_healthy"
    assert _depends_on(services["grafana"]).get("prometheus") == "service_healthy"


def test_every_dependency_has_the_condition_it_can_meet(services: dict[str, Any]) -> None:
    for name, svc in services.items():
        for dep, condition in _depends_on(svc).items():
            assert dep in services, f"{name} depends on {dep}, which compose does not run"
            assert condition != "service_started", f"{name} -> {dep}: name a condition (healthy / completed)"
            if condition == "service_healthy":
                assert services[dep].get("healthcheck") or dep in PLATFORM_SERVICES, f"{dep} has no healthcheck"
            if condition == "service_completed_successfully":
                assert str(services[dep].get("restart", "no")) == "no", f"{dep} is one-shot: restart must be no"


# -- the console ----------------------------------------------------------------------------------
def test_the_console_calls_the_services_on_the_compose_network(services: dict[str, Any]) -> None:
    env = _env(services["console"])
    for name in SERVICE_NAMES:
        assert env.get(f"FANGFEI_{name.upper()}_URL") == f"http://{name}:{CONTAINER_PORT}", (
            f"console: FANGFEI_{name.upper()}_URL must be http://{name}:{CONTAINER_PORT}"
        )


# -- alerts reach someone, and link their runbooks ------------------------------------------------
def _receiver_urls() -> list[tuple[str, str]]:
    config = _yaml("infra/alertmanager/alertmanager.yml")
    return [(r["name"], hook["url"]) for r in config["receivers"] for hook in r.get("webhook_configs", [])]


def test_every_alert_receiver_is_a_host_compose_runs(services: dict[str, Any]) -> None:
    urls = _receiver_urls()
    assert urls, "Alertmanager has no webhook receiver"
    for receiver, url in urls:
        parsed = urlparse(url)
        assert parsed.hostname in services, f"{receiver}: {url} names a host compose does not run"
        svc = services[parsed.hostname]
        listening = {str(p).split("/")[0] for p in svc.get("expose", [])} | {t for _, _, t in _ports(svc)}
        assert str(parsed.port) in listening, f"{receiver}: {parsed.hostname} does not listen on {parsed.port}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def gateway(services: dict[str, Any], tmp_path: Path) -> Any:
    """infra/docker/oncall_gateway.py as compose runs it, on a free loopback port."""
    svc = services["oncall-gateway"]
    entrypoint = [str(e) for e in svc.get("entrypoint") or []]
    assert "/app/infra/docker/oncall_gateway.py" in entrypoint, entrypoint
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANGFEI_")}
    port = _free_port()
    runbooks = _env(svc)["FANGFEI_RUNBOOKS_DIR"]
    assert _volume_at(svc, runbooks) == ("./docs/runbooks", True), "the gateway serves docs/runbooks, read-only"
    env.update(_env(svc), FANGFEI_GATEWAY_ADDRESS=f"127.0.0.1:{port}", FANGFEI_RUNBOOKS_DIR=str(ROOT / "docs/runbooks"))
    log = open(tmp_path / "gateway.log", "w+")
    proc = subprocess.Popen([sys.executable, str(ROOT / "infra/docker/oncall_gateway.py")], env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(base + "/health", timeout=1).read()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "the gateway did not start"
                time.sleep(0.1)
        yield base, log
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def test_the_default_gateway_receives_every_receivers_notifications(gateway: Any) -> None:
    base, log = gateway
    for receiver, url in _receiver_urls():
        body = json.dumps({"version": "4", "receiver": receiver, "status": "firing", "groupKey": "{}:{}",
                           "alerts": [{"status": "firing", "labels": {"alertname": "ServiceDown", "service": "ledger"},
                                       "annotations": {"summary": "ledger is down"}}]}).encode()
        request = urllib.request.Request(base + urlparse(url).path, data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as resp:
            assert resp.status == 200, f"{receiver}: the gateway answered {resp.status}"
    time.sleep(0.2)
    log.seek(0)
    lines = log.read()
    for receiver, _ in _receiver_urls():
        assert f"receiver={receiver} " in lines, f"the gateway did not log the notification for {receiver}"
    for bad in (b"not json", b'{"alerts": "x"}', b'{"alerts": [1]}'):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(base + "/hooks/x", data=bad, timeout=5)
        assert refused.value.code == 400
    forged = json.dumps({"receiver": "x", "alerts": [{"labels": {"alertname": "A\nalert receiver=forged"}}]}).encode()
    urllib.request.urlopen(base + "/hooks/x", data=forged, timeout=5).read()
    log.seek(0)
    assert "\nalert receiver=forged" not in log.read(), "a label value must not start a log line of its own"


def test_the_gateway_serves_each_runbook_and_nothing_else(gateway: Any) -> None:
    base, _ = gateway
    for alert in ("ServiceDown", "CasesOverdue"):
        with urllib.request.urlopen(f"{base}/runbooks/{alert}.md", timeout=5) as resp:
            assert resp.read().decode("utf-8").startswith(f"# {alert}")
    for path in ("/runbooks/../operations.md", "/runbooks/%2e%2e%2foperations.md", "/runbooks/Nope.md", "/etc/passwd"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(base + path, timeout=5)
        assert refused.value.code == 404, path


def test_runbook_urls_are_absolute_from_one_variable(services: dict[str, Any], opened: dict[str, Any]) -> None:
    prometheus = services["prometheus"]
    config = _yaml("infra/prometheus/prometheus.yml")
    label = config["global"]["external_labels"].get("runbook_base")
    assert label == "${FANGFEI_RUNBOOK_BASE_URL}", "prometheus.yml takes runbook_base from FANGFEI_RUNBOOK_BASE_URL"
    assert "--enable-feature=expand-external-labels" in _command(prometheus), (
        "Prometheus 2.x expands ${…} in external_labels only with --enable-feature=expand-external-labels"
    )
    assert "--config.file=/etc/prometheus/prometheus.yml" in _command(prometheus)
    drops = [r for r in config["alerting"].get("alert_relabel_configs", [])
             if r.get("action") == "labeldrop" and re.fullmatch(r["regex"], "runbook_base")]
    assert drops, "runbook_base is for the annotations: drop it from the alerts' labels"
    base = _env(prometheus).get("FANGFEI_RUNBOOK_BASE_URL", "")
    assert re.match(r"^https?://[^/]+/", base), f"FANGFEI_RUNBOOK_BASE_URL must default to an absolute URL, got {base!r}"
    # the default links where the stand-in gateway serves docs/runbooks on the host
    gateway_port = [p for ip, p, t in _ports(services["oncall-gateway"])]
    assert urlparse(base).port in {int(p) for p in gateway_port} and urlparse(base).path == "/runbooks", base
    assert _env(render({"FANGFEI_RUNBOOK_BASE_URL": "https://wiki.example.org/fangfei/runbooks"})["services"]
                ["prometheus"])["FANGFEI_RUNBOOK_BASE_URL"] == "https://wiki.example.org/fangfei/runbooks"
    for path in sorted((ROOT / "infra/prometheus/rules").glob("*.yml")):
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    assert rule["annotations"]["runbook_url"] == (
                        "{{ $externalLabels.runbook_base }}/" + f"{rule['alert']}.md"), rule["alert"]


# -- a real renderer, where one is installed -------------------------------------------------------
def _compose_cli() -> list[str] | None:
    for cmd in (["docker", "compose"], ["docker-compose"]):
        if not shutil.which(cmd[0]):
            continue
        probe = subprocess.run([*cmd, "version", "--short"], capture_output=True, text=True, timeout=30)
        if probe.returncode == 0 and re.match(r"v?[2-9]\.", probe.stdout.strip()):
            return cmd
    return None


def test_docker_compose_renders_the_same_file() -> None:
    cmd = _compose_cli()
    if cmd is None:
        pytest.skip("no Compose v2 CLI here (`docker compose version` fails; Debian's docker-compose 1.29 predates "
                    "the Compose spec's `name:`): the pure-Python rendering above is the check")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANGFEI_")}
    result = subprocess.run([*cmd, "-f", str(ROOT / "docker-compose.yml"), "config", "--format", "json"],
                            capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    real = json.loads(result.stdout)
    ours = render()
    assert set(real["services"]) == set(ours["services"])
    for name, svc in real["services"].items():
        for port in svc.get("ports", []):
            assert port.get("host_ip") in LOOPBACK, f"{name}: {port}"


# -- the operator's runbook uses commands that exist ----------------------------------------------
KEYS_COMMANDS = {"init", "rotate", "retire", "list"}


def _operations_commands() -> list[list[str]]:
    """argv of each `fangfei …` in docs/operations.md's shell blocks: run directly, through
    `docker compose exec <service>`, or as `docker compose run --rm -T keys <command>` (keys.py
    hands those to `fangfei keys …` / `fangfei token …`)."""
    import shlex

    text = (ROOT / "docs/operations.md").read_text(encoding="utf-8")
    found = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #")[0].strip().replace('"$FANGFEI_TOKEN"', "TOKEN")
            inner = re.findall(r"\$\(([^()]*)\)", line)
            for part in [*inner, *re.sub(r"\$\([^()]*\)", "SUB", line).split("&&")]:
                if "fangfei" not in part and "keys" not in part:
                    continue
                words = shlex.split(part, comments=True)
                if "keys" in words and words[:2] == ["docker", "compose"] and "run" in words:
                    rest = words[words.index("keys") + 1:]
                    if rest and rest[0] in KEYS_COMMANDS:
                        found.append(["keys", *rest])
                    elif rest and rest[0] == "token":
                        found.append(rest)
                    continue
                if "fangfei" in words or ".venv/bin/fangfei" in words:
                    at = words.index("fangfei") if "fangfei" in words else words.index(".venv/bin/fangfei")
                    found.append(words[at + 1:])
    return found


OPERATIONS_COMMANDS = _operations_commands()


def test_the_runbook_covers_what_an_operator_does() -> None:
    text = (ROOT / "docs/operations.md").read_text(encoding="utf-8")
    for heading in ("## First start", "## Adding a street", "## Backup and restore", "## Rebuilding a ledger",
                    "## Rotating keys"):
        assert heading in text, f"docs/operations.md has no section {heading!r}"
    for needed in ("mongodump", "mongorestore", "--oplog", "var/data/*.sqlite", "var/keys", "keys-master"):
        assert needed in text, f"docs/operations.md does not say how to back up with {needed}"
    for name in PLATFORM_SERVICES:
        assert f"fangfei_{name}" in text, f"the backup section does not name the database fangfei_{name}"
    kinds = {tuple(argv[:2]) for argv in OPERATIONS_COMMANDS}
    for wanted in (("keys", "rotate"), ("keys", "retire"), ("keys", "list"), ("ledger", "rebuild"),
                   ("roster", "import"), ("token", "issue")):
        assert wanted in kinds or any(k[0] == wanted[0] and wanted[1] in a for k, a in
                                      ((tuple(a[:2]), a) for a in OPERATIONS_COMMANDS)), wanted


def test_restoring_one_database_rewinds_its_consumer_group() -> None:
    """A consumer commits its offsets to Kafka (group fangfei.<service>), not to its database: a
    database restored to an older point while Kafka keeps the group's offsets would never see the
    events written since the dump again, and would park the next ones as version gaps."""
    from fangfei.config import Settings

    text = (ROOT / "docs/operations.md").read_text(encoding="utf-8")
    blocks = [b.replace("\\\n", " ") for b in re.findall(r"```sh\n(.*?)```", text, flags=re.S)]
    restores = [b for b in blocks if "mongorestore" in b and "--nsInclude" in b]
    assert restores, "docs/operations.md shows no single-database restore (mongorestore --nsInclude)"
    for block in restores:
        services = set(re.findall(r"--nsInclude\s+'?fangfei_(\w+)\.\*", block))
        assert services, f"cannot tell which database this restore is for:\n{block}"
        for service in services:
            group = Settings(service=service).group_id
            rewind = re.search(rf"kafka-consumer-groups\.sh .*--group {re.escape(group)} .*--reset-offsets "
                               r".*--to-earliest .*--execute", block)
            assert rewind, f"restoring fangfei_{service} alone must rewind its consumer group {group}"
            lines = block.splitlines()
            at = {word: next(i for i, line in enumerate(lines) if word in line)
                  for word in ("mongorestore", "--reset-offsets")}
            assert at["mongorestore"] < at["--reset-offsets"], "rewind the group after the restore"
            stopped = [line for line in lines[:at["mongorestore"]]
                       if re.search(rf"docker compose stop .*\b{service}\b", line)]
            assert stopped, f"stop {service} before restoring its database (a group with members cannot be rewound)"


@pytest.mark.parametrize("argv", OPERATIONS_COMMANDS, ids=" ".join)
def test_every_fangfei_command_in_the_runbook_parses(argv: list[str]) -> None:
    from fangfei import cli

    args = cli.build_parser().parse_args(argv)  # argparse exits (SystemExit) on anything wrong
    assert callable(args.func)


def test_the_image_owns_every_folder_a_writable_volume_is_mounted_on(services: dict[str, Any]) -> None:
    """An empty named volume takes the owner of the folder it is first mounted on; a folder the
    image lacks is created root-owned, and the non-root `keys` service could not write its keys."""
    runs = " ".join(args for ins, args in _dockerfile() if ins == "RUN")
    made = set(re.findall(r"(/app/var/[\w/-]+)", runs.split("chown")[0]))
    assert "chown -R fangfei:fangfei /app/var" in runs, "the image must hand /app/var to the fangfei user"
    declared = set(_yaml("docker-compose.yml").get("volumes") or {})
    for name, svc in services.items():
        if svc.get("image") != services["intake"]["image"]:
            continue
        for target, (source, read_only) in _mounts(svc).items():
            if source in declared:
                assert target in made, f"{name}: the image does not create {target}, where volume {source} is mounted"

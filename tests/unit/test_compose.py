"""The production shape (docker-compose.yml, Dockerfile, infra/) agrees with the code.

No Docker engine runs these: they read the files and check what `docker compose up` would rely on,
so a renamed service, a forgotten scrape target or a floating image tag fails here first."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from fangfei.config import DEFAULT_PORTS, SERVICE_NAMES

ROOT = Path(__file__).resolve().parents[2]
CONTAINER_PORT = 8100
MONGO_URI_RE = re.compile(r"^mongodb://(?P<hosts>[^/]+)/\?(?P<query>.*)$")


def _yaml(relpath: str) -> Any:
    path = ROOT / relpath
    assert path.is_file(), f"{relpath} is missing"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return _yaml("docker-compose.yml")


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


# -- the five services ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_each_service_runs_in_its_own_container(services: dict[str, Any], name: str) -> None:
    assert name in services, f"docker-compose.yml has no service {name!r}"
    env = _env(services[name])
    assert env.get("FANGFEI_SERVICE") == name, f"{name}: FANGFEI_SERVICE is {env.get('FANGFEI_SERVICE')!r}"
    assert env.get("FANGFEI_HTTP_ADDRESS") == f"0.0.0.0:{CONTAINER_PORT}", (
        f"{name}: must listen on all interfaces, port {CONTAINER_PORT}"
    )


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_each_service_publishes_its_usual_port(services: dict[str, Any], name: str) -> None:
    ports = [str(p) for p in services[name].get("ports", [])]
    wanted = f"{DEFAULT_PORTS[name]}:{CONTAINER_PORT}"
    assert wanted in ports, f"{name}: expected port mapping {wanted} (the embedded default port), got {ports}"


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_each_service_is_healthchecked_on_health(services: dict[str, Any], name: str) -> None:
    text = _healthcheck_text(services[name])
    assert f"127.0.0.1:{CONTAINER_PORT}/health" in text or f"localhost:{CONTAINER_PORT}/health" in text, (
        f"{name}: the healthcheck must request /health on port {CONTAINER_PORT}, got {text!r}"
    )


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_each_service_waits_for_kafka_and_the_replica_set(services: dict[str, Any], name: str) -> None:
    deps = _depends_on(services[name])
    assert deps.get("kafka") == "service_healthy", f"{name}: must wait for a healthy kafka, has {deps}"
    assert deps.get("mongo-init") == "service_completed_successfully", (
        f"{name}: must wait until the replica set is initiated (mongo-init), has {deps}"
    )


@pytest.mark.parametrize("name", SERVICE_NAMES)
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
    for name in SERVICE_NAMES:
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
    assert "9093:9093" in [str(p) for p in alertmanager.get("ports", [])]


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


def test_entrypoint_knows_exactly_the_five_services() -> None:
    assert set(_entrypoint_classes()) == set(SERVICE_NAMES)


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_entrypoint_class_exists_in_the_service_module(name: str) -> None:
    cls = _entrypoint_classes().get(name)
    assert cls, f"infra/docker/entrypoint.sh does not map FANGFEI_SERVICE={name}"
    module = ROOT / "services" / name / "service.py"
    assert module.is_file(), f"services/{name}/service.py does not exist (the entrypoint runs {cls} from it)"
    assert re.search(rf"^class {cls}\b", module.read_text(encoding="utf-8"), re.MULTILINE), (
        f"services/{name}/service.py defines no class {cls}, which infra/docker/entrypoint.sh runs"
    )

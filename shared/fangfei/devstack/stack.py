"""Start, watch, kill and restart the services (the five event services and the web console) as
`nameko run` child processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import IO, Any, Mapping

from ..auth.keys import ensure_keys
from ..config import DEFAULT_PORTS, PLATFORM_SERVICES
from .broker import Broker
from .ports import free_port, port_in_use

SERVICE_CLASSES = {
    "intake": "IntakeService",
    "roster": "RosterService",
    "escalation": "EscalationService",
    "ledger": "LedgerService",
    "notification": "NotificationService",
    "console": "ConsoleService",
}

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def nameko_bin() -> str:
    candidate = os.path.join(os.path.dirname(sys.executable), "nameko")
    return candidate if os.path.exists(candidate) else "nameko"


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: dict[str, str]
    log_path: str
    proc: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        if port_in_use(self.port):
            raise RuntimeError(f"port {self.port} for {self.name} is already in use")
        self._log = open(self.log_path, "ab")
        cmd = [nameko_bin(), "run", "--config", os.path.join(REPO_ROOT, "infra", "nameko", "config.yaml"),
               f"services.{self.name}.service:{SERVICE_CLASSES[self.name]}"]
        self.proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int, wait_s: float = 15.0) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout=wait_s)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None


class Stack:
    """The broker and the services of one embedded deployment, rooted at `data_dir`.

    Keys (token signing/verification and the reporter-data master key) live in `keys_dir`
    (default `<data_dir>/keys`) and are generated on first start; tests mint tokens from the same
    directory with `fangfei.testing.auth.TokenMinter(stack.keys_dir)`."""

    def __init__(
        self,
        data_dir: str,
        broker_port: int | None = None,
        ports: Mapping[str, int] | None = None,
        extra_env: Mapping[str, str] | None = None,
        services: tuple[str, ...] = PLATFORM_SERVICES,
        keys_dir: str | None = None,
    ) -> None:
        self.data_dir = os.path.abspath(data_dir)
        self.keys_dir = os.path.abspath(keys_dir or os.path.join(self.data_dir, "keys"))
        self.log_dir = os.path.join(self.data_dir, "logs")
        os.makedirs(self.log_dir, exist_ok=True)
        self.broker = Broker(broker_port, os.path.join(self.log_dir, "broker.log"))
        self.extra_env = dict(extra_env or {})
        chosen = dict(ports) if ports is not None else {s: free_port() for s in services}
        self.services: dict[str, ServiceProcess] = {}
        for name in services:
            self.services[name] = ServiceProcess(name, chosen[name], {}, os.path.join(self.log_dir, f"{name}.log"))

    def _env(self, svc: ServiceProcess) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FANGFEI_")}
        env.update(
            {
                "FANGFEI_KAFKA_BOOTSTRAP": self.broker.bootstrap,
                "FANGFEI_DATA_DIR": self.data_dir,
                "FANGFEI_AUTH_KEYS_DIR": self.keys_dir,
                "FANGFEI_HTTP_ADDRESS": f"127.0.0.1:{svc.port}",
                "PYTHONWARNINGS": "ignore",
                "PYTHONUNBUFFERED": "1",
                # the library of this checkout first, whatever an editable install points at
                "PYTHONPATH": os.pathsep.join([os.path.join(REPO_ROOT, "shared"), REPO_ROOT]),
            }
        )
        # where each service of this stack answers (the console calls the others over HTTP)
        env.update({f"FANGFEI_{name.upper()}_URL": other.url for name, other in self.services.items()})
        env.update(self.extra_env)
        return env

    def start(self, timeout_s: float = 90.0) -> "Stack":
        self.keys_created = ensure_keys(self.keys_dir)  # first start only; later starts keep the keys
        self.broker.start()
        for svc in self.services.values():
            self.start_service(svc.name, wait=False)
        self.wait_healthy(timeout_s=timeout_s)
        return self

    def start_service(self, name: str, wait: bool = True, timeout_s: float = 60.0) -> None:
        svc = self.services[name]
        svc.env = self._env(svc)
        svc.start()
        if wait:
            self.wait_healthy([name], timeout_s)

    def kill_service(self, name: str) -> None:
        """SIGKILL one service: no shutdown hooks, exactly like a crash."""
        self.services[name].signal(signal.SIGKILL)

    def stop(self) -> None:
        for svc in self.services.values():
            svc.signal(signal.SIGTERM)
        self.broker.stop()

    def health(self, name: str) -> dict[str, Any] | None:
        try:
            with urllib.request.urlopen(self.services[name].url + "/health", timeout=2) as resp:
                return json.loads(resp.read())
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def wait_quiet(self, timeout_s: float = 60.0, settle_s: float = 1.0) -> None:
        """Wait until every relay has published everything and every consumer has caught up, and
        it stays so for `settle_s` without a break.

        Why the settling: a consumer learns that a topic grew only from its next fetch (the fetch
        wait is 100 ms), so a lag of 0 read just after a relay published can be stale; a roster
        change was once seen "consumed" before escalation had it. Within `settle_s` every
        consumer has fetched again (and polled: its last poll must be younger than `settle_s`)."""
        deadline = time.monotonic() + timeout_s
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            bodies = [self.health(n) for n in self.services]
            if all(is_quiet(b, self.broker.cluster_id) and _polled_within(b, settle_s) for b in bodies):
                quiet_since = quiet_since if quiet_since is not None else time.monotonic()
                if time.monotonic() - quiet_since >= settle_s:
                    return
            else:
                quiet_since = None
            time.sleep(0.1)
        states = {n: self.health(n) for n in self.services}
        raise TimeoutError(f"platform not quiet after {timeout_s}s: {states}")

    def wait_healthy(self, names: list[str] | None = None, timeout_s: float = 90.0) -> None:
        """Wait until each service answers /health and its consumer (if any) has partitions."""
        pending = list(names or self.services)
        deadline = time.monotonic() + timeout_s
        while pending and time.monotonic() < deadline:
            for name in list(pending):
                svc = self.services[name]
                if svc.proc is not None and svc.proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {svc.proc.returncode}; see {svc.log_path}")
                body = self.health(name)
                if body is None:
                    continue
                consumer = body.get("consumer")
                if consumer is None or consumer.get("assigned"):
                    pending.remove(name)
            time.sleep(0.2)
        if pending:
            raise TimeoutError(f"not healthy after {timeout_s}s: {', '.join(pending)} (logs in {self.log_dir})")


def _polled_within(body: dict[str, Any] | None, seconds: float) -> bool:
    consumer = (body or {}).get("consumer")
    if consumer is None:
        return True
    since = consumer.get("seconds_since_poll")
    return since is not None and since < seconds


def is_quiet(body: dict[str, Any] | None, cluster_id: str) -> bool:
    """A service has published everything it stored and consumed everything published to it."""
    if body is None:
        return False
    relay = body.get("relay")
    if relay is not None and (relay.get("backlog") or relay.get("cluster_id") != cluster_id):
        return False
    consumer = body.get("consumer")
    return consumer is None or (consumer.get("lag") == 0 and consumer.get("cluster_id") == cluster_id)


def default_ports() -> dict[str, int]:
    return {name: int(os.environ.get(f"FANGFEI_{name.upper()}_PORT", DEFAULT_PORTS[name])) for name in PLATFORM_SERVICES}

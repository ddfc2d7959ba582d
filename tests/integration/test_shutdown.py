"""Ctrl-C on `make run` stops the platform by itself: every service, the console included, acts on
SIGTERM and exits cleanly (exit code 0, "stopping services" in its log) instead of waiting for the
launcher to SIGKILL it. The console once slept through SIGTERM: with no relay or consumer of its
own, nothing woke the eventlet hub to run nameko's shutdown."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from fangfei.devstack.stack import Stack

pytestmark = pytest.mark.integration

PATIENCE_S = 10.0  # what a person pressing Ctrl-C waits before reaching for kill -9


def test_every_service_stops_cleanly_on_sigterm(tmp_path: object) -> None:
    stack = Stack(str(tmp_path))
    stack.start(timeout_s=120)
    try:
        outcomes = {}
        for name, svc in stack.services.items():
            proc = svc.proc
            assert proc is not None
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                outcomes[name] = proc.wait(timeout=PATIENCE_S)
            except subprocess.TimeoutExpired:
                outcomes[name] = "still running"
        assert outcomes == {name: 0 for name in stack.services}, outcomes
        for name, svc in stack.services.items():
            with open(svc.log_path, encoding="utf-8", errors="replace") as fh:
                assert f"stopping services: {name}" in fh.read(), name
    finally:
        stack.stop()

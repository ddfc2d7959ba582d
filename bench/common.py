"""Small tools every figure uses: percentiles, CPU accounting from /proc, child processes."""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any, Iterable, Mapping, Sequence

from fangfei.devstack.stack import REPO_ROOT, nameko_bin

CLK_TCK = os.sysconf("SC_CLK_TCK")


def python_path() -> str:
    """The checkout's own code first (services and the shared library), for every child process:
    the bench then measures the tree it was started from, even if another checkout is installed."""
    return os.pathsep.join([REPO_ROOT, os.path.join(REPO_ROOT, "shared")])


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0–100), linear between closest ranks; None for no values."""
    if not values:
        return None
    data = sorted(values)
    if len(data) == 1:
        return float(data[0])
    pos = (len(data) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(data) - 1)
    return float(data[lo] + (data[hi] - data[lo]) * (pos - lo))


def median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return float(statistics.median(present)) if present else None


def spread(values: Iterable[float | None]) -> dict[str, float | None]:
    present = [v for v in values if v is not None]
    return {"median": median(present), "min": min(present) if present else None,
            "max": max(present) if present else None}


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


# -- CPU accounting -----------------------------------------------------------------------------
def process_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds a process has used so far (None if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def machine_busy_s() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores."""
    with open("/proc/stat") as fh:
        parts = [int(x) for x in fh.readline().split()[1:]]
    idle = parts[3] + parts[4]
    total = sum(parts[:8])
    return (total - idle) / CLK_TCK, total / CLK_TCK


class CpuMeter:
    """CPU used by named processes and by the machine over an interval, as % of one core.

    `others` is what the machine did beyond the named processes (and `extra_cpu_s`, e.g. a load
    generator that has exited): other work on a shared machine, which the report states because
    it takes cores from what is measured."""

    def __init__(self, pids: Mapping[str, int]) -> None:
        self.pids = dict(pids)
        self.extra_cpu_s = 0.0
        self._start: dict[str, float | None] = {}
        self._machine = (0.0, 0.0)
        self._t0 = 0.0

    def __enter__(self) -> "CpuMeter":
        self._start = {name: process_cpu_s(pid) for name, pid in self.pids.items()}
        self._machine = machine_busy_s()
        self._t0 = time.monotonic()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.wall_s = max(1e-9, time.monotonic() - self._t0)
        self.per_process: dict[str, float | None] = {}
        known = self.extra_cpu_s
        for name, pid in self.pids.items():
            end, start = process_cpu_s(pid), self._start.get(name)
            used = end - start if end is not None and start is not None else None
            self.per_process[name] = round(100.0 * used / self.wall_s, 1) if used is not None else None
            known += used or 0.0
        busy, total = machine_busy_s()
        busy_s, total_s = busy - self._machine[0], max(1e-9, total - self._machine[1])
        self.machine_pct = round(100.0 * busy_s / total_s, 1)
        cores = os.cpu_count() or 1
        # /proc/stat counts all cores: busy_s / (total_s / cores) is busy time per wall second
        self.others_pct = round(max(0.0, 100.0 * (busy_s * cores / total_s * self.wall_s - known) / self.wall_s), 1)

    def result(self) -> dict[str, Any]:
        """Per process: % of one core; machine: % of all cores together; others: % of one core."""
        return {"process_pct_of_one_core": self.per_process, "machine_pct_of_all_cores": self.machine_pct,
                "others_pct_of_one_core": self.others_pct}


def children_cpu_s() -> float:
    """CPU seconds of this process's children that have exited (e.g. a finished wrk)."""
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


# -- processes ------------------------------------------------------------------------------------
class NamekoProcess:
    """A nameko service run the way the stack runs its services (`nameko run`), for references."""

    def __init__(self, target: str, port: int, log_path: str) -> None:
        self.target = target
        self.port = port
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "NamekoProcess":
        env = {k: v for k, v in os.environ.items() if not k.startswith("FANGFEI_")}
        env.update({"FANGFEI_HTTP_ADDRESS": f"127.0.0.1:{self.port}", "PYTHONWARNINGS": "ignore",
                    "PYTHONUNBUFFERED": "1", "PYTHONPATH": python_path()})
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [nameko_bin(), "run", "--config", os.path.join(REPO_ROOT, "infra", "nameko", "config.yaml"), self.target],
            cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        return self

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def http_json(method: str, url: str, body: Any = None, headers: Mapping[str, str] | None = None,
              timeout: float = 10.0) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    hdrs = {"Content-Type": "application/json"} if data is not None else {}
    hdrs.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, text = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read()
    except (urllib.error.URLError, OSError):
        return 0, None
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def log(message: str) -> None:
    """Progress on stderr, so a 20-minute run says what it is doing."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- service metrics ------------------------------------------------------------------------------
def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a service's /metrics, keyed by (name, sorted labels)."""
    from prometheus_client.parser import text_string_to_metric_families

    try:
        with urllib.request.urlopen(url + "/metrics", timeout=5) as resp:
            text = resp.read().decode()
    except (urllib.error.URLError, OSError):
        return {}
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = float(sample.value)
    return out


def mean_seconds(before: Mapping[Any, float], after: Mapping[Any, float], histogram: str,
                 by: str) -> dict[str, dict[str, float]]:
    """Mean and count of a histogram between two scrapes, per value of label `by`."""
    out: dict[str, dict[str, float]] = {}
    for (name, labels), total in after.items():
        if name != f"{histogram}_sum":
            continue
        count_key = (f"{histogram}_count", labels)
        count = after.get(count_key, 0.0) - before.get(count_key, 0.0)
        if count <= 0:
            continue
        seconds = total - before.get((name, labels), 0.0)
        label = dict(labels).get(by, "")
        out[label] = {"mean_ms": 1000.0 * seconds / count, "count": count}
    return out


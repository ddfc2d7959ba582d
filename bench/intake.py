"""Figure 1, intake: sustained clue submissions over HTTP from concurrent clients on loopback.

wrk (a C load generator, one thread so it leaves the cores to the platform) keeps `CONNECTIONS`
clients busy POSTing realistic clues, each with its own Idempotency-Key, for `DURATION_S`; the
same script runs against the reference, `bench/bare_service.py` (a bare nameko endpoint that
only validates with intake's own schema), in alternation: bare, intake, bare, intake, ...

While intake is loaded the rest of the platform works too (escalation, ledger and notification
consume what intake accepts), as in a deployment; after each intake run the bench waits until
every consumer has caught up and reports how long that took, so the next run starts from a quiet
platform and the result says what the whole chain, not only intake, can sustain.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from typing import Any

from fangfei.devstack.ports import free_port
from fangfei.devstack.stack import Stack

from .clues import COMMUNITIES, checked_bodies
from .common import CpuMeter, NamekoProcess, children_cpu_s, http_json, log, median, ratio, spread

CONNECTIONS = 16
DURATION_S = 10
WARMUP_S = 2
WRK_TIMEOUT_S = 5
SCRIPT = os.path.join(os.path.dirname(__file__), "wrk", "post_clue.lua")


def wrk_binary() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise RuntimeError("wrk is not installed: `apt-get install -y wrk` (make bench does it when it can)")
    return path


def wrk_version() -> str:
    out = subprocess.run([wrk_binary(), "-v"], capture_output=True, text=True)
    return (out.stdout or out.stderr).splitlines()[0].strip() if (out.stdout or out.stderr) else "wrk"


def run_wrk(url: str, duration_s: int, run_id: str, bodies: str, tokens: list[str]) -> dict[str, Any]:
    """wrk against `url`, POSTing the bodies in file `bodies` and taking the `tokens` in turn
    (none: no Authorization header)."""
    cmd = [wrk_binary(), "-t1", f"-c{CONNECTIONS}", f"-d{duration_s}s", "--timeout", f"{WRK_TIMEOUT_S}s",
           "-s", SCRIPT, url, "--", run_id, bodies, *tokens]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration_s + 60)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stdout[-2000:]} {out.stderr[-2000:]}")
    raw = json.loads(lines[-1])
    seconds = raw["duration_us"] / 1e6
    errors = raw["connect_errors"] + raw["read_errors"] + raw["write_errors"] + raw["non_2xx"] + raw["timeouts"]
    return {
        "requests": raw["requests"], "seconds": seconds, "throughput_rps": raw["requests"] / seconds,
        "ok_rps": (raw["requests"] - raw["non_2xx"]) / seconds,
        "p50_ms": raw["latency_us"]["p50"] / 1000, "p90_ms": raw["latency_us"]["p90"] / 1000,
        "p99_ms": raw["latency_us"]["p99"] / 1000, "max_ms": raw["latency_us"]["max"] / 1000,
        "errors": errors, "non_2xx": raw["non_2xx"], "timeouts": raw["timeouts"],
        "socket_errors": raw["connect_errors"] + raw["read_errors"] + raw["write_errors"],
    }


def _wait_ready(url: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status, _ = http_json("POST", url + "/api/clues", {"street_id": "longgang"}, timeout=2)
        if status:
            return
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout_s}s")


def _head(stack: Stack) -> int:
    body = stack.health("intake") or {}
    return int(body.get("store", {}).get("head_position", 0))


def measure(stack: Stack, work_dir: str, runs: int, tokens: list[str]) -> dict[str, Any]:
    bodies = os.path.join(work_dir, "clue-bodies.jsonl")
    with open(bodies, "w") as fh:
        fh.write("\n".join(checked_bodies(len(COMMUNITIES))) + "\n")
    bare = NamekoProcess("bench.bare_service:BareIntake", free_port(), os.path.join(work_dir, "bare.log")).start()
    try:
        _wait_ready(bare.url)
        intake_url = stack.services["intake"].url
        pids = {name: svc.proc.pid for name, svc in stack.services.items() if svc.proc is not None}
        if stack.broker.proc is not None:
            pids["broker"] = stack.broker.proc.pid
        pids["bench"] = os.getpid()
        log(f"intake: warm-up ({WARMUP_S}s each)")
        run_wrk(bare.url, WARMUP_S, "warm-" + uuid.uuid4().hex[:8], bodies, [])
        run_wrk(intake_url, WARMUP_S, "warm-" + uuid.uuid4().hex[:8], bodies, tokens)
        stack.wait_quiet(300)
        bare_runs: list[dict[str, Any]] = []
        intake_runs: list[dict[str, Any]] = []
        for i in range(runs):
            with CpuMeter({"bare": bare.proc.pid, "bench": os.getpid()}) as cpu:  # type: ignore[union-attr]
                wrk_cpu = children_cpu_s()
                result = run_wrk(bare.url, DURATION_S, f"bare{i}-{uuid.uuid4().hex[:8]}", bodies, [])
                cpu.extra_cpu_s = children_cpu_s() - wrk_cpu
            result["wrk_cpu_pct"] = round(100 * cpu.extra_cpu_s / result["seconds"], 1)
            result["cpu"] = cpu.result()
            bare_runs.append(result)
            log(f"intake: run {i + 1}/{runs} bare {result['throughput_rps']:.0f} req/s p99 {result['p99_ms']:.1f} ms")
            before = _head(stack)
            with CpuMeter(pids) as cpu:
                wrk_cpu = children_cpu_s()
                result = run_wrk(intake_url, DURATION_S, f"intake{i}-{uuid.uuid4().hex[:8]}", bodies, tokens)
                cpu.extra_cpu_s = children_cpu_s() - wrk_cpu
            result["wrk_cpu_pct"] = round(100 * cpu.extra_cpu_s / result["seconds"], 1)
            result["cpu"] = cpu.result()
            result["stored_events"] = _head(stack) - before
            drain_started = time.monotonic()
            stack.wait_quiet(600)
            result["drain_s"] = time.monotonic() - drain_started
            accepted = result["requests"] - result["non_2xx"]
            result["chain_clues_per_s"] = accepted / (result["seconds"] + result["drain_s"])
            intake_runs.append(result)
            log(f"intake: run {i + 1}/{runs} intake {result['throughput_rps']:.0f} req/s p99 {result['p99_ms']:.1f} ms, "
                f"{result['errors']} errors; downstream caught up {result['drain_s']:.1f}s later")
    finally:
        bare.stop()

    def summary(rs: list[dict[str, Any]]) -> dict[str, Any]:
        return {k: spread(r[k] for r in rs) for k in ("throughput_rps", "ok_rps", "p50_ms", "p99_ms", "errors")}

    s_intake, s_bare = summary(intake_runs), summary(bare_runs)
    chain = spread(r["chain_clues_per_s"] for r in intake_runs)
    return {
        "connections": CONNECTIONS, "duration_s": DURATION_S, "runs": runs, "tool": wrk_version(),
        "intake": s_intake, "reference_bare_validate": s_bare,
        "ratio_throughput": ratio(s_intake["throughput_rps"]["median"], s_bare["throughput_rps"]["median"]),
        "ratio_p50": ratio(s_intake["p50_ms"]["median"], s_bare["p50_ms"]["median"]),
        "ratio_p99": ratio(s_intake["p99_ms"]["median"], s_bare["p99_ms"]["median"]),
        "drain_s": spread(r["drain_s"] for r in intake_runs),
        "chain_clues_per_s": chain,
        "cpu_intake_runs": {name: median(r["cpu"]["process_pct_of_one_core"].get(name) for r in intake_runs)
                            for name in intake_runs[0]["cpu"]["process_pct_of_one_core"]},
        "cpu_machine_pct_intake_runs": median(r["cpu"]["machine_pct_of_all_cores"] for r in intake_runs),
        "cpu_bare_pct": median(r["cpu"]["process_pct_of_one_core"]["bare"] for r in bare_runs),
        "cpu_wrk_pct": median(r["wrk_cpu_pct"] for r in intake_runs + bare_runs),
        "cpu_others_pct": median(r["cpu"]["others_pct_of_one_core"] for r in intake_runs + bare_runs),
        "runs_detail": {"intake": intake_runs, "bare": bare_runs},
    }

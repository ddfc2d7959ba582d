"""Figures 3 and 4, rebuild and growth: the ledgers refolded from 10k, 100k and 1M events.

Each size is its own pair of topics (`bench<N>.intake.events`, `bench<N>.escalation.events`, four
partitions each, as the platform makes them) on a broker of the bench's own, so the service
stack is not running (no idle consumers sharing the two cores) and every reader sees the same
bytes. The data is published once per `make bench`; every measurement then reads it from offset
0 in a fresh process (`bench/rebuild_worker.py`), so peak memory is the measurement's own.

For every run of a size, in this order: the raw consume rate, the consume + JSON-decode rate,
then the rebuild itself (and, from the rows it wrote, the raw insert rate of the store): the
reference and the measured figure come from the same data, minutes apart. The largest size is
run `large_runs` times (one by default: a single 1M rebuild is most of the bench's time on two
cores), and the store's insert reference is taken on the sizes up to `insert_ref_max` only (its
rate per row does not depend on the size; the smaller sizes show it). The rebuild measured is the
operators' path: `services.ledger.rebuild_job.run`, what `POST /api/ledger-admin/rebuild` runs in
the service (every source topic, roster's included; shadow, catch-up, swap under the lock). The
report says how many ran.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from typing import Any

from fangfei.devstack.broker import Broker
from fangfei.devstack.stack import REPO_ROOT

from . import kafka_io
from .common import CpuMeter, log, median, python_path, ratio, spread
from .dataset import check_sample, consumed_types, history, topics_for

STAGES_SIZE = 100_000
PROFILE_SIZE = 10_000


def prefix(n: int) -> str:
    return f"bench{n}."


def worker(mode: str, bootstrap: str, n: int, work: str, *extra: str, timeout_s: float = 1800,
           broker_pid: int | None = None) -> dict[str, Any]:
    """Run one measurement in a fresh process; note the CPU the rest of the machine used meanwhile."""
    env = {**os.environ, "PYTHONPATH": python_path(), "PYTHONWARNINGS": "ignore"}
    meter = CpuMeter({"broker": broker_pid} if broker_pid else {}).__enter__()
    cmd = [sys.executable, "-m", "bench.rebuild_worker", mode, "--bootstrap", bootstrap, "--prefix", prefix(n),
           "--events", str(n), "--work", work, *extra]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=timeout_s)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"rebuild worker {mode} {n} failed ({out.returncode}): {out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    meter.extra_cpu_s = result.get("cpu_s", 0.0)
    meter.__exit__(None, None, None)
    result["others_pct_of_one_core"] = meter.others_pct
    return result


def publish(bootstrap: str, n: int, dataset: dict[str, Any]) -> None:
    """Publish the `n`-event history to its own topics (once per bench run)."""
    if str(n) in dataset["published"]:
        return
    kafka_io.create_topics(bootstrap, topics_for(dataset["event_types"], prefix(n)))
    started = time.monotonic()
    sent = kafka_io.publish(bootstrap, history(n), prefix(n))
    dataset["published"][str(n)] = {"events": sent, "seconds": time.monotonic() - started}
    log(f"rebuild: published {sent} events for the {n:,} dataset in {time.monotonic() - started:.0f}s")


def projected_s(n: int, last: dict[str, Any], dataset: dict[str, Any], with_insert: bool) -> float:
    """How long one run of size `n` (publishing included) would take, from the last size measured:
    its time per event for every step, scaled to `n` (fixed costs scaled too: an overestimate)."""
    m = int(last["events"])
    per_event = last["rebuild_seconds"]["median"] / m
    per_event += 1 / last["reference_consume_per_s"]["median"] + 1 / last["reference_consume_json_per_s"]["median"]
    if with_insert and last["reference_insert_docs_per_s"]["median"]:
        per_event += sum(last["rows"].values()) / m / last["reference_insert_docs_per_s"]["median"]
    pub = dataset["published"][str(m)]
    per_event += pub["seconds"] / max(1, pub["events"])
    return per_event * n


def measure(work_dir: str, sizes: list[int], runs: int, deadline: float, stages_size: int = STAGES_SIZE,
            profile_size: int = PROFILE_SIZE, large_runs: int = 1, insert_ref_max: int = 100_000) -> dict[str, Any]:
    """`runs` per size, `large_runs` for the largest; `deadline` (time.monotonic) stops the repeats
    of any size early (each size runs at least once) so the bench stays inside its budget."""
    broker = Broker(log_path=os.path.join(work_dir, "rebuild-broker.log")).start()
    work = os.path.join(work_dir, "rebuild")
    sizes = sorted(set(sizes))
    try:
        types = consumed_types()
        check_sample(list(itertools.islice(history(2000), 2000)))
        from services.ledger.ledgers import LEDGERS

        dataset: dict[str, Any] = {"event_types": types, "ledgers": list(LEDGERS), "published": {}}
        for n in sorted({stages_size, profile_size}):
            publish(broker.bootstrap, n, dataset)
        log(f"rebuild: stage breakdown on {stages_size:,} events")
        stages = worker("stages", broker.bootstrap, stages_size, work)
        log(f"rebuild: profile on {profile_size:,} events")
        profile = worker("profile", broker.bootstrap, profile_size, work)
        pid = broker.proc.pid if broker.proc is not None else None
        per_size: dict[str, Any] = {}
        skipped: dict[str, Any] = {}
        proposed: dict[str, Any] | None = None  # (earlier runs paired a proposed decoder here)
        for n in sizes:
            done = [per_size[k] for k in sorted(per_size, key=int)]
            if done:
                need = projected_s(n, done[-1], dataset, n <= insert_ref_max)
                left = deadline - time.monotonic()
                if need > left:
                    skipped[str(n)] = {"projected_s": need, "left_s": left}
                    log(f"rebuild: skipping {n:,} events: one run would take about {need / 60:.0f} min, "
                        f"{max(0.0, left) / 60:.0f} min of the budget are left")
                    continue
            publish(broker.bootstrap, n, dataset)
            rows: list[dict[str, Any]] = []
            planned = large_runs if n == sizes[-1] and len(sizes) > 1 else runs
            extra = () if n <= insert_ref_max else ("--no-insert-ref",)
            for i in range(planned):
                started = time.monotonic()
                run = {
                    "consume": worker("consume", broker.bootstrap, n, work, broker_pid=pid),
                    "consume_json": worker("consume-json", broker.bootstrap, n, work, broker_pid=pid),
                    "rebuild": worker("rebuild", broker.bootstrap, n, work, *extra, broker_pid=pid),
                }
                rows.append(run)
                took = time.monotonic() - started
                log(f"rebuild: {n:,} run {i + 1}/{planned}: rebuild {run['rebuild']['rate']:,.0f} ev/s, "
                    f"consume+json {run['consume_json']['rate']:,.0f} ev/s ({took:.0f}s)")
                if i + 1 < planned and time.monotonic() + took > deadline:
                    log(f"rebuild: stopping the {n:,} repeats after {i + 1}: the next would pass the time budget")
                    break
            per_size[str(n)] = summarise(n, rows)
        return {"dataset": dataset, "stages": stages, "profile": profile, "sizes": per_size, "skipped": skipped,
                "proposed": proposed, "growth": growth(per_size), "insert_ref_max": insert_ref_max}
    finally:
        broker.stop()


def summarise(n: int, rows: list[dict[str, Any]]) -> dict[str, Any]:
    rb = [r["rebuild"] for r in rows]
    rebuild_rate = spread(r["rate"] for r in rb)
    consume = spread(r["consume"]["rate"] for r in rows)
    consume_json = spread(r["consume_json"]["rate"] for r in rows)
    insert = spread(r["insert_ref"]["rate"] for r in rb if "insert_ref" in r)
    events_per_row = n / max(1, sum(rb[0]["rows"].values()))
    stage_names = list(rb[0]["stages_s"])
    return {
        "events": n, "runs": len(rows), "rows": rb[0]["rows"],
        "rebuild_events_per_s": rebuild_rate,
        "rebuild_seconds": spread(r["seconds"] for r in rb),
        "reference_consume_per_s": consume,
        "reference_consume_json_per_s": consume_json,
        "reference_insert_docs_per_s": insert,
        "reference_insert_as_events_per_s": insert["median"] * events_per_row if insert["median"] else None,
        "ratio_to_consume_json": ratio(rebuild_rate["median"], consume_json["median"]),
        "ratio_min": min(ratio(r["rebuild"]["rate"], r["consume_json"]["rate"]) for r in rows),
        "ratio_max": max(ratio(r["rebuild"]["rate"], r["consume_json"]["rate"]) for r in rows),
        "lock_held_ms": median(r.get("lock_held_s", 0) * 1000 for r in rb),
        "peak_cache_rows": rb[0].get("peak_cache_rows"),
        "decoder": rb[0].get("decoder"),
        "ratio_to_consume": ratio(rebuild_rate["median"], consume["median"]),
        "ratio_to_insert": ratio(rebuild_rate["median"], insert["median"] * events_per_row if insert["median"] else None),
        "stage_us_per_event": {s: median(r["stages_s"][s] / n * 1e6 for r in rb) for s in stage_names},
        "peak_rss_mib": median(r["peak_rss_kb"] / 1024 for r in rb),
        "base_rss_mib": median(r["base_rss_kb"] / 1024 for r in rb),
        "consume_peak_rss_mib": median(r["consume_json"]["peak_rss_kb"] / 1024 for r in rows),
        "others_pct_of_one_core": median(r[k].get("others_pct_of_one_core") for r in rows for k in r),
        "runs_detail": rows,
    }


def growth(per_size: dict[str, Any]) -> dict[str, Any]:
    """Cost per event at each size, relative to the smallest: 1.0 everywhere is linear growth."""
    sizes = sorted(per_size, key=int)
    base = sizes[0]
    us = {s: per_size[s]["rebuild_seconds"]["median"] / int(s) * 1e6 for s in sizes}
    mem = {s: (per_size[s]["peak_rss_mib"] - per_size[s]["base_rss_mib"]) for s in sizes}
    # marginal cost: the extra time per extra event from one size to the next. Constant marginal
    # cost is linear growth; it leaves out what a run pays once (connecting, indexes, start-up),
    # which makes the smallest size look dearer per event than it is.
    marginal: dict[str, float] = {}
    for lo, hi in zip(sizes, sizes[1:]):
        extra_s = per_size[hi]["rebuild_seconds"]["median"] - per_size[lo]["rebuild_seconds"]["median"]
        marginal[f"{lo}-{hi}"] = extra_s / (int(hi) - int(lo)) * 1e6
    first = next(iter(marginal.values()), None)
    return {
        "us_per_event": us,
        "marginal_us_per_event": marginal,
        "marginal_relative": {k: v / first for k, v in marginal.items()} if first else {},
        "relative_cost_per_event": {s: us[s] / us[base] for s in sizes},
        "memory_above_base_mib": mem,
        "memory_kib_per_event": {s: mem[s] * 1024 / int(s) for s in sizes},
    }

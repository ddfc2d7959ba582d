"""Figure 2, end to end: from the POST of a clue to its row in the ledger API and to its delivery
recorded in the notification log, at a steady rate and at ten times that rate.

How it is timed (all on this machine's one clock):
- clues are sent open-loop on a fixed schedule (`rate` per second) by a pool of client threads;
  every latency starts at the scheduled send time, so a slow client cannot hide a slow server;
- the ledger API is polled per clue (`GET /api/ledgers/clue-verification/<id>`) until the row is
  there and until it carries its case; the moment is the midpoint between the last miss and the
  hit (error at most half a poll round, reported). Polling costs the ledger CPU, so at the high
  rate only every `stride`-th clue is tracked (at most `TRACK_PER_S` a second);
- the delivery and the intermediate steps are taken from the events themselves, read back from
  the broker after the runs: `recorded_at` of clue.reported (intake committed), case.opened
  (escalation committed) and delivery.recorded (notification committed the delivery and wrote its
  log row in the same handler). Every clue counts here, not only the tracked ones.

Reference: one Kafka hop through the same broker with the platform's own client settings
(`make_producer`, fetch wait 100 ms, poll 200 ms), at the same rate, measured right before each
run. A clue crosses one hop to reach the ledger (intake.events) and two to reach a delivery
(intake.events, then escalation.events), as does the ledger row's case; `hops × hop latency` is
the part of the latency the bus itself imposes; the rest is the services' own work (validation,
store writes) and the relays' polling.
"""

from __future__ import annotations

import http.client
import json
import os
import struct
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlparse

from kafka import KafkaConsumer, TopicPartition

from fangfei.bus.kafka import make_producer, partitions_of, read_all
from fangfei.clock import parse_iso
from fangfei.devstack.stack import Stack
from fangfei.events.registry import decode_event

from .clues import checked_bodies, clue_body
from .common import CpuMeter, log, mean_seconds, median, percentile, ratio, scrape, spread
from .kafka_io import create_topics

TRACK_PER_S = 10  # clues per second whose ledger row is polled
POLL_ROUND_S = 0.02  # at most one poll of a clue per this interval
SENDERS = 16
HOP_PAYLOAD = 760  # bytes, about one encoded clue.reported


class Http:
    """One keep-alive connection per thread (what a browser or a district system would hold)."""

    def __init__(self, base: str) -> None:
        u = urlparse(base)
        self.host, self.port = u.hostname or "127.0.0.1", u.port or 80
        self.local = threading.local()

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
                timeout: float = 30.0) -> tuple[int, Any]:
        for attempt in range(2):
            conn = getattr(self.local, "conn", None)
            if conn is None:
                conn = self.local.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
            try:
                data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
                hdrs = {"Content-Type": "application/json"} if data is not None else {}
                hdrs.update(headers or {})
                conn.request(method, path, body=data, headers=hdrs)
                resp = conn.getresponse()
                raw = resp.read()
                return resp.status, json.loads(raw) if raw else None
            except (http.client.HTTPException, OSError):
                conn.close()
                self.local.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


class Tracker:
    """Polls the ledger API for the tracked clues until each row is there with its case."""

    def __init__(self, ledger: Http, headers: dict[str, str]) -> None:
        self.ledger = ledger
        self.headers = headers
        self.pending: dict[str, dict[str, Any]] = {}
        self.done: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.rounds: list[float] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def add(self, clue_id: str, t0: float) -> None:
        with self.lock:
            self.pending[clue_id] = {"t0": t0, "last_miss": t0, "last_miss_routed": t0}

    def _run(self) -> None:
        while not self.stop.is_set():
            started = time.time()
            with self.lock:
                items = list(self.pending.items())
            for clue_id, st in items:
                sent = time.time()
                status, body = self.ledger.request("GET", f"/api/ledgers/clue-verification/{clue_id}",
                                                   headers=self.headers)
                got = time.time()
                if status == 200 and "row" not in st:
                    st["row"] = (st["last_miss"] + got) / 2
                if status == 200 and body and body.get("case_id"):
                    st["routed"] = (st["last_miss_routed"] + got) / 2
                    with self.lock:
                        self.done[clue_id] = self.pending.pop(clue_id)
                else:
                    if "row" not in st:
                        st["last_miss"] = sent
                    st["last_miss_routed"] = sent
            elapsed = time.time() - started
            if items:
                self.rounds.append(elapsed)
            self.stop.wait(max(0.0, POLL_ROUND_S - elapsed))

    def wait_all(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                if not self.pending:
                    return
            time.sleep(0.05)
        raise TimeoutError(f"{len(self.pending)} tracked clues not routed in the ledger after {timeout_s}s")


def auth_headers(tokens: list[str], i: int) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[i % len(tokens)]}"} if tokens else {}


def run_rate(stack: Stack, rate: float, duration_s: float, tokens: list[str]) -> dict[str, Any]:
    """Send `rate` clues/s for `duration_s`; return per-clue timings (the events are read later).
    Clue i is sent with token i mod len(tokens): several clients, each with its own token."""
    checked_bodies(1)  # the body is what intake accepts today, or this fails before any load
    intake = Http(stack.services["intake"].url)
    tracker = Tracker(Http(stack.services["ledger"].url), auth_headers(tokens, 0))
    stride = max(1, round(rate / TRACK_PER_S))
    sent: dict[str, dict[str, Any]] = {}
    errors: list[str] = []
    lock = threading.Lock()
    tracker.thread.start()

    def post(i: int, t0: float) -> None:
        key = uuid.uuid4().hex
        try:
            status, body = intake.request("POST", "/api/clues", clue_body(i),
                                          {**auth_headers(tokens, i), "Idempotency-Key": key})
        except Exception as exc:  # counted, not fatal: the figure reports errors
            with lock:
                errors.append(type(exc).__name__)
            return
        acked = time.time()
        if status not in (200, 201) or not body:
            with lock:
                errors.append(f"HTTP {status}")
            return
        clue_id = body["clue_id"]
        with lock:
            sent[clue_id] = {"t0": t0, "ack": acked}
        if i % stride == 0:
            tracker.add(clue_id, t0)

    n = int(rate * duration_s)
    consumers = ("escalation", "ledger", "notification")
    before = {name: scrape(stack.services[name].url) for name in consumers}
    pids = {name: svc.proc.pid for name, svc in stack.services.items() if svc.proc is not None}
    if stack.broker.proc is not None:
        pids["broker"] = stack.broker.proc.pid
    pids["bench clients"] = os.getpid()
    meter = CpuMeter(pids).__enter__()
    pool = ThreadPoolExecutor(SENDERS)
    start = time.time() + 0.2
    late = 0.0
    for i in range(n):
        t0 = start + i / rate
        delay = t0 - time.time()
        if delay > 0:
            time.sleep(delay)
        else:
            late = max(late, -delay)
        pool.submit(post, i, t0)
    pool.shutdown(wait=True)
    meter.__exit__(None, None, None)
    try:
        tracker.wait_all(120)
    finally:
        tracker.stop.set()
        tracker.thread.join(5)
    stack.wait_quiet(300)
    after = {name: scrape(stack.services[name].url) for name in consumers}
    handlers = {name: mean_seconds(before[name], after[name], "fangfei_consumer_handler_seconds", "type")
                for name in consumers}
    ledger_get = mean_seconds(before["ledger"], after["ledger"], "fangfei_http_request_seconds", "route")
    return {"cpu": meter.result(), "handler_ms": handlers, "ledger_http_ms": ledger_get,
            "rate": rate, "duration_s": duration_s, "sent": n, "acked": len(sent), "errors": errors,
            "clues": sent, "tracked": tracker.done, "stride": stride, "max_schedule_lag_s": late,
            "poll_round_s": median(tracker.rounds)}


# -- the reference: one hop through the broker ----------------------------------------------------
def hop_reference(bootstrap: str, rate: float, duration_s: float, topic: str) -> dict[str, Any]:
    """Latency of one message through the broker with the services' client settings, at `rate`."""
    create_topics(bootstrap, [topic])
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, allow_auto_create_topics=False,
                             fetch_max_wait_ms=100, client_id="fangfei-bench-hop")
    parts = None
    deadline = time.monotonic() + 30
    while not parts and time.monotonic() < deadline:
        parts = partitions_of(consumer, topic)
        if not parts:
            time.sleep(0.1)
    tps = [TopicPartition(topic, p) for p in sorted(parts or [])]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    consumer.poll(timeout_ms=200)  # establish fetch positions before the clock starts
    latencies: list[float] = []
    expected = int(rate * duration_s)
    stop = threading.Event()

    def consume() -> None:
        while not stop.is_set() and len(latencies) < expected:
            for batch in consumer.poll(timeout_ms=200, max_records=500).values():
                now = time.time()
                latencies.extend(now - struct.unpack(">d", rec.value[:8])[0] for rec in batch)

    reader = threading.Thread(target=consume, daemon=True)
    reader.start()
    producer = make_producer(bootstrap, "fangfei-bench-hop")
    filler = b"x" * (HOP_PAYLOAD - 8)
    start = time.time() + 0.1
    for i in range(expected):
        t0 = start + i / rate
        delay = t0 - time.time()
        if delay > 0:
            time.sleep(delay)
        producer.send(topic, key=f"stream-{i}".encode(), value=struct.pack(">d", time.time()) + filler)
    producer.flush(30)
    reader.join(30)
    stop.set()
    producer.close(5)
    consumer.close()
    return {"messages": len(latencies), "p50_ms": _ms(percentile(latencies, 50)),
            "p99_ms": _ms(percentile(latencies, 99))}


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000.0


def _instant(text: str) -> float:
    return parse_iso(text).timestamp()


def event_times(bootstrap: str) -> dict[str, dict[str, float]]:
    """Per clue id: when intake, escalation and notification committed its events."""
    out: dict[str, dict[str, float]] = {}
    case_to_clue: dict[str, str] = {}
    for rec in read_all(bootstrap, "intake.events"):
        ev = decode_event(rec.value)
        if ev.type == "clue.reported":
            out.setdefault(ev.payload["clue_id"], {})["intake"] = _instant(ev.recorded_at)
    for rec in read_all(bootstrap, "escalation.events"):
        ev = decode_event(rec.value)
        if ev.type == "case.opened":
            case_to_clue[ev.event_id] = ev.payload["clue_id"]
            out.setdefault(ev.payload["clue_id"], {})["escalation"] = _instant(ev.recorded_at)
    for rec in read_all(bootstrap, "notification.events"):
        ev = decode_event(rec.value)
        if ev.type == "delivery.recorded" and ev.payload["source_event_id"] in case_to_clue:
            out.setdefault(case_to_clue[ev.payload["source_event_id"]], {})["delivery"] = _instant(ev.recorded_at)
    return out


def summarise(run: dict[str, Any], times: dict[str, dict[str, float]]) -> dict[str, Any]:
    """Latency percentiles (ms) of one run, from the scheduled send time of each clue."""
    stages: dict[str, list[float]] = {"ack": [], "intake_commit": [], "escalation_commit": [], "delivery": [],
                                      "ledger_row": [], "ledger_routed": []}
    missing_delivery = 0
    for clue_id, c in run["clues"].items():
        stages["ack"].append(c["ack"] - c["t0"])
        t = times.get(clue_id, {})
        if "intake" in t:
            stages["intake_commit"].append(t["intake"] - c["t0"])
        if "escalation" in t:
            stages["escalation_commit"].append(t["escalation"] - c["t0"])
        if "delivery" in t:
            stages["delivery"].append(t["delivery"] - c["t0"])
        else:
            missing_delivery += 1
    for st in run["tracked"].values():
        stages["ledger_row"].append(st["row"] - st["t0"])
        stages["ledger_routed"].append(st["routed"] - st["t0"])
    out: dict[str, Any] = {
        name: {"n": len(v), "p50_ms": _ms(percentile(v, 50)), "p99_ms": _ms(percentile(v, 99))}
        for name, v in stages.items()
    }
    out["errors"] = len(run["errors"])
    out["missing_delivery"] = missing_delivery
    out["tracked"] = len(run["tracked"])
    out["sent"] = run["sent"]
    out["poll_round_ms"] = _ms(run["poll_round_s"])
    out["max_schedule_lag_ms"] = _ms(run["max_schedule_lag_s"])
    out["cpu"] = run["cpu"]
    out["handler_ms"] = run["handler_ms"]
    out["ledger_http_ms"] = run["ledger_http_ms"]
    return out


class RebuildLoop:
    """Keeps the ledger rebuilding for as long as it runs: whenever no rebuild is running, asks
    for one (`POST /api/ledger-admin/rebuild`, as `fangfei ledger rebuild` does). Each rebuild
    replays the stack's own topics, writes its shadow, takes the write lock for the swap and
    swaps, so a run of clues sent meanwhile sees every part of a rebuild, swaps included."""

    def __init__(self, ledger: Http, token: str | None) -> None:
        self.ledger = ledger
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.stop = threading.Event()
        self.started = 0
        self.finished: list[dict[str, Any]] = []
        self.last_run: Any = None
        self.thread = threading.Thread(target=self._run, name="bench-rebuild-loop", daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                self._round()
            except (OSError, ValueError):  # counted by what did not finish; the run goes on
                pass
            self.stop.wait(0.2)  # the ledger serves these polls on its one thread too

    def _round(self) -> None:
        status, body = self.ledger.request("GET", "/api/ledger-admin/rebuild", headers=self.headers)
        if status != 200 or not body or body.get("state") == "running":
            return
        if self.last_run is not None and body.get("run_id") == self.last_run:
            self.finished.append({k: body.get(k) for k in ("seconds", "lock_held_s", "events_read", "phase_s",
                                                           "state")})
            self.last_run = None
        status, body = self.ledger.request("POST", "/api/ledger-admin/rebuild", {}, headers=self.headers)
        if status == 202 and body:
            self.last_run = body.get("run_id")
            self.started += 1

    def __enter__(self) -> "RebuildLoop":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        self.thread.join(10)


def measure(stack: Stack, base_rate: float, factor: float, duration_s: float, hop_s: float, runs: int,
            tokens: list[str], office_token: str | None = None) -> dict[str, Any]:
    rates = [base_rate, base_rate * factor]
    raw: dict[float, list[tuple[dict[str, Any], dict[str, Any]]]] = {r: [] for r in rates}
    during: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = []
    for i in range(runs):
        for rate in rates:
            hop = hop_reference(stack.broker.bootstrap, rate, hop_s, f"bench.hop.{uuid.uuid4().hex[:8]}")
            run = run_rate(stack, rate, duration_s, tokens)
            raw[rate].append((hop, run))
            log(f"e2e: run {i + 1}/{runs} at {rate:g}/s: {run['acked']}/{run['sent']} acked, "
                f"{len(run['tracked'])} tracked; hop p50 {hop['p50_ms']:.0f} ms")
        # the same base rate again, while the ledger rebuilds back to back (issue 15's criterion:
        # live clue -> ledger row p99 within 2x of its idle value)
        hop = hop_reference(stack.broker.bootstrap, base_rate, hop_s, f"bench.hop.{uuid.uuid4().hex[:8]}")
        with RebuildLoop(Http(stack.services["ledger"].url), office_token) as loop:
            run = run_rate(stack, base_rate, duration_s, tokens)
        during.append((hop, run, {"started": loop.started, "finished": loop.finished}))
        log(f"e2e: run {i + 1}/{runs} at {base_rate:g}/s during rebuilds: {run['acked']}/{run['sent']} acked, "
            f"{len(run['tracked'])} tracked, {loop.started} rebuilds started, {len(loop.finished)} finished")
    times = event_times(stack.broker.bootstrap)
    out: dict[str, Any] = {"duration_s": duration_s, "runs": runs, "track_per_s": TRACK_PER_S, "rates": {}}
    for rate in rates:
        per_run = [(hop, summarise(run, times)) for hop, run in raw[rate]]
        stage_names = ["ack", "intake_commit", "escalation_commit", "delivery", "ledger_row", "ledger_routed"]
        summary: dict[str, Any] = {
            name: {q: median(s[name][q] for _, s in per_run) for q in ("p50_ms", "p99_ms")} for name in stage_names
        }
        for name in stage_names:
            summary[name]["n"] = sum(s[name]["n"] for _, s in per_run)
        hop = {q: median(h[q] for h, _ in per_run) for q in ("p50_ms", "p99_ms")}
        summary["hop_reference"] = hop
        summary["errors"] = sum(s["errors"] for _, s in per_run)
        summary["missing_delivery"] = sum(s["missing_delivery"] for _, s in per_run)
        summary["poll_round_ms"] = median(s["poll_round_ms"] for _, s in per_run)
        summary["max_schedule_lag_ms"] = max((s["max_schedule_lag_ms"] or 0) for _, s in per_run)
        summary["stride"] = raw[rate][0][1]["stride"]
        procs = per_run[0][1]["cpu"]["process_pct_of_one_core"]
        summary["cpu_pct_of_one_core"] = {p: median(s["cpu"]["process_pct_of_one_core"].get(p) for _, s in per_run)
                                          for p in procs}
        summary["cpu_machine_pct"] = median(s["cpu"]["machine_pct_of_all_cores"] for _, s in per_run)
        summary["cpu_others_pct"] = median(s["cpu"]["others_pct_of_one_core"] for _, s in per_run)
        summary["handler_mean_ms"] = {
            f"{svc}:{etype}": median(s["handler_ms"].get(svc, {}).get(etype, {}).get("mean_ms") for _, s in per_run)
            for svc in ("escalation", "ledger", "notification")
            for etype in sorted({t for _, s in per_run for t in s["handler_ms"].get(svc, {})})
        }
        summary["ledger_http_mean_ms"] = {
            route: median(s["ledger_http_ms"].get(route, {}).get("mean_ms") for _, s in per_run)
            for route in sorted({rt for _, s in per_run for rt in s["ledger_http_ms"]})
        }
        # hops on the way: row = intake.events (1); routed row and delivery = + escalation.events (2)
        for name, hops in (("ledger_row", 1), ("ledger_routed", 2), ("delivery", 2)):
            for q in ("p50_ms", "p99_ms"):
                bound = hops * hop[q] if hop[q] else None
                summary[name][f"reference_{q}"] = bound
                summary[name][f"ratio_{q[:3]}"] = ratio(summary[name][q], bound)
        summary["per_run"] = [{"hop": h, **s} for h, s in per_run]
        out["rates"][f"{rate:g}"] = summary
    if during:
        idle = out["rates"][f"{base_rate:g}"]
        per_run = [summarise(run, times) for _, run, _ in during]
        loops = [loop for _, _, loop in during]
        finished = [f for loop in loops for f in loop["finished"] if f.get("state") == "done"]
        row = {q: median(s["ledger_row"][q] for s in per_run) for q in ("p50_ms", "p99_ms")}
        out["during_rebuild"] = {
            "rate": base_rate, "runs": len(during),
            "ledger_row": {**row, "n": sum(s["ledger_row"]["n"] for s in per_run),
                           "per_run_p99_ms": [s["ledger_row"]["p99_ms"] for s in per_run]},
            "idle_ledger_row": {q: idle["ledger_row"][q] for q in ("p50_ms", "p99_ms")},
            "idle_per_run_p99_ms": [s["ledger_row"]["p99_ms"] for s in idle["per_run"]],
            "ratio_p99": ratio(row["p99_ms"], idle["ledger_row"]["p99_ms"]),
            "ratio_p50": ratio(row["p50_ms"], idle["ledger_row"]["p50_ms"]),
            "rebuilds_started": sum(loop["started"] for loop in loops),
            "rebuilds_finished": len(finished),
            "rebuild_seconds": median(f["seconds"] for f in finished) if finished else None,
            "lock_held_ms": {"median": median(f["lock_held_s"] * 1000 for f in finished if f.get("lock_held_s") is not None),
                             "max": max((f["lock_held_s"] * 1000 for f in finished if f.get("lock_held_s") is not None),
                                        default=None)} if finished else None,
            "events_per_rebuild": median(f["events_read"] for f in finished) if finished else None,
            "errors": sum(s["errors"] for s in per_run),
            "per_run": per_run,
        }
    return out

"""One measurement of the rebuild figures, in a fresh process so its peak memory is its own.

    python -m bench.rebuild_worker MODE --bootstrap HOST:PORT --prefix P --events N --work DIR

Modes (each prints one JSON object on stdout):

- `consume`: read the N records of the ledger's source topics from offset 0; nothing else.
  The first reference: no rebuild can read its history faster than this.
- `consume-json`: the same plus `json.loads` of each value: the reference of the acceptance
  criterion ("at least half of the raw consume-and-decode rate").
- `rebuild`: the operators' path, `services.ledger.rebuild_job.run` (what `POST
  /api/ledger-admin/rebuild` runs in the service: every source topic, the msgspec fast decode,
  the fold into a shadow with bounded memory, catch-up, swap under the lock) into a fresh
  embedded store file. Reports the job's phases and how long it held the lock; then, unless
  `--no-insert-ref`, reads the rows back and inserts them with plain litemongo `insert_many`
  into another fresh file: the old write path on the very same rows (the second reference).
- `rebuild-direct`: `services.ledger.rebuild.rebuild` fed by the bench's own reader and the
  validating `decode_event`, stages timed around the record stream (kept for comparison).
- `rebuild-proposed`: `rebuild-direct` with one marshmallow schema instance per type reused
  (`cached_schema_decoder`), the change earlier runs measured.
- `profile`: the `rebuild` mode (the job) under cProfile; reports where the time goes, by layer.
- `stages`: the records are read into memory first, then each step is timed alone on them
  (JSON only, validated marshmallow decode, the msgspec fast decode (asserted equal on every
  record), plan+fold, litemongo insert, the shadow's bulk write), plus what the same rows cost
  written straight into SQLite as JSON in one transaction per batch (`executemany`): the write
  rate the embedded file itself allows.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import resource
import shutil
import sys
import threading
import time
from typing import Any, Callable, Iterable, Iterator

from fangfei.eventstore.connect import open_database
from fangfei.events import Event
from fangfei.events.registry import decode_event

from services.ledger.ledgers import LEDGERS, plans_for
from services.ledger.rebuild import rebuild
from services.ledger.upserts import fold

from . import kafka_io
from .dataset import consumed_types, topics_for

INSERT_BATCH = 1000  # the batch services/ledger/rebuild.py uses


def rss_kb() -> int:
    """Peak resident memory so far, in KiB (Linux reports ru_maxrss in KiB): this process's plus
    that of its largest finished child (the ledger's rebuild worker process, ADR 0018), an upper
    bound of the two together."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
               + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)


class TreeRss:
    """The peak of this process's resident memory plus all its descendants' at once, sampled every
    `every_s` in a thread. A rebuild runs in several processes (the worker, its replay readers, its
    bucket writer: ADR 0018, 0019), and `ru_maxrss` of the children is only the largest one's."""

    def __init__(self, every_s: float = 0.1) -> None:
        self.every_s = every_s
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True, name="tree-rss")

    def __enter__(self) -> "TreeRss":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_kb = max(self.peak_kb, tree_rss_kb(os.getpid()))

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, tree_rss_kb(os.getpid()))
            self._stop.wait(self.every_s)


def tree_rss_kb(pid: int) -> int:
    """VmRSS of `pid` and every descendant, now (KiB); processes that end meanwhile count 0."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                total += next((int(line.split()[1]) for line in fh if line.startswith("VmRSS:")), 0)
            with open(f"/proc/{p}/task/{p}/children") as fh:
                todo += [int(c) for c in fh.read().split()]
        except (OSError, ValueError):
            continue
    return total


def current_rss_kb() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Timed:
    """Wraps the record stream so the rebuild's own loop can be split into stages without
    touching it: time inside the Kafka iterator, time inside decode, and the rest (plan + fold),
    which is what `rebuild` does between two `next()` calls."""

    def __init__(self, source: Iterator[Any], decode: Callable[[bytes], Event]) -> None:
        self.source = source
        self.decode = decode
        self.read_s = 0.0
        self.decode_s = 0.0
        self.count = 0
        self.first = 0.0
        self.exhausted_at = 0.0

    def __iter__(self) -> Iterator[Event]:
        clock = time.perf_counter
        self.first = clock()
        src = self.source
        while True:
            t0 = clock()
            try:
                rec = next(src)
            except StopIteration:
                self.exhausted_at = clock()
                return
            t1 = clock()
            event = self.decode(rec.value)
            t2 = clock()
            self.read_s += t1 - t0
            self.decode_s += t2 - t1
            self.count += 1
            yield event


def _open(work: str, name: str) -> tuple[Any, Any, str]:
    path = os.path.join(work, name)
    shutil.rmtree(path, ignore_errors=True)
    client, db = open_database(f"embedded:{path}", "fangfei_ledger")
    return client, db, path


def _collections() -> list[str]:
    """Everything a rebuild writes: the ledgers and the read models refilled with them."""
    from services.ledger import ledgers

    every = getattr(ledgers, "all_collections", None)
    return sorted(every()) if every else sorted({c for ledger in LEDGERS.values() for c in ledger.collections})


def run_consume(args: argparse.Namespace, decode_json: bool) -> dict[str, Any]:
    base = current_rss_kb()
    count = 0
    started = time.perf_counter()
    for rec in kafka_io.records(args.bootstrap, _topics(args), args.events):
        if decode_json:
            json.loads(rec.value)
        count += 1
    seconds = time.perf_counter() - started
    return {"events": count, "seconds": seconds, "rate": count / seconds, "base_rss_kb": base, "peak_rss_kb": rss_kb()}


def run_rebuild(args: argparse.Namespace, decode: Callable[[bytes], Event] = decode_event) -> dict[str, Any]:
    client, db, path = _open(args.work, "rebuild")
    base = current_rss_kb()
    try:
        stream = Timed(kafka_io.records(args.bootstrap, _topics(args), args.events), decode)
        started = time.perf_counter()
        report = rebuild(db, stream)
        finished = time.perf_counter()
        peak = rss_kb()
        seconds = finished - started
        fold_s = (stream.exhausted_at - stream.first) - stream.read_s - stream.decode_s
        write_s = finished - stream.exhausted_at
        out: dict[str, Any] = {
            "events": report.events, "applied": report.applied, "rows": report.rows,
            "seconds": seconds, "rate": report.events / seconds, "base_rss_kb": base, "peak_rss_kb": peak,
            "stages_s": {"read": stream.read_s, "decode": stream.decode_s, "plan_fold": fold_s, "write": write_s},
        }
        if report.events != args.events:
            raise RuntimeError(f"rebuild read {report.events} events, expected {args.events}")
        if not args.no_insert_ref:
            out["insert_ref"] = insert_reference(db, args.work)
        return out
    finally:
        client.close()
        shutil.rmtree(path, ignore_errors=True)


def run_rebuild_job(args: argparse.Namespace, in_process: bool | None = None) -> dict[str, Any]:
    """The operators' path: `rebuild_job.run`, as `POST /api/ledger-admin/rebuild` runs it in the
    service (private replay of every source topic, fold into a shadow with bounded memory, bulk
    shadow write, catch-up, swap under the lock), into a fresh embedded store. Decode is timed
    by wrapping the replay's decoder; the phases come from the job's own report."""
    from services.ledger import rebuild_job, replay

    client, db, path = _open(args.work, "rebuild")
    base = current_rss_kb()
    decode_s = [0.0]
    inner = replay._decode
    clock = time.perf_counter

    def timed_decode(raw: bytes) -> Event:
        t0 = clock()
        try:
            return inner(raw)
        finally:
            decode_s[0] += clock() - t0

    replay._decode = timed_decode
    try:
        rebuild_job.request(db, rebuild_job.to_iso_now)
        started = clock()
        with TreeRss() as tree:
            state = rebuild_job.run(db, args.bootstrap, topics=_topics(args), in_process=in_process)
        seconds = clock() - started
        peak = max(tree.peak_kb, rss_kb())
        if state.get("state") != "done" or state["events_read"] != args.events:
            raise RuntimeError(f"rebuild job ended {state.get('state')} after {state.get('events_read')} of "
                               f"{args.events} events")
        phases = state["phase_s"]
        out: dict[str, Any] = {
            "events": state["events_read"], "applied": state["row_changes"], "rows": state["rows"],
            "seconds": seconds, "rate": state["events_read"] / seconds, "base_rss_kb": base, "peak_rss_kb": peak,
            # in the worker process (the default on this store) decode is not timed apart: it is in read_fold
            "stages_s": {"read_fold": phases["replaying"] - decode_s[0],
                         **({"decode": decode_s[0]} if decode_s[0] else {}),
                         "write": phases["writing"], "catch_up": phases["catching_up"], "locked": phases["locked"]},
            "lock_held_s": state["lock_held_s"], "peak_cache_rows": state["peak_cache_rows"],
            "decoder": f"{inner.__module__}.{inner.__name__}",
        }
        if not args.no_insert_ref:
            out["insert_ref"] = insert_reference(db, args.work)
        return out
    finally:
        replay._decode = inner
        client.close()
        shutil.rmtree(path, ignore_errors=True)
        shutil.rmtree(path + ".rebuild", ignore_errors=True)


def insert_reference(db: Any, work: str) -> dict[str, Any]:
    """Raw `insert_many` of the rows the rebuild just wrote, into a fresh file of the same store."""
    docs = {c: list(db[c].find({})) for c in _collections()}
    client, target, path = _open(work, "insert-ref")
    try:
        started = time.perf_counter()
        n = 0
        for collection, rows in docs.items():
            for start in range(0, len(rows), INSERT_BATCH):
                target[collection].insert_many(rows[start:start + INSERT_BATCH])
            n += len(rows)
        seconds = time.perf_counter() - started
        return {"docs": n, "seconds": seconds, "rate": n / seconds if seconds else 0.0}
    finally:
        client.close()
        shutil.rmtree(path, ignore_errors=True)


# -- profile ---------------------------------------------------------------------------------------
LAYERS = [  # (label, substrings of the file path): first match wins, in this order
    ("kafka-python (fetch, parse, CRC)", ("/kafka/", "crc32c")),
    ("marshmallow (envelope + payload validation)", ("/marshmallow/",)),
    ("copy.deepcopy (marshmallow schema instantiation)", ("/copy.py",)),
    ("litemongo / mongomock / bson / sqlite (writes)", ("/litemongo/", "/bson/", "sqlite3",
                                                        "/fangfei/eventstore/shadow")),
    ("ledger plan + fold (services/ledger)", ("/services/ledger/",)),
    ("fangfei event decode (msgspec fast path, registry, envelope)", ("/fangfei/events/", "msgspec")),
    ("json", ("/json/",)),
]


def run_profile(args: argparse.Namespace) -> dict[str, Any]:
    prof = cProfile.Profile()
    prof.enable()
    # in this process: a profile of the worker process would show only the wait for it
    result = run_rebuild_job(argparse.Namespace(**{**vars(args), "no_insert_ref": True}), in_process=True)
    prof.disable()
    stats = pstats.Stats(prof)
    total = sum(tt for (_, _, tt, _, _) in stats.stats.values())  # type: ignore[attr-defined]
    layers: dict[str, float] = {}
    top: list[tuple[float, str]] = []
    for (filename, line, func), (_, _, tt, _, callers) in stats.stats.items():  # type: ignore[attr-defined]
        top.append((tt, f"{_short(filename)}:{line}({func})" if filename != "~" else func))
        if filename == "~" and callers:
            # a builtin (isinstance, dict.get, a C extension) counts for the layers that called it
            for (cfile, _, _), caller_stats in callers.items():
                layer = _layer(cfile) if cfile != "~" else _builtin_layer(func)
                layers[layer] = layers.get(layer, 0.0) + caller_stats[2]
        else:
            layer = _layer(filename) if filename != "~" else _builtin_layer(func)
            layers[layer] = layers.get(layer, 0.0) + tt
    top.sort(reverse=True)
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(25)
    return {
        "events": result["events"],
        "profiled_seconds": total,
        "layers": {k: v / total for k, v in sorted(layers.items(), key=lambda kv: -kv[1])},
        "top_tottime": [{"function": name, "share": tt / total} for tt, name in top[:15]],
        "cumulative_text": strip_paths(buf.getvalue()),
    }


def strip_paths(text: str) -> str:
    """The profile text without this machine's directories (the results file is committed):
    paths become relative to the checkout, the site-packages or the standard library."""
    import re

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    text = re.sub(r"/[^\s:()]*?/(?:lib/python3\.\d+/site-packages|site-packages|lib/python3\.\d+)/", "", text)
    return text.replace(root + os.sep, "")


def _layer(filename: str) -> str:
    return next((name for name, keys in LAYERS if any(k in filename for k in keys)),
                "other (bench driver, interpreter)")


def _builtin_layer(func: str) -> str:
    if "sqlite3" in func or "bson" in func.lower() or "_bson" in func:
        return "litemongo / mongomock / bson / sqlite (writes)"
    if "json" in func or "scan_once" in func:
        return "json"
    if "crc" in func or "socket" in func or "recv" in func or "select" in func or "poll" in func:
        return "kafka-python (fetch, parse, CRC)"
    return "other (bench driver, interpreter)"


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/shared/", "/services/", "/lib/python3.11/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return os.path.basename(filename)


# -- stages in isolation --------------------------------------------------------------------------
def cached_schema_decoder() -> Callable[[bytes], Event]:
    """`decode_event` with the change proposed in docs/benchmarks.md applied: one instance of each
    schema, made once and reused, instead of a new instance per event (marshmallow deep-copies
    every declared field on instantiation). Same checks, same result; the stages mode asserts
    that the two decoders agree on every record."""
    from marshmallow import ValidationError

    from fangfei.events.envelope import EnvelopeSchema, EventError
    from fangfei.events.registry import DEFAULT_MAX_EVENT_BYTES, REGISTRY

    envelope = EnvelopeSchema()
    payloads: dict[tuple[str, int], Any] = {}

    def payload_schema(name: str, version: int) -> Any:
        schema = payloads.get((name, version))
        if schema is None:
            schema = payloads[(name, version)] = REGISTRY._get(name).schemas[version]()
        return schema

    def decode(raw: bytes) -> Event:
        if len(raw) > DEFAULT_MAX_EVENT_BYTES:
            raise EventError("too large")
        data = json.loads(raw)
        try:
            env = envelope.load(data)
        except ValidationError as exc:
            raise EventError("event envelope is invalid", exc.messages_dict) from exc
        env["event_id"] = str(env["event_id"])
        version, payload = REGISTRY.upcast(env["type"], env["schema_version"], dict(env["payload"]))
        schema = payload_schema(env["type"], version)
        try:
            env["payload"] = dict(schema.dump(schema.load(payload)))
        except ValidationError as exc:
            raise EventError("payload is invalid", exc.messages_dict) from exc
        env["schema_version"] = version
        return Event(**env)

    return decode


def run_stages(args: argparse.Namespace) -> dict[str, Any]:
    raws = [rec.value for rec in kafka_io.records(args.bootstrap, _topics(args), args.events)]
    n = len(raws)

    def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
        started = time.perf_counter()
        value = fn()
        return time.perf_counter() - started, value

    from fangfei.events.fast import decode_event_bytes

    json_s, _ = timed(lambda: [json.loads(r) for r in raws])
    decode_s, events = timed(lambda: [decode_event(r) for r in raws])
    fast_s, events_fast = timed(lambda: [decode_event_bytes(r) for r in raws])
    if events_fast != events:
        raise AssertionError("the fast decoder does not give the same events as decode_event")
    rows: dict[tuple[str, str], dict[str, Any]] = {}

    def fold_all() -> None:
        for event in events:
            for up in plans_for(event):
                fold(rows, up)

    fold_s, _ = timed(fold_all)
    client, db, path = _open(args.work, "stages")
    try:
        by_collection: dict[str, list[dict[str, Any]]] = {}
        for (collection, _), doc in rows.items():
            by_collection.setdefault(collection, []).append(doc)

        def insert_all() -> None:
            for collection, docs in by_collection.items():
                for start in range(0, len(docs), INSERT_BATCH):
                    db[collection].insert_many(docs[start:start + INSERT_BATCH])

        insert_s, _ = timed(insert_all)
    finally:
        client.close()
        shutil.rmtree(path, ignore_errors=True)
    client, db, path = _open(args.work, "stages-shadow")
    try:
        from fangfei.eventstore.shadow import Shadow

        shadow = Shadow(db, list(by_collection), "stages")

        def shadow_all() -> None:
            for collection, docs in by_collection.items():
                shadow.put_many(collection, docs)
            shadow.seal()

        shadow_s, _ = timed(shadow_all)
    finally:
        client.close()
        shutil.rmtree(path, ignore_errors=True)
        shutil.rmtree(path + ".rebuild", ignore_errors=True)
    sqlite_s = sqlite_batches(args.work, by_collection)
    us = lambda s: s / n * 1e6  # noqa: E731
    return {
        "events": n, "rows": len(rows),
        "us_per_event": {
            "json_loads": us(json_s), "decode_event": us(decode_s), "decode_fast": us(fast_s),
            "plan_fold": us(fold_s), "insert": us(insert_s), "shadow_put_many": us(shadow_s),
            "sqlite_executemany": us(sqlite_s),
        },
    }


def sqlite_batches(work: str, by_collection: dict[str, list[dict[str, Any]]]) -> float:
    """Seconds to write the rows as JSON text into a plain SQLite table (WAL, synchronous=NORMAL,
    as litemongo opens its files), one `executemany` and one commit per batch of INSERT_BATCH.
    Not a store the platform could use as is (no queries, no indexes): the floor under any
    store kept in an embedded SQLite file, for the "what would be needed" of the doc."""
    import sqlite3

    path = os.path.join(work, "sqlite-ref.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        started = time.perf_counter()
        for collection, docs in by_collection.items():
            conn.execute(f'CREATE TABLE "{collection}" (id TEXT PRIMARY KEY, doc TEXT)')
            for start in range(0, len(docs), INSERT_BATCH):
                with conn:
                    conn.executemany(f'INSERT INTO "{collection}" VALUES (?, ?)',
                                     [(d["_id"], json.dumps(d, ensure_ascii=False, default=str))
                                      for d in docs[start:start + INSERT_BATCH]])
        return time.perf_counter() - started
    finally:
        conn.close()
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)


def _topics(args: argparse.Namespace) -> list[str]:
    return topics_for(consumed_types(), args.prefix)


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.rebuild_worker")
    parser.add_argument("mode", choices=["consume", "consume-json", "rebuild", "rebuild-direct", "rebuild-proposed", "profile",
                                         "stages"])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--no-insert-ref", action="store_true")
    args = parser.parse_args(list(argv) if argv is not None else None)
    os.makedirs(args.work, exist_ok=True)
    if args.mode == "consume":
        result = run_consume(args, decode_json=False)
    elif args.mode == "consume-json":
        result = run_consume(args, decode_json=True)
    elif args.mode == "rebuild":
        result = run_rebuild_job(args)
    elif args.mode == "rebuild-direct":
        result = run_rebuild(args)
    elif args.mode == "rebuild-proposed":
        result = run_rebuild(args, cached_schema_decoder())
    elif args.mode == "profile":
        result = run_profile(args)
    else:
        result = run_stages(args)
    usage, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    result["cpu_s"] = usage.ru_utime + usage.ru_stime + children.ru_utime + children.ru_stime
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`fangfei ledger rebuild`, run by the ledger service itself: refold every read model from
offset 0 of the source topics into a shadow, and swap it in, while the live consumer keeps running
(docs/adr/0015-shadow-rebuild.md).

How it stays correct with live traffic and crashes:

- **replaying**: a private replay of the topics (no consumer group) is folded into a shadow of the
  read models (`fangfei.eventstore.shadow`): at most `rebuild.CACHE_ROWS` rows in memory, the rest
  written to the shadow in bulk. Live events keep being applied to the old rows meanwhile.
- **writing**: the remaining rows and the indexes go to the shadow; **catching_up**: the replay
  reads on to the new end of the topics and applies that tail to the shadow with the live
  handlers' guarded upserts. None of this holds the lock.
- **swapping**: holding `WRITE_LOCK` (every live handler takes it too), a last short tail goes to
  the shadow, the shadow is sealed and its manifest is written **in the job document** (the commit
  point, one document), then the shadow replaces the live read models. Whatever the live consumer
  applied before the lock is on the topics, so it is in the shadow; whatever it applies after is
  recognised by the rows' `_applied` guards and changes nothing.
- The job's state is a document (`ledger_rebuild_state`, not a read model, never swapped). A
  process killed before the commit point leaves it `running` with no manifest: the next start
  discards the shadow and runs the rebuild again from the beginning (the old rows are served
  meanwhile). Killed after it, the next start finishes the swap (`recover`): the new rows.
  Either way the read models are the old ones or the new ones, never a mix.

Progress (`status`): `phase`, `events_read`, `events_total`, `rate_per_s`, `eta_s`, `started_at`.
"""

from __future__ import annotations

import json
import logging
import os
import pathlib
import subprocess
import sys
import threading
import time
import uuid
from typing import Any, Callable

from fangfei.clock import to_iso
from fangfei.eventstore.connect import open_database
from fangfei.eventstore.shadow import Shadow, discard, kind_of, swap

from .ledgers import all_collections, ensure_indexes, plans_for
from .buckets import BucketedRows
from .rebuild import CACHE_ROWS, Difference, SpillRows, compare, cyclic_gc_paused, fold, write_all, write_rows
from .rebuild_worker import readers_setting
from .replay import TopicReplay

log = logging.getLogger(__name__)

STATE = "ledger_rebuild_state"
JOB = "rebuild"
WRITE_LOCK = threading.Lock()  # green under nameko (eventlet monkey-patches threading)
PROGRESS_EVERY_S = 0.5  # progress written to the job document at most this often
YIELD_EVERY = 100  # events folded between two yields to the other green threads
IDLE_TIMEOUT_S = float(os.environ.get("FANGFEI_LEDGER_REBUILD_IDLE_TIMEOUT_S", "60"))
IN_PROCESS_ENV = "FANGFEI_LEDGER_REBUILD_IN_PROCESS"  # "1": fold in the service process, not a worker
_REPO_ROOT = str(pathlib.Path(__file__).resolve().parents[2])  # where `services` is importable from


_YIELD: list[Callable[[], None]] = []


def green_yield() -> None:
    """Let the service's other green threads run (HTTP, the live consumer). Outside nameko (the
    bench, a script) there is nothing to yield to, and an OS-level sleep(0) costs ~1 ms on a busy
    machine, so there it does nothing. Decided on first use (nameko patches before it runs)."""
    if not _YIELD:
        try:
            from eventlet import patcher

            green = patcher.is_monkey_patched("time")
        except ImportError:  # pragma: no cover - eventlet is always installed here
            green = False
        _YIELD.append((lambda: time.sleep(0)) if green else (lambda: None))
    _YIELD[0]()


# Fault injection for the crash tests only: stop (forever) when attempt 1 reaches one of these
# points, so a test can SIGKILL the process exactly there. Unset in every real deployment.
HOLD_ENV = "FANGFEI_TEST_REBUILD_HOLD"


def status(db: Any) -> dict[str, Any]:
    doc = db[STATE].find_one({"_id": JOB})
    if doc is None:
        return {"state": "never", "state_label": "从未重建"}
    doc.pop("_id", None)
    doc.pop("swap", None)
    doc["state_label"] = {"running": "重建中", "done": "已完成", "failed": "失败"}.get(doc.get("state", ""), "")
    return doc


def request(db: Any, now: Callable[[], str]) -> dict[str, Any]:
    """Mark a rebuild as wanted (idempotent while one is running); the runner picks it up."""
    current = db[STATE].find_one({"_id": JOB}) or {}
    if current.get("state") == "running":
        return status(db)
    db[STATE].replace_one({"_id": JOB}, {"_id": JOB, "state": "running", "requested_at": now(),
                                         "run_id": uuid.uuid4().hex, "attempt": 0, "events_read": 0,
                                         "events_total": None, "phase": "queued"}, upsert=True)
    return status(db)


def recover(db: Any) -> str:
    """At start, before anything reads the read models: finish a swap a crash interrupted after
    its commit point, or throw away a shadow that never reached it. Returns what it did."""
    doc = db[STATE].find_one({"_id": JOB}) or {}
    manifest = doc.get("swap")
    if manifest:
        swap(db, manifest)  # the shadow carries its indexes
        db[STATE].update_one({"_id": JOB}, {"$unset": {"swap": ""}, "$set": {
            "state": "done", "phase": "done", "finished_at": to_iso_now(), "eta_s": 0,
            "events_total": doc.get("events_read")}})
        return "swap finished"
    discard(db)
    return "nothing to finish"


class _Progress:
    def __init__(self, db: Any, replay: TopicReplay, started: float) -> None:
        self.db, self.replay, self.started, self.last = db, replay, started, 0.0

    def fields(self) -> dict[str, Any]:
        read = self.replay.read
        total = self.replay.total()
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = read / elapsed
        eta = round(max(total - read, 0) / rate, 1) if total is not None and rate > 0 else None
        return {"events_read": read, "events_total": total, "rate_per_s": round(rate, 1), "eta_s": eta}

    def __call__(self, force: bool = False, **extra: Any) -> None:
        now = time.monotonic()
        if force or now - self.last >= PROGRESS_EVERY_S:
            self.last = now
            self.db[STATE].update_one({"_id": JOB}, {"$set": {**self.fields(), **extra}})


def _hold(db: Any, attempt: int, point: str) -> None:
    """Fault injection (tests only): park the rebuild at `point` until the process is killed.
    `FANGFEI_TEST_REBUILD_HOLD` lists points, each `point` (attempt 1) or `point@<attempt>`."""
    wanted = {w if "@" in w else f"{w}@1" for w in os.environ.get(HOLD_ENV, "").split(",") if w}
    if f"{point}@{attempt}" not in wanted:
        return
    db[STATE].update_one({"_id": JOB}, {"$set": {"held_at": point}})
    log.warning("rebuild held at %s (%s)", point, HOLD_ENV)
    while True:
        time.sleep(0.05)


def _fold_replay(replay: TopicReplay, rows: BucketedRows | SpillRows, progress: _Progress,
                 min_polls: int = 1) -> None:
    add, done = rows.add, rows.event_done
    for event in replay.events(min_polls=min_polls):
        done()
        for up in plans_for(event):
            add(up)
        if replay.read % YIELD_EVERY == 0:
            green_yield()  # a green thread: let HTTP requests and the live consumer run meanwhile
            progress()


def _fold_tail(replay: TopicReplay, rows: SpillRows, min_polls: int = 1, fresh_after: float | None = None) -> int:
    """The events after the fold, folded the same way into rows fetched back from the shadow by
    key (no litemongo query, which would first index the whole collection), then written."""
    applied = 0
    for event in replay.events(min_polls=min_polls, fresh_after=fresh_after):
        for up in plans_for(event):
            applied += fold(rows, up)  # type: ignore[arg-type]
        if replay.read % YIELD_EVERY == 0:
            green_yield()
    rows.flush()
    return applied


def run(db: Any, bootstrap: str, cache_rows: int = CACHE_ROWS, topics: list[str] | None = None,
        in_process: bool | None = None) -> dict[str, Any]:
    """Run the requested rebuild to the end (called by the service's runner thread; `topics`
    replaces the source topics, for the bench).

    On the embedded store the replay, fold and bulk write run in a worker process
    (`rebuild_worker.py`), so the service's one hub keeps serving live events and requests;
    elsewhere (MongoDB, the memory engine of tests), or with `in_process`
    (FANGFEI_LEDGER_REBUILD_IN_PROCESS=1), in this process as a green thread. Either way the last
    tail and the swap happen here, under the write lock."""
    started = time.monotonic()
    doc = db[STATE].find_one_and_update({"_id": JOB}, {"$inc": {"attempt": 1}, "$set": {
        "phase": "replaying", "events_read": 0, "rate_per_s": None, "eta_s": None, "rows_written": None,
        "started_at": to_iso_now()}, "$unset": {"held_at": ""}}, return_document=True) or {}
    attempt = int(doc.get("attempt", 1))
    if in_process is None:
        in_process = kind_of(db) != "file" or os.environ.get(IN_PROCESS_ENV) == "1"
    if in_process:
        return _run_here(db, bootstrap, cache_rows, topics, attempt, started)
    return _run_in_worker(db, bootstrap, cache_rows, topics, attempt, started)


def _run_here(db: Any, bootstrap: str, cache_rows: int, topics: list[str] | None, attempt: int,
              started: float) -> dict[str, Any]:
    marks = [("replaying", started)]

    def mark(phase: str) -> None:
        marks.append((phase, time.monotonic()))
    replay = TopicReplay(bootstrap, idle_timeout_s=IDLE_TIMEOUT_S, topics=topics)
    progress = _Progress(db, replay, started)
    shadow = Shadow(db, all_collections(), uuid.uuid4().hex, pause=green_yield)
    committed = _Committed()
    gc_paused = cyclic_gc_paused().__enter__()  # until the lock is taken: live handlers then run with it on
    try:
        ensure_indexes(shadow.db)  # declared first, so the shadow's query index is built as it is written
        bulk = BucketedRows(cache_rows, shadow.scratch_dir(), expected_events=replay.total, pause=green_yield)
        _fold_replay(replay, bulk, progress)
        _hold(db, attempt, "replaying")
        mark("writing")
        progress(force=True, phase="writing", rows_written=0)
        write_all(shadow, bulk, progress=lambda written: progress(rows_written=written))
        # the tail after the bulk fold changes rows already in the shadow: fetched back by key
        rows = SpillRows(shadow, cache_rows, spilled=True, counts=bulk.counts)
        rows.peak = bulk.peak
        _hold(db, attempt, "writing")
        mark("catching_up")
        progress(force=True, phase="catching_up")
        applied = bulk.applied + _fold_tail(replay, rows)
        shadow.prepare()  # durable and self-contained before the lock: little left to do under it
        gc_paused.resume()
        return _finish(db, shadow, replay, rows, applied, marks, attempt, progress, started, committed)
    except BaseException:
        if not committed:
            shadow.discard()
        raise
    finally:
        gc_paused.resume()  # idempotent: enables only what it disabled
        replay.close()


def _run_in_worker(db: Any, bootstrap: str, cache_rows: int, topics: list[str] | None, attempt: int,
                   started: float) -> dict[str, Any]:
    """The replay, fold, bulk write and first catch-up in `rebuild_worker` (another process, so
    another core and another GIL); its progress is copied into the job document as it comes."""
    readers = readers_setting()  # a bad setting fails the job with its reason, before any work
    tag = uuid.uuid4().hex
    discard(db)  # shadows of earlier attempts that never reached their commit point
    directory = Shadow.directory_for(db, tag)
    cmd = [sys.executable, "-m", "services.ledger.rebuild_worker", "--bootstrap", bootstrap,
           "--shadow-dir", str(directory), "--db", db.name, "--tag", tag, "--cache-rows", str(cache_rows),
           "--idle-timeout", str(IDLE_TIMEOUT_S), "--attempt", str(attempt), "--readers", str(readers)]
    for topic in topics or ():
        cmd += ["--topic", topic]
    path = os.pathsep.join(p for p in (_REPO_ROOT, os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": path}
    # stderr is the service's own (the worker's warnings land in the service log)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd=_REPO_ROOT, env=env)
    done: dict[str, Any] | None = None
    try:
        assert proc.stdout is not None
        for raw in proc.stdout:  # green under nameko: the hub serves everything else meanwhile
            message = json.loads(raw)
            if "progress" in message:
                db[STATE].update_one({"_id": JOB}, {"$set": message["progress"]})
            elif "held" in message:
                db[STATE].update_one({"_id": JOB}, {"$set": {"held_at": message["held"]}})
                log.warning("rebuild held at %s (%s)", message["held"], HOLD_ENV)
            elif "done" in message:
                done = message["done"]
        code = proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        discard(db)
        raise
    if code != 0 or done is None:
        discard(db)
        raise RuntimeError(f"the rebuild worker process ended with exit code {code} "
                           "(its log is the service's)")
    # the worker's phases, on this process's clock (its own start-up counts as replaying); its
    # catch-up, the hand-over and the tail folded here make up catching_up, until the lock
    marks, t = [], started
    for phase in ("replaying", "writing", "catching_up"):
        marks.append((phase, t))
        t += done["phase_s"].get(phase, 0.0)
    committed = _Committed()
    replay = TopicReplay(bootstrap, idle_timeout_s=IDLE_TIMEOUT_S, topics=topics, positions=done["positions"],
                         already_read=done["events_read"])
    try:
        shadow = Shadow(db, all_collections(), tag, pause=green_yield, directory=str(directory))
        progress = _Progress(db, replay, started)
        rows = SpillRows(shadow, cache_rows, spilled=True, counts=done["rows"])
        rows.peak = done["peak_cache_rows"]
        replay.undecodable = done["undecodable"]
        applied = done["applied"] + _fold_tail(replay, rows)  # what came since the worker stopped
        return _finish(db, shadow, replay, rows, applied, marks, attempt, progress, started, committed)
    except BaseException:
        if not committed:
            discard(db)
        raise
    finally:
        replay.close()


class _Committed:
    """Whether a job's manifest is written: from then on a failure must leave the shadow alone,
    for the next start to finish the swap (`recover`)."""

    def __init__(self) -> None:
        self.done = False

    def __bool__(self) -> bool:
        return self.done


def _finish(db: Any, shadow: Shadow, replay: TopicReplay, rows: SpillRows, applied: int,
            marks: list[tuple[str, float]], attempt: int, progress: _Progress, started: float,
            committed: _Committed) -> dict[str, Any]:
    """Under the write lock: the last tail, the manifest (the commit point) and the swap."""
    with WRITE_LOCK:  # live handlers wait: nothing lands between the last tail and the swap
        marks.append(("locked", time.monotonic()))
        # everything on the topics when the lock was taken (all the live consumer applied) is
        # read once a fetch sent after this instant has answered
        applied += _fold_tail(replay, rows, fresh_after=time.monotonic())
        counts = dict(rows.counts)  # rows are counted as the fold creates them
        manifest = shadow.seal()
        db[STATE].update_one({"_id": JOB}, {"$set": {"phase": "swapping", "swap": manifest,
                                                     **progress.fields()}})
        committed.done = True  # from here on a restart finishes the swap (`recover`)
        _hold(db, attempt, "swapping")
        swap(db, manifest, after_each=lambda name: _hold(db, attempt, "swap-midway"),  # indexes come along
             warm=shadow.warm)
        marks.append(("done", time.monotonic()))
        phase_s = {a: round(tb - ta, 3) for (a, ta), (_, tb) in zip(marks, marks[1:])}
        db[STATE].update_one({"_id": JOB}, {"$unset": {"swap": ""}, "$set": {
            "state": "done", "phase": "done", **progress.fields(), "events_total": replay.read,
            "eta_s": 0, "row_changes": applied, "rows": counts, "finished_at": to_iso_now(),
            "seconds": round(time.monotonic() - started, 1), "undecodable": replay.undecodable,
            "phase_s": phase_s, "lock_held_s": phase_s["locked"], "peak_cache_rows": rows.peak}})
    return status(db)


def check(db: Any, bootstrap: str) -> list[Difference]:
    """Refold the log privately and compare with the live read models (nothing is changed).

    The whole comparison runs outside the write lock, while live events go on being applied: a
    row found different there may only be a row the live consumer had not reached yet, or had
    moved past. Under the lock (live handlers wait) the events published since are folded too, and
    only the rows that differed or that those events touched are compared again; every other row
    was equal and nothing has changed it since (a live change is an event, and every event the
    live consumer can have applied is in the log the tail reads to). The lock used to be held for
    the whole comparison: every row of every ledger read twice while live writes waited."""
    replay = TopicReplay(bootstrap, idle_timeout_s=IDLE_TIMEOUT_S)
    rows = SpillRows(None)  # the scratch copy is compared whole, in memory
    nothing = _Progress(db, replay, time.monotonic())
    nothing.last = float("inf")  # a check writes no progress
    try:
        _fold_replay(replay, rows, nothing)
        suspects = {(d.collection, d.doc_id) for d in compare(db, _scratch(rows.cache), pause=green_yield)}
        with WRITE_LOCK:
            for event in replay.events(fresh_after=time.monotonic()):  # all the live consumer applied
                for up in plans_for(event):
                    rows.add(up)
                    suspects.add((up.collection, up.doc_id))
            again = {key: rows.cache[key] for key in suspects if key in rows.cache}
            return compare(db, _scratch(again), keys=suspects)
    finally:
        replay.close()


def _scratch(rows: dict[tuple[str, str], dict[str, Any]]) -> Any:
    """`rows` written into a private in-memory database, as the live ones store them."""
    _, scratch = open_database(f"memory:ledger-check-{uuid.uuid4().hex}", "fangfei_ledger_check")
    write_rows(scratch, rows, pause=green_yield)
    return scratch


def to_iso_now() -> str:
    from datetime import datetime, timezone

    return to_iso(datetime.now(timezone.utc))


def pending(db: Any) -> bool:
    doc = db[STATE].find_one({"_id": JOB})
    return bool(doc and doc.get("state") == "running")


__all__ = ["WRITE_LOCK", "check", "pending", "recover", "request", "run", "status"]

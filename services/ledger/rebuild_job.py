"""`fangfei ledger rebuild`, run by the ledger service itself: drop the read models and refold
them from offset 0 of the source topics, with progress, while the live consumer keeps running.

How it stays correct with live traffic and crashes:

- The fold runs in memory from a private replay of the topics (no consumer group). Live events
  keep being applied to the old rows meanwhile.
- Then, holding `WRITE_LOCK` (every live handler takes it too), the replay reads on to the new end
  of the topics, and the folded rows replace the read models. Whatever the live consumer applied
  before the lock is on the topics, so it is in the fold; whatever it applies after is recognised
  by the rows' `_applied` guards and changes nothing.
- The job's state is a document (`ledger_rebuild_state`, not a read model, never dropped). A
  process killed mid-rebuild leaves it `running`; the next start sees that and runs the rebuild
  again from the beginning. A rebuild is a pure function of the log, so the result is the same.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any, Callable

from fangfei.clock import to_iso
from fangfei.eventstore.connect import open_database
from fangfei.events import Event

from .rebuild import Difference, compare, fold, write_rows
from .ledgers import plans_for
from .replay import TopicReplay

log = logging.getLogger(__name__)

STATE = "ledger_rebuild_state"
JOB = "rebuild"
WRITE_LOCK = threading.Lock()  # green under nameko (eventlet monkey-patches threading)
PROGRESS_EVERY = 1000
YIELD_EVERY = 100  # events folded between two yields to the other green threads


def status(db: Any) -> dict[str, Any]:
    doc = db[STATE].find_one({"_id": JOB})
    if doc is None:
        return {"state": "never", "state_label": "从未重建"}
    doc.pop("_id", None)
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


def _fold_replay(replay: TopicReplay, rows: dict[tuple[str, str], dict[str, Any]],
                 on_progress: Callable[[int], None], min_polls: int = 1) -> int:
    applied = 0
    for event in replay.events(min_polls=min_polls):
        applied += _fold_one(rows, event)
        if replay.read % YIELD_EVERY == 0:
            time.sleep(0)  # a green thread: let HTTP requests and the live consumer run meanwhile
        if replay.read % PROGRESS_EVERY == 0:
            on_progress(replay.read)
    return applied


def _fold_one(rows: dict[tuple[str, str], dict[str, Any]], event: Event) -> int:
    return sum(fold(rows, up) for up in plans_for(event))


def run(db: Any, bootstrap: str) -> dict[str, Any]:
    """Run the requested rebuild to the end (called by the service's runner thread)."""
    started = time.monotonic()
    db[STATE].update_one({"_id": JOB}, {"$inc": {"attempt": 1},
                                        "$set": {"phase": "replaying", "events_read": 0,
                                                 "started_at": to_iso_now()}})
    replay = TopicReplay(bootstrap)
    rows: dict[tuple[str, str], dict[str, Any]] = {}

    def progress(read: int) -> None:
        db[STATE].update_one({"_id": JOB}, {"$set": {"events_read": read, "events_total": replay.total()}})

    try:
        applied = _fold_replay(replay, rows, progress)
        with WRITE_LOCK:  # live handlers wait: nothing lands between the catch-up and the swap
            db[STATE].update_one({"_id": JOB}, {"$set": {"phase": "writing", "events_read": replay.read}})
            applied += _fold_replay(replay, rows, progress, min_polls=2)
            written = write_rows(db, rows)
            db[STATE].update_one({"_id": JOB}, {"$set": {
                "state": "done", "phase": "done", "events_read": replay.read, "events_total": replay.read,
                "row_changes": applied, "rows": written, "finished_at": to_iso_now(),
                "seconds": round(time.monotonic() - started, 1), "undecodable": replay.undecodable}})
    finally:
        replay.close()
    return status(db)


def check(db: Any, bootstrap: str) -> list[Difference]:
    """Refold the log privately and compare with the live read models (nothing is changed)."""
    replay = TopicReplay(bootstrap)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    try:
        _fold_replay(replay, rows, lambda read: None)
        with WRITE_LOCK:
            _fold_replay(replay, rows, lambda read: None, min_polls=2)
            _, scratch = open_database(f"memory:ledger-check-{uuid.uuid4().hex}", "fangfei_ledger_check")
            write_rows(scratch, rows)
            return compare(db, scratch)
    finally:
        replay.close()


def to_iso_now() -> str:
    from datetime import datetime, timezone

    return to_iso(datetime.now(timezone.utc))


def pending(db: Any) -> bool:
    doc = db[STATE].find_one({"_id": JOB})
    return bool(doc and doc.get("state") == "running")


__all__ = ["WRITE_LOCK", "check", "pending", "request", "run", "status"]

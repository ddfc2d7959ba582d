"""Event store over any pymongo-compatible database (MongoDB in production, litemongo embedded).

Layout (collection `commits`), one document per commit so a multi-event commit is atomic:

    {_id: <global position>, stream_id, commit_seq, first_version, last_version, street_id,
     committed_at, events: [<envelope>, …]}

- A unique index on (stream_id, commit_seq) makes two concurrent writers of one stream collide;
  the loser gets ConcurrencyConflict, never a lost update.
- `_id` is a global position taken from a counter document just before the insert. Positions can
  be burned (a crash or a conflict after the counter moved), so readers must tolerate holes:
  `read_after` returns what exists and `head_position` says how far positions were handed out;
  the relay waits a grace period before it skips a hole (docs/adr/0001-event-store-of-record.md).
- Lookups use equality on indexed fields only: litemongo scans on range queries.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from ..clock import Clock, SystemClock, to_iso
from ..events.envelope import Event
from ..events.registry import DEFAULT_MAX_EVENT_BYTES, encode_event, event_from_dict

POSITION_COUNTER = "commit_position"


class StoreError(RuntimeError):
    pass


class ConcurrencyConflict(StoreError):
    """The stream is not at the version the writer expected (someone else wrote first)."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(f"stream {stream_id} is at version {actual}, expected {expected}")
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True)
class Commit:
    position: int
    stream_id: str
    first_version: int
    last_version: int
    events: tuple[Event, ...]


class EventStore:
    """Append and read events; safe for one process's green threads (a lock orders appends)."""

    def __init__(self, db: Any, clock: Clock | None = None, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        self._db = db
        self._commits = db["commits"]
        self._counters = db["counters"]
        self._clock = clock or SystemClock()
        self._max_event_bytes = max_event_bytes
        # Within one process, appends are serialised so positions are handed out in commit order;
        # across processes (MongoDB only) the unique index decides and readers tolerate holes.
        self._lock = threading.Lock()
        self._commits.create_index([("stream_id", ASCENDING), ("commit_seq", ASCENDING)], unique=True)
        self._commits.create_index([("stream_id", ASCENDING)])

    @property
    def db(self) -> Any:
        return self._db

    # -- writing -----------------------------------------------------------------------------
    def append(self, stream_id: str, expected_version: int, events: Sequence[Event]) -> Commit:
        """Append `events` to `stream_id` if it is at `expected_version` (0 = must not exist yet).

        Raises ConcurrencyConflict otherwise. The events are validated and size-checked first."""
        if not events:
            raise StoreError("nothing to append")
        for ev in events:
            if ev.stream_id != stream_id:
                raise StoreError(f"event for stream {ev.stream_id} appended to {stream_id}")
        with self._lock:
            head = self._head(stream_id)
            current = head["last_version"] if head else 0
            if current != expected_version:
                raise ConcurrencyConflict(stream_id, expected_version, current)
            now = self._clock.now()
            stamped = tuple(ev.stamped(expected_version + i + 1, now) for i, ev in enumerate(events))
            for ev in stamped:
                encode_event(ev, self._max_event_bytes)  # size guard before anything is written
            position = self._next_position()
            doc = {
                "_id": position,
                "stream_id": stream_id,
                "commit_seq": (head["commit_seq"] + 1) if head else 1,
                "first_version": expected_version + 1,
                "last_version": expected_version + len(stamped),
                "street_id": stamped[0].street_id,
                "committed_at": to_iso(now),
                "events": [ev.as_dict() for ev in stamped],
            }
            try:
                self._commits.insert_one(doc)
            except DuplicateKeyError:
                actual = self.stream_version(stream_id)
                raise ConcurrencyConflict(stream_id, expected_version, actual) from None
            return Commit(position, stream_id, doc["first_version"], doc["last_version"], stamped)

    def _next_position(self) -> int:
        doc = self._counters.find_one_and_update(
            {"_id": POSITION_COUNTER}, {"$inc": {"value": 1}}, upsert=True, return_document=ReturnDocument.AFTER
        )
        return int(doc["value"])

    def _head(self, stream_id: str) -> dict[str, Any] | None:
        docs = list(self._commits.find({"stream_id": stream_id}, {"events": 0}))
        return max(docs, key=lambda d: d["commit_seq"]) if docs else None

    # -- reading -----------------------------------------------------------------------------
    def stream_version(self, stream_id: str) -> int:
        head = self._head(stream_id)
        return int(head["last_version"]) if head else 0

    def read_stream(self, stream_id: str) -> list[Event]:
        """All events of one stream, in version order, upcast to their latest schema."""
        docs = sorted(self._commits.find({"stream_id": stream_id}), key=lambda d: d["commit_seq"])
        return [event_from_dict(e) for d in docs for e in d["events"]]

    def head_position(self) -> int:
        """The highest position handed out so far (a commit may still be in flight or burned)."""
        doc = self._counters.find_one({"_id": POSITION_COUNTER})
        return int(doc["value"]) if doc else 0

    def read_positions(self, positions: Iterable[int]) -> list[Commit]:
        """The commits at the given positions that exist, in position order (holes are skipped)."""
        wanted = list(positions)
        if not wanted:
            return []
        docs = sorted(self._commits.find({"_id": {"$in": wanted}}), key=lambda d: d["_id"])
        return [self._to_commit(d) for d in docs]

    def iter_all(self, batch: int = 1000) -> Iterable[Commit]:
        """Every commit in position order, tolerating holes: for rebuilds and exports."""
        head = self.head_position()
        pos = 0
        while pos < head:
            yield from self.read_positions(range(pos + 1, min(pos + batch, head) + 1))
            pos += batch

    @staticmethod
    def _to_commit(doc: dict[str, Any]) -> Commit:
        events = tuple(event_from_dict(e) for e in doc["events"])
        return Commit(int(doc["_id"]), doc["stream_id"], doc["first_version"], doc["last_version"], events)


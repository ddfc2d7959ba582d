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

Tamper evidence (A1, RFC 6962-style hash chain per stream): each commit also stores `prev_hash`
(the `hash` of the stream's previous commit, or 64 zeros for the first) and `hash`, the SHA-256
of the canonical JSON of the commit *as stored* (position, stream, sequence, versions, street,
time, the stored event envelopes and `prev_hash`). `verify_chains` recomputes every chain and names
the stream and version where content was altered, a commit deleted or events reordered;
truncation of a stream's tail is caught against heads exported earlier (`ChainReport.heads`).
Reporter identity is never in an event (it is sealed in intake's own collections), so erasing it
does not touch what is hashed.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from ..clock import Clock, SystemClock, to_iso
from ..events.envelope import Event
from ..events.registry import DEFAULT_MAX_EVENT_BYTES, encode_event, event_from_dict

POSITION_COUNTER = "commit_position"
GENESIS = "0" * 64  # prev_hash of a stream's first commit
# What a commit's hash covers, in the stored document.
HASHED_FIELDS = (
    "_id", "stream_id", "commit_seq", "first_version", "last_version", "street_id", "committed_at", "events",
    "prev_hash",
)


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
            doc: dict[str, Any] = {
                "_id": position,
                "stream_id": stream_id,
                "commit_seq": (head["commit_seq"] + 1) if head else 1,
                "first_version": expected_version + 1,
                "last_version": expected_version + len(stamped),
                "street_id": stamped[0].street_id,
                "committed_at": to_iso(now),
                "events": [ev.as_dict() for ev in stamped],
                "prev_hash": (head.get("hash") or GENESIS) if head else GENESIS,
            }
            doc["hash"] = commit_hash(doc)
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


# -- tamper evidence ----------------------------------------------------------------------------------
def commit_hash(doc: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of a commit as stored; KeyError if a hashed field is missing."""
    body = {name: doc[name] for name in HASHED_FIELDS}
    data = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    """Where a chain is broken: the stream, the first version of the commit concerned, and why."""

    stream_id: str
    version: int
    reason: str

    def __str__(self) -> str:
        return f"{self.stream_id} version {self.version}: {self.reason}"


@dataclass
class ChainReport:
    streams: int = 0
    commits: int = 0
    unchained: int = 0  # commits written before the chain existed (only with allow_unchained)
    problems: list[ChainProblem] = field(default_factory=list)
    heads: dict[str, dict[str, Any]] = field(default_factory=dict)  # stream -> version, commit_seq, hash

    @property
    def ok(self) -> bool:
        return not self.problems

    def digest(self) -> str:
        """One hash over every stream head: a short value to write down (or sign) with an export."""
        data = json.dumps(self.heads, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(data.encode("utf-8")).hexdigest()


def verify_chains(
    db: Any, expected_heads: Mapping[str, Mapping[str, Any]] | None = None, allow_unchained: bool = False
) -> ChainReport:
    """Check every stream's hash chain in `db` (read-only).

    - content altered (an event, a version, the time …): the commit's hash no longer matches;
    - a commit deleted or reordered: its sequence, versions or `prev_hash` do not follow on;
    - a stream truncated or deleted, or its history rewritten and re-hashed: compared with
      `expected_heads` (the `heads` of an earlier report, exported with `fangfei verify --export-heads`).
    `allow_unchained` accepts commits without a hash at the start of a stream (stores written before
    the chain existed); anywhere else a missing hash is a problem, since stripping it would hide an
    alteration."""
    report = ChainReport()
    expected = dict(expected_heads or {})
    by_stream: dict[str, list[dict[str, Any]]] = {}
    for doc in db["commits"].find({}):
        by_stream.setdefault(str(doc.get("stream_id")), []).append(doc)
    for stream_id in sorted(by_stream):
        docs = sorted(by_stream[stream_id], key=lambda d: (d.get("commit_seq") or 0, d.get("_id") or 0))
        hashes = _verify_stream(stream_id, docs, report, allow_unchained)
        want = expected.get(stream_id)
        if want is not None:
            _against_head(stream_id, want, report, hashes)
    for stream_id, want in sorted(expected.items()):
        if stream_id not in by_stream:
            report.problems.append(ChainProblem(stream_id, 1, f"stream missing: it had {want.get('version')} "
                                                               "version(s) when the heads were exported (deleted)"))
    return report


def _verify_stream(
    stream_id: str, docs: list[dict[str, Any]], report: ChainReport, allow_unchained: bool
) -> dict[int, tuple[int, str]]:
    """Check one stream; returns commit_seq -> (last_version, stored hash) for head comparison."""
    report.streams += 1
    problems = report.problems
    seq, version, prev, chained, prev_first = 1, 1, GENESIS, False, 0
    seen: dict[int, tuple[int, str]] = {}
    for doc in docs:
        report.commits += 1
        first = doc.get("first_version") if isinstance(doc.get("first_version"), int) else version
        last = doc.get("last_version") if isinstance(doc.get("last_version"), int) else first
        gap = doc.get("commit_seq") != seq
        if gap:
            problems.append(ChainProblem(stream_id, version, f"commit {seq} is missing (next stored is "
                                                             f"{doc.get('commit_seq')}): deleted or reordered"))
        elif first != version:
            problems.append(ChainProblem(stream_id, version, f"versions do not follow on (commit starts at {first})"))
        events = doc.get("events") if isinstance(doc.get("events"), list) else []
        placed = [(e.get("stream_id"), e.get("stream_version")) if isinstance(e, dict) else None for e in events]
        if placed != [(stream_id, v) for v in range(first, last + 1)]:
            problems.append(ChainProblem(stream_id, first, "events reordered, added or removed within the commit"))
        stored = doc.get("hash")
        if stored is None:
            if allow_unchained and not chained:
                report.unchained += 1
            else:
                problems.append(ChainProblem(stream_id, first, "commit has no hash (stripped, or written outside the store)"))
        else:
            chained = True
            if doc.get("prev_hash") != prev and not gap:  # after a gap, the gap is the explanation
                if prev_first:  # the commit before carries another hash than this one recorded
                    problems.append(ChainProblem(stream_id, prev_first, "hash differs from the one the next commit "
                                                                        "recorded: altered and re-hashed, or replaced"))
                else:
                    problems.append(ChainProblem(stream_id, first, "does not start the chain: commits before it "
                                                                   "were deleted, or it was moved here"))
            try:
                actual = commit_hash(doc)
            except KeyError:
                actual = ""
            if actual != stored:
                problems.append(ChainProblem(stream_id, first, "content does not match its hash: altered"))
            prev = str(stored)
        seen[int(doc.get("commit_seq") or 0)] = (last, str(stored or ""))
        prev_first = first
        seq = int(doc.get("commit_seq") or seq) + 1
        version = last + 1
    report.heads[stream_id] = {"version": version - 1, "commit_seq": seq - 1, "hash": prev}
    return seen


def _against_head(stream_id: str, want: Mapping[str, Any], report: ChainReport, seen: dict[int, tuple[int, str]]) -> None:
    want_seq, want_version = int(want.get("commit_seq", 0)), int(want.get("version", 0))
    now = report.heads[stream_id]
    if now["version"] < want_version or want_seq not in seen:
        report.problems.append(ChainProblem(
            stream_id, now["version"] + 1,
            f"truncated: the exported head was version {want_version}, the stream now ends at {now['version']}"))
    elif seen[want_seq] != (want_version, want.get("hash")):
        report.problems.append(ChainProblem(
            stream_id, want_version, "history rewritten: the commit at the exported head has another hash"))


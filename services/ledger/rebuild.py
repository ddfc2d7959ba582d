"""Rebuild the ledgers from events (R5: a rebuild equals what live consumption built).

Ledgers hold nothing that is not in the events, so they can always be thrown away and refolded:
after a projection bug fix, a new column, or a lost database. The fold runs in memory with the
very `Upsert`s the live handlers write (upserts.fold mirrors upserts.write) into a **shadow** of
the read models (`fangfei.eventstore.shadow`: new SQLite files written in bulk on the embedded
store, `__shadow` collections on MongoDB), which then replaces the live read models at once.

Memory stays bounded: the fold keeps at most `CACHE_ROWS` rows in memory; when it has more it
goes on in hash buckets on disk and folds them one by one at the end, each row written once
(`buckets.BucketedRows`, ADR 0018). A catch-up after that folds into rows fetched back from the
shadow by key (`SpillRows`).

`rebuild(db, events)` called directly swaps without the crash manifest of the service's job
(`rebuild_job.py`): run it with the service's consumer stopped. The rebuilt rows carry their
`_applied` versions, so a restarted consumer skips what the rebuild already contains.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from fangfei.eventstore.shadow import Shadow, swap
from fangfei.events import Event

from .ledgers import all_collections, ensure_indexes, plans_for
from .tables import fetch
from .buckets import BucketedRows
from .gc_pause import cyclic_gc_paused
from .upserts import Upsert, fold

CACHE_ROWS = 200_000  # rows held in memory by a fold (or by one of its buckets)


@dataclass(frozen=True)
class RebuildReport:
    events: int  # events read
    applied: int  # row changes they made (duplicates and unrelated events make none)
    rows: dict[str, int]  # collection → rows written


@dataclass(frozen=True)
class Difference:
    collection: str
    doc_id: str
    field: str  # "" when the whole row is missing on one side
    a: Any
    b: Any


class SpillRows:
    """The rows of a fold, keyed by (collection, _id): a bounded cache over a shadow.

    `upserts.fold` only calls `get` and sets new rows, and changes the rows it gets in place, so
    every cached row is dirty: a spill writes them all and empties the cache."""

    def __init__(self, shadow: Shadow | None, limit: int = CACHE_ROWS, spilled: bool = False,
                 counts: dict[str, int] | None = None) -> None:
        """`spilled`: the shadow already holds rows (a catch-up after the bulk fold), so a row not
        in the cache is looked up there; `counts` goes on counting the rows created."""
        self.shadow = shadow
        self.limit = limit if shadow is not None else 0
        self.cache: dict[tuple[str, str], dict[str, Any]] = {}
        self.spilled = spilled and shadow is not None
        self.peak = 0  # most rows held at once
        self.counts: dict[str, int] = {c: 0 for c in all_collections()}
        self.counts.update(counts or {})
        self.applied = 0

    def add(self, up: Upsert) -> None:
        self.applied += fold(self, up)  # type: ignore[arg-type]

    def event_done(self) -> None:
        if len(self.cache) > self.limit > 0:
            self.flush()

    def get(self, key: tuple[str, str], default: Any = None) -> dict[str, Any] | None:
        row = self.cache.get(key)
        if row is None and self.spilled:
            row = self.shadow.get(*key)  # type: ignore[union-attr]
            if row is not None:
                self.cache[key] = row
        return row if row is not None else default

    def __setitem__(self, key: tuple[str, str], row: dict[str, Any]) -> None:
        self.cache[key] = row  # a new row (fold sets only rows `get` did not find)
        self.counts[key[0]] = self.counts.get(key[0], 0) + 1

    def __len__(self) -> int:
        return len(self.cache)

    def maybe_spill(self) -> None:
        if self.limit and len(self.cache) > self.limit:
            self.flush()

    def flush(self) -> None:
        """Write every cached row to the shadow and empty the cache."""
        self.peak = max(self.peak, len(self.cache))
        if self.shadow is None:
            return
        by_collection: dict[str, list[dict[str, Any]]] = {}
        for (collection, _), row in self.cache.items():
            by_collection.setdefault(collection, []).append(row)
        self.cache = {}
        for collection in sorted(by_collection):
            docs = by_collection.pop(collection)
            self.shadow.put_many(collection, docs)
            del docs
        self.spilled = True


def fold_events(events: Iterable[Event], progress: Callable[[int], None] | None = None,
                every: int = 5000) -> tuple[dict[tuple[str, str], dict[str, Any]], int, int]:
    """Fold `events` in memory with the live projectors: (rows, events read, row changes)."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    seen = applied = 0
    for event in events:
        seen += 1
        for up in plans_for(event):
            applied += fold(rows, up)
        if progress is not None and seen % every == 0:
            progress(seen)
    return rows, seen, applied


def write_rows(db: Any, rows: dict[tuple[str, str], dict[str, Any]],
               pause: Callable[[], None] = lambda: None) -> dict[str, int]:
    """Replace every read model of `db` with `rows` (through a shadow, swapped in at once);
    `pause` is called between chunks of the bulk write."""
    shadow = Shadow(db, all_collections(), uuid.uuid4().hex, pause=pause)
    counts = {c: 0 for c in all_collections()}
    by_collection: dict[str, list[dict[str, Any]]] = {}
    for (collection, _), doc in sorted(rows.items()):
        by_collection.setdefault(collection, []).append(doc)
    ensure_indexes(shadow.db)
    for collection, docs in by_collection.items():
        counts[collection] = shadow.put_many(collection, docs)
    swap(db, shadow.seal(), warm=shadow.warm)
    return counts


def rebuild(db: Any, events: Iterable[Event], cache_rows: int = CACHE_ROWS) -> RebuildReport:
    """Replace every ledger collection of `db` by a refold of `events` (in stream order per
    stream, as an event store or a topic replay gives them; duplicates are harmless)."""
    shadow = Shadow(db, all_collections(), uuid.uuid4().hex)
    try:
        with cyclic_gc_paused():
            ensure_indexes(shadow.db)
            rows = BucketedRows(cache_rows, shadow.scratch_dir())
            seen = 0
            for event in events:
                seen += 1
                rows.event_done()
                for up in plans_for(event):
                    rows.add(up)
            write_all(shadow, rows)
        manifest = shadow.seal()
    except BaseException:
        shadow.discard()
        raise
    swap(db, manifest, warm=shadow.warm)
    counts = {c: 0 for c in all_collections()}
    counts.update(rows.counts)
    return RebuildReport(seen, rows.applied, counts)


def write_all(shadow: Shadow, rows: BucketedRows, progress: Callable[[int], None] = lambda written: None) -> int:
    """Write every row of a finished fold to the shadow (each row once); the rows written."""
    written = 0
    for collection, docs in rows.drain():
        written += shadow.put_many(collection, docs)
        progress(written)
    return written


def compare(db_a: Any, db_b: Any, keys: Iterable[tuple[str, str]] | None = None,
            pause: Callable[[], None] = lambda: None) -> list[Difference]:
    """Every way the ledgers of two databases differ, field by field (empty when identical).

    With `keys` ((collection, id) pairs), only those rows are read and compared: the consistency
    check compares everything outside the write lock, then only the rows that differed or that
    events since have touched, under it (`rebuild_job.check`). `pause` is called every 1,000 rows
    (the service's check yields to its live handlers there)."""
    wanted: dict[str, list[str]] | None = None
    if keys is not None:
        wanted = {}
        for collection, doc_id in keys:
            wanted.setdefault(collection, []).append(doc_id)
    out: list[Difference] = []
    for collection in all_collections():
        if wanted is None:
            a = {d["_id"]: d for d in fetch(db_a[collection], {}, exclude=())}
            b = {d["_id"]: d for d in fetch(db_b[collection], {}, exclude=())}
        elif collection in wanted:
            a, b = _by_id(db_a[collection], wanted[collection]), _by_id(db_b[collection], wanted[collection])
        else:
            continue
        for n, doc_id in enumerate(sorted(set(a) | set(b)), 1):
            if n % 1000 == 0:
                pause()
            if doc_id not in b:
                out.append(Difference(collection, doc_id, "", a[doc_id], None))
            elif doc_id not in a:
                out.append(Difference(collection, doc_id, "", None, b[doc_id]))
            else:
                da, db_ = a[doc_id], b[doc_id]
                for name in sorted(set(da) | set(db_)):
                    if da.get(name, _MISSING) != db_.get(name, _MISSING):
                        out.append(Difference(collection, doc_id, name, da.get(name), db_.get(name)))
    return out


def _by_id(collection: Any, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The documents of `collection` with these ids, one `_id` lookup each (an `$in` over many ids
    is evaluated document by document by litemongo's query engine)."""
    out = {}
    for doc_id in set(ids):
        doc = collection.find_one({"_id": doc_id})
        if doc is not None:
            out[doc_id] = doc
    return out


_MISSING = object()

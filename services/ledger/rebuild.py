"""Rebuild the ledgers from events (R5: a rebuild equals what live consumption built).

Ledgers hold nothing that is not in the events, so they can always be thrown away and refolded:
after a projection bug fix, a new column, or a lost database. The fold runs in memory with the
very `Upsert`s the live handlers write (upserts.fold mirrors upserts.write), then the final rows
are written in bulk. Run it with the service's consumer stopped: a live write landing between the
drop and the bulk insert would be lost (the `_applied` versions in the rebuilt rows then let the
restarted consumer skip what the rebuild already contains).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

from fangfei.events import Event

from .ledgers import all_collections, ensure_indexes, plans_for
from .tables import fetch
from .upserts import fold

_BATCH = 1000


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


def write_rows(db: Any, rows: dict[tuple[str, str], dict[str, Any]]) -> dict[str, int]:
    """Replace every read model of `db` with `rows` (drop, bulk insert, indexes)."""
    by_collection: dict[str, list[dict[str, Any]]] = {c: [] for c in all_collections()}
    for (collection, _), doc in sorted(rows.items()):
        by_collection[collection].append(doc)
    for collection, docs in by_collection.items():
        db[collection].drop()
        for start in range(0, len(docs), _BATCH):
            db[collection].insert_many(docs[start:start + _BATCH])
    ensure_indexes(db)
    return {c: len(d) for c, d in by_collection.items()}


def rebuild(db: Any, events: Iterable[Event]) -> RebuildReport:
    """Drop every ledger collection of `db` and refill it from `events` (in stream order per
    stream, as an event store or a topic replay gives them; duplicates are harmless)."""
    rows, seen, applied = fold_events(events)
    return RebuildReport(seen, applied, write_rows(db, rows))


def compare(db_a: Any, db_b: Any) -> list[Difference]:
    """Every way the ledgers of two databases differ, field by field (empty when identical)."""
    out: list[Difference] = []
    for collection in all_collections():
        a = {d["_id"]: d for d in fetch(db_a[collection], {}, exclude=())}
        b = {d["_id"]: d for d in fetch(db_b[collection], {}, exclude=())}
        for doc_id in sorted(set(a) | set(b)):
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


_MISSING = object()

"""One guarded upsert per event, applied live to the database or folded in memory for a rebuild.

Why this shape: a ledger row is fed by several streams that travel on different topics, so its
events arrive in any order and may be delivered twice (a crash between a handler and the
entrypoint's bookkeeping re-delivers). Every projector therefore describes its effect as an
`Upsert` whose operators commute across streams ($set of fields only that stream owns,
$setOnInsert of shared fields another stream owns, $max of a monotonic rank), and every write
carries its own guard: the row remembers, in `_applied`, the last version of each stream it has
absorbed, and the guard sits in the filter of the one `update_one`, so check-and-write is atomic.

The same `Upsert` is interpreted twice: by `write` (MongoDB/litemongo operators) and by `fold`
(plain dicts, for rebuilds). The rebuild-equals-live tests hold the two to the same result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, MutableMapping

APPLIED = "_applied"
_RESERVED = frozenset(("_id", APPLIED))
_CHECKED: set[tuple[str, ...]] = set()  # field-name shapes already found valid

# A row absorbs each stream's versions in order (the entrypoint refuses gaps), so one retry after
# a lost insert race is all a correct writer can need; more means something else is wrong.
_ATTEMPTS = 2


class LedgerWriteError(RuntimeError):
    """A guarded write neither applied nor found itself applied: let the entrypoint retry."""


def stream_key(stream_id: str) -> str:
    """`stream_id` as a field name: stream ids may contain '.', which Mongo reads as a path.

    '~' cannot occur in a stream id (see envelope.STREAM_ID), so the mapping is one-to-one."""
    return stream_id.replace(".", "~")


@dataclass(slots=True)
class Upsert:
    """The effect of one event on one ledger row. Field names are top-level (no dots) and each
    operator touches its own fields, so `write` and `fold` cannot disagree on overlaps.

    Not frozen, though never changed after it is made: a rebuild makes one or two per event, and
    a frozen dataclass's `__init__` (object.__setattr__ per field) cost twice as much (2.5 vs 1.2 us)."""

    collection: str
    doc_id: str
    stream_id: str
    version: int
    set: Mapping[str, Any] = field(default_factory=dict)
    set_on_insert: Mapping[str, Any] = field(default_factory=dict)
    max: Mapping[str, Any] = field(default_factory=dict)
    inc: Mapping[str, int] = field(default_factory=dict)  # counters: commute, and the guard makes them once-only

    def __post_init__(self) -> None:
        if self.version < 1:
            raise ValueError("an applied event has a stream version of at least 1")
        # every upsert of a rebuild passes here, and projectors write the same few shapes: a shape
        # (the field names, in order) is checked once and remembered
        names = (*self.set, "", *self.set_on_insert, "", *self.max, "", *self.inc)
        if names not in _CHECKED:
            seen: set[str] = set()
            for name in names:
                if not name:
                    continue
                if "." in name or name.startswith("$") or name in _RESERVED or name in seen:
                    raise ValueError(f"field {name!r} cannot be written by a ledger upsert")
                seen.add(name)
            if len(_CHECKED) < 10_000:
                _CHECKED.add(names)
        if self.max and None in self.max.values():
            name = next(n for n, v in self.max.items() if v is None)
            raise ValueError(f"$max of {name!r} needs a value")


def write(db: Any, up: Upsert) -> bool:
    """Apply `up` to the database once. True if it was applied now, False if it already had been.

    The filter only matches a row that has not absorbed this stream version yet; with upsert, a
    missing row is created. When the row exists but the guard fails, the upsert's insert collides
    on `_id` (DuplicateKeyError): that means "already applied", unless another writer inserted
    the row a moment ago, in which case the row now exists and one more try applies the update."""
    from pymongo.errors import DuplicateKeyError  # here: planning and folding need no pymongo (~0.13 s to load)

    applied_field = f"{APPLIED}.{stream_key(up.stream_id)}"
    flt = {"_id": up.doc_id, applied_field: {"$not": {"$gte": up.version}}}
    update: dict[str, Any] = {"$set": {**up.set, applied_field: up.version}}
    if up.set_on_insert:
        update["$setOnInsert"] = dict(up.set_on_insert)
    if up.max:
        update["$max"] = dict(up.max)
    if up.inc:
        update["$inc"] = dict(up.inc)
    col = db[up.collection]
    for _ in range(_ATTEMPTS):
        try:
            col.update_one(flt, update, upsert=True)
            return True
        except DuplicateKeyError:
            if applied_version(col.find_one({"_id": up.doc_id}, {APPLIED: 1}), up.stream_id) >= up.version:
                return False
    raise LedgerWriteError(f"row {up.doc_id} of {up.collection} refused {up.stream_id}@{up.version}")


def fold(rows: MutableMapping[tuple[str, str], dict[str, Any]], up: Upsert) -> bool:
    """`write`, on rows kept in memory (keyed by collection and `_id`)."""
    return fold_parts(rows, up.collection, up.doc_id, up.stream_id, up.version, up.set, up.set_on_insert,
                      up.max, up.inc)


def fold_parts(rows: MutableMapping[tuple[str, str], dict[str, Any]], collection: str, doc_id: str,
               stream_id: str, version: int, set_: Mapping[str, Any], set_on_insert: Mapping[str, Any],
               max_: Mapping[str, Any], inc: Mapping[str, int]) -> bool:
    """`fold` of an Upsert given by its fields (as a rebuild's bucket files keep them: no object to
    rebuild and check again for every row change read back)."""
    key = (collection, doc_id)
    row = rows.get(key)
    skey = stream_key(stream_id)
    if row is not None and int(row.get(APPLIED, {}).get(skey, 0)) >= version:
        return False
    if row is None:
        row = {"_id": doc_id, **set_on_insert}
        rows[key] = row
    row.update(set_)
    row.setdefault(APPLIED, {})[skey] = version
    for name, value in max_.items():
        if name not in row or value > row[name]:
            row[name] = value
    for name, amount in inc.items():
        row[name] = row.get(name, 0) + amount
    return True


def applied_version(row: Mapping[str, Any] | None, stream_id: str) -> int:
    """The last version of `stream_id` the row has absorbed (0 if none)."""
    if row is None:
        return 0
    return int(row.get(APPLIED, {}).get(stream_key(stream_id), 0))

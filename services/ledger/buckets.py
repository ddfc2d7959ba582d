"""A rebuild's fold in bounded memory that never reads a row back (docs/adr/0018-bucketed-rebuild-fold.md).

Why: the events of one ledger row arrive far apart in a replay. A clue's report is on
`intake.events`, its case on `escalation.events`, and the replay reads the topics side by side at
different rates, so at 1M events a row's second event came ~300,000 events after its first. The
earlier fold kept 200,000 rows in memory, wrote them all out when it had more and fetched a row
back from the shadow when a later event touched it: that was a third of all events at 1M (an
SQLite lookup and a BSON decode each, then the row written again), and the marginal cost per
event grew 1.69x from 100k to 1M.

How: up to `limit` rows are folded in memory, as before. Past that, the fold switches to
**buckets**, a hash partition of the row keys into files. Every cached row goes to its key's bucket
as a snapshot, and from then on each row change (an `Upsert`, by its fields) is appended to its
key's bucket instead of being folded. At the end each bucket is folded alone: its snapshots, then its
changes, in the order they were read, so every stream's versions stay in order. Its rows then go to
the shadow in one bulk write, each row written once. Each collection has buckets of its own,
as many as its rows expected need (its rows so far, scaled by the events still to read), so that
at the end the collections can be dealt by size to processes that fold and write them side by side
(`detach`, `of_files`; ADR 0019). A bucket that still holds more than its limit of rows is split
again by another hash, so memory stays bounded whatever the estimate. Appending and reading a
change back costs a few microseconds (buffered sequential files, pickled); a fetch-back cost tens.
"""

from __future__ import annotations

import math
import os
import pickle
import shutil
import struct
import tempfile
from typing import Any, Callable, Iterator
from zlib import crc32

from .upserts import Upsert, fold_parts

_FRAME = struct.Struct("<I")  # length of one encoded batch of records
_BATCH = 2048  # records buffered per bucket before they are encoded and written
_MAX_BUCKETS = 256  # open files at once
_SNAPSHOT, _CHANGE = 0, 1
# Buckets per collection, over what its rows at the switch predict (rows so far, scaled by the events
# still to read). With 1.25 the bench's 1M history came out short in 8 buckets: each was folded up to
# its limit, then read again and split, which cost ~3 s of its ~17 s of writing; with 2 none was.
SLACK = 2.0

Row = dict[str, Any]
Key = tuple[str, str]


class BucketedRows:
    """The rows of one rebuild's fold. `add` each Upsert in read order, then `drain` the rows.

    `rows_per_event` is unknown in advance; `expected_events` (the log's length, when the replay
    knows it) sizes the partition, and a wrong guess costs only a re-split of the buckets that
    came out too big."""

    def __init__(self, limit: int, work_dir: str | None = None,
                 expected_events: Callable[[], int | None] = lambda: None,
                 pause: Callable[[], None] = lambda: None, groups: int = 1) -> None:
        """`groups`: how many processes will fold the buckets at the end, side by side (`detach`
        hands collections to another process); every bucket is then sized for `limit / (2 groups)`
        rows (see `_to_buckets`)."""
        self.limit = max(1, limit)
        self.groups = max(1, groups)
        self._route: dict[str, list[_Bucket]] = {}  # collection → its own buckets
        self._held = False  # detached buckets are being read by another process: keep the files
        self._bucket_limit = self.limit  # rows a bucket may hold when folded (see _to_buckets)
        self._scale = 8.0  # rows expected at the end per row at the switch to buckets
        self.pause = pause  # called every few thousand records folded from a bucket (green yield)
        self.cache: dict[Key, Row] = {}
        self.counts: dict[str, int] = {}  # collection → rows created
        self.applied = 0  # row changes that took effect (duplicates make none)
        self.peak = 0  # most rows held in memory at once
        self.buckets: list[_Bucket] = []
        self.events_seen = 0
        self.splits = 0  # buckets that came out too big and were split again
        self._expected_events = expected_events
        self._work_root = work_dir
        self._dir: str | None = None

    # -- folding ---------------------------------------------------------------------------------
    def add(self, up: Upsert) -> None:
        """Fold `up` now (in memory) or append it to its bucket (once the rows outgrew memory)."""
        self.add_parts(up.collection, up.doc_id, up.stream_id, up.version, up.set, up.set_on_insert, up.max,
                       up.inc)

    def add_parts(self, collection: str, doc_id: str, stream_id: str, version: int, set_: Any,
                  set_on_insert: Any, max_: Any, inc: Any) -> None:
        """`add`, of an Upsert given by its fields (as replay readers send them, rebuild_worker.py)."""
        if self.buckets:
            buckets = self._route.get(collection) or self._route_new(collection)
            buckets[slot(doc_id, len(buckets))].append(
                (_CHANGE, collection, doc_id, stream_id, version, set_, set_on_insert, max_, inc))
            return
        cache = self.cache
        before = len(cache)
        if fold_parts(cache, collection, doc_id, stream_id, version, set_, set_on_insert, max_, inc):
            self.applied += 1
            if len(cache) > before:
                self.counts[collection] = self.counts.get(collection, 0) + 1
                if len(cache) > self.limit:
                    self._to_buckets()

    def add_encoded(self, collection: str, index: int, count: int, blob: bytes) -> None:
        """Append `count` row changes that a replay reader already routed to bucket `index` of
        `collection` (by `routing()`) and encoded as a bucket file holds them (`EncodedBatches`)."""
        buckets = self._route.get(collection) or self._route_new(collection)
        buckets[index].append_encoded(blob, count)

    def routing(self) -> dict[str, int] | None:
        """How many buckets each collection has (None while the fold is in memory): what replay
        readers need to route and encode their row changes themselves (`EncodedBatches`)."""
        if not self._route:
            return None
        return {collection: len(buckets) for collection, buckets in self._route.items()}

    def event_done(self) -> None:
        """Count one event read (sizes the partition when the rows outgrow memory)."""
        self.events_seen += 1

    def _to_buckets(self) -> None:
        """The rows outgrew memory: partition their keys and move every cached row to its bucket.

        Each collection gets buckets of its own, as many as its rows so far, scaled by the events
        still to read, need at `_bucket_limit` rows a bucket: a bucket then holds one collection,
        so the collections can be dealt to processes at the end by their real sizes (`detach`)."""
        self.peak = max(self.peak, len(self.cache))
        expected = self._expected_events()
        seen = max(1, self.events_seen)
        self._scale = max(expected, seen) / seen if expected else 8.0
        # The process that held `limit` rows in memory keeps that memory (CPython rarely gives it
        # back), so with helpers the buckets are sized for half the limit over all the processes:
        # together they stay near one limit's worth of rows (measured at 1M: 844 MiB at the peak
        # for all the processes, 1,023 MiB with buckets of `limit / groups`).
        self._bucket_limit = self.limit if self.groups == 1 else max(1, self.limit // (2 * self.groups))
        per_collection: dict[str, int] = {}
        for collection, _ in self.cache:
            per_collection[collection] = per_collection.get(collection, 0) + 1
        for collection in sorted(per_collection):
            self._route_new(collection, per_collection[collection])
        route = self._route
        for key, row in self.cache.items():
            buckets = route[key[0]]
            buckets[slot(key[1], len(buckets))].append((_SNAPSHOT, key[0], key[1], row))
        self.cache = {}

    def _route_new(self, collection: str, rows_now: int | None = None) -> list[_Bucket]:
        """The buckets of `collection`: for its `rows_now` at the switch, or exactly one for a
        collection first seen after it (the rule the replay readers follow too, `EncodedBatches`)."""
        open_now = len(self.buckets)
        if rows_now is None:
            count = 1
        else:
            wanted = math.ceil(rows_now * self._scale * SLACK / self._bucket_limit)
            count = max(1, min(wanted, (_MAX_BUCKETS - open_now) // 2))  # leave room for later collections
        buckets = self._new_buckets(count, f"{collection}.")
        self.buckets.extend(buckets)
        self._route[collection] = buckets
        return buckets

    def detach(self, groups: int | None = None) -> list[tuple[list[str], list[str]]]:
        """Deal the collections into `groups` (default: the constructor's) of about equal size and
        keep the first here: the others are returned as (collections, bucket files), for other
        processes to fold (`of_files`). Sizes are the records each collection's buckets hold, the
        largest dealt first to the lightest group.

        The files are complete once this returns; `drain` here no longer folds them, and they stay
        on disk until `close` (call it after the other processes are done). Empty when the fold
        never left memory."""
        groups = self.groups if groups is None else groups
        if not self._route or groups < 2:
            return []
        size = {c: sum(b.appended for b in buckets) for c, buckets in self._route.items()}
        dealt: list[list[str]] = [[] for _ in range(groups)]
        load = [0] * groups
        for collection in sorted(size, key=lambda c: (-size[c], c)):
            group = min(range(groups), key=load.__getitem__)
            dealt[group].append(collection)
            load[group] += size[collection]
        out: list[tuple[list[str], list[str]]] = []
        for collections in dealt[1:]:
            if not collections:
                continue
            taken = [b for c in collections for b in self._route.pop(c)]
            for bucket in taken:
                bucket.close()
            gone = {id(b) for b in taken}
            self.buckets = [b for b in self.buckets if id(b) not in gone]
            out.append((sorted(collections), [b.path for b in taken]))
        self._held = self._held or bool(out)
        return out

    @classmethod
    def of_files(cls, paths: list[str], limit: int, work_dir: str | None = None,
                 pause: Callable[[], None] = lambda: None) -> "BucketedRows":
        """The buckets another fold detached (`detach`), to `drain` here: each bucket folded with at
        most `limit` rows in memory; the files are removed as they are folded."""
        rows = cls(limit, work_dir, pause=pause)
        rows.buckets = [_Bucket.existing(path) for path in paths]
        return rows

    def _new_buckets(self, count: int, prefix: str) -> list[_Bucket]:
        if self._dir is None:
            if self._work_root is not None:
                os.makedirs(self._work_root, exist_ok=True)
            self._dir = tempfile.mkdtemp(prefix="fangfei-rebuild-buckets-", dir=self._work_root)
        return [_Bucket(os.path.join(self._dir, f"{prefix}{i}")) for i in range(count)]

    # -- the rows --------------------------------------------------------------------------------
    def drain(self) -> Iterator[tuple[str, list[Row]]]:
        """Every row, as (collection, rows sorted by id), a group at a time (at most `limit` rows),
        leaving memory empty. The cache is drained first; then each bucket is folded alone."""
        try:
            if self.cache:
                self.peak = max(self.peak, len(self.cache))
                rows, self.cache = self.cache, {}
                yield from _ordered(rows)
            buckets, self.buckets = self.buckets, []
            for bucket in buckets:
                bucket.close()
                yield from self._fold_bucket(bucket, depth=1)
        finally:
            self.close(final=False)

    def _fold_bucket(self, bucket: _Bucket, depth: int) -> Iterator[tuple[str, list[Row]]]:
        rows: dict[Key, Row] = {}
        applied = 0
        created: dict[str, int] = {}
        pause, n = self.pause, 0
        for record in bucket.records():
            n += 1
            if n % 2000 == 0:
                pause()
            if record[0] == _SNAPSHOT:
                rows[(record[1], record[2])] = record[3]
                continue
            _, collection, doc_id, stream_id, version, set_, soi, max_, inc = record
            before = len(rows)
            if fold_parts(rows, collection, doc_id, stream_id, version, set_, soi, max_, inc):
                applied += 1
                if len(rows) > before:
                    created[collection] = created.get(collection, 0) + 1
            if len(rows) > self._bucket_limit:  # the estimate was short: split this bucket again
                del rows
                yield from self._split(bucket, depth)
                return
        # counted only now: a bucket split half-way is folded again from its parts
        self.applied += applied
        for collection, n in created.items():
            self.counts[collection] = self.counts.get(collection, 0) + n
        self.peak = max(self.peak, len(rows))
        bucket.remove()
        if rows:
            yield from _ordered(rows)

    def _split(self, bucket: _Bucket, depth: int) -> Iterator[tuple[str, list[Row]]]:
        """Re-partition `bucket` by another hash into four parts and fold each alone."""
        self.splits += 1
        parts = self._new_buckets(4, f"{os.path.basename(bucket.path)}.{depth}.")
        for record in bucket.records():
            parts[hash((depth, record[1], record[2])) % len(parts)].append(record)
        bucket.remove()
        for part in parts:
            part.close()
        for part in parts:
            yield from self._fold_bucket(part, depth + 1)

    def close(self, final: bool = True) -> None:
        """Close and remove the bucket files; with `final=False` (the end of `drain`), files
        detached to another process stay until the final `close`."""
        for bucket in self.buckets:
            bucket.close()
        self.buckets = []
        if not final and self._held:
            return
        self._held = False
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


def _ordered(rows: dict[Key, Row]) -> Iterator[tuple[str, list[Row]]]:
    """Rows by collection, each sorted by id: the shadow's B-trees then fill in key order."""
    by_collection: dict[str, list[tuple[str, Row]]] = {}
    for (collection, doc_id), row in rows.items():
        by_collection.setdefault(collection, []).append((doc_id, row))
    for collection in sorted(by_collection):
        pairs = by_collection.pop(collection)
        pairs.sort(key=lambda pair: pair[0])
        yield collection, [row for _, row in pairs]


class _Bucket:
    """An append-only file of records, written and read in pickled batches. Pickle, not msgpack:
    it remembers the strings a batch repeats (collection, field and stream names), which makes
    reading a record back ~2 us instead of ~7 (measured on the bench's data); the files are this
    process's own scratch, written and read by it alone."""

    @staticmethod
    def _encode(records: list[tuple[Any, ...]]) -> bytes:
        return pickle.dumps(records, protocol=5)

    _decode = staticmethod(pickle.loads)

    def __init__(self, path: str) -> None:
        self.path = path
        self.pending: list[tuple[Any, ...]] = []
        self.appended = 0  # records appended so far
        self.file: Any = open(path, "wb")

    @classmethod
    def existing(cls, path: str) -> "_Bucket":
        """A complete bucket file written by another fold, to read."""
        bucket = cls.__new__(cls)
        bucket.path, bucket.pending, bucket.file, bucket.appended = path, [], None, 0
        return bucket

    def append(self, record: tuple[Any, ...]) -> None:
        pending = self.pending
        pending.append(record)
        self.appended += 1
        if len(pending) >= _BATCH:
            self._write()

    def _write(self) -> None:
        data = self._encode(self.pending)
        self.file.write(_FRAME.pack(len(data)))
        self.file.write(data)
        self.pending = []

    def append_encoded(self, blob: bytes, count: int) -> None:
        """Append `count` records already encoded by `_encode` (after what this process appended
        before them, so that every stream's changes stay in the order they were read)."""
        if self.pending:
            self._write()
        self.file.write(_FRAME.pack(len(blob)))
        self.file.write(blob)
        self.appended += count

    def close(self) -> None:
        if self.file is not None:
            if self.pending:
                self._write()
            self.file.close()
            self.file = None

    def records(self) -> Iterator[list[Any]]:
        with open(self.path, "rb") as fh:
            while True:
                head = fh.read(_FRAME.size)
                if not head:
                    return
                (size,) = _FRAME.unpack(head)
                yield from self._decode(fh.read(size))

    def remove(self) -> None:
        try:
            os.remove(self.path)
        except FileNotFoundError:
            pass


def slot(doc_id: str, count: int) -> int:
    """The bucket of row `doc_id` among its collection's `count`. CRC-32, not `hash`: Python's
    string hash differs from process to process, and the replay readers route their changes to the
    worker's buckets themselves (`EncodedBatches`)."""
    return crc32(doc_id.encode()) % count if count > 1 else 0


class EncodedBatches:
    """A replay reader's row changes once the worker's fold has gone to buckets (ADR 0019): routed
    to the worker's buckets by its `routing()` (a collection it had no rows of gets one bucket, as
    it does there) and pickled in batches exactly as a bucket file holds them. The worker appends
    each batch to its bucket as it is (`BucketedRows.add_encoded`): before, it unpickled every
    change the readers sent and pickled it again into a bucket, ~8 us per change, a third of the
    replay's CPU at 1M events."""

    def __init__(self, routing: dict[str, int], batch: int = 512) -> None:
        """`batch`: changes per encoded batch. Smaller than a bucket's own batches: a reader holds one
        pending batch per bucket (~1 KiB a change), and at 1M events the two readers then held
        ~300 MiB with batches of 2,048, which took the rebuild's peak over 1 GiB."""
        self.routing = dict(routing)
        self.batch = batch
        self.pending: dict[tuple[str, int], list[tuple[Any, ...]]] = {}
        self.ready: list[tuple[str, int, int, bytes]] = []  # (collection, bucket, records, encoded)
        self.added = 0

    def add(self, collection: str, doc_id: str, stream_id: str, version: int, set_: Any, set_on_insert: Any,
            max_: Any, inc: Any) -> None:
        count = self.routing.get(collection)
        if count is None:
            count = self.routing[collection] = 1
        key = (collection, slot(doc_id, count))
        pending = self.pending.get(key)
        if pending is None:
            pending = self.pending[key] = []
        pending.append((_CHANGE, collection, doc_id, stream_id, version, set_, set_on_insert, max_, inc))
        self.added += 1
        if len(pending) >= self.batch:
            self.ready.append((collection, key[1], len(pending), _Bucket._encode(pending)))
            self.pending[key] = []

    def take(self, final: bool = False) -> list[tuple[str, int, int, bytes]]:
        """The batches complete so far (and with `final`, every change still pending)."""
        if final:
            for (collection, index), pending in self.pending.items():
                if pending:
                    self.ready.append((collection, index, len(pending), _Bucket._encode(pending)))
            self.pending = {}
        ready, self.ready = self.ready, []
        return ready


__all__ = ["BucketedRows", "EncodedBatches", "slot"]

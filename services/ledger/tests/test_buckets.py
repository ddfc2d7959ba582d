"""The bucketed fold (buckets.py, ADR 0018) gives exactly the rows of an unbounded in-memory fold,
with at most `limit` rows in memory, whatever the partition's first guess; and a rebuild through it
gives the same read models as one that never left memory."""

from __future__ import annotations

import os
from typing import Any

import pytest

from services.ledger.buckets import BucketedRows
from services.ledger.ledgers import plans_for
from services.ledger.rebuild import compare, fold_events, rebuild

from .dbs import fresh_memory_db
from .history import generate, topic_order


@pytest.fixture(scope="module")
def deliveries() -> list[Any]:
    streams = generate(6000)
    events = topic_order(streams)  # streams interleaved as three topics deliver them
    return events + events[:500]  # and some redelivered: each applies once


def fold_bucketed(events: list[Any], limit: int, expected: int | None, tmp: str) -> tuple[dict, BucketedRows]:
    rows = BucketedRows(limit, tmp, expected_events=lambda: expected)
    for event in events:
        rows.event_done()
        for up in plans_for(event):
            rows.add(up)
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for collection, docs in rows.drain():
        ids = [d["_id"] for d in docs]
        assert ids == sorted(ids), "rows come sorted by id, for the shadow's B-tree"
        for doc in docs:
            assert (collection, doc["_id"]) not in out, "each row is handed out once"
            out[(collection, doc["_id"])] = doc
    return out, rows


@pytest.mark.parametrize("limit,expected", [
    (10 ** 9, None),  # everything fits: never leaves memory
    (700, 6500),  # the partition sized from the log's length
    (700, None),  # length unknown: a guess
    (300, 1),  # a far too small guess: buckets split again (several levels)
])
def test_bucketed_fold_equals_the_unbounded_fold(deliveries: list[Any], tmp_path: Any, limit: int,
                                                 expected: int | None) -> None:
    reference, _, applied = fold_events(deliveries)
    got, rows = fold_bucketed(deliveries, limit, expected, str(tmp_path))
    assert got.keys() == reference.keys()
    assert [k for k in reference if got[k] != reference[k]] == []
    assert rows.applied == applied
    created: dict[str, int] = {}
    for collection, _ in reference:
        created[collection] = created.get(collection, 0) + 1
    assert rows.counts == created
    assert rows.peak <= limit + 1  # never more than the limit in memory (plus the row that tipped it)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []  # the bucket files are gone once drained
    if expected == 1:
        assert rows.splits >= 2, "a far too small guess is corrected by splitting buckets again"
    elif expected is not None and limit < len(reference):
        assert rows.splits == 0, "a partition sized from the log needs no second pass"


def test_buckets_are_removed_when_the_fold_is_abandoned(deliveries: list[Any], tmp_path: Any) -> None:
    rows = BucketedRows(200, str(tmp_path))
    for event in deliveries[:3000]:
        rows.event_done()
        for up in plans_for(event):
            rows.add(up)
    assert any(os.scandir(tmp_path)), "past the limit the changes go to bucket files"
    rows.close()  # e.g. the replay failed
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_a_rebuild_through_buckets_equals_one_in_memory(deliveries: list[Any]) -> None:
    in_memory, bucketed = fresh_memory_db(), fresh_memory_db()
    a = rebuild(in_memory, deliveries)
    b = rebuild(bucketed, deliveries, cache_rows=500)
    assert compare(in_memory, bucketed) == []
    assert (a.events, a.applied, a.rows) == (b.events, b.applied, b.rows)


def test_the_garbage_collector_runs_again_after_a_rebuild_that_failed(deliveries: list[Any]) -> None:
    import gc

    def broken() -> Any:
        yield from deliveries[:100]
        raise ConnectionError("the replay lost its broker")

    assert gc.isenabled()
    with pytest.raises(ConnectionError):
        rebuild(fresh_memory_db(), broken(), cache_rows=20)
    assert gc.isenabled(), "a failed rebuild must not leave the cyclic collector off"


@pytest.mark.parametrize("limit,expected", [(700, 6500), (300, 1)])
def test_two_processes_folding_half_the_collections_each_give_the_unbounded_fold(
        deliveries: list[Any], tmp_path: Any, limit: int, expected: int) -> None:
    """The rebuild worker hands part of the collections to a bucket writer process (`detach`,
    `of_files`): together they give every row once, as one fold would, each within half the limit."""
    reference, _, applied = fold_events(deliveries)
    rows = BucketedRows(limit, str(tmp_path), expected_events=lambda: expected, groups=2)
    for event in deliveries:
        rows.event_done()
        for up in plans_for(event):
            rows.add(up)
    parts = rows.detach()
    assert len(parts) == 1
    theirs_collections, paths = parts[0]
    assert all(os.path.exists(p) for p in paths), "detached buckets are complete files"
    got: dict[tuple[str, str], dict[str, Any]] = {}
    other = BucketedRows.of_files(paths, rows._bucket_limit, str(tmp_path))
    for drained, mine in ((rows, True), (other, False)):
        for collection, docs in drained.drain():
            assert (collection in theirs_collections) is not mine, "each collection is written by one side"
            for doc in docs:
                assert (collection, doc["_id"]) not in got
                got[(collection, doc["_id"])] = doc
    assert [p for p in paths if os.path.exists(p)] == [], "the other side removes what it folded"
    assert got.keys() == reference.keys()
    assert [k for k in reference if got[k] != reference[k]] == []
    assert rows.applied + other.applied == applied
    assert other.peak <= limit // 4 + 1, "each side folds at most a quarter of the limit at once"
    assert set(theirs_collections) and {c for c, _ in reference} - set(theirs_collections), \
        "both sides get collections"
    rows.close()
    other.close()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_changes_routed_and_encoded_by_readers_give_the_unbounded_fold(deliveries: list[Any], tmp_path: Any) -> None:
    """Past the switch, replay readers route and encode their changes themselves (`EncodedBatches`)
    and the worker only appends the batches (`add_encoded`); frames already sent before a reader
    learnt the routing still arrive one change at a time. Every stream stays in order, and the rows
    are those of one unbounded fold."""
    from services.ledger.buckets import EncodedBatches

    reference, _, applied = fold_events(deliveries)
    shares: list[list[Any]] = [[], []]  # two readers, each with whole streams, in read order
    for event in deliveries:
        shares[sum(event.stream_id.encode()) % 2].append(event)
    rows = BucketedRows(700, str(tmp_path), expected_events=lambda: len(deliveries))
    readers: list[EncodedBatches | None] = [None, None]
    lag = [0, 0]  # frames a reader still sends one by one after the routing was sent
    frame = 40
    cursors = [0, 0]
    routed = 0
    while any(cursors[r] < len(shares[r]) for r in (0, 1)):
        for r in (0, 1):
            events = shares[r][cursors[r]:cursors[r] + frame]
            cursors[r] += len(events)
            for event in events:
                rows.event_done()
                for up in plans_for(event):
                    parts = (up.collection, up.doc_id, up.stream_id, up.version, up.set, up.set_on_insert,
                             up.max, up.inc)
                    if readers[r] is None:
                        rows.add_parts(*parts)
                    else:
                        readers[r].add(*parts)  # type: ignore[union-attr]
            if readers[r] is not None:
                for batch in readers[r].take(final=cursors[r] >= len(shares[r])):  # type: ignore[union-attr]
                    rows.add_encoded(*batch)
                    routed += batch[2]
            elif rows.routing() is not None:
                lag[r] += 1
                if lag[r] > r:  # the second reader learns it one frame later
                    readers[r] = EncodedBatches(rows.routing() or {}, batch=64)
    assert routed > len(deliveries) // 2, "most changes came routed by the readers"
    got = {(c, d["_id"]): d for c, docs in rows.drain() for d in docs}
    assert got.keys() == reference.keys()
    assert [k for k in reference if got[k] != reference[k]] == []
    assert rows.applied == applied
    rows.close()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_a_row_has_the_same_bucket_in_every_process() -> None:
    """Readers route to the worker's buckets, so the slot of an id may not depend on the process
    (Python's str hash does: PYTHONHASHSEED)."""
    import subprocess
    import sys

    from services.ledger.buckets import slot

    ids = [f"clue-{i:05d}" for i in range(50)]
    code = ("import sys; from services.ledger.buckets import slot; "
            f"print([slot(i, 7) for i in {ids!r}])")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert other.stdout.strip() == str([slot(i, 7) for i in ids])
    assert len({slot(i, 7) for i in ids}) == 7, "spread over every bucket"

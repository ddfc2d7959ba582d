"""Acceptance (issue 5): for a generated history of at least 100,000 events across 3 streets, the
live projections and a full rebuild give byte-identical CSV exports of all ten ledgers and all
statistics tables.

Run at the projection level on litemongo's memory engine, so it runs by default (35 s measured
with other jobs sharing the two cores; less alone). Two parts:

- 100,000+ events: "live" takes every event in the order three topics deliver them (streams
  interleaved, plus 2,000 redeliveries) and applies the very `Upsert`s the service's handlers
  compute (`ledgers.plans_for`) one event at a time, with `upserts.fold`, the in-memory twin of
  the database write (a guarded `update_one` costs ~1-2 ms on the memory engine: 100,000 of them
  would take minutes); the rebuild folds the history in stream order and writes it out
  (`rebuild.rebuild`). The rows are compared field by field, then every export.
- 8,000 events: the same comparison with live going through `ledgers.apply_event`, i.e. the real
  guarded `update_one`s the handlers run, so the database operators and `fold` are held equal too.

The process-level variant (a real `nameko run` killed mid-rebuild over a real broker) is
tests/integration/test_ledgers.py."""

from __future__ import annotations

import random
from typing import Any


from services.ledger.exports import csv_bytes
from services.ledger.ledgers import LEDGERS, apply_event, plans_for
from services.ledger.rebuild import compare, fold_events, rebuild, write_rows
from services.ledger.upserts import fold
from services.ledger.statistics import TABLES

from .dbs import fresh_memory_db
from .history import STREETS, generate, topic_order

TARGET = 100_000


def all_exports(db: Any) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for street in STREETS:
        q = {"street_id": street, "page": 1, "page_size": 10 ** 9}
        for key, ledger in LEDGERS.items():
            rows, _ = ledger.list_rows(db, q)
            out[f"{street}/{key}"] = csv_bytes(ledger.table_columns(), rows)
        for key, table in TABLES.items():
            out[f"{street}/stats/{key}"] = csv_bytes(table.columns_spec, table.compute(db, q))
    return out


def _history(target: int) -> tuple[list[Any], list[Any]]:
    streams = generate(target)
    in_stream_order = [e for s in streams for e in s]
    assert len(in_stream_order) >= target
    assert {e.street_id for e in in_stream_order} == set(STREETS)
    deliveries = topic_order(streams)
    deliveries += random.Random(11).sample(in_stream_order, min(2000, len(in_stream_order) // 10))
    return in_stream_order, deliveries


def _assert_identical_exports(live: Any, rebuilt: Any) -> None:
    live_csv, rebuilt_csv = all_exports(live), all_exports(rebuilt)
    assert len(live_csv) == 3 * (10 + len(TABLES)) and live_csv.keys() == rebuilt_csv.keys()
    assert [name for name in live_csv if live_csv[name] != rebuilt_csv[name]] == []
    # every ledger and table has rows in every street: identical because equal, not because empty
    assert [name for name, data in live_csv.items() if data.count(b"\r\n") <= 1] == []


def test_100k_events_live_order_and_rebuild_export_byte_identical_csv() -> None:
    in_stream_order, deliveries = _history(TARGET)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for event in deliveries:  # one event at a time, as the consumer delivers them
        for up in plans_for(event):
            fold(rows, up)
    assert rows == fold_events(in_stream_order)[0]  # every row, every field, `_applied` included
    live = fresh_memory_db()
    write_rows(live, rows)
    rebuilt = fresh_memory_db()
    report = rebuild(rebuilt, in_stream_order)
    assert report.events >= TARGET and sum(report.rows.values()) > 20_000
    _assert_identical_exports(live, rebuilt)


def test_live_database_writes_and_rebuild_export_byte_identical_csv() -> None:
    in_stream_order, deliveries = _history(8_000)
    live = fresh_memory_db()
    for event in deliveries:
        apply_event(live, event)  # exactly what LedgerService's handlers call
    rebuilt = fresh_memory_db()
    rebuild(rebuilt, in_stream_order)
    assert compare(live, rebuilt) == []  # read back from both databases, field by field
    _assert_identical_exports(live, rebuilt)

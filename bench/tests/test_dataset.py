"""The rebuild benchmark folds generated events: they must be exactly what the relays publish,
and cover every event type the ledgers consume, or the figures describe a different system."""

from __future__ import annotations

from collections import Counter

from fangfei.events.registry import decode_event

from bench.dataset import check_sample, consumed_types, history
from services.ledger.ledgers import LEDGERS, plans_for


def test_generated_events_are_canonical_and_cover_every_consumed_type() -> None:
    n = 6 * len(consumed_types())
    records = list(history(n))
    assert len(records) == n  # the bench reads back exactly the number it asked for
    check_sample(records)  # decode_event then encode_event gives back the same bytes
    counts = Counter(decode_event(r.value).type for r in records)
    assert set(counts) == set(consumed_types())


def test_every_ledger_gets_rows_from_the_generated_history() -> None:
    events = [decode_event(r.value) for r in history(6 * len(consumed_types()))]
    written = {up.collection for e in events for up in plans_for(e)}
    for ledger in LEDGERS.values():
        assert set(ledger.collections) & written, f"ledger {ledger.key} gets no rows from the bench's data"


def test_same_seed_same_bytes_and_a_report_before_its_case() -> None:
    first = [r.value for r in history(300)]
    assert first == [r.value for r in history(300)]
    events = [decode_event(v) for v in first]
    reports = {e.payload["clue_id"]: i for i, e in enumerate(events) if e.type == "clue.reported"}
    cases = [(i, e) for i, e in enumerate(events) if e.type == "case.opened"]
    assert cases
    for i, case in cases:
        assert reports[case.payload["clue_id"]] < i
    assert len({e.street_id for e in events}) == 3

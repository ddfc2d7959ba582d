"""The rebuild benchmark folds generated events: they must be exactly what the relays publish,
and cover every event type the ledgers consume, or the figures describe a different system."""

from __future__ import annotations

import itertools
from collections import Counter

from fangfei.events.registry import decode_event

from bench.dataset import check_sample, consumed_types, history


def test_generated_events_are_canonical_platform_events() -> None:
    records = list(itertools.islice(history(400), 400))
    check_sample(records)  # decode_event then encode_event gives back the same bytes
    assert Counter(decode_event(r.value).type for r in records) == {t: 200 for t in consumed_types()}


def test_same_seed_same_bytes_and_a_report_before_its_case() -> None:
    first = [r.value for r in history(200)]
    assert first == [r.value for r in history(200)]
    events = [decode_event(v) for v in first]
    for report, case in zip(events[0::2], events[1::2]):
        assert (report.type, case.type) == ("clue.reported", "case.opened")
        assert case.payload["clue_id"] == report.payload["clue_id"] and case.street_id == report.street_id
    assert len({e.street_id for e in events}) == 3

"""R5: throwing the ledgers away and refolding them from the events gives exactly what live
consumption built, however the live deliveries were ordered or repeated."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fangfei.events import Event
from services.ledger.ledgers import apply_event
from services.ledger.projections import COLLECTION, get_row
from services.ledger.rebuild import compare, rebuild

from .dbs import fresh_memory_db
from .factories import T0, case_opened, clue_reported

COMMUNITIES = ["magang", "bantian", "xinqiao"]


def story(
    n_clues: int, routed: list[bool], communities: list[int], case_communities: list[int] | None = None
) -> list[Event]:
    """Events in the order a store replay gives them: each clue's report, then its case if any.

    `case_communities` lets a case carry a different copy of the community than its clue, so
    the tests also prove that who-owns-which-field does not depend on arrival order."""
    events: list[Event] = []
    for i in range(n_clues):
        found = (T0 + timedelta(minutes=7 * i)).strftime("%Y-%m-%dT%H:%M:%S+08:00")
        community = COMMUNITIES[communities[i]]
        copied = COMMUNITIES[case_communities[i]] if case_communities else community
        events.append(clue_reported(f"c{i}", community_id=community, found_at=found,
                                    recorded_at=T0 + timedelta(minutes=i)))
        if routed[i]:
            events.append(case_opened(f"c{i}", community_id=copied, found_at=found, level=1 + i % 4,
                                      recorded_at=T0 + timedelta(minutes=i, seconds=30)))
    return events


def live(events: list[Event]) -> Any:
    db = fresh_memory_db()
    for event in events:
        apply_event(db, event)
    return db


def rebuilt(events: list[Event]) -> Any:
    db = fresh_memory_db()
    rebuild(db, events)
    return db


def all_docs(db: Any) -> dict[str, dict[str, Any]]:
    return {d["_id"]: d for d in db[COLLECTION].find({})}


def test_shuffled_and_repeated_live_delivery_equals_a_rebuild_in_order() -> None:
    events = story(6, [True, False, True, True, False, True], [0, 1, 2, 0, 1, 2])
    deliveries = events + events[::2]
    random.Random(20260314).shuffle(deliveries)
    live_db, rebuilt_db = live(deliveries), rebuilt(events)
    assert compare(live_db, rebuilt_db) == []
    assert all_docs(live_db) == all_docs(rebuilt_db)
    assert len(all_docs(rebuilt_db)) == 6


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_delivery_order_with_duplicates_equals_the_rebuild(data: st.DataObject) -> None:
    n = data.draw(st.integers(min_value=1, max_value=6), label="clues")
    routed = data.draw(st.lists(st.booleans(), min_size=n, max_size=n), label="routed")
    communities = data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n), label="communities")
    copied = data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n), label="case_communities")
    events = story(n, routed, communities, copied)
    repeats = data.draw(st.lists(st.sampled_from(events), max_size=2 * len(events)), label="repeats")
    deliveries = data.draw(st.permutations(events + repeats), label="deliveries")
    # a rebuild may read two topics' replays merged in any order (each stream stays in order;
    # here every stream has one event, so any permutation is a valid replay)
    replay = data.draw(st.permutations(events), label="replay")
    assert compare(live(deliveries), rebuilt(replay)) == []


def test_rebuild_throws_away_rows_no_event_supports_and_is_repeatable() -> None:
    events = story(3, [True, True, False], [0, 1, 2])
    db = live(events + [clue_reported("ghost")])
    once = rebuild(fresh_memory_db(), events)
    report = rebuild(db, events + events)
    assert report.events == len(events) * 2 and report.applied == once.applied  # duplicates change nothing
    assert report.rows[COLLECTION] == 3
    assert get_row(db, "ghost") is None
    first = all_docs(db)
    rebuild(db, events)
    assert all_docs(db) == first


def test_live_redelivery_after_a_rebuild_is_still_recognised() -> None:
    events = story(2, [True, False], [0, 1])
    db = rebuilt(events)
    before = all_docs(db)
    for event in events:
        assert apply_event(db, event) == 0
    assert all_docs(db) == before


def test_compare_names_the_row_and_field_that_differ() -> None:
    events = story(2, [True, True], [0, 1])
    a, b = rebuilt(events), rebuilt(events)
    b[COLLECTION].update_one({"_id": "c1"}, {"$set": {"title": "被改动的标题"}})
    b[COLLECTION].delete_one({"_id": "c0"})
    diffs = compare(a, b)
    assert [(d.doc_id, d.field) for d in diffs] == [("c0", ""), ("c1", "title")]
    assert diffs[1].b == "被改动的标题"

"""The event store contract: every adapter (in-memory twin, embedded file, MongoDB) must pass it.

Use by subclassing `EventStoreContract` and providing an `open_store` fixture that returns a
fresh (client, db) pair, and a `reopen` fixture that opens the same data again."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable

import pytest

from ..eventstore.store import ConcurrencyConflict, EventStore, POSITION_COUNTER
from ..events import EventError, new_event

NOW = datetime(2026, 3, 14, 1, 0, tzinfo=timezone.utc)


def street_event(stream: str, name: str, pad: int = 0) -> Any:
    return new_event(
        "roster.street_registered", stream, "longgang", {"street_id": "longgang", "name": name + "x" * pad},
        actor="test", occurred_at=NOW,
    )


class EventStoreContract:
    open_db: Callable[[], Any]

    @pytest.fixture
    def store(self, db: Any) -> EventStore:
        return EventStore(db)

    def test_append_then_read_gives_the_events_in_order(self, store: EventStore) -> None:
        commit = store.append("street-a", 0, [street_event("street-a", "一"), street_event("street-a", "二")])
        assert (commit.first_version, commit.last_version) == (1, 2)
        events = store.read_stream("street-a")
        assert [(e.stream_version, e.payload["name"]) for e in events] == [(1, "一"), (2, "二")]
        assert all(e.recorded_at for e in events)

    def test_stale_expected_version_is_a_conflict_and_writes_nothing(self, store: EventStore) -> None:
        store.append("street-a", 0, [street_event("street-a", "一")])
        with pytest.raises(ConcurrencyConflict) as err:
            store.append("street-a", 0, [street_event("street-a", "二")])
        assert (err.value.expected, err.value.actual) == (0, 1)
        assert len(store.read_stream("street-a")) == 1

    def test_two_writers_racing_on_one_stream_cannot_both_win(self, db: Any) -> None:
        a, b = EventStore(db), EventStore(db)
        a.append("street-a", 0, [street_event("street-a", "一")])
        b._head = lambda stream_id: None  # type: ignore[method-assign]  # b read before a wrote
        with pytest.raises(ConcurrencyConflict):
            b.append("street-a", 0, [street_event("street-a", "乙")])
        assert [e.payload["name"] for e in a.read_stream("street-a")] == ["一"]

    def test_oversize_event_is_refused_and_nothing_is_written(self, db: Any) -> None:
        store = EventStore(db, max_event_bytes=450)
        with pytest.raises(EventError):  # the second event of the commit is too large: none is kept
            store.append("street-a", 0, [street_event("street-a", "一"), street_event("street-a", "二", pad=95)])
        assert store.read_stream("street-a") == [] and store.head_position() == 0

    def test_positions_grow_and_holes_are_tolerated(self, store: EventStore, db: Any) -> None:
        store.append("street-a", 0, [street_event("street-a", "一")])
        db["counters"].update_one({"_id": POSITION_COUNTER}, {"$inc": {"value": 1}})  # a burned position
        store.append("street-b", 0, [street_event("street-b", "二")])
        assert store.head_position() == 3
        assert [c.position for c in store.read_positions(range(1, 4))] == [1, 3]
        assert [c.stream_id for c in store.iter_all(batch=2)] == ["street-a", "street-b"]

    def test_data_survives_reopening(self, store: EventStore, reopen: Callable[[], Any]) -> None:
        store.append("street-a", 0, [street_event("street-a", "一")])
        again = EventStore(reopen())
        assert [e.payload["name"] for e in again.read_stream("street-a")] == ["一"]
        again.append("street-a", 1, [street_event("street-a", "二")])
        assert again.head_position() == 2

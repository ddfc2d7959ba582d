"""`fangfei ledger check` (`rebuild_job.check`) against a real broker: the whole comparison runs
outside the write lock, and under it only the rows that differed or that events published since
have touched are compared again, after those events are folded too. So a check neither blocks live
writes for a whole comparison nor reports a row the live consumer updated meanwhile."""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from fangfei.bus.kafka import BrokerAdmin
from fangfei.devstack.broker import Broker
from fangfei.events import Event, encode_event
from fangfei.eventstore.connect import open_database
from fangfei.testing.kafka import producer
from services.ledger import rebuild_job
from services.ledger.ledgers import apply_event, ensure_indexes, plans_for
from services.ledger.projections import COLLECTION as CLUES

from .history import generate, topic_of

EVENTS = 600


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[str]:
    b = Broker(log_path=str(tmp_path / "broker.log")).start()
    try:
        admin = BrokerAdmin(b.bootstrap, "test-admin")
        admin.ensure_topics(["intake.events", "escalation.events", "roster.events"])
        admin.close()
        yield b.bootstrap
    finally:
        b.stop()


def publish(bootstrap: str, events: list[Event]) -> None:
    p = producer(bootstrap)
    for event in events:  # each stream in version order, on its key's one partition
        p.send(topic_of(event), key=event.stream_id.encode(), value=encode_event(event))
    p.flush(timeout=60)
    p.close()


def live_ledger(events: list[Event]) -> Any:
    """A ledger database that applied `events` as the live consumer does."""
    _, db = open_database(f"memory:check-live-{uuid.uuid4().hex}", "fangfei_ledger")
    ensure_indexes(db)
    for event in events:
        apply_event(db, event)
    return db


@pytest.fixture
def live(broker: str) -> Any:
    """The history on the broker, and a ledger that applied all of it."""
    events = [e for stream in generate(EVENTS) for e in stream]
    publish(broker, events)
    return live_ledger(events)


def late_clue() -> Event:
    """A clue reported after the check began: the history's first report, under ids of its own."""
    first = next(s[0] for s in generate(40) if s[0].type == "clue.reported")
    return dataclasses.replace(first, event_id=str(uuid.uuid4()), stream_id="clue-late0001",
                               payload={**first.payload, "clue_id": "late0001"})


@pytest.fixture
def comparisons(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Each comparison the check makes: whether the write lock was held, and which rows."""
    seen: list[dict[str, Any]] = []
    real = rebuild_job.compare

    def spy(db_a: Any, db_b: Any, keys: Any = None, **more: Any) -> Any:
        seen.append({"locked": rebuild_job.WRITE_LOCK.locked(), "keys": None if keys is None else set(keys)})
        return real(db_a, db_b, keys=keys, **more)
    monkeypatch.setattr(rebuild_job, "compare", spy)
    return seen


def test_an_intact_ledger_checks_clean_and_nothing_is_compared_under_the_lock(
        broker: str, live: Any, comparisons: list[dict[str, Any]]) -> None:
    assert rebuild_job.check(live, broker) == []
    assert comparisons == [{"locked": False, "keys": None}, {"locked": True, "keys": set()}]


def test_a_damaged_row_is_named_and_only_it_is_compared_again(broker: str, live: Any,
                                                              comparisons: list[dict[str, Any]]) -> None:
    db = live
    row = db[CLUES].find_one({})
    db[CLUES].update_one({"_id": row["_id"]}, {"$set": {"title": "被改动的标题"}})
    diffs = rebuild_job.check(db, broker)
    assert [(d.collection, d.doc_id, d.field, d.a, d.b) for d in diffs] == [
        (CLUES, row["_id"], "title", "被改动的标题", row["title"])]
    assert comparisons[1] == {"locked": True, "keys": {(CLUES, row["_id"])}}


def _after_the_first_comparison(monkeypatch: pytest.MonkeyPatch, then: Callable[[], None]) -> None:
    real = rebuild_job.compare
    calls = []

    def first_then(db_a: Any, db_b: Any, keys: Any = None, **more: Any) -> Any:
        out = real(db_a, db_b, keys=keys, **more)
        calls.append(keys)
        if len(calls) == 1:
            then()
        return out
    monkeypatch.setattr(rebuild_job, "compare", first_then)


def test_an_event_the_live_consumer_applied_during_the_check_is_no_difference(
        broker: str, live: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    db, late = live, late_clue()

    def live_consumer_moves_on() -> None:
        publish(broker, [late])
        apply_event(db, late)
    _after_the_first_comparison(monkeypatch, live_consumer_moves_on)
    assert rebuild_job.check(db, broker) == []
    assert db[CLUES].find_one({"_id": late.payload["clue_id"]}) is not None


def test_an_event_published_during_the_check_but_never_applied_live_is_reported(
        broker: str, live: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    late = late_clue()
    _after_the_first_comparison(monkeypatch, lambda: publish(broker, [late]))
    diffs = rebuild_job.check(live, broker)
    rows_of_the_clue = {(up.collection, up.doc_id) for up in plans_for(late)}  # its clue row, its assessment fact
    assert (CLUES, "late0001") in rows_of_the_clue
    assert sorted((d.collection, d.doc_id, d.field, d.a) for d in diffs) == sorted(
        (collection, doc_id, "", None) for collection, doc_id in rows_of_the_clue)  # missing on the live side

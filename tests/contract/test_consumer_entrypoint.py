"""The Kafka entrypoint inside a real nameko container against a real broker: each event is
applied once despite duplicates, a poison message is retried then parked on the dead-letter topic
without holding up other streams, and a stream that skips a version is stalled, not applied."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any, Iterator

import pytest
from nameko.containers import ServiceContainer

from fangfei.bus.dlq import replay
from fangfei.bus.entrypoint import event_handler
from fangfei.devstack.broker import Broker
from fangfei.devstack.ports import free_port
from fangfei.events import Event, encode_event, new_event
from fangfei.service_base import PlatformService
from fangfei.testing.kafka import producer, read_topic, wait_until

pytestmark = pytest.mark.integration

POISON = "毒"
BROKEN = {"on": True}  # the handler's "bug"; a test fixes it before replaying the dead letters


class ProbeService(PlatformService):
    """Stands in for a consuming service: remembers every clue it applied."""

    name = "ledger"

    @event_handler("intake", "clue.reported")
    def handle_clue_reported(self, event: Event) -> None:
        if event.payload["title"] == POISON and BROKEN["on"]:
            raise ValueError("this handler cannot cope with that event")
        self.store.db["applied"].insert_one({"event_id": event.event_id, "stream": event.stream_id})


def clue(stream_no: int, version: int, title: str = "线索") -> Event:
    ev = new_event(
        "clue.reported", f"clue-c{stream_no}", "longgang",
        {"clue_id": f"c{stream_no}", "community_id": "magang", "category": "advertising", "source": "grid_patrol",
         "title": title, "description": "描述", "found_at": "2026-03-14T09:00:00+08:00"},
        actor="test", occurred_at=datetime(2026, 3, 14, tzinfo=timezone.utc),
    )
    return ev.stamped(version, datetime(2026, 3, 14, tzinfo=timezone.utc))


@pytest.fixture
def container(broker: Broker, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServiceContainer]:
    monkeypatch.setenv("FANGFEI_KAFKA_BOOTSTRAP", broker.bootstrap)
    monkeypatch.setenv("FANGFEI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("FANGFEI_CONSUMER_MAX_RETRIES", "2")
    monkeypatch.setenv("FANGFEI_CONSUMER_BACKOFF_MS", "10")
    monkeypatch.setenv("FANGFEI_CONSUMER_SESSION_TIMEOUT_MS", "6000")
    # each test gets a fresh consumer group and topics by using a fresh broker namespace: new ids
    c = ServiceContainer(ProbeService, {"WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}"})
    c.start()
    yield c
    c.stop()


def applied(container: ServiceContainer) -> list[dict[str, Any]]:
    handle = next(ext for ext in container.subextensions if type(ext).__name__ == "StoreHandle")
    return list(handle.db["applied"].find({}, {"_id": 0}))


def test_duplicates_poison_and_gaps(broker: Broker, container: ServiceContainer) -> None:
    run = uuid.uuid4().hex[:6]
    good = [clue(int(run, 16) * 10 + s, v) for s in range(3) for v in (1, 2)]
    poison = clue(int(run, 16) * 10 + 7, 1, POISON)
    after_poison = clue(int(run, 16) * 10 + 7, 2)  # same stream: must wait behind the parked event
    gap = clue(int(run, 16) * 10 + 8, 2)  # version 1 never arrives
    p = producer(broker.bootstrap)
    for ev in good + good[:3] + [poison, after_poison, gap] + good:  # every good one at least twice
        p.send("intake.events", key=ev.stream_id.encode(), value=encode_event(ev))
    p.flush()

    rows = wait_until(lambda: len(applied(container)) >= len(good) and applied(container), what="good events applied")
    dlq = read_topic(broker.bootstrap, "ledger.dlq", expect=3)
    mine = [r for r in dlq if json.loads(r.value)["stream_id"] in {poison.stream_id, gap.stream_id}]
    headers = [dict(r.headers) for r in mine]
    assert sorted(json.loads(r.value)["event_id"] for r in mine) == sorted(
        [poison.event_id, after_poison.event_id, gap.event_id])
    assert any(b"failed 3x" in h["error"] for h in headers)  # 1 try + 2 retries, then parked
    assert any(b"version gap" in h["error"] for h in headers)
    assert all(h["source_topic"] == b"intake.events" and h["source_offset"] for h in headers)
    final = applied(container)
    assert sorted(r["event_id"] for r in final) == sorted(e.event_id for e in good)  # once each
    assert len(final) == len(rows)

    # the bug is fixed; replaying the dead letters (twice, as an operator might) applies the
    # parked stream once, in order; the gap stream stays parked because version 1 never came
    BROKEN["on"] = False
    replay(broker.bootstrap, "ledger")
    replay(broker.bootstrap, "ledger")
    want = sorted(e.event_id for e in good + [poison, after_poison])
    wait_until(lambda: sorted(r["event_id"] for r in applied(container)) == want, what="replayed events applied")
    consumer = next(ext for ext in container.subextensions if type(ext).__name__ == "KafkaEventConsumer")
    wait_until(lambda: consumer.lag == 0, what="consumer to reach the end of its topics")
    assert sorted(r["event_id"] for r in applied(container)) == want  # nothing applied twice

"""The relay against a real Kafka-protocol broker (Tansu; or Apache Kafka via
FANGFEI_TEST_KAFKA_BOOTSTRAP): every stored event reaches the topic, keyed and in order per
stream, at least once, across crashes, burned positions and a broker that comes back empty."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from typing import Any

import pytest

from fangfei.bus.kafka import BrokerAdmin, make_producer
from fangfei.bus.relay import Relay
from fangfei.devstack.broker import Broker
from fangfei.eventstore.checkpoints import Checkpoints
from fangfei.eventstore.connect import open_database
from fangfei.eventstore.store import POSITION_COUNTER, EventStore
from fangfei.testing.eventstore_contract import street_event
from fangfei.testing.kafka import read_topic, wait_until

pytestmark = pytest.mark.integration


class CrashAfterPublish(Exception):
    pass


def make_relay(bootstrap: str, db: Any, topic: str, **kw: Any) -> Relay:
    admin = BrokerAdmin(bootstrap, "test-relay")
    return Relay(
        service="intake", store=EventStore(db), checkpoints=kw.pop("checkpoints", Checkpoints(db)), topic=topic,
        producer_factory=lambda: make_producer(bootstrap, "test-relay"), cluster_id=admin.cluster_id,
        ensure_topic=lambda t: admin.ensure_topics([t]), **kw,
    )


def fill(db: Any, streams: int, per_stream: int) -> set[str]:
    store = EventStore(db)
    ids = set()
    for v in range(per_stream):
        for s in range(streams):
            commit = store.append(f"street-s{s}", v, [street_event(f"street-s{s}", f"v{v}")])
            ids.add(commit.events[0].event_id)
    return ids


def drain(relay: Relay) -> None:
    wait_until(lambda: relay.run_once() == 0 and relay.backlog() == 0, what="relay backlog to empty")


def test_every_event_is_published_keyed_and_in_stream_order(broker: Broker) -> None:
    _, db = open_database(f"memory:{uuid.uuid4().hex}")
    topic = f"t{uuid.uuid4().hex[:8]}.events"
    ids = fill(db, streams=10, per_stream=20)
    relay = make_relay(broker.bootstrap, db, topic, batch=37)
    drain(relay)
    records = read_topic(broker.bootstrap, topic, expect=len(ids))
    assert {json.loads(r.value)["event_id"] for r in records} == ids and len(records) == len(ids)
    versions: dict[str, list[int]] = defaultdict(list)
    partitions: dict[str, set[int]] = defaultdict(set)
    for r in sorted(records, key=lambda r: (r.partition, r.offset)):
        ev = json.loads(r.value)
        assert r.key.decode() == ev["stream_id"]
        versions[ev["stream_id"]].append(ev["stream_version"])
        partitions[ev["stream_id"]].add(r.partition)
    assert all(v == list(range(1, 21)) for v in versions.values())
    assert all(len(p) == 1 for p in partitions.values())


def test_a_crash_between_publish_and_checkpoint_repeats_but_never_skips(broker: Broker) -> None:
    _, db = open_database(f"memory:{uuid.uuid4().hex}")
    topic = f"t{uuid.uuid4().hex[:8]}.events"
    ids = fill(db, streams=3, per_stream=10)

    class CrashingCheckpoints(Checkpoints):
        crashed = False

        def put(self, key: str, **fields: Any) -> None:
            if fields.get("position") and not self.crashed:
                self.crashed = True
                raise CrashAfterPublish()
            super().put(key, **fields)

    first = make_relay(broker.bootstrap, db, topic, checkpoints=CrashingCheckpoints(db), batch=10)
    with pytest.raises(CrashAfterPublish):
        first.run_once()  # published a batch, died before recording it
    drain(make_relay(broker.bootstrap, db, topic, batch=10))  # a fresh process takes over
    records = read_topic(broker.bootstrap, topic, expect=len(ids) + 10)
    seen = [json.loads(r.value)["event_id"] for r in records]
    assert set(seen) == ids
    assert len(seen) == len(ids) + 10  # exactly the crashed batch again, nothing else


def test_a_burned_position_is_skipped_only_after_the_grace_period(broker: Broker) -> None:
    _, db = open_database(f"memory:{uuid.uuid4().hex}")
    topic = f"t{uuid.uuid4().hex[:8]}.events"
    store = EventStore(db)
    store.append("street-a", 0, [street_event("street-a", "一")])
    db["counters"].update_one({"_id": POSITION_COUNTER}, {"$inc": {"value": 1}})  # writer died mid-append
    store.append("street-b", 0, [street_event("street-b", "二")])
    clock = [0.0]
    relay = make_relay(broker.bootstrap, db, topic, gap_grace_s=5.0, monotonic=lambda: clock[0])
    relay.run_once()
    assert relay.position()[0] == 1  # waits at the hole
    clock[0] = 6.0
    relay.run_once()
    assert relay.position()[0] == 3
    assert len(read_topic(broker.bootstrap, topic, expect=2)) == 2


def test_a_broker_that_comes_back_empty_gets_everything_again(tmp_path: Any) -> None:
    own = Broker(log_path=str(tmp_path / "broker.log")).start()
    try:
        _, db = open_database(f"memory:{uuid.uuid4().hex}")
        topic = "intake.events"
        ids = fill(db, streams=4, per_stream=5)
        relay = make_relay(own.bootstrap, db, topic)
        drain(relay)
        own.restart()  # total loss: topics and offsets are gone
        wait_until(lambda: _quiet(relay) and relay.position()[1] == own.cluster_id and relay.backlog() == 0,
                   what="relay to republish to the new broker")
        records = read_topic(own.bootstrap, topic, expect=len(ids))
        assert {json.loads(r.value)["event_id"] for r in records} == ids
    finally:
        own.stop()


def _quiet(relay: Relay) -> bool:
    try:
        relay.run_once()
        return True
    except Exception as exc:  # the broker is coming back; the service loop would retry too
        relay.failed(exc)
        return False

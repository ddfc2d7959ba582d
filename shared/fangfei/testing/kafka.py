"""Reading and writing topics directly in tests, with deadlines instead of sleeps."""

from __future__ import annotations

import time
from typing import Any, Callable

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from ..bus.kafka import partitions_of


def read_topic(bootstrap: str, topic: str, expect: int, timeout_s: float = 30.0) -> list[Any]:
    """All records of `topic` from offset 0, waiting until at least `expect` arrived."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, allow_auto_create_topics=False,
                             fetch_max_wait_ms=100)
    try:
        deadline = time.monotonic() + timeout_s
        parts: set[int] | None = None
        while parts is None and time.monotonic() < deadline:
            parts = partitions_of(consumer, topic) or None
            if parts is None:
                time.sleep(0.1)
        if parts is None:
            raise TimeoutError(f"topic {topic} does not exist")
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        records: list[Any] = []
        while time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
            if len(records) >= expect:
                # drain what else is already there, so "exactly" can be checked
                for _ in range(3):
                    for batch in consumer.poll(timeout_ms=200).values():
                        records.extend(batch)
                return records
        raise TimeoutError(f"{topic}: {len(records)} records after {timeout_s}s, expected {expect}")
    finally:
        consumer.close()


def producer(bootstrap: str) -> KafkaProducer:
    return KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False)


def wait_until(condition: Callable[[], Any], timeout_s: float = 30.0, what: str = "condition") -> Any:
    """Poll `condition` until it returns something truthy; fail with `what` after the deadline."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(0.05)
    raise TimeoutError(f"timed out after {timeout_s}s waiting for {what} (last: {last!r})")

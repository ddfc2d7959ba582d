"""Publishing a dataset to the broker once, and reading topics back from offset 0 as fast as
kafka-python can: the raw consume loop is both the reference of the rebuild figures and the
reader the measured rebuild uses, so the two differ only by what is done with each record."""

from __future__ import annotations

import time
from typing import Any, Iterable, Iterator

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from fangfei.bus.kafka import BrokerAdmin, partitions_of

from .dataset import Record

# Same client settings for every reader in the bench (reference and measured alike). Bigger
# fetches than the services use: a rebuild reads history in bulk, not one live event at a time.
CONSUMER_SETTINGS: dict[str, Any] = {
    "enable_auto_commit": False,
    "allow_auto_create_topics": False,
    "fetch_max_wait_ms": 100,
    "max_partition_fetch_bytes": 4 * 1024 * 1024,
    "fetch_max_bytes": 64 * 1024 * 1024,
    "receive_buffer_bytes": 4 * 1024 * 1024,
}
POLL_RECORDS = 5000


def create_topics(bootstrap: str, topics: Iterable[str]) -> None:
    """Topics as the platform makes them (4 partitions), explicitly: Tansu must not auto-create."""
    admin = BrokerAdmin(bootstrap, "fangfei-bench-admin")
    try:
        admin.ensure_topics(list(topics))
    finally:
        admin.close()


def publish(bootstrap: str, records: Iterable[Record], prefix: str) -> int:
    """Send every record keyed by its stream id to `<prefix><service>.events`; wait for all acks."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, client_id="fangfei-bench-loader", acks=1, enable_idempotence=False,
        linger_ms=20, batch_size=512 * 1024, max_request_size=8 * 1024 * 1024,
    )
    sent = 0
    try:
        for rec in records:
            producer.send(f"{prefix}{rec.service}.events", key=rec.key, value=rec.value)
            sent += 1
        producer.flush(timeout=300)
    finally:
        producer.close(timeout=30)
    return sent


def records(bootstrap: str, topics: list[str], expect: int, timeout_s: float = 1500.0) -> Iterator[Any]:
    """Every record of `topics` from offset 0, until `expect` were read (all of them: the bench
    published exactly that many). Partitions are assigned directly: no group join to wait for.
    The timeout covers the whole read, which runs at the pace of whatever consumes the records
    (a 1M-event rebuild on a loaded 2-core machine reads for several minutes)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, client_id="fangfei-bench-reader", **CONSUMER_SETTINGS)
    try:
        tps = []
        for topic in topics:
            parts = partitions_of(consumer, topic)
            if not parts:
                raise LookupError(f"topic {topic} does not exist on {bootstrap}")
            tps += [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        seen = 0
        deadline = time.monotonic() + timeout_s
        while seen < expect:
            if time.monotonic() > deadline:
                raise TimeoutError(f"read {seen} of {expect} records of {topics} in {timeout_s}s")
            for batch in consumer.poll(timeout_ms=500, max_records=POLL_RECORDS).values():
                seen += len(batch)
                yield from batch
    finally:
        consumer.close(autocommit=False)

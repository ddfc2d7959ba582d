"""Replay parked messages after the cause is fixed (R7).

Each dead letter keeps the original event bytes and key, and names its source topic in a header.
Replaying sends them back to that topic in their parked order; the consuming service's dedupe
drops what was applied meanwhile, so a replay (or a repeated replay) applies each event once."""

from __future__ import annotations

from .kafka import make_producer, read_all
from .topics import dlq_topic


def replay(bootstrap: str, service: str) -> int:
    """Re-publish every message of `<service>.dlq` to its source topic; return how many."""
    records = read_all(bootstrap, dlq_topic(service))
    producer = make_producer(bootstrap, f"fangfei-{service}-dlq-replay")
    try:
        for rec in sorted(records, key=lambda r: (r.partition, r.offset)):
            headers = dict(rec.headers or [])
            source = headers.get("source_topic", b"").decode()
            if not source:
                continue
            producer.send(source, key=rec.key, value=rec.value)
        producer.flush(timeout=30)
    finally:
        producer.close(timeout=5)
    return len(records)

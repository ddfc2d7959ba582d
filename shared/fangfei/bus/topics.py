"""Topic names (docs/adr/0003-topic-and-event-naming.md): `<service>.events` for what a service
emits, `<service>.dlq` for what a consuming service had to park."""

from __future__ import annotations

import os


def events_topic(service: str) -> str:
    return f"{service}.events"


def dlq_topic(service: str) -> str:
    return f"{service}.dlq"


def partitions() -> int:
    """Partitions per topic (FANGFEI_TOPIC_PARTITIONS, default 4): the unit of consumer scale-out."""
    return int(os.environ.get("FANGFEI_TOPIC_PARTITIONS", "4"))


def replication() -> int:
    return int(os.environ.get("FANGFEI_TOPIC_REPLICATION", "1"))

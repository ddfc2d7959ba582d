"""Intake use cases: one function per command. No HTTP, no nameko here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping

from fangfei.clock import Clock
from fangfei.eventstore.provider import ServiceStore
from fangfei.eventstore.store import ConcurrencyConflict
from fangfei.events import Event, new_event

# A clue "found" further in the future than this is a typing error, not clock skew.
FUTURE_TOLERANCE = timedelta(minutes=5)
IDEMPOTENCY_NAMESPACE = uuid.UUID("6f1d2b8e-3c1a-4f6e-9a57-2b4f0d9c7e11")


class ClueRejected(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ClueAccepted:
    clue_id: str
    created: bool  # False when an idempotent retry found the clue already recorded
    event: Event


def clue_stream(clue_id: str) -> str:
    return f"clue-{clue_id}"


def new_clue_id(street_id: str, idempotency_key: str | None) -> str:
    """A retried request with the same Idempotency-Key maps to the same clue (R2)."""
    if idempotency_key:
        return uuid.uuid5(IDEMPOTENCY_NAMESPACE, f"{street_id}\x1f{idempotency_key}").hex
    return uuid.uuid4().hex


def report_clue(
    store: ServiceStore, clock: Clock, command: Mapping[str, Any], actor: str, idempotency_key: str | None = None
) -> ClueAccepted:
    """Record a clue; the 2xx answer is given only after the commit is durable (R1)."""
    found_at: datetime = command["found_at"]
    if found_at > clock.now() + FUTURE_TOLERANCE:
        raise ClueRejected("found_at", "发现时间不能晚于当前时间")
    clue_id = new_clue_id(command["street_id"], idempotency_key)
    payload = {k: v for k, v in command.items() if k != "street_id"}
    payload["clue_id"] = clue_id
    payload["found_at"] = found_at.isoformat()
    event = new_event(
        "clue.reported", clue_stream(clue_id), command["street_id"], payload, actor=actor, occurred_at=clock.now()
    )
    try:
        commit = store.append(clue_stream(clue_id), 0, [event])
    except ConcurrencyConflict:
        existing = store.events.read_stream(clue_stream(clue_id))
        return ClueAccepted(clue_id, False, existing[0])
    return ClueAccepted(clue_id, True, commit.events[0])


def get_clue(store: ServiceStore, clue_id: str) -> list[Event]:
    return store.events.read_stream(clue_stream(clue_id))

"""The one envelope every event travels in, on disk and on Kafka.

Fields are those of docs/events.md; `payload` is validated against the schema registered for
(`type`, `schema_version`). Events are immutable facts in the past tense.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Mapping

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from ..clock import to_iso

STREAM_ID = validate.Regexp(r"^[a-z][a-z0-9_]*-[A-Za-z0-9_.:-]{1,120}$", error="stream_id must look like '<kind>-<id>'")
TYPE_NAME = validate.Regexp(r"^[a-z][a-z_]*\.[a-z][a-z_.]*$", error="type must look like 'clue.reported'")


class EventError(ValueError):
    """An event (or its payload) does not match its contract; `messages` says where."""

    def __init__(self, message: str, messages: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.messages = dict(messages or {})


@dataclass(frozen=True)
class Event:
    """One recorded fact. `stream_version` is 0 until the event store appends it."""

    type: str
    stream_id: str
    street_id: str
    payload: Mapping[str, Any]
    actor: str
    occurred_at: str
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    schema_version: int = 1
    stream_version: int = 0
    recorded_at: str = ""
    correlation_id: str = ""
    causation_id: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "type": self.type,
            "schema_version": self.schema_version,
            "stream_id": self.stream_id,
            "stream_version": self.stream_version,
            "street_id": self.street_id,
            "occurred_at": self.occurred_at,
            "recorded_at": self.recorded_at,
            "actor": self.actor,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "payload": dict(self.payload),
        }

    def stamped(self, stream_version: int, recorded_at: datetime) -> "Event":
        """The event as the store records it: with its version in the stream and the commit time."""
        return replace(self, stream_version=stream_version, recorded_at=to_iso(recorded_at))


def new_event(
    type: str,
    stream_id: str,
    street_id: str,
    payload: Mapping[str, Any],
    *,
    actor: str,
    occurred_at: datetime,
    cause: Event | None = None,
    correlation_id: str = "",
    schema_version: int | None = None,
) -> Event:
    """Build an event, validating its payload against the registered schema at once.

    `cause` links a reaction to the event that caused it (causation) and carries the correlation
    id along, so one clue's whole story can be followed across services."""
    from .registry import REGISTRY

    version = schema_version or REGISTRY.latest_version(type)
    clean = REGISTRY.validate_payload(type, version, payload)
    event_id = str(uuid.uuid4())
    return Event(
        type=type,
        stream_id=stream_id,
        street_id=street_id,
        payload=clean,
        actor=actor,
        occurred_at=to_iso(occurred_at),
        event_id=event_id,
        schema_version=version,
        correlation_id=(cause.correlation_id or cause.event_id) if cause else (correlation_id or event_id),
        causation_id=cause.event_id if cause else "",
    )


class EnvelopeSchema(Schema):
    """Wire form of the envelope; the payload is checked separately, per type and version."""

    class Meta:
        unknown = RAISE

    event_id = fields.UUID(required=True)
    type = fields.String(required=True, validate=TYPE_NAME)
    schema_version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    stream_id = fields.String(required=True, validate=STREAM_ID)
    stream_version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    street_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    occurred_at = fields.String(required=True, validate=validate.Length(min=20, max=40))
    recorded_at = fields.String(required=True, validate=validate.Length(min=20, max=40))
    actor = fields.String(required=True, validate=validate.Length(min=1, max=128))
    correlation_id = fields.String(required=True, validate=validate.Length(max=64))
    causation_id = fields.String(required=True, validate=validate.Length(max=64))
    payload = fields.Dict(required=True)


# One shared instance: instantiating a marshmallow schema deep-copies its fields, which cost more
# than the validation when done per event (docs/benchmarks.md); load keeps no state on it.
_ENVELOPE = EnvelopeSchema()


def load_envelope(data: Mapping[str, Any]) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = _ENVELOPE.load(data)
    except ValidationError as exc:
        raise EventError("event envelope is invalid", exc.messages_dict) from exc
    loaded["event_id"] = str(loaded["event_id"])
    return loaded

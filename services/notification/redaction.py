"""What an agency receives of an event: the public contract (docs/subscriptions.md), by type.

Reporter identity never travels on the bus at all (docs/adr/0006); this module decides, field by
field and from the marshmallow schemas themselves, what else an agency may see:

- `reporter_id` and `reported_by` (who reported, and the reporter's pseudonym) are never sent;
- fields naming a person (`*person_id`, `by`) and free text (strings longer than 60 characters:
  descriptions, addresses, reasons, notes, where anybody may type a name or a phone number) are
  *personal*: sent only to a subscription granted `personal_data` (by the district office);
- everything else (ids, codes, levels, instants, short labels) is public;
- every string that is sent is then scrubbed of anything shaped like a mainland mobile number or
  a resident ID number, granted or not (a second line of defence, not the first).

A type can be subscribed to only if it is in SUBSCRIBABLE."""

from __future__ import annotations

import re
from typing import Any, Mapping

from marshmallow import Schema, fields, validate

from fangfei.events import REGISTRY, Event

SUBSCRIBABLE: dict[str, str] = {  # event type -> producing service (the topic it comes from)
    "clue.reported": "intake",
    "case.opened": "escalation",
    "case.registered": "escalation",
    "case.escalated": "escalation",
    "case.marked_abnormal": "escalation",
    "case.agency_notified": "escalation",
    "case.agency_responded": "escalation",
    "case.joint_meeting_convened": "escalation",
    "case.joint_meeting_concluded": "escalation",
    "case.disposal_decided": "escalation",
    "case.rectification_completed": "escalation",
    "case.closed": "escalation",
    "sla.breached": "escalation",
    "obligation.missed": "escalation",
    "enterprise.risk_tagged": "escalation",
    "enterprise.cross_street_flagged": "escalation",
}

NEVER = frozenset({"reporter_id", "reported_by"})
STRUCTURED = frozenset({"obligation_id", "period"})  # long, but composed of codes and dates only
FREE_TEXT_OVER = 60
PUBLIC, PERSONAL, DROPPED = "public", "personal", "never"

_PHONE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d){8}(?!\d)")
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{6}(?:18|19|20)?\d{2}(?:0[1-9]|1[0-2])(?:[0-2]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])")
_MASK = "〔已屏蔽〕"


def _max_len(field: fields.Field) -> int | None:
    validators = field.validators if isinstance(field.validators, list) else [field.validate]
    for v in validators:
        if isinstance(v, validate.Length) and v.max is not None:
            return int(v.max)
    return None


def classify(name: str, field: fields.Field) -> str:
    """PUBLIC, PERSONAL or DROPPED for one field of a payload schema."""
    if name in NEVER:
        return DROPPED
    if name == "by" or name.endswith("person_id"):
        return PERSONAL
    if name in STRUCTURED:
        return PUBLIC
    if isinstance(field, fields.String) and not any(isinstance(v, (validate.Regexp, validate.OneOf))
                                                    for v in field.validators):
        limit = _max_len(field)
        if limit is None or limit > FREE_TEXT_OVER:
            return PERSONAL
    return PUBLIC


def _schema_of(event_type: str) -> Schema:
    et = next(t for t in REGISTRY.types() if t.name == event_type)
    return et.schemas[et.latest]()


def field_classes(event_type: str) -> dict[str, str]:
    """Every payload field of the latest version of `event_type` and its class (for the docs)."""
    return {name: classify(name, f) for name, f in _schema_of(event_type).fields.items()}


def scrub(text: str) -> str:
    return _ID_NUMBER.sub(_MASK, _PHONE.sub(_MASK, text))


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if k not in NEVER}
    return value


def redact_payload(event_type: str, payload: Mapping[str, Any], personal_data: bool) -> dict[str, Any]:
    classes = field_classes(event_type)
    allowed = {PUBLIC, PERSONAL} if personal_data else {PUBLIC}
    return {k: _clean(v) for k, v in payload.items() if classes.get(k, DROPPED) in allowed}


def public_envelope(event: Event, personal_data: bool) -> dict[str, Any]:
    """The event as an agency receives it: the envelope minus actor and stream internals, plus
    the redacted payload. `actor` is a person id (personal) and is dropped."""
    return {
        "event_id": event.event_id,
        "type": event.type,
        "schema_version": event.schema_version,
        "street_id": event.street_id,
        "occurred_at": event.occurred_at,
        "recorded_at": event.recorded_at,
        "correlation_id": event.correlation_id,
        "payload": redact_payload(event.type, event.payload, personal_data),
    }

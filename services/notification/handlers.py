"""Notification use cases: record who was told what, exactly once. No nameko here."""

from __future__ import annotations

import uuid

from fangfei.eventstore.provider import ServiceStore
from fangfei.eventstore.store import ConcurrencyConflict
from fangfei.events import Event, new_event
from fangfei.roster_view import RosterView

from . import messages
from .deliveries import DeliveryLog

ACTOR = "system:notification"
INBOX = "inbox"  # 站内消息: the embedded channel; SMS and others come later
DELIVERY_NAMESPACE = uuid.UUID("0b6c4d1e-7a52-4c3f-8e0f-5d2a9b61c4a7")


def delivery_id(source_event_id: str, recipient_person_id: str, channel: str) -> str:
    """The same (cause, recipient, channel) always names the same delivery: exactly-once by key."""
    return uuid.uuid5(DELIVERY_NAMESPACE, "\x1f".join((source_event_id, recipient_person_id, channel))).hex


def delivery_stream(delivery_id_: str) -> str:
    return f"delivery-{delivery_id_}"


def deliver(
    store: ServiceStore, log: DeliveryLog, cause: Event, recipient_person_id: str, channel: str,
    message: messages.Message,
) -> Event:
    """Record one delivery of `message` because of `cause`; return the recorded event.

    The append at version 0 is the guard: a redelivered cause finds the stream already written and
    records nothing new. The log row is (re)written either way, so a crash between the append and
    the row heals on the redelivery."""
    did = delivery_id(cause.event_id, recipient_person_id, channel)
    stream = delivery_stream(did)
    payload = {
        "delivery_id": did,
        "source_event_id": cause.event_id,
        "source_type": cause.type,
        "recipient_person_id": recipient_person_id,
        "channel": channel,
        "subject": message.subject,
        "body": message.body,
    }
    event = new_event(
        "delivery.recorded", stream, cause.street_id, payload,
        actor=ACTOR, occurred_at=store.clock.now(), cause=cause,
    )
    try:
        recorded = store.append(stream, 0, [event]).events[0]
    except ConcurrencyConflict:
        recorded = store.events.read_stream(stream)[0]
    log.record(recorded)
    return recorded


def notify_case_opened(
    store: ServiceStore, log: DeliveryLog, roster: RosterView, case: Event
) -> Event | None:
    """Tell the assignee of a new case in their inbox. A case without an assignee (routed to the
    district office) is not notified yet: district-level notifications come in a later issue."""
    p = case.payload
    recipient = p["assignee_person_id"]
    if not recipient:
        return None
    community_name = roster.communities.get(p["community_id"], {}).get("name", "")
    return deliver(store, log, case, recipient, INBOX, messages.case_opened(p, community_name))

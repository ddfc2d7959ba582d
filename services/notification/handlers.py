"""Notification use cases: who is told what, on which channels, exactly once. No nameko here.

One event becomes, for each person a rule names (rules.py): an inbox message recorded at once
(`delivery.recorded`), plus outbox rows for e-mail (if the person has an address) and SMS (urgent
notices, if the person has a phone and a gateway is configured); and for each matching agency
subscription, an outbox row with the redacted event (webhook or topic). Outbox rows are drained
by each channel's own worker (dispatch.py).

Every delivery is named by `delivery_id(cause, recipient, channel)`: recording it twice is a
no-op, whether the cause is redelivered, replayed from a new broker or rebuilt."""

from __future__ import annotations

import json
import uuid
import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fangfei import metrics
from fangfei.eventstore.provider import ServiceStore
from fangfei.eventstore.store import ConcurrencyConflict
from fangfei.events import Event, new_event
from fangfei.roster_view import RosterView

from . import messages, rules
from .board import CaseBoard
from .config import NotifyConfig
from .contacts import Contacts
from .deliveries import DeliveryLog
from .outbox import Outbox
from .redaction import public_envelope
from .subscriptions import Subscriptions

ACTOR = "system:notification"
INBOX = "inbox"  # 站内消息: recorded = delivered
DELIVERY_NAMESPACE = uuid.UUID("0b6c4d1e-7a52-4c3f-8e0f-5d2a9b61c4a7")


def delivery_id(source_event_id: str, recipient_person_id: str, channel: str) -> str:
    """The same (cause, recipient, channel) always names the same delivery: exactly-once by key."""
    return uuid.uuid5(DELIVERY_NAMESPACE, "\x1f".join((source_event_id, recipient_person_id, channel))).hex


def delivery_stream(delivery_id_: str) -> str:
    return f"delivery-{delivery_id_}"


@dataclass(frozen=True)
class Source:
    """Why a delivery happens: an event, or a scheduled digest (no event: `cause` is None)."""

    source_id: str
    source_type: str
    street_id: str
    cause: Event | None = None

    @classmethod
    def of(cls, event: Event) -> "Source":
        return cls(event.event_id, event.type, event.street_id, event)


class Book:
    """The collections of one service database, built once per database (they create indexes)."""

    def __init__(self, db: Any) -> None:
        self.outbox = Outbox(db)
        self.subscriptions = Subscriptions(db)
        self.contacts = Contacts(db)
        self.board = CaseBoard(db)


# By identity, not equality: two in-memory databases of the same name compare equal.
_BOOKS: dict[int, tuple["weakref.ref[Any]", Book]] = {}


def book_of(store: ServiceStore) -> Book:
    db = store.db
    entry = _BOOKS.get(id(db))
    if entry is None or entry[0]() is not db:
        entry = _BOOKS[id(db)] = (weakref.ref(db), Book(db))
    return entry[1]


def config_of(store: ServiceStore) -> NotifyConfig:
    return NotifyConfig.from_env(store.settings.extra)


# -- the inbox ------------------------------------------------------------------------------------
def deliver(
    store: ServiceStore, log: DeliveryLog, cause: Event | Source, recipient_person_id: str, channel: str,
    message: messages.Message,
) -> Event:
    """Record one inbox delivery of `message`; return the recorded event.

    The append at version 0 is the guard: a redelivered cause finds the stream already written and
    records nothing new. The log row is (re)written either way, so a crash between the append and
    the row heals on the redelivery."""
    source = cause if isinstance(cause, Source) else Source.of(cause)
    did = delivery_id(source.source_id, recipient_person_id, channel)
    stream = delivery_stream(did)
    payload = {
        "delivery_id": did, "source_event_id": source.source_id, "source_type": source.source_type,
        "recipient_person_id": recipient_person_id, "channel": channel,
        "subject": message.subject, "body": message.body,
    }
    event = new_event("delivery.recorded", stream, source.street_id, payload,
                      actor=ACTOR, occurred_at=store.clock.now(), cause=source.cause)
    try:
        recorded = store.append(stream, 0, [event]).events[0]
        metrics.NOTIFICATION_DELIVERIES.labels(channel, "delivered").inc()
    except ConcurrencyConflict:
        recorded = store.events.read_stream(stream)[0]
    log.record(recorded)
    return recorded


# -- outbound -------------------------------------------------------------------------------------
def queue(store: ServiceStore, source: Source, recipient_kind: str, recipient_id: str, channel: str,
          address: str, *, subject: str = "", body: str = "", payload: str = "") -> str | None:
    """Write the intent to deliver on `channel`; the delivery id, or None if it was known already.

    Guarded twice: by the outbox row (same id) and by the delivery's stream, so a lost outbox
    collection does not resend what the event store says was sent."""
    did = delivery_id(source.source_id, recipient_id, channel)
    book = book_of(store)
    if book.outbox.get(channel, did) is not None or store.events.read_stream(delivery_stream(did)):
        return None
    now = store.clock.now()
    book.outbox.enqueue({
        "delivery_id": did, "channel": channel, "source_event_id": source.source_id,
        "source_type": source.source_type, "street_id": source.street_id,
        "correlation_id": source.cause.correlation_id if source.cause else "",
        "recipient_kind": recipient_kind, "recipient_id": recipient_id, "address": address,
        "subject": subject, "body": body, "payload": payload,
        "created_at": now.isoformat(), "next_at": now.timestamp(),
    })
    return did


def tell(store: ServiceStore, log: DeliveryLog, view: RosterView, source: Source, notice: rules.Notice) -> None:
    """One person, every channel the notice and the person allow."""
    deliver(store, log, source, notice.recipient_id, INBOX, notice.message)
    cfg = config_of(store)
    m = notice.message
    email = book_of(store).contacts.email_of(notice.recipient_id)
    if cfg.smtp is not None and email:
        queue(store, source, "person", notice.recipient_id, "email", email, subject=m.subject, body=m.body)
    phone = view.people.get(notice.recipient_id, {}).get("phone", "")
    if cfg.sms is not None and notice.urgent and phone:
        queue(store, source, "person", notice.recipient_id, "sms", phone, subject=m.subject, body=m.body)


def publish_to_subscribers(store: ServiceStore, event: Event) -> list[str]:
    """Queue the redacted event for every subscription to its type in its street."""
    queued = []
    for sub in book_of(store).subscriptions.matching(event):
        envelope = public_envelope(event, bool(sub["personal_data"]))
        did = delivery_id(event.event_id, sub["subscription_id"], sub["mode"])
        body = json.dumps({"delivery_id": did, "subscription_id": sub["subscription_id"], "event": envelope},
                          ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        address = sub["url"] if sub["mode"] == "webhook" else sub["topic"]
        if queue(store, Source.of(event), "subscription", sub["subscription_id"], sub["mode"], address, payload=body):
            queued.append(did)
    return queued


def notify(store: ServiceStore, log: DeliveryLog, view: RosterView, event: Event) -> None:
    """Everything one event causes here: the board, the people the rules name, the subscribers."""
    book_of(store).board.apply(event)
    source = Source.of(event)
    for notice in rules.notices_for(event, view):
        tell(store, log, view, source, notice)
    publish_to_subscribers(store, event)


def notify_case_opened(store: ServiceStore, log: DeliveryLog, roster: RosterView, case: Event) -> Event | None:
    """The walking skeleton's use case (kept for its callers): the assignee's inbox record."""
    notify(store, log, roster, case)
    p = case.payload
    if not p["assignee_person_id"]:
        return None
    did = delivery_id(case.event_id, p["assignee_person_id"], INBOX)
    return store.events.read_stream(delivery_stream(did))[0]


# -- the daily digest -----------------------------------------------------------------------------
def daily_digest(store: ServiceStore, log: DeliveryLog, view: RosterView, now: datetime) -> int:
    """Once a day, at the first tick after the digest time (Asia/Shanghai): each level-2 chief
    gets the open and overdue cases of the communities under their grid (none if there are
    none). The day is marked done after the run, so a restart later that day sends nothing new;
    deliveries are idempotent per (day, grid, channel), so a crash mid-run or a second replica
    repeats nothing. Returns how many chiefs were told."""
    from fangfei.clock import SHANGHAI

    local = now.astimezone(SHANGHAI)
    hh, mm = config_of(store).digest_at
    if (local.hour, local.minute) < (hh, mm):
        return 0
    day = local.date().isoformat()
    board = book_of(store).board
    if board.digest_done(day):
        return 0
    told = 0
    for grid in sorted(view.grids.values(), key=lambda g: g.grid_id):
        if grid.level != 2:
            continue
        chief = grid.chief_at(now)
        if not chief:
            continue
        communities = {grid.community_id} | {g.community_id for g in view.grids.values()
                                             if g.parent_grid_id == grid.grid_id}
        cases = board.open_cases(grid.street_id, {c for c in communities if c})
        if not cases:
            continue
        overdue = [c["case_id"] for c in cases if c.get("overdue")]
        source = Source(f"digest:{day}:{grid.grid_id}"[:64], "digest.daily", grid.street_id)
        tell(store, log, view, source, rules.Notice(chief, messages.daily_digest(grid.name, day, len(cases), overdue)))
        told += 1
    board.mark_digest(day)  # after the run: a crash mid-run repeats it, and the ids absorb that
    return told

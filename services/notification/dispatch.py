"""Draining one channel's outbox: send, then record; retry with backoff; dead-letter.

The order per row is *claim → send → record (event) → mark the row* (ADR 0011):
- claim: the row's `next_at` is pushed one lease ahead, so another replica (or the next tick)
  does not send it while this send is in flight; a crash leaves it due again after the lease;
- a crash after the send and before the record sends again on restart, with the same
  idempotency key (the delivery id): receivers drop the copy (at-least-once on the wire,
  exactly-once in effect);
- a crash after the record and before the row is marked: the next drain finds `delivery.sent`
  in the delivery's stream and only marks the row.
"""

from __future__ import annotations

import logging
from typing import Any, Mapping

from fangfei import metrics
from fangfei.eventstore.provider import ServiceStore
from fangfei.eventstore.store import ConcurrencyConflict
from fangfei.events import new_event

from .channels.base import Channel, SendFailed
from .config import NotifyConfig
from .handlers import ACTOR, book_of, delivery_stream
from .outbox import DEAD, SENT

log = logging.getLogger(__name__)


def _record(store: ServiceStore, row: Mapping[str, Any], type_: str, attempts: int, error: str = "") -> None:
    stream = delivery_stream(row["delivery_id"])
    payload = {k: row[k] for k in ("delivery_id", "source_event_id", "source_type", "recipient_kind",
                                   "recipient_id", "channel")}
    payload["attempts"] = attempts
    if type_ == "delivery.dead_lettered":
        payload["error"] = error or "unknown"
    existing = store.events.read_stream(stream)
    if any(e.type == type_ and e.payload["attempts"] == attempts for e in existing):
        return
    event = new_event(type_, stream, row["street_id"], payload, actor=ACTOR, occurred_at=store.clock.now(),
                      correlation_id=row.get("correlation_id", ""))
    try:
        store.append(stream, len(existing), [event])
    except ConcurrencyConflict:  # another replica recorded this very outcome meanwhile
        pass


def _already_sent(store: ServiceStore, delivery_id: str) -> bool:
    return any(e.type == "delivery.sent" for e in store.events.read_stream(delivery_stream(delivery_id)))


def drain(store: ServiceStore, channel: Channel, cfg: NotifyConfig, limit: int = 50) -> dict[str, int]:
    """Send what is due on `channel` (at most `limit` rows); counts by outcome."""
    outbox = book_of(store).outbox
    name = channel.name
    counts = {"delivered": 0, "failed": 0, "dead_lettered": 0}
    now = store.clock.now().timestamp()
    for row in outbox.due(name, now, limit):
        did = row["delivery_id"]
        claimed = outbox.col(name).update_one({"_id": did, "state": "pending", "next_at": row["next_at"]},
                                              {"$set": {"next_at": now + cfg.lease_s}})
        if claimed.modified_count != 1:
            continue  # taken by another drain meanwhile
        if _already_sent(store, did):  # recorded before a crash, row not marked yet
            outbox.mark_sent(name, did, row["attempts"], row.get("sent_at") or store.clock.now().isoformat())
            continue
        attempts = row["attempts"] + 1
        try:
            channel.send(row)
        except SendFailed as exc:
            metrics.NOTIFICATION_DELIVERIES.labels(name, "failed").inc()
            if exc.permanent or attempts >= cfg.max_attempts:
                _record(store, row, "delivery.dead_lettered", attempts, exc.reason)
                outbox.mark_dead(name, did, attempts, exc.reason)
                metrics.NOTIFICATION_DELIVERIES.labels(name, "dead_lettered").inc()
                counts["dead_lettered"] += 1
                log.warning("delivery %s on %s dead-lettered after %d attempts: %s", did, name, attempts, exc.reason)
            else:
                outbox.mark_failed(name, did, attempts, exc.reason, now + cfg.delay(attempts))
                counts["failed"] += 1
            continue
        _record(store, row, "delivery.sent", attempts)
        outbox.mark_sent(name, did, attempts, store.clock.now().isoformat())
        metrics.NOTIFICATION_DELIVERIES.labels(name, "delivered").inc()
        counts["delivered"] += 1
    return counts


__all__ = ["drain", "DEAD", "SENT"]

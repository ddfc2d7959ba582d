"""The outbox of each outbound channel: one collection per channel (`outbox_email`, `outbox_sms`,
`outbox_webhook`, `outbox_topic`), one row per delivery, keyed by delivery id.

A row is the *intent* to deliver, written by the event handler before anything is sent; the
channel's own worker drains its collection (dispatch.py), so a slow or dead SMTP server never
delays SMS or webhooks. Rows are kept after they are sent: with the `delivery-<id>` streams they
are the delivery log that makes a replayed event a no-op (key = (cause, recipient, channel)).

States: `pending` (due at `next_at`) → `sent` | `dead` (every attempt failed, or a permanent
refusal; visible in the API and requeued by a person)."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from fangfei.events.notification import OUTBOUND_CHANNELS

PENDING, SENT, DEAD = "pending", "sent", "dead"
STATES = {PENDING: "待发送", SENT: "已发送", DEAD: "发送失败（待处理）"}
MAX_ROWS = 100


class Outbox:
    def __init__(self, db: Any) -> None:
        self._cols = {ch: db[f"outbox_{ch}"] for ch in OUTBOUND_CHANNELS}
        for col in self._cols.values():
            col.create_index([("state", ASCENDING), ("next_at", ASCENDING)])
            col.create_index([("street_id", ASCENDING)])

    def col(self, channel: str) -> Any:
        return self._cols[channel]

    def enqueue(self, row: Mapping[str, Any]) -> bool:
        """Add the intent to deliver; False if this delivery is already known (a replay)."""
        doc = {"_id": row["delivery_id"], "state": PENDING, "attempts": 0, "last_error": "", "sent_at": "", **row}
        try:
            self._cols[row["channel"]].insert_one(doc)
            return True
        except DuplicateKeyError:
            return False

    def get(self, channel: str, delivery_id: str) -> dict[str, Any] | None:
        return self._cols[channel].find_one({"_id": delivery_id})

    def due(self, channel: str, now: float, limit: int) -> list[dict[str, Any]]:
        """Pending rows whose time has come, oldest first."""
        cursor = self._cols[channel].find({"state": PENDING, "next_at": {"$lte": now}})
        return list(cursor.sort([("next_at", ASCENDING), ("_id", ASCENDING)]).limit(limit))

    def mark_sent(self, channel: str, delivery_id: str, attempts: int, at: str) -> None:
        self._cols[channel].update_one({"_id": delivery_id},
                                       {"$set": {"state": SENT, "attempts": attempts, "sent_at": at, "last_error": ""}})

    def mark_failed(self, channel: str, delivery_id: str, attempts: int, error: str, next_at: float) -> None:
        self._cols[channel].update_one({"_id": delivery_id},
                                       {"$set": {"attempts": attempts, "last_error": error, "next_at": next_at}})

    def mark_dead(self, channel: str, delivery_id: str, attempts: int, error: str) -> None:
        self._cols[channel].update_one({"_id": delivery_id},
                                       {"$set": {"state": DEAD, "attempts": attempts, "last_error": error}})

    def requeue(self, channel: str, delivery_id: str, now: float) -> bool:
        """A person asked to try a dead delivery again (after fixing the address or the receiver)."""
        row = self.get(channel, delivery_id)
        if row is None or row["state"] != DEAD:
            return False
        self._cols[channel].update_one({"_id": delivery_id}, {"$set": {"state": PENDING, "next_at": now}})
        return True

    def listing(self, channels: Iterable[str], states: Iterable[str], street_id: str = "",
                limit: int = MAX_ROWS) -> list[dict[str, Any]]:
        """Newest first, at most `limit` rows of the given channels and states (one street or any)."""
        query: dict[str, Any] = {"state": {"$in": list(states)}}
        if street_id:
            query["street_id"] = street_id
        rows: list[dict[str, Any]] = []
        for ch in channels:
            rows += list(self._cols[ch].find(query, {"_id": 0}).sort([("created_at", DESCENDING)]).limit(limit))
        rows.sort(key=lambda r: (r["created_at"], r["delivery_id"]), reverse=True)
        return rows[: min(limit, MAX_ROWS)]

    def counts(self) -> dict[str, dict[str, int]]:
        return {ch: {st: col.count_documents({"state": st}) for st in STATES} for ch, col in self._cols.items()}

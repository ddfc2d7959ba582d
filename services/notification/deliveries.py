"""The delivery log: one row per `delivery.recorded` event, for reading by recipient.

The events in the store are the truth; this collection is a projection kept beside them so that
"my messages, newest first" is an indexed lookup instead of a scan of every stream. Rows are keyed
by delivery id, so writing one twice is harmless, and `rebuild` recreates the whole log from the
event store if it is ever lost or its shape changes."""

from __future__ import annotations

from typing import Any, Iterable

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from fangfei.events import Event
from fangfei.eventstore.store import EventStore

MAX_ROWS = 100  # no unbounded lists: a page is at most this long


class DeliveryLog:
    def __init__(self, db: Any) -> None:
        self._col = db["deliveries"]
        self._col.create_index([("recipient_person_id", ASCENDING)])
        self._col.create_index([("street_id", ASCENDING)])

    def record(self, event: Event) -> None:
        """Add the row of a recorded `delivery.recorded` event (no-op if it is already there)."""
        p = event.payload
        row = {
            "_id": p["delivery_id"],
            "delivery_id": p["delivery_id"],
            "recipient_person_id": p["recipient_person_id"],
            "channel": p["channel"],
            "subject": p["subject"],
            "body": p["body"],
            "source_event_id": p["source_event_id"],
            "source_type": p["source_type"],
            "street_id": event.street_id,
            "recorded_at": event.recorded_at,
        }
        try:
            self._col.insert_one(row)
        except DuplicateKeyError:
            pass

    def latest(self, recipient_person_id: str = "", limit: int = MAX_ROWS, street_id: str = "",
               recipients: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Newest first (by commit time; the id breaks ties), at most `limit` rows, optionally of
        one street and/or to one of `recipients` (the caller's scope, see service.py)."""
        query: dict[str, Any] = {"recipient_person_id": recipient_person_id} if recipient_person_id else {}
        if street_id:
            query["street_id"] = street_id
        if recipients is not None and not recipient_person_id:
            query["recipient_person_id"] = {"$in": sorted(recipients)}
        cursor = self._col.find(query, {"_id": 0})
        cursor = cursor.sort([("recorded_at", DESCENDING), ("delivery_id", DESCENDING)])
        return list(cursor.limit(min(limit, MAX_ROWS)))

    def rebuild(self, events: EventStore) -> int:
        """Recreate the log from the event store; returns how many deliveries it holds."""
        self._col.delete_many({})
        count = 0
        for commit in events.iter_all():
            for event in commit.events:
                if event.type == "delivery.recorded":
                    self.record(event)
                    count += 1
        return count

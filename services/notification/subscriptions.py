"""Agency subscriptions: which event types of which streets an agency receives, and how.

The subscription's facts are events of `subscription-<id>` (audit: who subscribed whom to what);
the `subscriptions` collection is the working copy with the webhook secret, which never leaves
this service's store except once, in the answer to the request that created it."""

from __future__ import annotations

import secrets
import uuid
from typing import Any, Iterable

from pymongo import ASCENDING

from fangfei.events import Event

TOPIC_PREFIX = "notification.sub."


def topic_of(subscription_id: str) -> str:
    """The Kafka topic of a topic-mode subscription (one per subscription: one ACL per agency)."""
    return TOPIC_PREFIX + subscription_id


def new_id() -> str:
    return "sub-" + uuid.uuid4().hex[:16]


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def subscription_stream(subscription_id: str) -> str:
    return f"subscription-{subscription_id}"


class Subscriptions:
    def __init__(self, db: Any) -> None:
        self._col = db["subscriptions"]
        self._col.create_index([("active", ASCENDING)])

    def save(self, doc: dict[str, Any]) -> None:
        self._col.replace_one({"_id": doc["subscription_id"]}, {"_id": doc["subscription_id"], **doc}, upsert=True)

    def get(self, subscription_id: str) -> dict[str, Any] | None:
        return self._col.find_one({"_id": subscription_id}, {"_id": 0})

    def cancel(self, subscription_id: str, at: str) -> None:
        self._col.update_one({"_id": subscription_id}, {"$set": {"active": False, "cancelled_at": at}})

    def secret_of(self, subscription_id: str) -> str | None:
        doc = self._col.find_one({"_id": subscription_id, "active": True})
        return doc["secret"] if doc else None

    def matching(self, event: Event) -> list[dict[str, Any]]:
        """Active subscriptions to this event's type in this event's street."""
        return sorted((d for d in self._col.find({"active": True}, {"_id": 0})
                       if event.type in d["event_types"] and event.street_id in d["street_ids"]),
                      key=lambda d: d["subscription_id"])

    def listing(self, street_id: str = "", agency: str = "") -> list[dict[str, Any]]:
        rows = [public_view(d) for d in self._col.find({}, {"_id": 0})
                if (not street_id or street_id in d["street_ids"]) and (not agency or d["agency"] == agency)]
        return sorted(rows, key=lambda r: r["created_at"], reverse=True)[:200]


def public_view(doc: dict[str, Any]) -> dict[str, Any]:
    """A subscription as the API shows it: never the secret."""
    return {k: v for k, v in doc.items() if k != "secret"}


def streets_within(requested: Iterable[str], allowed: frozenset[str] | None) -> bool:
    return allowed is None or set(requested) <= allowed

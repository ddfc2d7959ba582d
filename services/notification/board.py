"""The case board behind the daily digest: which cases are open, where, and whether overdue.

Built from escalation's events (case.opened, sla.breached, case.closed) in this service's own
`case_board` collection; each update is idempotent (a set, not an increment)."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING

from fangfei.events import Event

BOARD_TYPES = ("case.opened", "sla.breached", "case.closed")


class CaseBoard:
    def __init__(self, db: Any) -> None:
        self._col = db["case_board"]
        self._col.create_index([("street_id", ASCENDING), ("community_id", ASCENDING)])

    def apply(self, event: Event) -> None:
        p = event.payload
        if event.type == "case.opened":
            self._col.update_one({"_id": p["case_id"]}, {"$set": {
                "case_id": p["case_id"], "street_id": event.street_id, "community_id": p["community_id"],
                "opened_at": p["found_at"]}, "$setOnInsert": {"closed": False, "overdue": False}}, upsert=True)
        elif event.type == "sla.breached" and p["subject_kind"] == "case":
            self._col.update_one({"_id": p["subject_id"]}, {"$set": {"overdue": True}}, upsert=True)
        elif event.type == "case.closed":
            self._col.update_one({"_id": p["case_id"]}, {"$set": {"closed": True}}, upsert=True)

    def open_cases(self, street_id: str, community_ids: set[str]) -> list[dict[str, Any]]:
        rows = self._col.find({"street_id": street_id, "closed": {"$ne": True}}, {"_id": 0})
        return sorted((r for r in rows if r.get("community_id") in community_ids), key=lambda r: r["case_id"])

    def digest_done(self, key: str) -> bool:
        return self._col.database["digest_runs"].find_one({"_id": key}) is not None

    def mark_digest(self, key: str) -> bool:
        """Remember that the digest `key` (a day) is done; False if it already was."""
        from pymongo.errors import DuplicateKeyError

        try:
            self._col.database["digest_runs"].insert_one({"_id": key})
            return True
        except DuplicateKeyError:
            return False

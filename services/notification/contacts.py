"""E-mail addresses of the roster's people, kept by the notification service (the roster holds
work phones, not e-mail). Set by the street office of the person's street (PUT
/api/notification/contacts/<person_id>); a person without an address gets no e-mail."""

from __future__ import annotations

from typing import Any


class Contacts:
    def __init__(self, db: Any) -> None:
        self._col = db["contacts"]

    def set_email(self, person_id: str, street_id: str, email: str, by: str, at: str) -> dict[str, Any]:
        doc = {"_id": person_id, "person_id": person_id, "street_id": street_id, "email": email, "by": by, "at": at}
        self._col.replace_one({"_id": person_id}, doc, upsert=True)
        return {k: v for k, v in doc.items() if k != "_id"}

    def email_of(self, person_id: str) -> str:
        doc = self._col.find_one({"_id": person_id})
        return str(doc["email"]) if doc else ""

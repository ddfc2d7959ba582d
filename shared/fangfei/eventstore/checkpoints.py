"""Small documents that remember progress: the relay's position, consumers' per-stream versions.

Each lives in the same database as the data it guards, so a service's progress and its state
are backed up, restored and lost together."""

from __future__ import annotations

from typing import Any


class Checkpoints:
    def __init__(self, db: Any, collection: str = "checkpoints") -> None:
        self._col = db[collection]

    def get(self, key: str) -> dict[str, Any] | None:
        doc = self._col.find_one({"_id": key})
        return doc

    def put(self, key: str, **fields: Any) -> None:
        self._col.update_one({"_id": key}, {"$set": fields}, upsert=True)


class StreamVersions:
    """The last version of each stream a consumer group has applied: the dedupe of redeliveries."""

    def __init__(self, db: Any, group: str) -> None:
        self._col = db[f"consumed.{group}"]

    def get(self, stream_id: str) -> int:
        doc = self._col.find_one({"_id": stream_id})
        return int(doc["version"]) if doc else 0

    def advance(self, stream_id: str, version: int) -> None:
        self._col.update_one({"_id": stream_id}, {"$max": {"version": version}}, upsert=True)

    def reset(self) -> None:
        self._col.delete_many({})

"""The event store of record: append-only commits, optimistic concurrency, a global position."""

from .store import Commit, ConcurrencyConflict, EventStore, StoreError
from .connect import open_database

__all__ = ["Commit", "ConcurrencyConflict", "EventStore", "StoreError", "open_database"]

"""An in-memory ServiceStore for unit tests of handlers and services (nameko `worker_factory`)."""

from __future__ import annotations

import threading
import uuid
from types import SimpleNamespace

from ..clock import Clock, SystemClock
from ..config import Settings
from ..eventstore.checkpoints import Checkpoints
from ..eventstore.connect import open_database
from ..eventstore.provider import ServiceStore
from ..eventstore.store import EventStore


def memory_store(service: str, clock: Clock | None = None) -> ServiceStore:
    """A fresh, isolated store (litemongo's in-memory engine) wrapped as a worker would see it."""
    _, db = open_database(f"memory:{service}-{uuid.uuid4().hex}")
    clock = clock or SystemClock()
    handle = SimpleNamespace(
        settings=Settings.from_env(service, {}),
        db=db,
        clock=clock,
        events=EventStore(db, clock=clock),
        checkpoints=Checkpoints(db),
        relay_wakeup=threading.Event(),
    )
    return ServiceStore(handle)  # type: ignore[arg-type]

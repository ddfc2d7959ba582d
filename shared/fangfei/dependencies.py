"""Per-process dependencies shared by services: one object per process built from the service's
database (e.g. `PerProcess(RosterReplica)`), and `on_roster_events` to keep a roster copy.

Why per process: `RosterReplica` folds every stored roster event into memory when first used. One
instance per worker would refold the whole roster for every event; one per process folds it once
and then only applies new events.
"""

from __future__ import annotations

from typing import Any, Callable, Generic, TypeVar

from nameko.extensions import DependencyProvider

from .bus.entrypoint import event_handler
from .eventstore.provider import StoreHandle
from .events import REGISTRY

T = TypeVar("T")

# Every roster.* type in the catalogue, so a type added to events/roster.py is consumed at once.
ROSTER_EVENT_TYPES: tuple[str, ...] = tuple(t.name for t in REGISTRY.types() if t.name.startswith("roster."))


class PerProcess(DependencyProvider, Generic[T]):
    """Hands every worker the same object, built once from this service's database in `setup()`.

    nameko runs the extensions' `setup()` in any order, so this opens the shared store handle
    itself (`StoreHandle.open()` is idempotent) instead of assuming it is already open."""

    handle = StoreHandle()

    def __init__(self, factory: Callable[[Any], T]) -> None:
        self.factory = factory

    def setup(self) -> None:
        self.instance: T = self.factory(self.handle.open().db)

    def get_dependency(self, worker_ctx: Any) -> T:
        return self.instance


def on_roster_events(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a handler so it receives every roster.* event from `roster.events`."""
    for event_type in ROSTER_EVENT_TYPES:
        fn = event_handler("roster", event_type)(fn)
    return fn

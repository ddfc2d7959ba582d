"""The roster service's own read model: its store's events folded into a RosterView, kept in
memory and brought up to date on each read by applying only the commits added since.

Positions in the store can have holes (a commit in flight when we read, or a position burned by a
conflict). A hole is remembered and looked at again on the next read; if a commit shows up there
later, the view is rebuilt from scratch, because a registration applied out of order could
overwrite a newer one.
"""

from __future__ import annotations

import threading
import weakref
from typing import Iterable

from fangfei.eventstore.store import Commit, EventStore
from fangfei.roster_view import RosterView

BATCH = 1000


class RosterProjection:
    def __init__(self, events: EventStore) -> None:
        self._events = events
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._view = RosterView()
        self._head = 0
        self._missing: set[int] = set()

    def view(self) -> RosterView:
        """The view including every commit visible now (callers must not modify it)."""
        with self._lock:
            head = self._events.head_position()
            holes = sorted(self._missing)
            if holes and any(c.position in self._missing for c in self._read(holes)):
                self._reset()
            self._catch_up(head)
            return self._view

    def _catch_up(self, head: int) -> None:
        fresh = range(self._head + 1, head + 1)
        found: set[int] = set()
        for commit in self._read(fresh):
            found.add(commit.position)
            for event in commit.events:
                if event.type.startswith("roster."):
                    self._view.apply(event)
        self._missing |= set(fresh) - found
        self._head = max(self._head, head)

    def _read(self, positions: Iterable[int]) -> Iterable[Commit]:
        wanted = list(positions)
        for i in range(0, len(wanted), BATCH):
            yield from self._events.read_positions(wanted[i:i + BATCH])


# One projection per event store, i.e. per service process (and per store in tests).
_PROJECTIONS: "weakref.WeakKeyDictionary[EventStore, RosterProjection]" = weakref.WeakKeyDictionary()
_PROJECTIONS_LOCK = threading.Lock()


def roster_view(events: EventStore) -> RosterView:
    with _PROJECTIONS_LOCK:
        projection = _PROJECTIONS.get(events)
        if projection is None:
            projection = _PROJECTIONS[events] = RosterProjection(events)
    return projection.view()

"""The roster service's cached view: a commit that lands late is never lost or applied out of order."""

from __future__ import annotations

from datetime import datetime, timezone

from fangfei.eventstore.store import Commit
from fangfei.events import new_event
from services.roster.projections import RosterProjection

NOW = datetime(2026, 3, 14, 2, 0, tzinfo=timezone.utc)


def grid_named(name: str, position: int, chief: str = "") -> Commit:
    """A commit at `position` registering the street grid (and assigning its chief, if given)."""
    events = [new_event("roster.grid_registered", "grid-longgang-l1", "longgang",
                        {"grid_id": "longgang-l1", "name": name, "level": 1}, actor="test", occurred_at=NOW)]
    if chief:
        assignment = {"grid_id": "longgang-l1", "person_id": chief, "valid_from": "2025-01-01T00:00:00+08:00"}
        events.append(new_event("roster.chief_assigned", "grid-longgang-l1", "longgang", assignment,
                                actor="test", occurred_at=NOW))
    return Commit(position, "grid-longgang-l1", 1, len(events), tuple(events))


class SlowStore:
    """Positions handed out before their commits are readable, as while a write is in flight."""

    def __init__(self) -> None:
        self.head = 0
        self.visible: dict[int, Commit] = {}

    def head_position(self) -> int:
        return self.head

    def read_positions(self, positions):
        return [self.visible[p] for p in sorted(positions) if p in self.visible]


def test_a_commit_in_flight_during_a_read_is_seen_later_in_its_place() -> None:
    store = SlowStore()
    projection = RosterProjection(store)  # type: ignore[arg-type]
    store.head = 2  # position 1 (the first name) is handed out but not yet readable
    store.visible[2] = grid_named("新名称", 2)
    assert projection.view().grids["longgang-l1"].name == "新名称"
    store.visible[1] = grid_named("旧名称", 1, chief="chief-l1")  # lands late
    view = projection.view()
    assert view.grids["longgang-l1"].chief_at(NOW) == "chief-l1"  # the late commit is seen
    assert view.grids["longgang-l1"].name == "新名称"  # and applied in position order: the newer name wins


def test_new_commits_are_picked_up_on_the_next_read() -> None:
    store = SlowStore()
    projection = RosterProjection(store)  # type: ignore[arg-type]
    assert projection.view().grids == {}
    store.head, store.visible[1] = 1, grid_named("一级网格", 1)
    assert projection.view().grids["longgang-l1"].name == "一级网格"

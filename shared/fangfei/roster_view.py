"""A read-only view of the roster, folded from `roster.*` events, with routing.

Every service that needs "who is responsible" keeps its own copy of the roster events (see
`RosterReplica`) and folds them into this view: services never call the roster service.

Routing is a pure function of the view and an instant, so a replay routes the same way: a clue's
community → its level-3 grid chief → level 2 → level 1 (the street) → the district office. A
vacancy or an unknown community is an explicit result with a note, never a silent drop.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from .clock import parse_iso
from .events.envelope import Event

DISTRICT_LEVEL = 4  # above the street's level-1 grid: the district office (区处非办)


@dataclass
class Grid:
    grid_id: str
    name: str
    level: int
    parent_grid_id: str
    community_id: str
    street_id: str
    # (valid_from, person_id) sorted by time: the chief at T is the last one starting at or before T
    chiefs: list[tuple[datetime, str]] = field(default_factory=list)

    def chief_at(self, at: datetime) -> str:
        idx = bisect.bisect_right([t for t, _ in self.chiefs], at)
        return self.chiefs[idx - 1][1] if idx else ""


@dataclass(frozen=True)
class Route:
    level: int  # 3, 2, 1 or 4 (district office)
    grid_id: str
    person_id: str  # empty only at the district level
    note: str  # why the route is not the level-3 chief, in Chinese; empty when it is


@dataclass
class RosterView:
    streets: dict[str, dict[str, Any]] = field(default_factory=dict)
    communities: dict[str, dict[str, Any]] = field(default_factory=dict)
    grids: dict[str, Grid] = field(default_factory=dict)
    people: dict[str, dict[str, Any]] = field(default_factory=dict)

    def apply(self, event: Event) -> None:
        p = event.payload
        if event.type == "roster.street_registered":
            self.streets[p["street_id"]] = {"name": p["name"]}
        elif event.type == "roster.community_registered":
            self.communities[p["community_id"]] = {"name": p["name"], "kind": p["kind"], "street_id": event.street_id}
        elif event.type == "roster.grid_registered":
            old = self.grids.get(p["grid_id"])
            self.grids[p["grid_id"]] = Grid(
                p["grid_id"], p["name"], p["level"], p["parent_grid_id"], p["community_id"], event.street_id,
                old.chiefs if old else [],
            )
        elif event.type == "roster.person_registered":
            self.people[p["person_id"]] = {
                "name": p["name"], "role": p["role"], "community_id": p["community_id"], "street_id": event.street_id
            }
        elif event.type == "roster.chief_assigned":
            grid = self.grids.get(p["grid_id"])
            if grid is not None:
                entry = (parse_iso(p["valid_from"]), p["person_id"])
                if entry not in grid.chiefs:
                    grid.chiefs.append(entry)
                    grid.chiefs.sort()

    @classmethod
    def from_events(cls, events: Iterable[Event]) -> "RosterView":
        view = cls()
        for ev in events:
            view.apply(ev)
        return view

    def community_grid(self, community_id: str, level: int) -> Grid | None:
        found = sorted(
            (g for g in self.grids.values() if g.community_id == community_id and g.level == level),
            key=lambda g: g.grid_id,
        )
        return found[0] if found else None

    def street_grid(self, street_id: str) -> Grid | None:
        found = sorted((g for g in self.grids.values() if g.street_id == street_id and g.level == 1), key=lambda g: g.grid_id)
        return found[0] if found else None

    def route(self, street_id: str, community_id: str, at: datetime, grid_id: str = "") -> Route:
        """Who must handle a clue of `community_id` found at `at` (see module docstring)."""
        notes: list[str] = []
        start = self.grids.get(grid_id) if grid_id else None
        if start is None:
            if community_id not in self.communities:
                notes.append(f"社区 {community_id} 不在名册中")
            start = self.community_grid(community_id, 3) or self.community_grid(community_id, 2)
            if start is None and community_id in self.communities:
                notes.append(f"社区 {community_id} 未设网格")
        if start is not None and start.street_id != street_id:
            notes.append(f"网格 {start.grid_id} 属于街道 {start.street_id}，非 {street_id}")
        grid = start
        seen: set[str] = set()  # a parent loop (bad data) must end in the district, not hang
        while grid is not None and grid.grid_id not in seen:
            seen.add(grid.grid_id)
            chief = grid.chief_at(at)
            if chief:
                return Route(grid.level, grid.grid_id, chief, "；".join(notes))
            notes.append(f"{grid.name}（{grid.level}级网格）网格长空缺")
            grid = self.grids.get(grid.parent_grid_id) if grid.parent_grid_id else None
        if start is None:
            street = self.street_grid(street_id)
            chief = street.chief_at(at) if street else ""
            if street is not None and chief:
                return Route(1, street.grid_id, chief, "；".join(notes))
            notes.append(f"{street.name}（1级网格）网格长空缺" if street else f"街道 {street_id} 未设一级网格")
        notes.append("转区处非办")
        return Route(DISTRICT_LEVEL, "", "", "；".join(notes))


class RosterReplica:
    """A service's own durable copy of the roster events, folded into a RosterView in memory.

    Roster events are stored by event id (idempotent); the view is rebuilt from them on start."""

    def __init__(self, db: Any) -> None:
        self._col = db["roster_replica"]
        self._col.create_index("seq")
        self.view = RosterView()
        self._loaded = False
        self._seq = 0

    def load(self) -> RosterView:
        if not self._loaded:
            from .events.registry import event_from_dict

            docs = sorted(self._col.find({}), key=lambda d: d["seq"])
            self._seq = docs[-1]["seq"] if docs else 0
            self.view = RosterView.from_events(event_from_dict(d["event"]) for d in docs)
            self._loaded = True
        return self.view

    def add(self, event: Event) -> None:
        from pymongo.errors import DuplicateKeyError

        self.load()
        try:
            self._col.insert_one({"_id": event.event_id, "seq": self._seq + 1, "event": event.as_dict()})
        except DuplicateKeyError:
            return
        self._seq += 1
        self.view.apply(event)

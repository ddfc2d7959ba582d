"""A read-only view of the roster, folded from `roster.*` events, with routing.

Every service that needs "who is responsible" keeps its own copy of the roster events (see
`RosterReplica`) and folds them into this view: services never call the roster service.

Routing is a pure function of the view and an instant, so a replay routes the same way:
- by place (`route`): a clue's community → its level-3 grid chief → level 2 → level 1 (the
  street) → the district office;
- by industry sector (`route_sector`): the street's member units responsible for the sector at
  that instant → the street's leading-group office → the district office.
A vacancy, an unknown community or a sector nobody is responsible for is an explicit result with a
note, never a silent drop.

Everything that changes over time is a timeline of dated entries (docs/adr/0007): the chief of a
grid, each role of each person at each place, the sectors of each unit. The answer at T is the last
entry at or before T, so recording a change never rewrites what was true before it.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Iterator

from .clock import parse_iso
from .events.envelope import Event
from .vocab import INDUSTRY_SECTORS

DISTRICT_LEVEL = 4  # above the street's level-1 grid: the district office (区处非办)


@dataclass
class Grid:
    grid_id: str
    name: str
    level: int
    parent_grid_id: str
    community_id: str
    street_id: str
    # (valid_from, person_id) sorted: the chief at T is the last entry at or before T. An empty
    # person_id is a vacancy (roster.grid_vacated); at one instant it sorts before a person, so a
    # vacancy and a successor at the same instant are a handover.
    chiefs: list[tuple[datetime, str]] = field(default_factory=list)

    def chief_at(self, at: datetime) -> str:
        idx = bisect.bisect_right([t for t, _ in self.chiefs], at)
        return self.chiefs[idx - 1][1] if idx else ""

    def terms(self) -> list["Term"]:
        """Each chief's term in time order; a term ends where the next entry begins."""
        out = []
        for i, (start, person_id) in enumerate(self.chiefs):
            if not person_id:
                continue
            nxt = self.chiefs[i + 1] if i + 1 < len(self.chiefs) else None
            out.append(Term(person_id, start, nxt[0] if nxt else None, bool(nxt) and not nxt[1]))
        return out


@dataclass(frozen=True)
class Term:
    """One chief's term of a grid: from `start` until `end` (None: still in office). `vacated`
    says the term ended with the grid left vacant rather than handed to a successor."""

    person_id: str
    start: datetime
    end: datetime | None
    vacated: bool


@dataclass(frozen=True)
class Span:
    """One period of an assignment: from `start` until `end` (None: open)."""

    start: datetime
    end: datetime | None
    title: str


# person_id, role, community_id, grid_id, unit_id, position: one role of one person at one place
RoleKey = tuple[str, str, str, str, str, str]
_END, _START = 0, 1  # at one instant an end sorts first, so "until T" and "from T" meet without a gap


@dataclass
class Assignment:
    """A role held by a person at one place (a grid, a community, a member unit or the street's
    leading group when `position` is set), with every period it was held."""

    person_id: str
    role: str
    community_id: str
    grid_id: str
    unit_id: str
    position: str
    street_id: str
    entries: list[tuple[datetime, int, str]] = field(default_factory=list)  # (instant, _END/_START, title)

    @property
    def key(self) -> RoleKey:
        return (self.person_id, self.role, self.community_id, self.grid_id, self.unit_id, self.position)

    def record(self, instant: datetime, kind: int, title: str = "") -> None:
        """Add a start or an end; the same kind at the same instant again replaces it (latest wins)."""
        self.entries = [e for e in self.entries if (e[0], e[1]) != (instant, kind)]
        self.entries.append((instant, kind, title))
        self.entries.sort(key=lambda e: (e[0], e[1]))

    def _last(self, at: datetime) -> tuple[datetime, int, str] | None:
        idx = bisect.bisect_right([(t, k) for t, k, _ in self.entries], (at, _START))
        return self.entries[idx - 1] if idx else None

    def active_at(self, at: datetime) -> bool:
        last = self._last(at)
        return last is not None and last[1] == _START

    def title_at(self, at: datetime) -> str:
        last = self._last(at)
        return last[2] if last is not None and last[1] == _START else ""

    def spans(self) -> list[Span]:
        out = []
        for i, (start, kind, title) in enumerate(self.entries):
            if kind != _START:
                continue
            nxt = self.entries[i + 1] if i + 1 < len(self.entries) else None
            out.append(Span(start, nxt[0] if nxt and nxt[1] == _END else None, title))
        return out


@dataclass
class MemberUnit:
    """A member unit (成员单位) of a street, with the sectors it was responsible for over time."""

    unit_id: str
    name: str
    kind: str
    street_id: str
    sectors: list[tuple[datetime, tuple[str, ...]]] = field(default_factory=list)  # sorted by instant

    def record_sectors(self, instant: datetime, sectors: Iterable[str]) -> None:
        self.sectors = [s for s in self.sectors if s[0] != instant] + [(instant, tuple(sectors))]
        self.sectors.sort(key=lambda s: s[0])

    def sectors_at(self, at: datetime) -> tuple[str, ...]:
        idx = bisect.bisect_right([t for t, _ in self.sectors], at)
        return self.sectors[idx - 1][1] if idx else ()


@dataclass
class LeadingGroup:
    """A street's leading group (领导小组) and the member unit its office sits in."""

    street_id: str
    name: str
    office_unit_id: str


@dataclass(frozen=True)
class SectorRoute:
    """Who handles a clue of an industry sector: `target` is a code of vocab.SECTOR_ROUTE_TARGETS.
    `unit_ids` are the responsible units (or the unit the office sits in), `person_ids` the people
    to tell; both empty only at the district office. `note` says why it is not the plain answer."""

    sector: str
    target: str
    unit_ids: tuple[str, ...]
    person_ids: tuple[str, ...]
    note: str



@dataclass(frozen=True)
class Route:
    level: int  # 3, 2, 1 or 4 (district office)
    grid_id: str
    person_id: str  # empty only at the district level
    note: str  # why the route is not the level-3 chief, in Chinese; empty when it is


OFFICE_POSITIONS = ("office_director", "office_staff")


@dataclass
class RosterView:
    streets: dict[str, dict[str, Any]] = field(default_factory=dict)
    communities: dict[str, dict[str, Any]] = field(default_factory=dict)
    grids: dict[str, Grid] = field(default_factory=dict)
    people: dict[str, dict[str, Any]] = field(default_factory=dict)
    units: dict[str, MemberUnit] = field(default_factory=dict)
    groups: dict[str, LeadingGroup] = field(default_factory=dict)  # by street_id
    assignments: dict[RoleKey, Assignment] = field(default_factory=dict)

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
                "name": p["name"], "role": p["role"], "community_id": p["community_id"], "street_id": event.street_id,
                "phone": p.get("phone", ""),
            }
        elif event.type in ("roster.chief_assigned", "roster.grid_vacated"):
            grid = self.grids.get(p["grid_id"])
            if grid is not None:
                entry = (parse_iso(p["valid_from"]), p.get("person_id", ""))
                if entry not in grid.chiefs:
                    grid.chiefs.append(entry)
                    grid.chiefs.sort()
        elif event.type in ("roster.role_assigned", "roster.role_ended"):
            key: RoleKey = (p["person_id"], p["role"], p["community_id"], p["grid_id"], p["unit_id"], p["position"])
            assignment = self.assignments.get(key)
            if assignment is None:
                assignment = self.assignments[key] = Assignment(*key, street_id=event.street_id)
            if event.type == "roster.role_assigned":
                assignment.record(parse_iso(p["valid_from"]), _START, p["title"])
            else:
                assignment.record(parse_iso(p["valid_until"]), _END)
        elif event.type == "roster.member_unit_registered":
            old_unit = self.units.get(p["unit_id"])
            self.units[p["unit_id"]] = MemberUnit(
                p["unit_id"], p["name"], p["kind"], event.street_id, old_unit.sectors if old_unit else []
            )
        elif event.type == "roster.unit_sectors_assigned":
            unit = self.units.get(p["unit_id"])
            if unit is not None:
                unit.record_sectors(parse_iso(p["valid_from"]), p["sectors"])
        elif event.type == "roster.leading_group_registered":
            self.groups[event.street_id] = LeadingGroup(event.street_id, p["name"], p["office_unit_id"])

    @classmethod
    def from_events(cls, events: Iterable[Event]) -> "RosterView":
        view = cls()
        for ev in events:
            view.apply(ev)
        return view

    def street_name(self, street_id: str) -> str:
        """What a routing note calls a street: its name, or its code marked as such when the roster has none."""
        return self.streets.get(street_id, {}).get("name") or f"街道（编号 {street_id}）"

    def community_name(self, community_id: str) -> str:
        return self.communities.get(community_id, {}).get("name") or f"社区（编号 {community_id}）"

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
                notes.append(f"社区（编号 {community_id}）不在名册中")
            start = self.community_grid(community_id, 3) or self.community_grid(community_id, 2)
            if start is None and community_id in self.communities:
                notes.append(f"{self.community_name(community_id)}未设网格")
        if start is not None and start.street_id != street_id:
            notes.append(f"{start.name}属于{self.street_name(start.street_id)}，非{self.street_name(street_id)}")
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
            notes.append(f"{street.name}（1级网格）网格长空缺" if street else f"{self.street_name(street_id)}未设一级网格")
        notes.append("转区处非办")
        return Route(DISTRICT_LEVEL, "", "", "；".join(notes))


    # -- people in roles ---------------------------------------------------------------------------
    def holders(
        self, at: datetime, *, street_id: str | None = None, role: str | None = None,
        community_id: str | None = None, grid_id: str | None = None, unit_id: str | None = None,
        in_group: bool | None = None,
    ) -> list[Assignment]:
        """Assignments active at `at` that match every filter given (`in_group`: has a position)."""
        return [
            a for a in self.assignments.values()
            if (street_id is None or a.street_id == street_id)
            and (role is None or a.role == role)
            and (community_id is None or a.community_id == community_id)
            and (grid_id is None or a.grid_id == grid_id)
            and (unit_id is None or a.unit_id == unit_id)
            and (in_group is None or bool(a.position) == in_group)
            and a.active_at(at)
        ]

    def unit_contacts(self, unit_id: str, at: datetime) -> list[str]:
        """The contacts (成员单位联系人) of a member unit at `at`, by person id."""
        found = self.holders(at, role="member_unit_contact", unit_id=unit_id, in_group=False)
        return sorted({a.person_id for a in found})

    def office_people(self, street_id: str, at: datetime) -> list[str]:
        """Who staffs the street's leading-group office at `at`: its director and staff, or, when
        the group lists none, the contacts of the unit the office sits in."""
        found = {a.person_id for a in self.holders(at, street_id=street_id, in_group=True) if a.position in OFFICE_POSITIONS}
        group = self.groups.get(street_id)
        if not found and group is not None and group.office_unit_id:
            found = set(self.unit_contacts(group.office_unit_id, at))
        return sorted(found)

    def street_units(self, street_id: str) -> Iterator[MemberUnit]:
        return (u for u in self.units.values() if u.street_id == street_id)

    def responsible_units(self, street_id: str, sector: str, at: datetime) -> list[MemberUnit]:
        """The street's member units responsible for `sector` at `at`, in the order registered."""
        return [u for u in self.street_units(street_id) if sector in u.sectors_at(at)]

    def route_sector(self, street_id: str, sector: str, at: datetime) -> SectorRoute:
        """Who must handle a clue of industry `sector` in `street_id` found at `at` (see module
        docstring): the responsible units and their contacts; when no unit is responsible or none
        of them has a contact, the leading-group office; when that is missing or unstaffed, the
        district office."""
        notes: list[str] = []
        if street_id not in self.streets:
            notes.append(f"街道（编号 {street_id}）不在名册中")
            notes.append("转区处非办")
            return SectorRoute(sector, "district_office", (), (), "；".join(notes))
        label = INDUSTRY_SECTORS.get(sector)
        if label is None:
            notes.append(f"行业 {sector} 不在行业目录中")
        else:
            units = self.responsible_units(street_id, sector, at)
            contacts = {u.unit_id: self.unit_contacts(u.unit_id, at) for u in units}
            unstaffed = "、".join(u.name for u in units if not contacts[u.unit_id])
            if not units:
                notes.append(f"行业「{label}」未指定负责的成员单位")
            elif unstaffed:
                notes.append(f"{unstaffed}联系人空缺")
            people = [p for u in units for p in contacts[u.unit_id]]
            if people:
                return SectorRoute(sector, "member_unit", tuple(u.unit_id for u in units), tuple(people), "；".join(notes))
        group = self.groups.get(street_id)
        office = self.office_people(street_id, at)
        if group is not None and office:
            unit = self.units.get(group.office_unit_id)
            notes.append(f"转领导小组办公室（{unit.name}）" if unit else "转领导小组办公室")
            unit_ids = (group.office_unit_id,) if group.office_unit_id else ()
            return SectorRoute(sector, "leading_group_office", unit_ids, tuple(office), "；".join(notes))
        notes.append("领导小组办公室无人在岗" if group is not None else f"{self.street_name(street_id)}未设领导小组")
        notes.append("转区处非办")
        return SectorRoute(sector, "district_office", (), (), "；".join(notes))


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

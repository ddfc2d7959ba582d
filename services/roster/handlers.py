"""Roster use cases: import a file, export a list, and the single changes an office makes (assign a
chief from T, leave a grid vacant, register a member unit and its sectors, give or end a role, name
the leading group). No HTTP, no nameko.

A change is a one-row import: it is built as the same facts a file row gives, passes the same
checks against the recorded roster and is recorded the same way, so a file and the API can never
disagree about what is allowed. Every change names its street, and may only touch that street.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fangfei.eventstore.provider import ServiceStore
from fangfei.roster_view import RosterView
from fangfei.vocab import INDUSTRY_SECTORS

from . import exporter, importer
from .checks import check_consistency
from .facts import (
    ChiefFact, GroupFact, ImportRejected, PersonFact, Ref, RoleFact, RosterRow, RowError, SectorsFact, UnitFact,
    VacancyFact,
)
from .lists import COMMUNITY_ROLES, NEEDS_COMMUNITY, role_for_position
from .recording import record


class NotOnRoster(LookupError):
    """The street, grid, unit or person a change names is not on this street's roster (404)."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def import_file(
    store: ServiceStore, view: RosterView, data: bytes, fmt: str, actor: str, *,
    list_kind: str | None = None, street_id: str | None = None, own_street: str | None = None,
) -> dict[str, Any]:
    """Check the whole file, then record what is new. `street_id` limits an import to one street
    (400 for rows of another); `own_street` is the one street the caller may change at all (a
    street office: OutOfStreet, 403, for rows of another street)."""
    rows = importer.parse_file(data, fmt, view, list_kind=list_kind, street_id=street_id, own_street=own_street)
    return {"rows": len(rows), "created": record(store, rows, view, actor)}


def export_list(view: RosterView, street_id: str, kind: str, fmt: str, at: datetime | None = None,
                community_id: str | None = None) -> bytes:
    _street(view, street_id)
    table = exporter.export_table(view, street_id, kind, at, community_id)
    return exporter.to_csv(table) if fmt == importer.CSV else exporter.to_xlsx(table, exporter.L.FORMATS[kind].label)


# -- changes ---------------------------------------------------------------------------------------
def assign_chief(store: ServiceStore, view: RosterView, street_id: str, grid_id: str, cmd: dict[str, Any],
                 actor: str) -> dict[str, int]:
    """`cmd["person_id"]` heads the grid from `cmd["valid_from"]`; the previous chief's term ends
    then. A person not yet on the roster is registered when `name` is given."""
    grid = _grid(view, street_id, grid_id)
    person, refs = _person(view, street_id, cmd)
    chief = ChiefFact(grid_id, cmd["person_id"], cmd["valid_from"], None, street_id)
    if grid.chief_at(cmd["valid_from"]) == cmd["person_id"]:
        chief = None  # already the chief then: nothing to record about the grid
    return _change(store, view, actor, RosterRow(0, street_id, person=person, refs=refs, chief=chief))


def vacate_grid(store: ServiceStore, view: RosterView, street_id: str, grid_id: str, valid_from: datetime,
                actor: str) -> dict[str, int]:
    """The grid has no chief from `valid_from` (routing goes to the level above, with a note).
    Nothing is recorded when it is already vacant then."""
    grid = _grid(view, street_id, grid_id)
    if not grid.chief_at(valid_from):
        return _change(store, view, actor, RosterRow(0, street_id))
    return _change(store, view, actor, RosterRow(0, street_id, vacancy=VacancyFact(grid_id, valid_from, street_id)))


def register_unit(store: ServiceStore, view: RosterView, street_id: str, cmd: dict[str, Any],
                  actor: str) -> dict[str, int]:
    """Register (or rename) a member unit; optionally its sectors from a date, and that the
    leading group's office sits in it."""
    _street(view, street_id)
    unit_id = cmd["unit_id"]
    sectors = None
    if cmd.get("sectors") is not None:
        sectors = SectorsFact(unit_id, _sector_order(cmd["sectors"]), cmd["sectors_from"], street_id)
    group = GroupFact(street_id, "", unit_id) if cmd.get("is_office") else None
    row = RosterRow(0, street_id, unit=UnitFact(unit_id, cmd["name"], cmd["kind"], street_id), group=group,
                    sectors=sectors)
    return _change(store, view, actor, row)


def assign_sectors(store: ServiceStore, view: RosterView, street_id: str, unit_id: str, cmd: dict[str, Any],
                   actor: str) -> dict[str, int]:
    """From `valid_from` on, the unit is responsible for exactly `sectors` (empty: none)."""
    _unit(view, street_id, unit_id)
    fact = SectorsFact(unit_id, _sector_order(cmd["sectors"]), cmd["valid_from"], street_id)
    return _change(store, view, actor, RosterRow(0, street_id, sectors=fact))


def register_group(store: ServiceStore, view: RosterView, street_id: str, cmd: dict[str, Any],
                   actor: str) -> dict[str, int]:
    _street(view, street_id)
    office = cmd.get("office_unit_id", "")
    refs = (Ref("unit", office, street_id),) if office else ()
    return _change(store, view, actor, RosterRow(0, street_id, group=GroupFact(street_id, cmd.get("name", ""), office),
                                                 refs=refs))


def assign_role(store: ServiceStore, view: RosterView, street_id: str, person_id: str, cmd: dict[str, Any],
                actor: str) -> dict[str, int]:
    """`person_id` holds `role` at a place from `valid_from` (until `valid_until`, if given)."""
    _street(view, street_id)
    person, refs = _person(view, street_id, {**cmd, "person_id": person_id})
    role, place_refs = _role_fact(view, street_id, person_id, cmd, cmd["valid_from"], cmd.get("valid_until"),
                                  cmd.get("title", ""))
    return _change(store, view, actor, RosterRow(0, street_id, person=person, refs=refs + place_refs, role=role))


def end_role(store: ServiceStore, view: RosterView, street_id: str, person_id: str, cmd: dict[str, Any],
             actor: str) -> dict[str, int]:
    """The person's term in `role` at that place, running at `valid_until`, ends then."""
    _street(view, street_id)
    if view.people.get(person_id, {}).get("street_id") != street_id:
        raise NotOnRoster(f"人员 {person_id}")
    refs = (Ref("person", person_id, street_id),)
    until: datetime = cmd["valid_until"]
    probe, place_refs = _role_fact(view, street_id, person_id, cmd, until, None, None)
    recorded = view.assignments.get(probe.key)
    span = next((s for s in recorded.spans() if s.start < until and (s.end is None or s.end >= until)),
                None) if recorded else None
    if span is None:
        raise ImportRejected("变更未通过校验", [_error("该人员在此时未担任此职务，无从离任")])
    role = RoleFact(*probe.key, None, span.start, until, street_id)  # type: ignore[misc]
    return _change(store, view, actor, RosterRow(0, street_id, refs=refs + place_refs, role=role))


def _change(store: ServiceStore, view: RosterView, actor: str, row: RosterRow) -> dict[str, int]:
    errors = check_consistency([row], view, own_street=row.street_id)
    if errors:
        raise ImportRejected("变更未通过校验", errors)
    return record(store, [row], view, actor)


def _error(reason: str) -> RowError:
    return RowError(0, reason)


def _street(view: RosterView, street_id: str) -> None:
    if street_id not in view.streets:
        raise NotOnRoster(f"街道 {street_id}")


def _grid(view: RosterView, street_id: str, grid_id: str) -> Any:
    _street(view, street_id)
    grid = view.grids.get(grid_id)
    if grid is None or grid.street_id != street_id:  # another street's grid is not found, not forbidden
        raise NotOnRoster(f"网格 {grid_id}")
    return grid


def _unit(view: RosterView, street_id: str, unit_id: str) -> Any:
    _street(view, street_id)
    unit = view.units.get(unit_id)
    if unit is None or unit.street_id != street_id:
        raise NotOnRoster(f"成员单位 {unit_id}")
    return unit


def _person(view: RosterView, street_id: str, cmd: dict[str, Any]) -> tuple[PersonFact | None, tuple[Ref, ...]]:
    """The person a change is about: registered (or renamed) when `name` is given, else referred to."""
    person_id = cmd["person_id"]
    recorded = view.people.get(person_id)
    if recorded is not None and recorded["street_id"] != street_id:
        raise NotOnRoster(f"人员 {person_id}")
    if cmd.get("name"):
        return PersonFact(person_id, cmd["name"], cmd.get("phone", ""), street_id), ()
    if recorded is None:
        raise ImportRejected("变更未通过校验", [_error(f"人员 {person_id} 未登记：请同时填写姓名（name）")])
    return None, (Ref("person", person_id, street_id),)


def _role_fact(view: RosterView, street_id: str, person_id: str, cmd: dict[str, Any], valid_from: datetime,
               valid_until: datetime | None, title: str | None) -> tuple[RoleFact, tuple[Ref, ...]]:
    """The role fact of a change, with the places it refers to; the same rules as a 街道名册 row."""
    role = cmd["role"]
    community_id, grid_id = cmd.get("community_id", ""), cmd.get("grid_id", "")
    unit_id, position = cmd.get("unit_id", ""), cmd.get("position", "")
    problems = []
    refs: list[Ref] = []
    if position:
        if role != role_for_position(position):
            problems.append("小组职务与人员角色不符：办公室主任和办公室工作人员为处非办工作人员，其余为领导")
        if community_id or grid_id:
            problems.append("领导小组成员不填社区和网格")
    elif role in ("leader", "office_staff"):
        problems.append("领导和处非办工作人员须填写小组职务（position）")
    elif role == "member_unit_contact":
        if not unit_id or community_id or grid_id:
            problems.append("成员单位联系人只填成员单位（unit_id）")
    elif role in COMMUNITY_ROLES:
        if unit_id:
            problems.append("社区和网格的人员不填成员单位")
        if grid_id:
            grid = view.grids.get(grid_id)
            if grid is None or grid.street_id != street_id:
                raise NotOnRoster(f"网格 {grid_id}")
            if not community_id:
                community_id = grid.community_id
        if not community_id and (role in NEEDS_COMMUNITY or not grid_id):
            problems.append("须填写社区（community_id）或社区内的网格（grid_id）")
    if problems:
        raise ImportRejected("变更未通过校验", [_error(p) for p in problems])
    for kind, ident in (("community", community_id), ("grid", grid_id), ("unit", unit_id)):
        if ident:
            refs.append(Ref(kind, ident, street_id))
    fact = RoleFact(person_id, role, community_id, grid_id, unit_id, position, title, valid_from, valid_until,
                    street_id)
    return fact, tuple(refs)


def _sector_order(codes: list[str]) -> tuple[str, ...]:
    order = list(INDUSTRY_SECTORS)
    return tuple(sorted(set(codes), key=order.index))

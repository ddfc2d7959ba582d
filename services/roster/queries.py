"""Reading the roster as a user sees it: the street's tree, and who is responsible for a clue by
place and by industry sector, with the Chinese labels a screen shows. Pure functions of a
RosterView and an instant."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fangfei.roster_view import DISTRICT_LEVEL, Assignment, Grid, RosterView
from fangfei.vocab import (
    COMMUNITY_KINDS, GRID_LEVELS, INDUSTRY_SECTORS, LEADING_GROUP_POSITIONS, MEMBER_UNIT_KINDS, PERSON_ROLES,
    SECTOR_ROUTE_TARGETS,
)

LEVEL_LABELS = {**GRID_LEVELS, DISTRICT_LEVEL: "区处非办"}
ROLE_ORDER = {role: i for i, role in enumerate(PERSON_ROLES)}
POSITION_ORDER = {position: i for i, position in enumerate(LEADING_GROUP_POSITIONS)}


def person(view: RosterView, person_id: str) -> dict[str, Any] | None:
    if not person_id:
        return None
    p = view.people.get(person_id, {})
    return {
        "person_id": person_id,
        "name": p.get("name", ""),
        "role": p.get("role", ""),
        "role_label": PERSON_ROLES.get(p.get("role", ""), ""),
        "phone": p.get("phone", ""),
    }


def holder(view: RosterView, a: Assignment, at: datetime) -> dict[str, Any]:
    """A person in one of their roles at `at`: the role (and post, title) they hold there."""
    out = person(view, a.person_id) or {}
    out.update(role=a.role, role_label=PERSON_ROLES.get(a.role, ""), title=a.title_at(at))
    if a.position:
        out.update(position=a.position, position_label=LEADING_GROUP_POSITIONS.get(a.position, ""), unit_id=a.unit_id)
    return out


def _by_role(assignments: list[Assignment]) -> list[Assignment]:
    return sorted(assignments, key=lambda a: (ROLE_ORDER.get(a.role, 99), a.person_id))


def street_tree(view: RosterView, street_id: str, at: datetime) -> dict[str, Any] | None:
    """The street's grids as a tree (each with its chief and staff at `at`), its communities
    with the people in each role there, its member units with their sectors and contacts, and
    its leading group."""
    street = view.streets.get(street_id)
    if street is None:
        return None
    grids = [g for g in view.grids.values() if g.street_id == street_id]
    children: dict[str, list[Grid]] = {}
    for g in grids:
        children.setdefault(g.parent_grid_id, []).append(g)
    ids = {g.grid_id for g in grids}
    # A grid whose parent is missing is shown at the top rather than hidden.
    roots = sorted((g for g in grids if g.parent_grid_id not in ids), key=lambda g: (g.level, g.grid_id))
    active = view.holders(at, street_id=street_id)
    on_grid: dict[str, list[Assignment]] = {}
    in_community: dict[str, list[Assignment]] = {}
    for a in active:
        if a.position or a.unit_id:
            continue
        if a.grid_id:
            on_grid.setdefault(a.grid_id, []).append(a)
        if a.community_id:
            in_community.setdefault(a.community_id, []).append(a)

    def node(g: Grid, seen: frozenset[str]) -> dict[str, Any]:
        kids = [c for c in sorted(children.get(g.grid_id, []), key=lambda c: c.grid_id) if c.grid_id not in seen]
        return {
            "grid_id": g.grid_id,
            "name": g.name,
            "level": g.level,
            "level_label": LEVEL_LABELS.get(g.level, ""),
            "community_id": g.community_id,
            "chief": person(view, g.chief_at(at)),
            "staff": [holder(view, a, at) for a in _by_role(on_grid.get(g.grid_id, []))],
            "children": [node(c, seen | {c.grid_id}) for c in kids],
        }

    def people_of(cid: str, role: str) -> list[dict[str, Any]]:
        return [holder(view, a, at) for a in _by_role(in_community.get(cid, [])) if a.role == role]

    return {
        "street_id": street_id,
        "name": street["name"],
        "at": at.isoformat(),
        "grids": [node(g, frozenset({g.grid_id})) for g in roots],
        "communities": [
            {
                "community_id": cid,
                "name": c["name"],
                "kind": c["kind"],
                "kind_label": COMMUNITY_KINDS.get(c["kind"], ""),
                "liaisons": people_of(cid, "liaison"),
                "secretaries": people_of(cid, "community_secretary"),
                "grid_staff": people_of(cid, "grid_staff"),
                "volunteers": people_of(cid, "volunteer"),
            }
            for cid, c in sorted(view.communities.items())
            if c["street_id"] == street_id
        ],
        "member_units": [unit(view, u.unit_id, at) for u in view.street_units(street_id)],
        "leading_group": leading_group(view, street_id, at),
    }


def unit(view: RosterView, unit_id: str, at: datetime) -> dict[str, Any]:
    u = view.units[unit_id]
    group = view.groups.get(u.street_id)
    sectors = u.sectors_at(at)
    return {
        "unit_id": u.unit_id,
        "name": u.name,
        "kind": u.kind,
        "kind_label": MEMBER_UNIT_KINDS.get(u.kind, ""),
        "sectors": list(sectors),
        "sector_labels": [INDUSTRY_SECTORS.get(s, s) for s in sectors],
        "is_office": bool(group and group.office_unit_id == u.unit_id),
        "contacts": [person(view, p) for p in view.unit_contacts(u.unit_id, at)],
    }


def leading_group(view: RosterView, street_id: str, at: datetime) -> dict[str, Any] | None:
    group = view.groups.get(street_id)
    if group is None:
        return None
    office = view.units.get(group.office_unit_id)
    members = sorted(view.holders(at, street_id=street_id, in_group=True),
                     key=lambda a: (POSITION_ORDER.get(a.position, 99), a.person_id))
    return {
        "name": group.name,
        "office_unit_id": group.office_unit_id,
        "office_unit_name": office.name if office else "",
        "members": [holder(view, a, at) for a in members],
    }


def route(view: RosterView, street_id: str, community_id: str, at: datetime, grid_id: str = "") -> dict[str, Any]:
    """Who handles a clue of `community_id` at `at`, with the names a user reads."""
    r = view.route(street_id, community_id, at, grid_id)
    grid = view.grids.get(r.grid_id)
    found = view.people.get(r.person_id, {})
    return {
        "street_id": street_id,
        "community_id": community_id,
        "at": at.isoformat(),
        "level": r.level,
        "level_label": LEVEL_LABELS.get(r.level, ""),
        "grid_id": r.grid_id,
        "grid_name": grid.name if grid else "",
        "person_id": r.person_id,
        "person_name": found.get("name", ""),
        "note": r.note,
    }


def sector_route(view: RosterView, street_id: str, sector: str, at: datetime) -> dict[str, Any]:
    """Who handles a clue of industry `sector` in the street at `at`, with names and labels."""
    r = view.route_sector(street_id, sector, at)
    units = []
    for unit_id in r.unit_ids:
        u = view.units.get(unit_id)
        units.append({
            "unit_id": unit_id,
            "name": u.name if u else "",
            "kind": u.kind if u else "",
            "kind_label": MEMBER_UNIT_KINDS.get(u.kind, "") if u else "",
        })
    return {
        "street_id": street_id,
        "sector": sector,
        "sector_label": INDUSTRY_SECTORS.get(sector, ""),
        "at": at.isoformat(),
        "target": r.target,
        "target_label": SECTOR_ROUTE_TARGETS[r.target],
        "units": units,
        "people": [person(view, p) for p in r.person_ids],
        "note": r.note,
    }

"""Checked rows → the events the roster does not have yet, written stream by stream.

Stream ids come from the ids in the rows (`street-<id>`, `community-<id>`, `grid-<id>`,
`unit-<id>`, `leading_group-<street_id>`, `person-<id>`), and an event is appended only when its
fact is not what the stream already says, so recording the same rows twice records nothing the
second time. Dated facts live in the stream of what they date (a chief in the grid's stream, a role
in the person's, sectors in the unit's), after its registration, so every consumer sees a thing
before its history.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from fangfei.clock import parse_iso
from fangfei.eventstore.provider import ServiceStore
from fangfei.events import Event, new_event
from fangfei.roster_view import RosterView

from .facts import PersonFact, RoleFact, RosterRow, StreetFact

# What an import or command answers it recorded, per event type.
COUNTED = {
    "roster.street_registered": "streets",
    "roster.community_registered": "communities",
    "roster.grid_registered": "grids",
    "roster.person_registered": "people",
    "roster.chief_assigned": "chief_assignments",
    "roster.grid_vacated": "vacancies",
    "roster.role_assigned": "role_assignments",
    "roster.role_ended": "role_endings",
    "roster.member_unit_registered": "member_units",
    "roster.unit_sectors_assigned": "sector_assignments",
    "roster.leading_group_registered": "leading_groups",
}
# Stream kinds in the order they are written: the routing tree first (streets, communities, grids
# with their chiefs), so a consumer that starts routing clues while a big import is still arriving
# has the grids before the hundreds of people; a chief's name may arrive after their assignment
# (the view looks names up when asked). Units come before the leading group that names its office.
ORDER = ("street", "community", "grid", "unit", "leading_group", "person")
REGISTERED = {
    "street": "roster.street_registered",
    "community": "roster.community_registered",
    "unit": "roster.member_unit_registered",
    "leading_group": "roster.leading_group_registered",
    "person": "roster.person_registered",
    "grid": "roster.grid_registered",
}
# A new person's main role is the weightiest of the roles the rows give them.
ROLE_WEIGHT = ("grid_chief", "community_secretary", "leader", "office_staff", "member_unit_contact",
               "liaison", "grid_staff", "volunteer")


def stream_of(kind: str, ident: str) -> str:
    return f"{kind}-{ident}"


@dataclass
class _Pending:
    """The events one stream may need, with the street they belong to."""

    street_id: str
    items: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def add(self, event_type: str, payload: dict[str, Any]) -> None:
        if (event_type, payload) not in self.items:
            self.items.append((event_type, payload))


def record(store: ServiceStore, rows: list[RosterRow], view: RosterView, actor: str) -> dict[str, int]:
    """Append what `rows` say that the store does not yet; return how many events of each kind.

    Streams are written one at a time; a crash or a ConcurrencyConflict part-way leaves a prefix
    recorded, and recording the same rows again completes it, because recorded facts are skipped."""
    created = {name: 0 for name in COUNTED.values()}
    now = store.clock.now()
    for stream_id, pending in plan(rows, view).items():
        existing = store.events.read_stream(stream_id)
        new = []
        for event_type, payload in pending.items:
            event = new_event(event_type, stream_id, pending.street_id, payload, actor=actor, occurred_at=now)
            if not _already_recorded(event, existing + new):
                new.append(event)
        if not new:
            continue
        store.append(stream_id, existing[-1].stream_version if existing else 0, new)
        for event in new:
            created[COUNTED[event.type]] += 1
    return created


def plan(rows: list[RosterRow], view: RosterView) -> dict[str, _Pending]:
    """Every stream the rows touch, in the order to write them, with the events they may need.
    The checks made sure repeated facts agree, so the first row naming a thing speaks for it."""
    streams: dict[str, dict[str, _Pending]] = {kind: {} for kind in ORDER}

    def pending(kind: str, ident: str, street_id: str) -> _Pending:
        return streams[kind].setdefault(stream_of(kind, ident), _Pending(street_id))

    grids = {row.grid.grid_id: row.grid for row in rows if row.grid}
    for row in rows:
        for kind, fact in (("street", row.street), ("community", row.community), ("unit", row.unit),
                           ("grid", row.grid)):
            if fact is not None:
                stream = pending(kind, getattr(fact, f"{kind}_id"), fact.street_id)
                if not stream.items:
                    stream.add(REGISTERED[kind], _payload(fact))
    for street_id, group in _groups(rows, view).items():
        pending("leading_group", street_id, street_id).add(REGISTERED["leading_group"], group)
    for person_id, (street_id, registration) in _people(rows, view, grids).items():
        pending("person", person_id, street_id).add(REGISTERED["person"], registration)
    for row in rows:
        if row.chief:
            c = row.chief
            grid = pending("grid", c.grid_id, c.street_id)
            grid.add("roster.chief_assigned", {"grid_id": c.grid_id, "person_id": c.person_id,
                                               "valid_from": c.valid_from.isoformat()})
            if c.valid_until:
                grid.add("roster.grid_vacated", {"grid_id": c.grid_id, "valid_from": c.valid_until.isoformat()})
        if row.vacancy:
            v = row.vacancy
            pending("grid", v.grid_id, v.street_id).add(
                "roster.grid_vacated", {"grid_id": v.grid_id, "valid_from": v.valid_from.isoformat()})
        if row.role:
            person = pending("person", row.role.person_id, row.role.street_id)
            for event_type, payload in _role_events(row.role, view):
                person.add(event_type, payload)
        if row.sectors:
            s = row.sectors
            pending("unit", s.unit_id, s.street_id).add(
                "roster.unit_sectors_assigned",
                {"unit_id": s.unit_id, "sectors": list(s.sectors), "valid_from": s.valid_from.isoformat()})
    return {stream: p for kind in ORDER for stream, p in streams[kind].items()}


def _payload(fact: Any) -> dict[str, Any]:
    """A fact as its event's payload: the street is the envelope's `street_id`, except for the
    street's own registration."""
    data = asdict(fact)
    if not isinstance(fact, StreetFact):
        del data["street_id"]
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in data.items()}


def _groups(rows: list[RosterRow], view: RosterView) -> dict[str, dict[str, Any]]:
    """Each street's leading group as the rows leave it: what they say, else what is recorded,
    else a name made from the street's."""
    said: dict[str, dict[str, str]] = {}
    street_names = {row.street.street_id: row.street.name for row in rows if row.street}
    for row in rows:
        if row.group is None:
            continue
        group = said.setdefault(row.group.street_id, {"name": "", "office_unit_id": ""})
        group["name"] = group["name"] or row.group.name
        group["office_unit_id"] = group["office_unit_id"] or row.group.office_unit_id
    out = {}
    for street_id, group in said.items():
        recorded = view.groups.get(street_id)
        street_name = street_names.get(street_id) or view.streets.get(street_id, {}).get("name", street_id)
        out[street_id] = {
            "name": group["name"] or (recorded.name if recorded else f"{street_name}打击非法集资工作领导小组"),
            "office_unit_id": group["office_unit_id"] or (recorded.office_unit_id if recorded else ""),
        }
    return out


def _people(rows: list[RosterRow], view: RosterView, grids: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each person's registration as the rows leave it. A recorded person keeps their main role
    and home community (a later list naming one more role must not flip them); a new person gets
    the weightiest role the rows give them, and the one community their community roles lie in, if
    there is exactly one."""
    facts: dict[str, PersonFact] = {}
    roles: dict[str, list[tuple[str, str]]] = {}  # person → (role, community)
    for row in rows:
        if row.person is None:
            continue
        p = row.person
        seen = facts.get(p.person_id)
        facts[p.person_id] = p if seen is None else PersonFact(p.person_id, seen.name, seen.phone or p.phone, seen.street_id)
        if row.chief:
            grid = grids.get(row.chief.grid_id) or view.grids.get(row.chief.grid_id)
            roles.setdefault(p.person_id, []).append(("grid_chief", grid.community_id if grid else ""))
        if row.role:
            roles.setdefault(p.person_id, []).append((row.role.role, row.role.community_id))
    out = {}
    for person_id, p in facts.items():
        recorded = view.people.get(person_id)
        if recorded is not None:
            role, community = recorded["role"], recorded["community_id"]
        else:
            held = roles.get(person_id, [])
            role = min((r for r, _ in held), key=ROLE_WEIGHT.index, default="grid_staff")
            communities = {c for _, c in held if c}  # street-level roles (the leading group) have none
            community = communities.pop() if len(communities) == 1 else ""
        phone = p.phone or (recorded.get("phone", "") if recorded else "")
        out[person_id] = (p.street_id, {"person_id": person_id, "name": p.name, "role": role,
                                        "community_id": community, "phone": phone})
    return out


def _role_events(role: RoleFact, view: RosterView) -> list[tuple[str, dict[str, Any]]]:
    key = {"person_id": role.person_id, "role": role.role, "community_id": role.community_id,
           "grid_id": role.grid_id, "unit_id": role.unit_id, "position": role.position}
    title = role.title
    if title is None:  # the row says nothing about the title: keep the recorded one
        recorded = view.assignments.get(role.key)
        title = next((s.title for s in recorded.spans() if s.start == role.valid_from), "") if recorded else ""
    events = [("roster.role_assigned", {**key, "title": title, "valid_from": role.valid_from.isoformat()})]
    if role.valid_until is not None:
        events.append(("roster.role_ended", {**key, "valid_until": role.valid_until.isoformat()}))
    return events


def _already_recorded(event: Event, existing: list[Event]) -> bool:
    """A registration is recorded when the latest registration of the stream says the same; a
    dated fact when the latest event of its type about the same thing at the same instant says
    the same (a chief assignment: the same person from the same instant)."""
    same_type = [e for e in existing if e.type == event.type]
    if event.type in REGISTERED.values():
        latest = same_type[-1] if same_type else None
        return latest is not None and latest.street_id == event.street_id and dict(latest.payload) == dict(event.payload)
    ident = _identity(event)
    latest = next((e for e in reversed(same_type) if _identity(e) == ident), None)
    return latest is not None and _canonical(latest) == _canonical(event)


def _identity(event: Event) -> tuple[Any, ...]:
    """What a dated event is about: the thing, and the instant it holds from (or until)."""
    p = event.payload
    if event.type == "roster.chief_assigned":
        return (p["person_id"], parse_iso(p["valid_from"]))
    if event.type in ("roster.role_assigned", "roster.role_ended"):
        at = p.get("valid_from") or p["valid_until"]
        return (p["role"], p["community_id"], p["grid_id"], p["unit_id"], p["position"], parse_iso(at))
    return (parse_iso(p["valid_from"]),)


def _canonical(event: Event) -> dict[str, Any]:
    """The payload with instants compared as instants, whatever offset they were written with."""
    out = {}
    for k, v in event.payload.items():
        out[k] = parse_iso(v) if k in ("valid_from", "valid_until") else v
    return out

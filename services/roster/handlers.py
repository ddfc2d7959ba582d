"""Roster use cases: import checked rows as events, read the tree, route. No HTTP, no nameko.

Stream ids are derived from the ids in the file (`street-<id>`, `community-<id>`, `grid-<id>`,
`person-<id>`), and an event is appended only when its fact is not what the stream already says,
so importing the same file twice records nothing the second time. A grid's chief assignments live
in the grid's own stream, after its registration, so every consumer sees them in order.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Iterable

from fangfei.clock import parse_iso
from fangfei.eventstore.provider import ServiceStore
from fangfei.events import Event, new_event
from fangfei.roster_view import DISTRICT_LEVEL, Grid, RosterView
from fangfei.vocab import COMMUNITY_KINDS, GRID_LEVELS, PERSON_ROLES

from .facts import RosterRow, StreetFact

# What the import answer counts, per event type.
COUNTED = {
    "roster.street_registered": "streets",
    "roster.community_registered": "communities",
    "roster.grid_registered": "grids",
    "roster.person_registered": "people",
    "roster.chief_assigned": "chief_assignments",
}
LEVEL_LABELS = {**GRID_LEVELS, DISTRICT_LEVEL: "区处非办"}
# Registration event per stream kind, in the order streams are written (referenced first).
REGISTERED = {
    "street": "roster.street_registered",
    "community": "roster.community_registered",
    "person": "roster.person_registered",
    "grid": "roster.grid_registered",
}


def stream_of(kind: str, ident: str) -> str:
    return f"{kind}-{ident}"


@dataclass
class _Pending:
    """The events one stream still needs, with the street they belong to."""

    street_id: str
    items: list[tuple[str, dict[str, Any]]]


def import_roster(store: ServiceStore, rows: Iterable[RosterRow], actor: str) -> dict[str, int]:
    """Record what the rows say that the store does not yet; return how many events of each kind.

    Streams are written one at a time (streets, communities, people, then grids with their
    chiefs). A crash or a ConcurrencyConflict part-way leaves a prefix recorded; importing the
    file again completes it, because recorded facts are skipped."""
    plan = _plan(list(rows))
    created = {name: 0 for name in COUNTED.values()}
    now = store.clock.now()
    for stream_id, pending in plan.items():
        existing = store.events.read_stream(stream_id)
        events = [
            new_event(t, stream_id, pending.street_id, p, actor=actor, occurred_at=now)
            for t, p in pending.items
        ]
        new = [ev for ev in events if not _already_recorded(ev, existing)]
        if not new:
            continue
        store.append(stream_id, existing[-1].stream_version if existing else 0, new)
        for ev in new:
            created[COUNTED[ev.type]] += 1
    return created


def _plan(rows: list[RosterRow]) -> dict[str, _Pending]:
    """Every stream the rows touch, in the order to write them (referenced before referencing).

    The importer made sure repeated facts agree, so the first row naming a stream speaks for it."""
    plan: dict[str, dict[str, _Pending]] = {kind: {} for kind in REGISTERED}
    for row in rows:
        for kind, fact in (("street", row.street), ("community", row.community), ("person", row.person),
                           ("grid", row.grid)):
            if fact is not None:
                stream = stream_of(kind, getattr(fact, f"{kind}_id"))
                plan[kind].setdefault(stream, _Pending(fact.street_id, [(REGISTERED[kind], _payload(fact))]))
        if row.chief:
            item = ("roster.chief_assigned", _payload(row.chief))
            grid = plan["grid"][stream_of("grid", row.chief.grid_id)]
            if item not in grid.items:
                grid.items.append(item)
    return {stream: pending for streams in plan.values() for stream, pending in streams.items()}


def _payload(fact: Any) -> dict[str, Any]:
    """A fact as its event's payload: the street is the envelope's `street_id`, except for the
    street's own registration."""
    data = asdict(fact)
    if not isinstance(fact, StreetFact):
        del data["street_id"]
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in data.items()}


def _already_recorded(event: Event, existing: list[Event]) -> bool:
    """A registration is recorded when the latest registration of the stream says the same; a
    chief assignment when the same person was already assigned from the same instant."""
    if event.type == "roster.chief_assigned":
        key = _assignment(event)
        return any(_assignment(e) == key for e in existing if e.type == event.type)
    latest = next((e for e in reversed(existing) if e.type == event.type), None)
    if latest is None:
        return False
    return latest.street_id == event.street_id and dict(latest.payload) == dict(event.payload)


def _assignment(event: Event) -> tuple[str, datetime]:
    return event.payload["person_id"], parse_iso(event.payload["valid_from"])


# -- reading -----------------------------------------------------------------------------------
def street_tree(view: RosterView, street_id: str, at: datetime) -> dict[str, Any] | None:
    """The street's grids as a tree (with the chief of each at `at`) and its communities."""
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

    def node(g: Grid) -> dict[str, Any]:
        return {
            "grid_id": g.grid_id,
            "name": g.name,
            "level": g.level,
            "level_label": LEVEL_LABELS.get(g.level, ""),
            "community_id": g.community_id,
            "chief": _person(view, g.chief_at(at)),
            "children": [node(c) for c in sorted(children.get(g.grid_id, []), key=lambda c: c.grid_id)],
        }

    communities = sorted(
        (cid, c) for cid, c in view.communities.items() if c["street_id"] == street_id
    )
    return {
        "street_id": street_id,
        "name": street["name"],
        "at": at.isoformat(),
        "grids": [node(g) for g in roots],
        "communities": [
            {
                "community_id": cid,
                "name": c["name"],
                "kind": c["kind"],
                "kind_label": COMMUNITY_KINDS.get(c["kind"], ""),
                "liaisons": [
                    _person(view, pid)
                    for pid, p in sorted(view.people.items())
                    if p["community_id"] == cid and p["role"] == "liaison"
                ],
            }
            for cid, c in communities
        ],
    }


def route(
    view: RosterView, street_id: str, community_id: str, at: datetime, grid_id: str = ""
) -> dict[str, Any]:
    """Who handles a clue of `community_id` at `at`, with the names a user reads."""
    r = view.route(street_id, community_id, at, grid_id)
    grid = view.grids.get(r.grid_id)
    person = view.people.get(r.person_id, {})
    return {
        "street_id": street_id,
        "community_id": community_id,
        "at": at.isoformat(),
        "level": r.level,
        "level_label": LEVEL_LABELS.get(r.level, ""),
        "grid_id": r.grid_id,
        "grid_name": grid.name if grid else "",
        "person_id": r.person_id,
        "person_name": person.get("name", ""),
        "note": r.note,
    }


def _person(view: RosterView, person_id: str) -> dict[str, Any] | None:
    if not person_id:
        return None
    p = view.people.get(person_id, {})
    return {
        "person_id": person_id,
        "name": p.get("name", ""),
        "role": p.get("role", ""),
        "role_label": PERSON_ROLES.get(p.get("role", ""), ""),
    }

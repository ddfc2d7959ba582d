"""Escalation use cases: open a case for each reported clue, read a case. No nameko here."""

from __future__ import annotations

from fangfei.clock import SHANGHAI, parse_iso
from fangfei.eventstore.provider import ServiceStore
from fangfei.eventstore.store import ConcurrencyConflict
from fangfei.events import Event, new_event
from fangfei.roster_view import RosterView

from .domain.case import Case, fold
from .domain.deadlines import register_deadline

ACTOR = "system:escalation"
ROUTING_NOTE_MAX = 300  # the cap of case.opened.routing_note


def case_stream(case_id: str) -> str:
    return f"case-{case_id}"


def _clip(note: str, limit: int = ROUTING_NOTE_MAX) -> str:
    """Long grid names can make a vacancy chain longer than the contract allows; a clipped note
    is better than a case that is never opened."""
    return note if len(note) <= limit else note[: limit - 1] + "…"


def open_case(store: ServiceStore, roster: RosterView, clue: Event) -> Event | None:
    """Open the case of `clue` and route it; return the case.opened event, or None if the case
    was already opened (a redelivered clue: appending at version 0 is the single-document guard).

    One case per clue, so the case id is the clue id. Routing uses the roster as it stood when the
    clue was found, so a replay routes the same way."""
    p = clue.payload
    case_id = p["clue_id"]
    found_at = parse_iso(p["found_at"]).astimezone(SHANGHAI)
    route = roster.route(clue.street_id, p["community_id"], found_at)
    payload = {
        "case_id": case_id,
        "clue_id": p["clue_id"],
        "community_id": p["community_id"],
        "grid_id": route.grid_id,
        "level": route.level,
        "assignee_person_id": route.person_id,
        "found_at": found_at.isoformat(),
        "register_deadline": register_deadline(found_at).isoformat(),
        "routing_note": _clip(route.note),
    }
    event = new_event(
        "case.opened", case_stream(case_id), clue.street_id, payload,
        actor=ACTOR, occurred_at=store.clock.now(), cause=clue,
    )
    try:
        commit = store.append(case_stream(case_id), 0, [event])
    except ConcurrencyConflict:
        return None
    return commit.events[0]


def get_case(store: ServiceStore, case_id: str) -> tuple[Case | None, list[Event]]:
    events = store.events.read_stream(case_stream(case_id))
    return fold(events), events

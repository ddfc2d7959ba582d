"""Who is told what: pure functions from an event and the roster copy to the people to tell.

The roster is read at the instant the rule is about (the event's `at`, or the deadline of a
breach), not at the instant the event happens to be handled, so a replay months later tells the
same people (docs/adr/0007-roster-history-and-routing.md). Agencies' *subscriptions* are not rules:
they are matched by subscriptions.py.

| event | who | urgent (also SMS) |
|---|---|---|
| case.opened | the assignee (the level-3 chief, or who the routing fell back to) | no |
| sla.warned | the person responsible | no |
| sla.breached | the person responsible, and the chief of the grid one level above at the deadline | yes |
| case.agency_notified | the contacts of the street's member units of that agency (派出所, 市场监管所…) | yes |
| obligation.missed | the person responsible for the report | no |
| obligation.reminder_due | the person responsible for the report at the reminder's instant | no |
| (daily, digest.py) | each level-2 chief: open and overdue cases of their area | no |
"""

from __future__ import annotations

from dataclasses import dataclass

from fangfei.clock import parse_iso
from fangfei.events import Event
from fangfei.roster_view import RosterView

from . import messages
from .messages import Message


@dataclass(frozen=True)
class Notice:
    recipient_id: str
    message: Message
    urgent: bool = False


RULE_TYPES = ("case.opened", "sla.warned", "sla.breached", "case.agency_notified", "obligation.missed",
              "obligation.reminder_due")


def notices_for(event: Event, view: RosterView) -> list[Notice]:
    p = event.payload
    if event.type == "case.opened":
        if not p["assignee_person_id"]:
            return []  # routed to the district office: its staff see the case in their queue
        community = view.communities.get(p["community_id"], {}).get("name", "")
        return [Notice(p["assignee_person_id"], messages.case_opened(p, community))]
    if event.type == "sla.warned":
        return [Notice(p["responsible_person_id"], messages.sla_warned(p))] if p["responsible_person_id"] else []
    if event.type == "sla.breached":
        out = []
        if p["responsible_person_id"]:
            out.append(Notice(p["responsible_person_id"], messages.sla_breached(p, above=False), urgent=True))
        above = chief_above(view, p["grid_id"], p["deadline"])
        if above and above != p["responsible_person_id"]:
            out.append(Notice(above, messages.sla_breached(p, above=True), urgent=True))
        return out
    if event.type == "case.agency_notified":
        at = parse_iso(p["at"])
        people = sorted({c for u in view.street_units(event.street_id) if u.kind == p["agency"]
                         for c in view.unit_contacts(u.unit_id, at)})
        return [Notice(pid, messages.agency_notified(p, p["agency"]), urgent=True) for pid in people]
    if event.type == "obligation.missed":
        return [Notice(p["responsible_person_id"], messages.obligation_missed(p))] if p["responsible_person_id"] else []
    if event.type == "obligation.reminder_due":
        if not p["responsible_person_id"]:
            return []  # nobody holds the post: the office sees the open report in its list
        return [Notice(p["responsible_person_id"], messages.obligation_reminder(p, unit_name(view, p["unit_id"])))]
    return []


def unit_name(view: RosterView, unit_id: str) -> str:
    """A community's or a street's name from the roster copy (empty if not known yet)."""
    return (view.communities.get(unit_id) or view.streets.get(unit_id) or {}).get("name", "")


def chief_above(view: RosterView, grid_id: str, at_iso: str) -> str:
    """The chief of the parent of `grid_id` at `at_iso` (empty: no grid, no parent, or vacant).
    Above a level-1 grid is the district office, which is told through its own queue."""
    grid = view.grids.get(grid_id) if grid_id else None
    parent = view.grids.get(grid.parent_grid_id) if grid is not None and grid.parent_grid_id else None
    return parent.chief_at(parse_iso(at_iso)) if parent is not None else ""

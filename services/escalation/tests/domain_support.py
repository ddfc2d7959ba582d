"""Drive the pure domain: a case opened from a synthetic clue, commands decided and folded in
memory, a roster stand-in whose chiefs can change over time. No store, no nameko."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from fangfei.clock import SHANGHAI
from fangfei.events import Event, new_event
from fangfei.workdays import build_calendar
from services.escalation.domain.case import Case, fold
from services.escalation.domain.deadlines import register_deadline
from services.escalation.domain.sla import due_step
from services.escalation.domain.workflow import Change, Command, Context, Holder, decide

CALENDAR = build_calendar()
T0 = datetime(2026, 3, 16, 9, 0, tzinfo=SHANGHAI)  # a Monday


class FakeRoster:
    """Chiefs per level, each a list of (valid_from, person) so a post can change hands."""

    def __init__(self, **chiefs: str) -> None:
        self.posts: dict[int, list[tuple[datetime, str]]] = {}
        for lvl, person in ((3, chiefs.get("l3", "p-l3")), (2, chiefs.get("l2", "p-l2")), (1, chiefs.get("l1", "p-l1"))):
            self.posts[lvl] = [(datetime(2000, 1, 1, tzinfo=timezone.utc), person)]

    def hand_over(self, level: int, at: datetime, person: str) -> None:
        self.posts[level].append((at, person))
        self.posts[level].sort()

    def holder(self, level: int, at: datetime) -> Holder:
        if level == 4:
            return Holder("", "")
        person = ""
        for since, who in self.posts[level]:
            if since <= at:
                person = who
        return Holder(f"g{level}", person)


def opened(found_at: datetime = T0, level: int = 3, case_id: str = "c1", street_id: str = "longgang") -> Event:
    payload = {"case_id": case_id, "clue_id": case_id, "community_id": "magang", "grid_id": f"g{level}" if level < 4 else "",
               "level": level, "assignee_person_id": f"p-l{level}" if level < 4 else "",
               "found_at": found_at.isoformat(), "register_deadline": register_deadline(found_at).isoformat(),
               "routing_note": ""}
    ev = new_event("case.opened", f"case-{case_id}", street_id, payload, actor="system:escalation", occurred_at=found_at)
    return ev.stamped(1, found_at)


class Script:
    """A case and its stream, advanced by commands and by the scanner's decisions."""

    def __init__(self, found_at: datetime = T0, level: int = 3, roster: FakeRoster | None = None) -> None:
        self.roster = roster or FakeRoster()
        self.events: list[Event] = [opened(found_at, level)]
        self.case: Case = fold(self.events)  # type: ignore[assignment]

    @property
    def ctx(self) -> Context:
        return Context(self.roster, CALENDAR)

    def record(self, changes: list[Change], at: datetime) -> list[Event]:
        new = []
        for ch in changes:
            ev = new_event(ch.type, f"case-{self.case.case_id}", self.case.street_id, ch.payload, actor="t", occurred_at=at)
            new.append(ev.stamped(len(self.events) + 1, at))
            self.events.append(new[-1])
        self.case = fold(new, self.case)  # type: ignore[assignment]
        return new

    def do(self, action: str, at: datetime, by: str = "p-actor", reason: str = "理由", **params: Any) -> list[Event]:
        changes = decide(self.case, Command(action, by, at, reason, params), self.ctx)
        return self.record(changes, at)

    def scan(self, now: datetime, max_steps: int = 12) -> list[Event]:
        """What the scanner records at `now` (all steps due)."""
        out: list[Event] = []
        for _ in range(max_steps):
            changes = due_step(self.case, now, self.ctx)
            if not changes:
                break
            out += self.record(changes, now)
        return out

    def scan_every(self, start: datetime, end: datetime, step: timedelta) -> list[Event]:
        out: list[Event] = []
        t = start
        while t <= end:
            out += self.scan(t)
            t += step
        return out


def breaches(events: list[Event]) -> list[tuple[str, int, str, str]]:
    return [(e.payload["rule"], e.payload["level"], e.payload["responsible_person_id"], e.payload["deadline"])
            for e in events if e.type == "sla.breached"]


def h(hours: float) -> timedelta:
    return timedelta(hours=hours)

"""A case (案件) as folded from the events of its stream `case-<case_id>`.

The walking skeleton only knows `case.opened`; later steps of the workflow (registered,
escalated, closed) add one `_apply_<type>` rule each to `APPLIERS`, nothing else changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

from fangfei.events import Event
from fangfei.roster_view import DISTRICT_LEVEL
from fangfei.vocab import CASE_STATUSES, GRID_LEVELS

# Who a case can be routed to: the three grid levels, then the district office above the street.
LEVEL_LABELS: dict[int, str] = {**GRID_LEVELS, DISTRICT_LEVEL: "区处非办"}


@dataclass
class Case:
    case_id: str
    clue_id: str
    street_id: str
    community_id: str
    grid_id: str
    level: int
    assignee_person_id: str
    found_at: str
    register_deadline: str
    routing_note: str
    status: str
    opened_at: str
    version: int

    @property
    def status_label(self) -> str:
        return CASE_STATUSES[self.status]

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS.get(self.level, str(self.level))

    def as_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "clue_id": self.clue_id,
            "street_id": self.street_id,
            "community_id": self.community_id,
            "grid_id": self.grid_id,
            "level": self.level,
            "level_label": self.level_label,
            "assignee_person_id": self.assignee_person_id,
            "found_at": self.found_at,
            "register_deadline": self.register_deadline,
            "routing_note": self.routing_note,
            "status": self.status,
            "status_label": self.status_label,
            "opened_at": self.opened_at,
            "version": self.version,
        }


def _apply_case_opened(case: Case | None, event: Event) -> Case:
    p = event.payload
    return Case(
        case_id=p["case_id"],
        clue_id=p["clue_id"],
        street_id=event.street_id,
        community_id=p["community_id"],
        grid_id=p["grid_id"],
        level=p["level"],
        assignee_person_id=p["assignee_person_id"],
        found_at=p["found_at"],
        register_deadline=p["register_deadline"],
        routing_note=p["routing_note"],
        status="reported",  # 已上报: waiting to be registered within the deadline
        opened_at=event.recorded_at,
        version=event.stream_version,
    )


APPLIERS: dict[str, Callable[[Case | None, Event], Case]] = {"case.opened": _apply_case_opened}


def fold(events: Iterable[Event]) -> Case | None:
    """The case after `events` (in stream order); None for an empty stream.

    Types without a rule still advance the version, so a reader on an older release can show a
    case whose newer events it does not understand yet."""
    case: Case | None = None
    for event in events:
        apply = APPLIERS.get(event.type)
        if apply is not None:
            case = apply(case, event)
        if case is not None:
            case.version = event.stream_version
    return case

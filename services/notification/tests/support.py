"""Events as notification receives them from Kafka: a synthetic roster and opened cases."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from fangfei.events import Event, new_event

NOW = datetime(2026, 3, 14, 2, 0, tzinfo=timezone.utc)


def recorded(event: Event, version: int = 1) -> Event:
    """The event as the producer's store stamped it (what the consumer decodes from Kafka)."""
    return event.stamped(version, NOW)


def roster_event(type_: str, stream_id: str, payload: dict[str, Any]) -> Event:
    return recorded(new_event(type_, stream_id, "longgang", payload, actor="user:office01", occurred_at=NOW))


def demo_roster() -> list[Event]:
    return [
        roster_event("roster.street_registered", "street-longgang",
                     {"street_id": "longgang", "name": "示范街道"}),
        roster_event("roster.community_registered", "community-magang",
                     {"community_id": "magang", "name": "马岗社区", "kind": "community"}),
        roster_event("roster.person_registered", "person-p-zhang01",
                     {"person_id": "p-zhang01", "name": "张网格01", "role": "grid_chief",
                      "community_id": "magang"}),
        roster_event("roster.person_registered", "person-p-wang01",
                     {"person_id": "p-wang01", "name": "王社区01", "role": "community_secretary",
                      "community_id": "magang"}),
    ]


def case_opened(case_id: str = "c0001", assignee: str = "p-zhang01", level: int = 3, street_id: str = "longgang",
                **over: Any) -> Event:
    payload = {
        "case_id": case_id,
        "clue_id": case_id,
        "community_id": "magang",
        "grid_id": "g3-magang-01" if assignee else "",
        "level": level,
        "assignee_person_id": assignee,
        "found_at": "2026-03-14T09:30:00+08:00",
        "register_deadline": "2026-03-14T13:30:00+08:00",
        "routing_note": "",
    }
    payload.update(over)
    ev = new_event("case.opened", f"case-{case_id}", street_id, payload,
                   actor="system:escalation", occurred_at=NOW)
    return recorded(ev)

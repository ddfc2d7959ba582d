"""Events as the ledger receives them: validated against the catalogue and stamped by a store.

Names and ids are synthetic (张网格01-style); nothing here is real data."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from fangfei.events import Event, new_event

T0 = datetime(2026, 3, 14, 1, 0, tzinfo=timezone.utc)


def clue_reported(
    clue_id: str = "c001",
    *,
    street_id: str = "longgang",
    community_id: str = "magang",
    found_at: str = "2026-03-14T09:30:00+08:00",
    recorded_at: datetime = T0,
    version: int = 1,
    **over: Any,
) -> Event:
    payload: dict[str, Any] = {
        "clue_id": clue_id,
        "community_id": community_id,
        "category": "illegal_finance",
        "source": "hotline_12345",
        "title": "某理财工作室承诺保本高息",
        "description": "来电反映门店向老年人推销年化18%理财产品。",
        "subject_name": "某某理财工作室（虚构）",
        "credit_code": "91000000MA00000001",
        "address": "示例路1号",
        "found_at": found_at,
    }
    payload.update(over)
    event = new_event(
        "clue.reported", f"clue-{clue_id}", street_id, payload, actor="wg-0001", occurred_at=recorded_at
    )
    return event.stamped(version, recorded_at)


def case_opened(
    clue_id: str = "c001",
    *,
    case_id: str | None = None,
    street_id: str = "longgang",
    community_id: str = "magang",
    found_at: str = "2026-03-14T01:30:00Z",
    level: int = 3,
    assignee_person_id: str = "p-zhangwangge01",
    routing_note: str = "",
    recorded_at: datetime = T0 + timedelta(seconds=2),
    version: int = 1,
) -> Event:
    case_id = case_id or f"k-{clue_id}"
    payload: dict[str, Any] = {
        "case_id": case_id,
        "clue_id": clue_id,
        "community_id": community_id,
        "grid_id": f"g3-{community_id}",
        "level": level,
        "assignee_person_id": assignee_person_id,
        "found_at": found_at,
        "register_deadline": "2026-03-14T13:30:00+08:00",
        "routing_note": routing_note,
    }
    event = new_event(
        "case.opened", f"case-{case_id}", street_id, payload, actor="escalation", occurred_at=recorded_at
    )
    return event.stamped(version, recorded_at)

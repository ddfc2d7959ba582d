"""The clue a simulated client POSTs to intake, built to whatever `ReportClueRequest` declares.

Why not a fixed JSON literal: the HTTP contract moves (e.g. the street now comes from the token
when auth is on, not from the body), and a load test whose every request is refused measures
nothing. So the body is shaped from the schema and validated with it before any load is sent."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from fangfei.clock import SHANGHAI

COMMUNITIES = ["magang", "luogang", "hupo", "wanggang", "haizhou", "youfang"]
STREET = "longgang"


def clue_body(i: int, found_at: datetime | None = None) -> dict[str, Any]:
    from services.intake.schemas import ReportClueRequest

    declared = ReportClueRequest._declared_fields  # noqa: SLF001 (marshmallow's public-by-convention map)
    found = found_at or (datetime.now(SHANGHAI) - timedelta(minutes=5)).replace(microsecond=0)
    body: dict[str, Any] = {
        "street_id": STREET, "community_id": COMMUNITIES[i % len(COMMUNITIES)],
        "category": "illegal_finance", "source": "grid_patrol", "title": "门店宣传保本高息理财",
        "description": "网格员巡查发现某门店宣传年化18%保本理财产品，现场有老年人咨询。",
        "subject_name": "某某投资咨询有限公司（虚构）", "address": "示例路1号",
        "found_at": found.isoformat(),
    }
    return {k: v for k, v in body.items() if k in declared}


def checked_bodies(count: int) -> list[str]:
    """`count` distinct bodies (one per community), each validated by intake's own schema."""
    from services.intake.schemas import ReportClueRequest

    found = (datetime.now(SHANGHAI) - timedelta(minutes=5)).replace(microsecond=0)
    out = []
    for i in range(count):
        body = clue_body(i, found)
        ReportClueRequest().load(body)  # raises if the contract moved in a way this file does not follow
        out.append(json.dumps(body, ensure_ascii=False, separators=(",", ":")))
    return out

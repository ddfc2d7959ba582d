"""What a notification says, as pure functions of the event that caused it.

Texts are in Chinese (the reader is a grid chief). They are built only from what the triggering
event carries plus names from the roster copy: never the reporter's identity (docs/adr/0006-no-reporter-identity-on-the-bus.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from fangfei.clock import SHANGHAI, parse_iso

CASE_OPENED_SUBJECT = "新线索待登记"


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def format_instant(iso: str) -> str:
    """`2026-03-14T05:30:00Z` → `2026年3月14日 13:30`: the wall-clock time in Asia/Shanghai."""
    at = parse_iso(iso).astimezone(SHANGHAI)
    return f"{at.year}年{at.month}月{at.day}日 {at:%H:%M}"


def case_opened(payload: Mapping[str, Any], community_name: str) -> Message:
    """The assignee's inbox message for a `case.opened` event."""
    body = (
        f"{community_name or payload['community_id']}有一条新线索已分派给您（案件编号 {payload['case_id']}），"
        f"请于 {format_instant(payload['register_deadline'])} 前完成登记。"
    )
    if payload.get("routing_note"):
        body += f"\n分派说明：{payload['routing_note']}"
    return Message(CASE_OPENED_SUBJECT, body)

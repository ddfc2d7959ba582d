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


# -- later triggers -------------------------------------------------------------------------------
SLA_RULE_LABELS = {
    "registration": "登记", "triage": "研判", "level2_review": "二级网格审核", "level1_review": "一级网格审核",
    "district_review": "区处非办审核", "joint_meeting": "联席会议", "rectification": "整改",
    "enterprise_plan": "一企一策",
}
AGENCY_LABELS = {
    "police_station": "派出所", "market_regulation": "市场监督管理所", "district_office": "区处非办",
    "tax_office": "税务所", "public_service_office": "公共服务办", "urban_management_office": "城市管理办",
    "public_security_office": "公共安全办", "finance_office": "财政办", "other": "其他部门",
}
OBLIGATION_KIND_LABELS = {"weekly": "周报", "monthly": "月度进展", "sweep": "集中清查情况汇总", "campaign": "专项行动阶段报告"}


def _subject_label(payload: Mapping[str, Any]) -> str:
    kind = "案件" if payload["subject_kind"] == "case" else "企业"
    return f"{kind} {payload['subject_id']}"


def sla_breached(payload: Mapping[str, Any], above: bool) -> Message:
    """To the person responsible at the deadline, or (`above`) to the chief one level up."""
    rule = SLA_RULE_LABELS.get(payload["rule"], payload["rule"])
    when = format_instant(payload["deadline"])
    if above:
        body = f"您下级网格负责的{_subject_label(payload)}「{rule}」已于 {when} 超时，请督促处理。"
        return Message("下级网格事项超时", body)
    body = f"您负责的{_subject_label(payload)}「{rule}」已于 {when} 超时"
    body += "，已自动上报上一级。" if payload.get("consequence") == "escalated" else "，请尽快处理。"
    return Message("事项已超时", body)


def sla_warned(payload: Mapping[str, Any]) -> Message:
    rule = SLA_RULE_LABELS.get(payload["rule"], payload["rule"])
    return Message("事项临期预警",
                   f"您负责的{_subject_label(payload)}「{rule}」将于 {format_instant(payload['deadline'])} 到期，请抓紧办理。")


def agency_notified(payload: Mapping[str, Any], agency: str) -> Message:
    label = AGENCY_LABELS.get(agency, agency)
    return Message("异常案件同时报告",
                   f"案件 {payload['case_id']} 经一级网格研判为异常，依规同时报告{label}，请及时跟进并反馈。")


def obligation_missed(payload: Mapping[str, Any]) -> Message:
    kind = OBLIGATION_KIND_LABELS.get(payload["kind"], payload["kind"])
    return Message("报送逾期未报",
                   f"{payload['unit_id']} 的{kind}（{payload['period']}）应于 {format_instant(payload['due_at'])} 前报送，"
                   "至今未报，请尽快补报。")


def format_deadline(iso: str) -> str:
    """`2026-03-20T12:00:00+08:00` → `3月20日12:00`; the end of a day (23:59:59, how a "24:00"
    deadline is written) reads `24:00`, as the cadence rules say it, not one minute early."""
    at = parse_iso(iso).astimezone(SHANGHAI)
    if (at.hour, at.minute, at.second) == (23, 59, 59):
        return f"{at.month}月{at.day}日24:00"
    return f"{at.month}月{at.day}日{at:%H:%M}"


def obligation_reminder(payload: Mapping[str, Any], unit_name: str) -> Message:
    """To the person who answers for a report, a lead time before its deadline. The title comes
    from the event (escalation owns the cadence calendar); the unit's name from the roster copy."""
    unit = f"（{unit_name}）" if unit_name else f"（{payload['unit_id']}）"
    return Message("报送截止提醒",
                   f"{payload['title']}{unit}将于{format_deadline(payload['due_at'])}截止，请按时报送。")


def daily_digest(grid_name: str, day: str, open_count: int, overdue: list[str]) -> Message:
    body = f"{grid_name}辖区截至 {day} 共有在办案件 {open_count} 件，其中超时 {len(overdue)} 件。"
    if overdue:
        shown = "、".join(overdue[:20])
        body += f"\n超时案件：{shown}" + ("等" if len(overdue) > 20 else "")
    return Message(f"每日待办汇总（{day}）", body)

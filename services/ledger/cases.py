"""Ledger 7, 案件办理进展台账: one row per case.

Escalation's `case-<id>` stream owns the workflow columns (opened, registered, level, status,
disposal, extensions, leader in charge, supervision listing, outcome), each later event of the
stream overwriting the one before; counters (escalations, bounce-backs, extensions, breaches) are
`$inc`s, applied once by the row's guard. Intake's `case_progress-<id>` records own the judicial
columns (case name and number, lead agency, amount, participants, stage, progress). A record that
names a platform `case_id` joins that case's row; one that does not is a row of its own (cases
handled by the police or courts that never went through the grid). The two streams only meet on
street/community/date, which the case owns and the record only fills while the case is absent."""

from __future__ import annotations

from typing import Any

from fangfei.events import Event
from fangfei.events.escalation import DISPOSALS, OUTCOMES
from fangfei.events.intake import CASE_STAGES

from .spec import SpecLedger
from .tables import Column as C
from .tables import local_date, utc
from .upserts import Upsert

COLLECTION = "ledger_cases"

STATUS_LABELS: dict[str, str] = {
    "reported": "已上报", "triage": "研判中", "level2_review": "二级网格审核", "level1_review": "一级网格审核",
    "district": "区处非办", "joint_meeting": "联席会议", "disposal": "处置中", "closed": "已办结",
    "external": "司法办理",
}
LEVEL_STATUS = {1: "level1_review", 2: "level2_review", 3: "triage", 4: "district"}
DISPOSAL_LABELS = {"interview": "约谈", "rectification_order": "责令整改", "pledge": "承诺书",
                   "administrative": "行政处罚", "transfer_police": "移送公安", "joint_review": "会商研判"}
OUTCOME_LABELS = {"resolved": "已化解", "unfounded": "查无实据", "rectified": "已整改", "transferred": "已移交",
                  "disposed": "已处置", "merged": "已合并"}
LEVEL_LABELS = {1: "一级网格", 2: "二级网格", 3: "三级网格", 4: "区处非办"}
assert set(DISPOSAL_LABELS) == set(DISPOSALS) and set(OUTCOME_LABELS) == set(OUTCOMES)


def _case(event: Event, set_: dict[str, Any] | None = None, inc: dict[str, int] | None = None) -> Upsert:
    return Upsert(collection=COLLECTION, doc_id=event.payload["case_id"], stream_id=event.stream_id,
                  version=event.stream_version, set={**(set_ or {}), "updated_at": event.recorded_at},
                  set_on_insert={"street_id": event.street_id}, inc=inc or {})


def _opened(event: Event) -> Upsert:
    p = event.payload
    up = _case(event, {"clue_id": p["clue_id"], "community_id": p["community_id"], "level": p["level"],
                       "assignee_person_id": p.get("assignee_person_id", ""), "found_at": utc(p["found_at"]),
                       "period_date": local_date(p["found_at"]), "opened_at": event.recorded_at,
                       "case_status": "reported", "case_street_id": event.street_id})
    return up


def _registered(event: Event) -> Upsert:
    p = event.payload
    return _case(event, {"registered_at": utc(p["at"]), "registered_late": p["late"], "level": p["level"],
                         "case_status": "triage"})


def _moved(event: Event) -> Upsert:
    p = event.payload
    fields: dict[str, Any] = {"level": p["to_level"], "case_status": LEVEL_STATUS[p["to_level"]]}
    if p.get("assignee_person_id"):
        fields["assignee_person_id"] = p["assignee_person_id"]
    key = "escalations" if event.type == "case.escalated" else "bounce_backs"
    return _case(event, fields, {key: 1})


def _status(value: str):  # type: ignore[no-untyped-def]
    return lambda event: _case(event, {"case_status": value})


def _concluded(event: Event) -> Upsert:
    return _case(event, {"case_status": event.payload["return_status"]})


def _disposal(event: Event) -> Upsert:
    return _case(event, {"disposal": event.payload["disposal"], "case_status": "disposal"})


def _closed(event: Event) -> Upsert:
    return _case(event, {"outcome": event.payload["outcome"], "closed_at": utc(event.payload["at"]),
                         "case_status": "closed"})


def _extended(event: Event) -> Upsert:
    return _case(event, {"last_extension_deadline": utc(event.payload["deadline"]) if event.payload.get("deadline")
                         else ""}, {"extensions": 1})


def _leader(event: Event) -> Upsert:
    return _case(event, {"leader_person_id": event.payload["leader_person_id"]})


def _supervision(event: Event) -> Upsert:
    return _case(event, {"supervisor": event.payload["supervisor"]})


def _breached(event: Event) -> Upsert | None:
    p = event.payload
    if p["subject_kind"] != "case":
        return None
    return Upsert(collection=COLLECTION, doc_id=p["subject_id"], stream_id=event.stream_id,
                  version=event.stream_version, set_on_insert={"street_id": event.street_id}, inc={"breaches": 1})


def _progress(event: Event) -> Upsert:
    p = event.payload
    doc_id = p.get("case_id") or f"record:{p['record_id']}"
    return Upsert(
        collection=COLLECTION, doc_id=doc_id, stream_id=event.stream_id, version=event.stream_version,
        set={"case_name": p["case_name"], "case_ref": p.get("case_ref", ""), "lead_agency": p["lead_agency"],
             "amount_yuan": p["amount_yuan"], "participants": p["participants"], "stage": p["stage"],
             "progress": p.get("progress", ""), "cross_province": p["cross_province"],
             "provinces": p.get("provinces", ""), "filed_on": p["filed_on"], "progress_reported_on": p["reported_on"],
             "progress_record_id": p["record_id"]},
        set_on_insert={"street_id": event.street_id, "community_id": p["community_id"],
                       "period_date": p["filed_on"], "case_status": "external"},
    )


CASES = SpecLedger(
    key="case-progress", title="案件办理进展台账", collection=COLLECTION,
    columns_spec=(
        C("id", "案件编号", 34), C("street_id", "街道", 12), C("community_id", "社区", 12),
        C("case_name", "案件名称", 28), C("case_ref", "立案编号", 16), C("clue_id", "线索编号", 34),
        C("found_at", "发现时间", 22), C("registered_at", "登记时间", 22), C("registered_late", "逾期登记", 8),
        C("level_label", "当前层级", 10), C("assignee_person_id", "责任人", 14), C("status_label", "办理状态", 12),
        C("disposal_label", "处置方式", 10), C("escalations", "上报次数", 8), C("bounce_backs", "退回次数", 8),
        C("extensions", "延期次数", 8), C("breaches", "超时次数", 8), C("leader_person_id", "包案领导", 14),
        C("supervisor", "挂牌督办", 14), C("outcome_label", "办结结果", 10), C("closed_at", "办结时间", 22),
        C("lead_agency", "承办单位", 16), C("filed_on", "立案日期", 12), C("amount_yuan", "涉案金额（元）", 16),
        C("participants", "集资参与人数", 10), C("stage_label", "司法阶段", 10), C("cross_province", "跨省", 6),
        C("provinces", "涉及省份", 16), C("progress", "进展情况", 40),
    ),
    planners={
        "case.opened": _opened, "case.registered": _registered, "case.escalated": _moved,
        "case.bounced_back": _moved, "case.joint_meeting_convened": _status("joint_meeting"),
        "case.joint_meeting_concluded": _concluded, "case.disposal_decided": _disposal, "case.closed": _closed,
        "case.deadline_extended": _extended, "case.leader_assigned": _leader,
        "case.supervision_listed": _supervision, "sla.breached": _breached, "case_progress.recorded": _progress,
    },
    status_field="case_status", statuses=STATUS_LABELS,
    labels={"level_label": ("level", LEVEL_LABELS), "status_label": ("case_status", STATUS_LABELS),
            "disposal_label": ("disposal", DISPOSAL_LABELS), "outcome_label": ("outcome", OUTCOME_LABELS),
            "stage_label": ("stage", CASE_STAGES)},
    derive=lambda doc: {n: doc.get(n) or 0 for n in ("escalations", "bounce_backs", "extensions", "breaches")},
)

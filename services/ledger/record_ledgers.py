"""Ledgers kept from intake's typed records, one row per record (a later version of the record's
stream, i.e. a progress update, replaces its fields):

1 日常监管工作台账, 4 互联网金融风险整治台账, 5 非法集资宣传工作台账, 6 违法广告清理台账,
8 资产处置进展台账, 9 信访工作台账 (with the key-case / key-petitioner stability list),
10 突发事件处置预案（台账） (plans and incidents in one ledger).

Each row has exactly one feeding stream, so arrival order across streams cannot matter."""

from __future__ import annotations

from typing import Any

from fangfei.events import Event
from fangfei.events.intake import (
    AD_MEDIA,
    AD_STATUSES,
    ASSET_STAGES,
    INCIDENT_KINDS,
    INCIDENT_STATUSES,
    INTERNET_FINANCE_KINDS,
    INTERNET_FINANCE_STATUSES,
    PETITION_FORMS,
    PETITION_STATUSES,
    PUBLICITY_FORMS,
    PUBLICITY_MATERIALS,
    SUPERVISION_RESULTS,
)

from .spec import SpecLedger, record_upsert
from .tables import Column as C
from .upserts import Upsert

STREET, COMMUNITY = C("street_id", "街道", 12), C("community_id", "社区", 12)


# -- 1 日常监管工作台账 ------------------------------------------------------------------------------
def _supervision(event: Event) -> Upsert:
    return record_upsert("ledger_supervision", event, extra={"period_date": event.payload["visited_on"]})


SUPERVISION = SpecLedger(
    key="supervision", title="日常监管工作台账", collection="ledger_supervision",
    columns_spec=(
        C("id", "记录编号", 34), STREET, COMMUNITY, C("visited_on", "检查日期", 12),
        C("subject_name", "检查对象", 28), C("credit_code", "统一社会信用代码", 22), C("address", "地址", 28),
        C("sector", "行业", 12), C("inspector", "检查人", 12), C("findings", "检查情况", 40),
        C("result_label", "检查结果", 12), C("measures", "处理措施", 30),
    ),
    planners={"supervision.visit_recorded": _supervision},
    status_field="result", statuses=SUPERVISION_RESULTS,
    labels={"result_label": ("result", SUPERVISION_RESULTS)},
)


# -- 4 互联网金融风险整治台账 --------------------------------------------------------------------------
def _internet_finance(event: Event) -> Upsert:
    return record_upsert("ledger_internet_finance", event, extra={"period_date": event.payload["found_on"]})


INTERNET_FINANCE = SpecLedger(
    key="internet-finance", title="互联网金融风险整治台账", collection="ledger_internet_finance",
    columns_spec=(
        C("id", "事项编号", 34), STREET, COMMUNITY, C("platform_name", "平台/机构名称", 28),
        C("credit_code", "统一社会信用代码", 22), C("business_kind_label", "业态", 14), C("problem", "存在问题", 40),
        C("measures", "整治措施", 30), C("found_on", "发现日期", 12), C("deadline_on", "整改期限", 12),
        C("lead_unit", "牵头单位", 16), C("status_label", "整治状态", 10),
    ),
    planners={"internet_finance.item_recorded": _internet_finance},
    status_field="status", statuses=INTERNET_FINANCE_STATUSES,
    labels={"business_kind_label": ("business_kind", INTERNET_FINANCE_KINDS),
            "status_label": ("status", INTERNET_FINANCE_STATUSES)},
)


# -- 5 非法集资宣传工作台账 ----------------------------------------------------------------------------
def _publicity(event: Event) -> Upsert:
    materials = event.payload.get("materials") or []
    return record_upsert("ledger_publicity", event, extra={
        "period_date": event.payload["held_on"],
        "material_total": sum(int(m["quantity"]) for m in materials),
    })


def _materials_text(doc: dict[str, Any]) -> dict[str, Any]:
    items = doc.get("materials") or []
    return {"materials_text": "；".join(f"{PUBLICITY_MATERIALS.get(m['kind'], m['kind'])}×{m['quantity']}"
                                       for m in items)}


PUBLICITY = SpecLedger(
    key="publicity", title="非法集资宣传工作台账", collection="ledger_publicity",
    columns_spec=(
        C("id", "活动编号", 34), STREET, COMMUNITY, C("held_on", "活动日期", 12), C("theme", "活动主题", 30),
        C("form_label", "宣传形式", 12), C("venue", "地点", 24), C("audience_count", "受众人数", 10),
        C("materials_text", "宣传材料", 36), C("material_total", "材料份数", 10), C("organizer", "组织单位", 16),
    ),
    planners={"publicity.activity_recorded": _publicity},
    labels={"form_label": ("form", PUBLICITY_FORMS)},
    derive=_materials_text,
)


# -- 6 违法广告清理台账 ------------------------------------------------------------------------------
def _ad_cleanup(event: Event) -> Upsert:
    return record_upsert("ledger_ad_cleanup", event, extra={"period_date": event.payload["found_on"]})


AD_CLEANUP = SpecLedger(
    key="ad-cleanup", title="违法广告清理台账", collection="ledger_ad_cleanup",
    columns_spec=(
        C("id", "记录编号", 34), STREET, COMMUNITY, C("found_on", "发现日期", 12), C("medium_label", "载体", 10),
        C("content", "广告内容", 40), C("advertiser", "发布主体", 24), C("location", "位置", 24),
        C("quantity", "数量", 8), C("status_label", "处理状态", 10), C("cleaned_on", "清理日期", 12),
    ),
    planners={"ad_cleanup.recorded": _ad_cleanup},
    status_field="status", statuses=AD_STATUSES,
    labels={"medium_label": ("medium", AD_MEDIA), "status_label": ("status", AD_STATUSES)},
)


# -- 8 资产处置进展台账 ------------------------------------------------------------------------------
def _asset_disposal(event: Event) -> Upsert:
    return record_upsert("ledger_asset_disposal", event, extra={"period_date": event.payload["reported_on"]})


ASSET_DISPOSAL = SpecLedger(
    key="asset-disposal", title="资产处置进展台账", collection="ledger_asset_disposal",
    columns_spec=(
        C("id", "记录编号", 34), STREET, COMMUNITY, C("case_name", "案件名称", 28), C("case_ref", "案件编号", 16),
        C("assets", "涉案资产", 36), C("seized_yuan", "查封冻结金额（元）", 16),
        C("disposed_yuan", "已处置金额（元）", 16), C("returned_yuan", "已清退金额（元）", 16),
        C("stage_label", "处置阶段", 12), C("progress", "进展情况", 40), C("reported_on", "填报日期", 12),
    ),
    planners={"asset_disposal.progress_recorded": _asset_disposal},
    status_field="stage", statuses=ASSET_STAGES,
    labels={"stage_label": ("stage", ASSET_STAGES)},
)


# -- 9 信访工作台账 ---------------------------------------------------------------------------------
def _petition(event: Event) -> Upsert:
    p = event.payload
    return record_upsert("ledger_petition", event, extra={
        "period_date": p["received_on"], "stability_listed": bool(p.get("key_case") or p.get("key_petitioner")),
    })


PETITION = SpecLedger(
    key="petition", title="信访工作台账", collection="ledger_petition",
    columns_spec=(
        C("id", "信访编号", 34), STREET, COMMUNITY, C("received_on", "受理日期", 12), C("form_label", "信访形式", 10),
        C("petitioner_count", "人数", 8), C("case_name", "涉及案件", 24), C("demand", "诉求", 40),
        C("handling", "办理情况", 36), C("status_label", "办理状态", 10), C("key_case", "重点案件", 8),
        C("key_petitioner", "重点上访人员", 10), C("stabilization", "稳控措施", 30),
        C("responsible_person_id", "稳控责任人", 14),
    ),
    planners={"petition.recorded": _petition},
    status_field="status", statuses=PETITION_STATUSES,
    labels={"form_label": ("form", PETITION_FORMS), "status_label": ("status", PETITION_STATUSES)},
)


# -- 10 突发事件处置预案（台账） -----------------------------------------------------------------------
ENTRY_KINDS = {"plan": "处置预案", "incident": "突发事件"}


def _emergency_plan(event: Event) -> Upsert:
    p = event.payload
    return record_upsert("ledger_emergency", event, f"plan:{p['record_id']}", extra={
        "entry_kind": "plan", "period_date": p["drafted_on"], "entry_status": "drilled" if p.get("drilled_on")
        else "drafted",
    })


def _emergency_incident(event: Event) -> Upsert:
    p = event.payload
    return record_upsert("ledger_emergency", event, f"incident:{p['record_id']}", extra={
        "entry_kind": "incident", "period_date": p["occurred_on"], "entry_status": p["status"],
    })


EMERGENCY_STATUSES = {"drafted": "已制定", "drilled": "已演练", **INCIDENT_STATUSES}

EMERGENCY = SpecLedger(
    key="emergency", title="突发事件处置预案（台账）", collection="ledger_emergency",
    columns_spec=(
        C("id", "编号", 40), STREET, COMMUNITY, C("entry_kind_label", "类别", 10), C("title", "名称", 28),
        C("period_date", "日期", 12), C("scope", "适用范围", 30), C("drilled_on", "演练日期", 12),
        C("kind_label", "事件类型", 10), C("participants", "涉及人数", 8), C("response", "处置情况", 36),
        C("responsible_person_id", "责任人", 14), C("entry_status_label", "状态", 10),
    ),
    planners={"emergency.plan_recorded": _emergency_plan, "emergency.incident_recorded": _emergency_incident},
    status_field="entry_status", statuses=EMERGENCY_STATUSES,
    labels={"entry_kind_label": ("entry_kind", ENTRY_KINDS), "kind_label": ("kind", INCIDENT_KINDS),
            "entry_status_label": ("entry_status", EMERGENCY_STATUSES)},
)

RECORD_LEDGERS = (SUPERVISION, INTERNET_FINANCE, PUBLICITY, AD_CLEANUP, ASSET_DISPOSAL, PETITION, EMERGENCY)

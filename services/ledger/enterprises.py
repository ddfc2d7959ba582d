"""Ledger 2, 风险企业管控台账: one row per enterprise (credit code) of a street.

Two streams feed a row: escalation's `enterprise-<street>.<code>` (sightings, 红黄绿 tag, the
一企一策 plan, cross-street flags) and intake's `enterprise_profile-<id>` (registered capital, tax
scale, scope, premises, move-in/move-out). Each owns its own fields; name and address belong to the
profile, a sighting only fills them while no profile has arrived ($setOnInsert), so the order of
arrival never changes the row. Sightings carry no community: a row only a sighting knows is listed
under its street (community users see it once its profile names their community)."""

from __future__ import annotations

from fangfei.events import Event
from fangfei.events.escalation import RISK_TAGS
from fangfei.events.intake import PREMISES_KINDS, TAX_SCALES

from .spec import SpecLedger
from .tables import Column as C
from .tables import local_date, utc
from .upserts import Upsert

COLLECTION = "ledger_enterprises"
TAG_LABELS = {"red": "红牌", "yellow": "黄牌", "green": "绿牌"}
TAG_RANKS = {tag: i for i, tag in enumerate(RISK_TAGS)}
MOVEMENTS = {"moved_in": "迁入", "moved_out": "迁出"}
STATUSES = {**TAG_LABELS, "untagged": "未挂牌"}


def row_id(street_id: str, credit_code: str) -> str:
    return f"{street_id}.{credit_code}"


def _base(event: Event) -> dict[str, object]:
    return {"collection": COLLECTION, "doc_id": row_id(event.street_id, event.payload["credit_code"]),
            "stream_id": event.stream_id, "version": event.stream_version}


def _sighted(event: Event) -> Upsert:
    p = event.payload
    fields = {"sighted_at": utc(p["at"]), "sighting_source": p["source"], "risk_score": p.get("score", 0),
              "suggested_tag": p.get("suggested_tag", "")}
    if p.get("movement"):
        fields["last_movement"] = p["movement"]
    return Upsert(**_base(event), set=fields,  # type: ignore[arg-type]
                  set_on_insert={"street_id": event.street_id, "credit_code": p["credit_code"],
                                 "name": p.get("name", ""), "address": p.get("address", ""),
                                 "period_date": local_date(p["at"])},
                  inc={"sightings": 1})


def _tagged(event: Event) -> Upsert:
    p = event.payload
    return Upsert(**_base(event), set={"tag": p["tag"], "tag_reason": p["reason"], "tagged_at": utc(p["at"]),  # type: ignore[arg-type]
                                       "tagged_by": p["by"]},
                  set_on_insert={"street_id": event.street_id, "credit_code": p["credit_code"]})


def _plan(event: Event) -> Upsert:
    p = event.payload
    return Upsert(**_base(event), set={"plan_measures": "；".join(p["measures"]),  # type: ignore[arg-type]
                                       "plan_responsible_person_id": p["responsible_person_id"],
                                       "plan_leader_person_id": p["leader_person_id"],
                                       "plan_deadline": utc(p["deadline"])},
                  set_on_insert={"street_id": event.street_id, "credit_code": p["credit_code"]})


def _cross_street(event: Event) -> Upsert:
    p = event.payload
    return Upsert(**_base(event), set={"cross_street_id": p["other_street_id"]},  # type: ignore[arg-type]
                  set_on_insert={"street_id": event.street_id, "credit_code": p["credit_code"]})


def _profile(event: Event) -> Upsert:
    p = event.payload
    return Upsert(
        collection=COLLECTION, doc_id=row_id(event.street_id, p["credit_code"]), stream_id=event.stream_id,
        version=event.stream_version,
        set={"street_id": event.street_id, "community_id": p["community_id"], "credit_code": p["credit_code"],
             "name": p["name"], "address": p.get("address", ""), "registered_capital_yuan": p["registered_capital_yuan"],
             "tax_scale": p["tax_scale"], "business_scope": p["business_scope"], "premises": p["premises"],
             "moved_in_on": p.get("moved_in_on"), "moved_out_on": p.get("moved_out_on"),
             "profile_record_id": p["record_id"], "period_date": p.get("moved_in_on") or local_date(event.recorded_at)},
    )


def _derive(doc: dict[str, object]) -> dict[str, object]:
    tag = doc.get("tag") or ""
    return {"status": tag or "untagged", "tag_label": TAG_LABELS.get(str(tag), "未挂牌")}


ENTERPRISES = SpecLedger(
    key="risk-enterprises", title="风险企业管控台账", collection=COLLECTION,
    columns_spec=(
        C("credit_code", "统一社会信用代码", 22), C("street_id", "街道", 12), C("community_id", "社区", 12),
        C("name", "企业名称", 28), C("address", "经营地址", 28), C("tag_label", "红黄绿挂牌", 10),
        C("tag_reason", "挂牌理由", 30), C("registered_capital_yuan", "注册资本（元）", 16),
        C("tax_scale_label", "纳税规模", 14), C("business_scope", "经营范围", 36), C("premises_label", "经营场所", 12),
        C("moved_in_on", "迁入日期", 12), C("moved_out_on", "迁出日期", 12), C("last_movement_label", "最近异动", 10),
        C("risk_score", "风险评分", 8), C("sightings", "出现次数", 8), C("cross_street_id", "跨街道提示", 12),
        C("plan_measures", "一企一策措施", 40), C("plan_responsible_person_id", "化解责任人", 14),
        C("plan_leader_person_id", "主管领导", 14), C("plan_deadline", "化解期限", 22),
    ),
    planners={"enterprise.sighted": _sighted, "enterprise.risk_tagged": _tagged, "enterprise.plan_set": _plan,
              "enterprise.cross_street_flagged": _cross_street, "enterprise_profile.recorded": _profile},
    status_field="tag", statuses=TAG_LABELS,
    labels={"tax_scale_label": ("tax_scale", TAX_SCALES), "premises_label": ("premises", PREMISES_KINDS),
            "last_movement_label": ("last_movement", MOVEMENTS)},
    derive=_derive,
)

"""Events owned by the intake service (topic `intake.events`).

Reporter identity (举报人身份) never appears in an event: a clue names its reporter only by a
pseudonymous `reporter_id`; the identity itself is sealed in intake's own collections (see
services/intake/vault.py and docs/adr/0006-no-reporter-identity-on-the-bus.md). Who read or erased
an identity, when and why is recorded as events of the stream `reporter-<reporter_id>`, which are
hash-chained like every stream and never updated or deleted (audit trail, PIPL art. 56)."""

from marshmallow import RAISE, Schema, fields, validate

from ..vocab import CLUE_CATEGORIES, CLUE_SOURCES
from .fields import code, ident, instant, text
from .registry import REGISTRY

# Approved reasons to read a reporter's identity (anything else is refused with 403).
IDENTITY_READ_REASONS: dict[str, str] = {
    "reward_payout": "发放举报奖励",
    "verification_callback": "核查回访举报人",
    "judicial_request": "司法机关依法调取",
    "reporter_request": "举报人本人申请查询或更正",
}

# Approved reasons to erase a reporter's identity (crypto-shredding).
ERASURE_REASONS: dict[str, str] = {
    "reporter_request": "举报人本人申请删除",
    "retention_expired": "保存期限届满",
    "collected_in_error": "误采集",
}


class ClueReportedV1(Schema):
    """A clue (线索) entered the platform. Carries no reporter identity, only `reporter_id`, a
    pseudonym that is empty for an anonymous report (optional: added by the access-control issue).
    `reported_by` is the person who entered it (the token's subject)."""

    class Meta:
        unknown = RAISE

    clue_id = ident()
    community_id = ident()
    category = code(CLUE_CATEGORIES)
    source = code(CLUE_SOURCES)
    title = text(100)
    description = text(4000)
    subject_name = text(200, required=False)
    credit_code = text(18, required=False)
    address = text(300, required=False)
    found_at = instant()
    reported_by = ident(required=False)
    reporter_id = ident(required=False)


class IdentityReadV1(Schema):
    """Someone read a reporter's identity (审计：查阅举报人身份). Recorded before the identity is
    returned, so there is no read without its audit record. `disclosed` is false when the
    identity had been erased and only a tombstone was shown."""

    class Meta:
        unknown = RAISE

    reporter_id = ident()
    clue_id = ident()
    reason = code(IDENTITY_READ_REASONS)
    reference = ident(required=False)  # e.g. the reward approval or court order number
    reader_role = ident()
    disclosed = fields.Boolean(required=True, truthy={True}, falsy={False})


class IdentityErasedV1(Schema):
    """A reporter's identity was erased: its data key was destroyed (crypto-shredding). The sealed
    data left anywhere can no longer be opened; this event and the clue stay."""

    class Meta:
        unknown = RAISE

    reporter_id = ident()
    clue_id = ident()
    reason = code(ERASURE_REASONS)
    reference = ident(required=False)


REGISTRY.register("clue.reported", ClueReportedV1, description="线索已上报 a clue was reported")
REGISTRY.register("audit.identity_read", IdentityReadV1, description="举报人身份被查阅 a reporter's identity was read")
REGISTRY.register("reporter.identity_erased", IdentityErasedV1,
                  description="举报人身份已删除 a reporter's identity was erased (crypto-shredding)")


# -- typed ledger records (台账记录) ----------------------------------------------------------------
# What an office enters that is not a clue: each type feeds one of the ten ledgers (十个工作台账).
# A record lives in its own stream `<kind>-<record_id>` (kind = the part of the type before the
# dot, `_` → ``); a later event of the same stream is a progress update of the same record and
# replaces its fields. Coded values are the contract; their Chinese labels live here with them.

SUPERVISION_RESULTS: dict[str, str] = {
    "normal": "未发现异常", "risk_found": "发现风险", "rectify": "责令整改", "reported": "已上报",
}
INTERNET_FINANCE_KINDS: dict[str, str] = {
    "p2p": "网络借贷", "crowdfunding": "股权众筹", "online_asset_management": "互联网资产管理",
    "third_party_payment": "第三方支付", "virtual_currency": "虚拟货币", "cross_sector": "跨界金融", "other": "其他",
}
INTERNET_FINANCE_STATUSES: dict[str, str] = {
    "pending": "待整治", "rectifying": "整治中", "rectified": "已整改", "exited": "已退出", "transferred": "已移交",
}
PUBLICITY_FORMS: dict[str, str] = {
    "lecture": "讲座", "street_stall": "摆摊宣传", "door_to_door": "入户宣传", "banner": "横幅标语",
    "screen": "电子屏", "online": "网络新媒体", "meeting": "会议", "other": "其他",
}
PUBLICITY_MATERIALS: dict[str, str] = {
    "leaflet": "宣传单", "poster": "海报", "banner": "横幅", "open_letter": "公开信", "contact_card": "联系卡",
    "brochure": "宣传册", "video": "视频", "other": "其他",
}
AD_MEDIA: dict[str, str] = {
    "outdoor": "户外广告", "leaflet": "传单", "online": "网络", "newspaper": "报刊", "broadcast": "广播电视",
    "other": "其他",
}
AD_STATUSES: dict[str, str] = {"found": "已发现", "cleaned": "已清理", "transferred": "已移交"}
ASSET_STAGES: dict[str, str] = {
    "identified": "资产查明", "frozen": "查封冻结", "appraised": "评估", "auctioned": "拍卖变现",
    "distributed": "清退分配", "closed": "处置完毕",
}
PETITION_FORMS: dict[str, str] = {
    "visit": "来访", "group_visit": "集体访", "letter": "来信", "phone": "来电", "online": "网上信访",
}
PETITION_STATUSES: dict[str, str] = {
    "received": "已受理", "handling": "办理中", "resolved": "已化解", "closed": "已办结",
}
INCIDENT_KINDS: dict[str, str] = {
    "gathering": "聚集", "group_petition": "集体上访", "extreme": "极端行为", "public_opinion": "舆情",
    "other": "其他",
}
INCIDENT_STATUSES: dict[str, str] = {"handling": "处置中", "resolved": "已平息"}
CASE_STAGES: dict[str, str] = {
    "investigating": "侦查", "prosecution": "审查起诉", "trial": "审判", "judged": "已判决",
    "enforcement": "执行", "closed": "结案",
}
TAX_SCALES: dict[str, str] = {"small": "小规模纳税人", "general": "一般纳税人", "none": "未登记纳税"}
PREMISES_KINDS: dict[str, str] = {"owned": "自有", "leased": "租赁", "shared": "共用/挂靠", "none": "无固定场所"}
TEN_ONES: dict[str, str] = {
    "organisation": "一个打击非法集资组织", "publicity_series": "一系列宣传教育", "liaison": "一名联络员",
    "volunteers": "一批志愿者", "contact_card": "一张联系卡", "open_letter": "一封公开信",
    "pledges": "一批责任书", "ledgers": "一系列登记台账", "monitoring_point": "一个监测点",
    "mechanism": "一套防控机制",
}


def _count(max_value: int = 10_000_000) -> fields.Integer:
    return fields.Integer(required=False, strict=True, load_default=0,
                          validate=validate.Range(min=0, max=max_value))


def _yuan() -> fields.Integer:
    """An amount in whole yuan (integers: sums are exact, exports show what was entered)."""
    return fields.Integer(required=False, strict=True, load_default=0,
                          validate=validate.Range(min=0, max=10 ** 13))


def _date(required: bool = True) -> fields.Date:
    if required:
        return fields.Date(required=True)
    return fields.Date(required=False, load_default=None, allow_none=True)


class _Record(Schema):
    class Meta:
        unknown = RAISE

    community_id = ident()


class SupervisionVisitBody(_Record):
    """日常监管: one visit to a business or place (清楼扫街) by grid staff or an office."""

    visited_on = _date()
    subject_name = text(200)
    credit_code = text(18, required=False)
    address = text(300, required=False)
    sector = text(50, required=False)
    inspector = text(50)
    findings = text(2000, required=False)
    result = code(SUPERVISION_RESULTS)
    measures = text(1000, required=False)


class InternetFinanceItemBody(_Record):
    """互联网金融风险整治: one platform or item under rectification, with its current state."""

    platform_name = text(200)
    credit_code = text(18, required=False)
    business_kind = code(INTERNET_FINANCE_KINDS)
    problem = text(2000)
    measures = text(1000, required=False)
    status = code(INTERNET_FINANCE_STATUSES)
    found_on = _date()
    deadline_on = _date(required=False)
    lead_unit = text(100, required=False)


class MaterialV1(Schema):
    class Meta:
        unknown = RAISE

    kind = code(PUBLICITY_MATERIALS)
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=10_000_000))


class PublicityActivityBody(_Record):
    """非法集资宣传: one activity, how many people it reached and what was handed out."""

    held_on = _date()
    theme = text(200)
    form = code(PUBLICITY_FORMS)
    venue = text(200, required=False)
    audience_count = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=10_000_000))
    materials = fields.List(fields.Nested(MaterialV1), load_default=list, validate=validate.Length(max=20))
    organizer = text(100, required=False)


class AdCleanupBody(_Record):
    """违法广告清理: an illegal (fundraising) advertisement found, and what became of it."""

    found_on = _date()
    medium = code(AD_MEDIA)
    content = text(1000)
    advertiser = text(200, required=False)
    location = text(300, required=False)
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=1_000_000))
    status = code(AD_STATUSES)
    cleaned_on = _date(required=False)


class AssetDisposalBody(_Record):
    """资产处置进展: the state of one case's asset disposal; each update replaces the last."""

    case_name = text(200)
    case_ref = text(64, required=False)
    assets = text(1000)
    seized_yuan = _yuan()
    disposed_yuan = _yuan()
    returned_yuan = _yuan()
    stage = code(ASSET_STAGES)
    progress = text(2000, required=False)
    reported_on = _date()


class PetitionBody(_Record):
    """信访工作: one petition; `key_case` / `key_petitioner` put it on the stability-control list
    (重点案件、重点上访人员稳控台账). Petitioners are counted, never named."""

    received_on = _date()
    form = code(PETITION_FORMS)
    petitioner_count = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100_000))
    case_name = text(200, required=False)
    demand = text(2000)
    handling = text(2000, required=False)
    status = code(PETITION_STATUSES)
    key_case = fields.Boolean(load_default=False)
    key_petitioner = fields.Boolean(load_default=False)
    stabilization = text(1000, required=False)
    responsible_person_id = ident(required=False)


class EmergencyPlanBody(_Record):
    """突发事件处置预案: a plan, its responsible person and its last drill."""

    title = text(200)
    scope = text(1000)
    drafted_on = _date()
    drilled_on = _date(required=False)
    responsible_person_id = ident(required=False)


class EmergencyIncidentBody(_Record):
    """突发事件: an incident handled under a plan (gatherings, group petitions…)."""

    title = text(200)
    occurred_on = _date()
    kind = code(INCIDENT_KINDS)
    participants = _count()
    response = text(2000, required=False)
    status = code(INCIDENT_STATUSES)


class CaseProgressBody(_Record):
    """案件办理进展: where a case stands with the police, prosecutors and courts. `case_id`
    links it to the platform's case when there is one; `cross_province` puts it on the
    跨省案件（风险）办理情况登记统计表."""

    case_name = text(200)
    case_ref = text(64, required=False)
    case_id = ident(required=False)
    filed_on = _date()
    lead_agency = text(100)
    amount_yuan = _yuan()
    participants = _count()
    stage = code(CASE_STAGES)
    progress = text(2000, required=False)
    cross_province = fields.Boolean(load_default=False)
    provinces = text(200, required=False)
    reported_on = _date()


class EnterpriseProfileBody(_Record):
    """风险企业的基本情况 for the risk-enterprise ledger: capital, tax scale, scope, premises and
    move-in/move-out dates (异动). The red/yellow/green tag and the plan come from escalation."""

    credit_code = text(18)
    name = text(200)
    registered_capital_yuan = _yuan()
    tax_scale = code(TAX_SCALES)
    business_scope = text(1000)
    premises = code(PREMISES_KINDS)
    address = text(300, required=False)
    moved_in_on = _date(required=False)
    moved_out_on = _date(required=False)


class TenOnesItemBody(_Record):
    """十个一: one of a community's ten items toward 无非法集资社区 was completed."""

    item = code(TEN_ONES)
    completed_on = _date()
    evidence = text(1000, required=False)


def _record_event(body: type[Schema]) -> type[Schema]:
    """The event schema of a record type: its body plus the record id and who entered it."""
    return type(body.__name__.replace("Body", "RecordedV1"), (body,), {
        "record_id": ident(), "recorded_by": ident(required=False), "__doc__": body.__doc__,
    })


# event type → (HTTP kind, body schema, description); the HTTP kind names /api/records/<kind>
RECORD_TYPES: dict[str, tuple[str, type[Schema], str]] = {
    "supervision.visit_recorded": ("supervision", SupervisionVisitBody, "日常监管记录 a supervision visit"),
    "internet_finance.item_recorded": ("internet-finance", InternetFinanceItemBody,
                                       "互联网金融整治事项 an internet-finance rectification item"),
    "publicity.activity_recorded": ("publicity", PublicityActivityBody, "宣传活动 a publicity activity"),
    "ad_cleanup.recorded": ("ad-cleanup", AdCleanupBody, "违法广告清理 an illegal ad cleanup"),
    "asset_disposal.progress_recorded": ("asset-disposal", AssetDisposalBody, "资产处置进展 asset disposal progress"),
    "petition.recorded": ("petition", PetitionBody, "信访 a petition"),
    "emergency.plan_recorded": ("emergency-plan", EmergencyPlanBody, "突发事件处置预案 an emergency plan"),
    "emergency.incident_recorded": ("emergency-incident", EmergencyIncidentBody, "突发事件 an incident"),
    "case_progress.recorded": ("case-progress", CaseProgressBody, "案件办理进展 case progress"),
    "enterprise_profile.recorded": ("enterprise-profile", EnterpriseProfileBody,
                                    "企业基本情况 a risk enterprise's profile"),
    "ten_ones.item_recorded": ("ten-ones", TenOnesItemBody, "十个一 a community's item was completed"),
}
RECORD_KINDS: dict[str, str] = {kind: type_ for type_, (kind, _, _) in RECORD_TYPES.items()}


def record_stream(event_type: str, record_id: str) -> str:
    """`supervision-<id>`, `internetfinance-<id>`…: one stream per record."""
    return event_type.split(".")[0].replace("_", "") + "-" + record_id


for _type, (_kind, _body, _description) in RECORD_TYPES.items():
    REGISTRY.register(_type, _record_event(_body), description=_description)

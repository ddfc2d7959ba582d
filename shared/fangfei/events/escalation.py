"""Events owned by the escalation service (topic `escalation.events`).

Streams: `case-<case_id>` (the case workflow and its SLA clocks), `obligation-<street>:<id>` and
`obligations-<street>:<unit>` (report cadences), `campaign-<street>:<id>`, and
`enterprise-<street>.<credit code>` (risk enterprises). Every transition records who (`by`),
when (`at`, an instant in Asia/Shanghai) and why (`reason`); `at` is the instant the rule uses,
so folding the log gives the same deadlines and verdicts however late it is read.

The coded values are the contract (their Chinese labels live with the escalation service's
domain vocabulary, kept equal by a test there).
"""

from marshmallow import RAISE, Schema, fields, validate

from .fields import code, ident, instant, text
from .registry import REGISTRY

LEVELS = [1, 2, 3, 4]  # grid levels 1–3, 4 = district office (区处非办)
CASE_STATUSES = ("reported", "triage", "level2_review", "level1_review", "district", "joint_meeting", "disposal", "closed")
SLA_RULES = ("registration", "triage", "level2_review", "level1_review", "district_review", "joint_meeting",
             "rectification", "enterprise_plan")
# the member-unit codes of fangfei.vocab.MEMBER_UNIT_KINDS where they overlap, plus the 处非办
AGENCIES = ("police_station", "market_regulation", "district_office", "tax_office", "public_service_office",
            "urban_management_office", "public_security_office", "finance_office", "other")
DISPOSALS = ("interview", "rectification_order", "pledge", "administrative", "transfer_police", "joint_review")
OUTCOMES = ("resolved", "unfounded", "rectified", "transferred", "disposed", "merged")
OBLIGATION_KINDS = ("weekly", "monthly", "sweep", "campaign")
RISK_TAGS = ("red", "yellow", "green")
BREACH_CONSEQUENCES = ("escalated", "recorded")


def level(required: bool = True) -> fields.Integer:
    """A level; optional ones default to 0 (none), which must then also read back as valid."""
    if required:
        return fields.Integer(required=True, strict=True, validate=validate.OneOf(LEVELS))
    return fields.Integer(required=False, strict=True, load_default=0, validate=validate.OneOf([0, *LEVELS]))


def optional_instant() -> fields.String:
    """An instant or empty (e.g. no next deadline): ISO text, validated where it is produced."""
    return fields.String(required=False, load_default="", validate=validate.Length(max=40))


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class CaseOpenedV1(_Strict):
    """A case was opened for a clue and routed to a grid chief, with its 4-hour registration deadline.

    `assignee_person_id` is empty when the grid is vacant; `routing_note` then says where it went."""

    case_id = ident()
    clue_id = ident()
    community_id = ident()
    grid_id = ident(required=False)
    level = fields.Integer(required=True, strict=True, validate=validate.OneOf([1, 2, 3, 4]))
    assignee_person_id = ident(required=False)
    found_at = instant()
    register_deadline = instant()
    routing_note = text(300, required=False)


class CaseReroutedV1(_Strict):
    """A case that was opened before its community reached escalation's roster copy (routed to the
    district office, nobody named: 「不在名册中」) was routed again once the roster arrived. Only a
    case still waiting for registration is re-routed; its deadline is unchanged (from when the
    clue was found)."""

    case_id = ident()
    from_level = fields.Integer(required=True, strict=True, validate=validate.OneOf([1, 2, 3, 4]))
    level = fields.Integer(required=True, strict=True, validate=validate.OneOf([1, 2, 3, 4]))
    grid_id = ident(required=False)
    assignee_person_id = ident(required=False)
    routing_note = text(300, required=False)
    at = instant()


class RiskHitV1(_Strict):
    indicator = ident()
    label = text(100)
    weight = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100))
    field = text(20)
    evidence = text(60)
    feature = text(20, required=False)


class CaseRiskScreenedV1(_Strict):
    """The clue was screened against the indicator list: explainable score, suggested tag."""

    case_id = ident()
    score = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=100))
    suggested_tag = code(RISK_TAGS)
    hits = fields.List(fields.Nested(RiskHitV1), required=True, validate=validate.Length(max=50))
    features = fields.List(text(20), required=True, validate=validate.Length(max=4))
    indicators_version = text(40, required=False)
    credit_code = text(18, required=False)  # normalised; only when its check digit is right
    credit_code_status = code(("valid", "invalid", "absent"))


class _Transition(_Strict):
    """Fields every workflow step carries: the case, who, when, why, and the clock that follows.

    `rule`/`deadline`/`clock_no` describe the SLA clock started by this step (empty rule: none);
    `last_minute` marks a step taken in the last 10% of the window before its deadline."""

    case_id = ident()
    at = instant()
    by = ident(required=False)  # empty: the system (an automatic step)
    reason = text(500, required=False)
    rule = fields.String(required=False, load_default="", validate=validate.OneOf(("",) + SLA_RULES))
    deadline = optional_instant()
    clock_no = fields.Integer(required=False, strict=True, load_default=0, validate=validate.Range(min=0))
    last_minute = fields.Boolean(required=False, load_default=False)


class CaseRegisteredV1(_Transition):
    """The clue was registered (登记); `late` if after the 4-hour deadline (补登记 included)."""

    level = level()
    late = fields.Boolean(required=True)
    seconds_since_found = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))


class CaseEscalatedV1(_Transition):
    """The case went up (稳控并上报 / 上报上级), by a person or automatically after a breach."""

    automatic = fields.Boolean(required=True)
    from_level = level()
    to_level = level()
    grid_id = ident(required=False)
    assignee_person_id = ident(required=False)
    stabilization = text(500, required=False)  # 稳控措施, required from level 3
    routing_note = text(300, required=False)


class CaseBouncedBackV1(_Transition):
    """The case was returned (退回) one level down; `bounced_person_id` is whose escalation was
    returned (counted for the quantitative assessment)."""

    from_level = level()
    to_level = level()
    grid_id = ident(required=False)
    assignee_person_id = ident(required=False)
    bounced_person_id = ident(required=False)


class CaseMarkedAbnormalV1(_Transition):
    """Level 1 found the case abnormal (异常): reported up and, at the same time, to the agencies."""

    agencies = fields.List(code(AGENCIES), required=True, validate=validate.Length(min=1, max=9))


class CaseAgencyNotifiedV1(_Transition):
    """A parallel report (同时报告) to one agency: police, market regulation, the 处非办…"""

    agency = code(AGENCIES)


class CaseAgencyRespondedV1(_Transition):
    agency = code(AGENCIES)
    response = text(1000)


class CaseJointMeetingConvenedV1(_Transition):
    """A joint meeting (联席会议) for a cross-area or cross-department case."""

    departments = fields.List(code(AGENCIES), required=True, validate=validate.Length(min=1, max=9))
    return_status = code(CASE_STATUSES)


class CaseJointMeetingConcludedV1(_Transition):
    decision = text(1000)
    lead_department = code(AGENCIES)
    return_status = code(CASE_STATUSES)


class CaseDisposalDecidedV1(_Transition):
    """A disposal decision (处置决定) of one class; a rectification order carries its own deadline
    in working days, a joint review (会商研判) may carry a public warning (预警提示)."""

    disposal = code(DISPOSALS)
    working_days = fields.Integer(required=False, strict=True, load_default=0, validate=validate.Range(min=0, max=90))
    public_warning = text(1000, required=False)
    credit_code = text(18, required=False)


class CaseRectificationCompletedV1(_Transition):
    on_time = fields.Boolean(required=True)


class CaseClosedV1(_Transition):
    """The case was closed (办结) with an outcome."""

    outcome = code(OUTCOMES)
    level = level()


class CaseClockPausedV1(_Transition):
    """The running clock was paused while the case waits on another agency."""

    paused_rule = code(SLA_RULES)
    paused_clock_no = fields.Integer(required=True, strict=True)
    waiting_on = code(AGENCIES)


class CaseClockResumedV1(_Transition):
    resumed_rule = code(SLA_RULES)
    resumed_clock_no = fields.Integer(required=True, strict=True)
    paused_seconds = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))


class CaseDeadlineExtendedV1(_Transition):
    """An extension asked before the deadline and granted; `extension_no` counts them per clock
    (a second one is a "repeated extension" in the assessment)."""

    extended_rule = code(SLA_RULES)
    extended_clock_no = fields.Integer(required=True, strict=True)
    extension_no = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    hours = fields.Integer(required=False, strict=True, load_default=0, validate=validate.Range(min=0, max=720))
    working_days = fields.Integer(required=False, strict=True, load_default=0, validate=validate.Range(min=0, max=90))
    previous_deadline = instant()


class CaseLeaderAssignedV1(_Transition):
    """领导包案: a leader takes personal charge of an old or hard case."""

    leader_person_id = ident()


class CaseSupervisionListedV1(_Transition):
    """挂牌督办: the case is listed for supervision by a unit, optionally with a target date."""

    supervisor = text(100)
    target_date = optional_instant()


class SlaWarnedV1(_Strict):
    """75% of a clock's time has run: the person responsible now is warned."""

    subject_kind = code(("case", "enterprise"))
    subject_id = ident()
    rule = code(SLA_RULES)
    clock_no = fields.Integer(required=True, strict=True)
    level = level(required=False)
    deadline = instant()
    warn_at = instant()
    responsible_person_id = ident(required=False)
    grid_id = ident(required=False)
    # why nobody (or not the plain post holder) is named, in Chinese; empty when the rule named its
    # person plainly (added later: older events read back with "")
    responsibility_note = text(120, required=False)


class SlaBreachedV1(_Strict):
    """A deadline passed: attributed to the person who held the case at the deadline (for a plan,
    its responsible person); empty, with `responsibility_note` 「该时点无人负责…」, when nobody did.
    `consequence` says whether the case was escalated one level up (once per clock); a step taken
    after the deadline that ends the clock records the breach itself, with "recorded"."""

    subject_kind = code(("case", "enterprise"))
    subject_id = ident()
    rule = code(SLA_RULES)
    clock_no = fields.Integer(required=True, strict=True)
    level = level(required=False)
    deadline = instant()
    responsible_person_id = ident(required=False)
    grid_id = ident(required=False)
    consequence = code(BREACH_CONSEQUENCES)
    # why nobody (or not the plain post holder) is named, in Chinese; empty when the rule named its
    # person plainly (added later: older events read back with "")
    responsibility_note = text(120, required=False)


class ObligationTrackingStartedV1(_Strict):
    """From `since` on, the report obligations of this unit (a community, or the street) are tracked."""

    unit_id = ident()
    unit_kind = code(("community", "street"))
    since = instant()


class ObligationSubmittedV1(_Strict):
    obligation_id = text(160)
    kind = code(OBLIGATION_KINDS)
    unit_id = ident()
    period = text(80)
    due_at = instant()
    at = instant()
    by = ident()
    on_time = fields.Boolean(required=True)
    responsible_person_id = ident(required=False)
    summary = text(4000, required=False)
    # why nobody (or not the plain post holder) is named, in Chinese; empty when the rule named its
    # person plainly (added later: older events read back with "")
    responsibility_note = text(120, required=False)


class ObligationMissedV1(_Strict):
    """The deadline passed with nothing submitted (应上报未上报), attributed at the deadline: a
    community's report to its liaison (联络员), else its level-2 chief, else the street's level-1
    chief (`responsibility_note` says which fallback); recorded by the scanner, or by a late
    submission that came first (then in the same commit, just before `obligation.submitted`)."""

    obligation_id = text(160)
    kind = code(OBLIGATION_KINDS)
    unit_id = ident()
    period = text(80)
    due_at = instant()
    responsible_person_id = ident(required=False)
    grid_id = ident(required=False)
    # why nobody (or not the plain post holder) is named, in Chinese; empty when the rule named its
    # person plainly (added later: older events read back with "")
    responsibility_note = text(120, required=False)


class ObligationReminderDueV1(_Strict):
    """The deadline is near (within the configured lead time) and nothing is submitted yet: remind
    the person responsible at `at` (due_at minus the lead, or when tracking started if later).
    Recorded at most once per obligation, before its deadline; `title` is the report's Chinese
    name so a consumer needs no copy of the cadence calendar to say what is due."""

    obligation_id = text(160)
    kind = code(OBLIGATION_KINDS)
    unit_id = ident()
    period = text(80)
    title = text(220)
    due_at = instant()
    at = instant()
    lead_hours = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=24 * 30))
    responsible_person_id = ident(required=False)
    grid_id = ident(required=False)
    # why nobody (or not the plain post holder) is named, in Chinese; empty when the rule named its
    # person plainly (added later: older events read back with "")
    responsibility_note = text(120, required=False)


class CampaignPhaseV1(_Strict):
    phase_id = ident()
    name = text(100)
    due_at = instant()


class CampaignDefinedV1(_Strict):
    """A campaign (专项行动) with phase deadlines; each listed community owes a report per phase."""

    campaign_id = ident()
    name = text(100)
    phases = fields.List(fields.Nested(CampaignPhaseV1), required=True, validate=validate.Length(min=1, max=20))
    community_ids = fields.List(ident(), required=True, validate=validate.Length(max=500))
    at = instant()
    by = ident()


class EnterpriseSightedV1(_Strict):
    """An enterprise (by credit code) came up in this street: from a clue, or registered by hand
    (异动登记: moved in or out)."""

    credit_code = text(18)
    name = text(200, required=False)
    address = text(300, required=False)
    source = code(("clue", "manual"))
    clue_id = ident(required=False)
    case_id = ident(required=False)
    score = fields.Integer(required=False, strict=True, load_default=0, validate=validate.Range(min=0, max=100))
    suggested_tag = fields.String(required=False, load_default="", validate=validate.OneOf(("",) + RISK_TAGS))
    movement = fields.String(required=False, load_default="", validate=validate.OneOf(("", "moved_in", "moved_out")))
    at = instant()
    by = ident(required=False)


class EnterpriseCrossStreetFlaggedV1(_Strict):
    """The same credit code was reported in another street too (跨街道风险提示)."""

    credit_code = text(18)
    other_street_id = ident()
    at = instant()


class EnterpriseRiskTaggedV1(_Strict):
    """红黄绿挂牌: the enterprise's risk tag, set by a person."""

    credit_code = text(18)
    tag = code(RISK_TAGS)
    reason = text(500)
    at = instant()
    by = ident()


class EnterprisePlanSetV1(_Strict):
    """一企一策: the one current plan for the enterprise (a new one replaces it)."""

    credit_code = text(18)
    measures = fields.List(text(300), required=True, validate=validate.Length(min=1, max=20))
    responsible_person_id = ident()
    leader_person_id = ident()
    deadline = instant()
    at = instant()
    by = ident()


_CASE = [
    ("case.opened", CaseOpenedV1, "案件已立并分派 a case was opened and routed"),
    ("case.rerouted", CaseReroutedV1, "已重新分派 re-routed once the roster named its community"),
    ("case.risk_screened", CaseRiskScreenedV1, "风险筛查完成 the clue was screened for risk"),
    ("case.registered", CaseRegisteredV1, "已登记 the clue was registered"),
    ("case.escalated", CaseEscalatedV1, "已上报上级 the case went one level up"),
    ("case.bounced_back", CaseBouncedBackV1, "已退回 the case was returned one level down"),
    ("case.marked_abnormal", CaseMarkedAbnormalV1, "标记异常 level 1 found the case abnormal"),
    ("case.agency_notified", CaseAgencyNotifiedV1, "已同时报告职能部门 an agency was notified"),
    ("case.agency_responded", CaseAgencyRespondedV1, "部门已反馈 an agency responded"),
    ("case.joint_meeting_convened", CaseJointMeetingConvenedV1, "召开联席会议 a joint meeting was convened"),
    ("case.joint_meeting_concluded", CaseJointMeetingConcludedV1, "联席会议已裁决 the joint meeting decided"),
    ("case.disposal_decided", CaseDisposalDecidedV1, "作出处置决定 a disposal was decided"),
    ("case.rectification_completed", CaseRectificationCompletedV1, "整改完成 rectification was completed"),
    ("case.closed", CaseClosedV1, "已办结 the case was closed with an outcome"),
    ("case.clock_paused", CaseClockPausedV1, "暂停计时 the SLA clock was paused"),
    ("case.clock_resumed", CaseClockResumedV1, "恢复计时 the SLA clock was resumed"),
    ("case.deadline_extended", CaseDeadlineExtendedV1, "已延期 a deadline was extended"),
    ("case.leader_assigned", CaseLeaderAssignedV1, "领导包案 a leader took charge"),
    ("case.supervision_listed", CaseSupervisionListedV1, "挂牌督办 the case was listed for supervision"),
    ("sla.warned", SlaWarnedV1, "临期预警 75% of a deadline has run"),
    ("sla.breached", SlaBreachedV1, "已超时 a deadline was breached"),
    ("obligation.tracking_started", ObligationTrackingStartedV1, "开始跟踪报送义务 report obligations tracked"),
    ("obligation.submitted", ObligationSubmittedV1, "已报送 a periodic report was submitted"),
    ("obligation.missed", ObligationMissedV1, "逾期未报 a periodic report was missed"),
    ("obligation.reminder_due", ObligationReminderDueV1, "报送临期提醒 a report is due soon and not yet submitted"),
    ("campaign.defined", CampaignDefinedV1, "专项行动已设定 a campaign with phase deadlines"),
    ("enterprise.sighted", EnterpriseSightedV1, "企业已登记/出现 an enterprise came up in a street"),
    ("enterprise.cross_street_flagged", EnterpriseCrossStreetFlaggedV1, "跨街道提示 same credit code in another street"),
    ("enterprise.risk_tagged", EnterpriseRiskTaggedV1, "红黄绿挂牌 the enterprise was tagged"),
    ("enterprise.plan_set", EnterprisePlanSetV1, "一企一策 the enterprise's plan was set"),
]

for _name, _schema, _description in _CASE:
    REGISTRY.register(_name, _schema, description=_description)

"""HTTP request schemas of escalation. Unknown fields are refused; every string has a length cap.

Who acts and in which street come from the caller's token, never from the body (docs/security.md,
S3): no schema has `by` or `actor`; case actions have no `street_id` (the case's own street is
checked against the token); other commands take an optional `street_id` that a street-bound caller
may only set to its own street and a district-wide caller must set (service.py, `_command_street`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from fangfei.events.escalation import AGENCIES, DISPOSALS, OBLIGATION_KINDS, OUTCOMES, RISK_TAGS
from fangfei.events.fields import code, ident, instant, text

SHORT_ID = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$", error="须为1–32位字母、数字、-或_")


class DateOrInstant(fields.Field):
    """`2026-03-20` (the whole day: until 24:00) or an instant with its offset."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date | datetime:
        if not isinstance(value, str) or len(value) > 40:
            raise ValidationError("须为日期（YYYY-MM-DD）或带时区的时间")
        try:
            if len(value) == 10:
                return date.fromisoformat(value)
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValidationError("须为日期（YYYY-MM-DD）或带时区的时间") from exc
        if parsed.tzinfo is None:
            raise ValidationError("时间须带时区，例如 +08:00")
        return parsed


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class ActionRequest(_Strict):
    reason = text(500, required=False)


class RegisterRequest(ActionRequest):
    pass


class EscalateRequest(ActionRequest):
    stabilization = text(500, required=False)


class BounceBackRequest(ActionRequest):
    pass


class MarkAbnormalRequest(ActionRequest):
    agencies = fields.List(code(AGENCIES), load_default=list, validate=validate.Length(max=9))
    stabilization = text(500, required=False)


class AgencyResponseRequest(ActionRequest):
    agency = code(AGENCIES)
    response = text(1000)


class JointMeetingRequest(ActionRequest):
    departments = fields.List(code(AGENCIES), required=True, validate=validate.Length(min=1, max=9))


class JointMeetingDecisionRequest(ActionRequest):
    decision = text(1000)
    lead_department = code(AGENCIES)


class DisposalRequest(ActionRequest):
    disposal = code(DISPOSALS)
    working_days = fields.Integer(strict=True, load_default=None, validate=validate.Range(min=1, max=90))
    public_warning = text(1000, required=False)
    credit_code = text(18, required=False)


class RectificationCompletedRequest(ActionRequest):
    pass


class CloseRequest(ActionRequest):
    outcome = code(OUTCOMES)


class PauseRequest(ActionRequest):
    waiting_on = code(AGENCIES)


class ResumeRequest(ActionRequest):
    pass


class ExtensionRequest(ActionRequest):
    hours = fields.Integer(strict=True, load_default=0, validate=validate.Range(min=0, max=720))
    working_days = fields.Integer(strict=True, load_default=0, validate=validate.Range(min=0, max=90))


class LeaderRequest(ActionRequest):
    leader_person_id = ident()


class SupervisionRequest(ActionRequest):
    supervisor = text(100)
    target_date = instant(required=False, load_default=None)


# URL segment → (domain action, schema)
ACTIONS: dict[str, tuple[str, type[ActionRequest]]] = {
    "register": ("register", RegisterRequest),
    "escalate": ("escalate", EscalateRequest),
    "bounce-back": ("bounce_back", BounceBackRequest),
    "mark-abnormal": ("mark_abnormal", MarkAbnormalRequest),
    "agency-response": ("record_agency_response", AgencyResponseRequest),
    "joint-meeting": ("convene_joint_meeting", JointMeetingRequest),
    "joint-meeting-decision": ("conclude_joint_meeting", JointMeetingDecisionRequest),
    "disposal": ("decide_disposal", DisposalRequest),
    "rectification-completed": ("complete_rectification", RectificationCompletedRequest),
    "close": ("close", CloseRequest),
    "pause": ("pause", PauseRequest),
    "resume": ("resume", ResumeRequest),
    "extension": ("extend", ExtensionRequest),
    "leader": ("assign_leader", LeaderRequest),
    "supervision": ("list_supervision", SupervisionRequest),
}


class SubmitObligationRequest(_Strict):
    street_id = ident(required=False)
    summary = text(4000, required=False)


class PhaseRequest(_Strict):
    phase_id = fields.String(required=True, validate=SHORT_ID)
    name = text(100)
    due_at = DateOrInstant(required=True)


class CampaignRequest(_Strict):
    street_id = ident(required=False)
    campaign_id = fields.String(required=True, validate=SHORT_ID)
    name = text(100)
    phases = fields.List(fields.Nested(PhaseRequest), required=True, validate=validate.Length(min=1, max=20))
    community_ids = fields.List(ident(), load_default=list, validate=validate.Length(max=500))


class EnterpriseRequest(_Strict):
    """异动登记: an enterprise moved in or out, or was found by a sweep rather than a clue."""

    street_id = ident(required=False)
    credit_code = text(30)
    name = text(200, required=False)
    address = text(300, required=False)
    movement = fields.String(load_default="", validate=validate.OneOf(["", "moved_in", "moved_out"]))


class TagRequest(_Strict):
    street_id = ident(required=False)
    tag = code(RISK_TAGS)
    reason = text(500)


class PlanRequest(_Strict):
    street_id = ident(required=False)
    measures = fields.List(text(300), required=True, validate=validate.Length(min=1, max=20))
    responsible_person_id = ident()
    leader_person_id = ident()
    deadline = DateOrInstant(required=True)


class ScreenRequest(_Strict):
    subject_name = text(200, required=False)
    title = text(100, required=False)
    description = text(4000, required=False)
    address = text(300, required=False)
    credit_code = text(30, required=False)


class CaseListQuery(_Strict):
    street_id = ident(required=False)
    community_id = ident(required=False)
    status = fields.String(load_default=None)
    level = fields.Integer(load_default=None, validate=validate.OneOf([1, 2, 3, 4]))
    overdue = fields.Boolean(load_default=None)
    open = fields.Boolean(load_default=None)


class ObligationQuery(_Strict):
    street_id = ident(required=False)
    start = fields.Date(data_key="from", required=True)
    end = fields.Date(data_key="to", required=True)
    unit_id = ident(required=False)
    kind = fields.String(load_default=None, validate=validate.OneOf(OBLIGATION_KINDS))


class StreetQuery(_Strict):
    street_id = ident(required=False)


class EnterpriseListQuery(_Strict):
    street_id = ident(required=False)
    tag = fields.String(load_default=None, validate=validate.OneOf(RISK_TAGS))
    cross_street = fields.Boolean(load_default=None)

"""HTTP request schemas of intake. Unknown fields are refused; every string has a length cap;
phone, ID and credit-code formats are checked with their check digits.

What a clue may carry is an approved allow-list (PIPL art. 6, minimal collection: P1), kept in
docs/security.md and checked by a test: the street and the reporting person come from the token,
never from the body, and no field sets a status (S3, mass assignment)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from fangfei.auth.formats import CreditCode, Phone, ResidentId
from fangfei.events.fields import code, ident, instant, text
from fangfei.events.intake import RECORD_TYPES
from fangfei.vocab import CLUE_CATEGORIES, CLUE_SOURCES

# A clue "found" further in the future than this is a typing error, not clock skew.
FUTURE_TOLERANCE = timedelta(minutes=5)
NOT_IN_FUTURE = "不能晚于当前时间"


class ReporterIdentityRequest(Schema):
    """举报人身份: optional, for a reporter who gives their name (rewards, call-backs). Sealed in
    intake's vault; only a pseudonymous reporter id travels with the clue."""

    class Meta:
        unknown = RAISE

    name = fields.String(validate=validate.Length(min=1, max=50))
    phone = Phone(validate=validate.Length(max=24))
    id_number = ResidentId(validate=validate.Length(max=18))

    @validates_schema
    def _something(self, data: dict[str, Any], **kwargs: object) -> None:
        if not data:
            raise ValidationError("至少填写姓名、电话、身份证号之一；匿名举报请不填 reporter", "reporter")
        if "name" in data and not data["name"].strip():
            raise ValidationError("不能为空白", "name")


class ReportClueRequest(Schema):
    """线索上报: what a grid worker or an office enters for one clue. Street and reporter-of-record
    come from the token."""

    class Meta:
        unknown = RAISE

    community_id = ident()
    category = code(CLUE_CATEGORIES)
    source = code(CLUE_SOURCES)
    title = text(100)
    description = text(4000)
    subject_name = text(200, required=False)
    credit_code = CreditCode(load_default="", validate=validate.Length(max=18))
    address = text(300, required=False)
    found_at = instant()
    reporter = fields.Nested(ReporterIdentityRequest)

    def __init__(self, *args: Any, now: datetime | None = None, **kwargs: Any) -> None:
        """`now`: the service's clock. Given it, a discovery time in the future is refused together
        with every other bad field, not on a second try once those are fixed (the handler checks
        it again for callers that load without it)."""
        super().__init__(*args, **kwargs)
        self.now = now

    @validates_schema(skip_on_field_errors=False)  # reported with the other fields' errors, all at once
    def _strip(self, data: dict, **kwargs: object) -> None:
        blank = {key: ["不能为空白"] for key in ("title", "description") if key in data and not str(data[key]).strip()}
        if blank:
            raise ValidationError(blank)

    @validates_schema(skip_on_field_errors=False)
    def _not_in_future(self, data: dict, **kwargs: object) -> None:
        found = data.get("found_at")
        if self.now is None or not isinstance(found, datetime):  # no clock given, or the time itself is bad
            return
        if found > self.now + FUTURE_TOLERANCE:
            raise ValidationError(NOT_IN_FUTURE, "found_at")


class ReasonRequest(Schema):
    """Why a reporter's identity is read or erased. The reason is checked against the approved
    list by the endpoint (403 if it is missing or not approved), so it is only a bounded string here."""

    class Meta:
        unknown = RAISE

    reason = fields.String(validate=validate.Length(max=64))
    reference = ident(required=False)


# -- typed ledger records (台账记录) --------------------------------------------------------------
def _record_request(body: type[Schema]) -> type[Schema]:
    """What an office enters for one record: the record's fields, plus an optional `record_id`
    to update a record entered before. Street and who entered it come from the token."""
    return type(body.__name__.replace("Body", "Request"), (body,), {"record_id": ident(required=False)})


# HTTP kind (/api/records/<kind>) → (event type, request schema)
RECORD_REQUESTS: dict[str, tuple[str, type[Schema]]] = {
    kind: (event_type, _record_request(body)) for event_type, (kind, body, _) in RECORD_TYPES.items()
}

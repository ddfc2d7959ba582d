"""HTTP schemas of roster. Unknown parameters and fields are refused; ids are checked like event ids;
instants must carry their offset; codes are those of fangfei.vocab."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from fangfei.events.fields import code, ident, instant
from fangfei.events.roster import ASSIGNABLE_ROLES
from fangfei.field_labels import label_of
from fangfei.vocab import INDUSTRY_SECTORS, LEADING_GROUP_POSITIONS, MEMBER_UNIT_KINDS, ROSTER_LISTS

from .cells import PHONE_RULE, normalize_phone


def _plain_text(value: str) -> None:
    """Names end up in exported spreadsheets, where a leading = + - @ would run as a formula."""
    if value.startswith(("=", "+", "-", "@")):
        raise ValidationError("不能以 = + - @ 开头")


def plain_name(max_len: int, required: bool = True) -> fields.String:
    if required:
        return fields.String(required=True, validate=[validate.Length(min=1, max=max_len), _plain_text])
    return fields.String(load_default="", validate=[validate.Length(max=max_len), _plain_text])


class Phone(fields.String):
    """A mobile, landline or 400/800 number (services/roster/cells.py), loaded in its stored form."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not text:
            return ""
        try:
            return normalize_phone(text)
        except ValueError:
            raise ValidationError(f"「{text}」无效：{PHONE_RULE}") from None


def phone() -> fields.String:
    return Phone(load_default="")


def optional_code(choices: list[str]) -> fields.String:
    return fields.String(load_default="", validate=validate.OneOf(["", *choices]))


class Strict(Schema):
    """Rules over the whole body (`@validates_schema`) run even when a field failed, so one answer
    reports every mistake (issue 13); a field that failed is absent from `data`, so a rule reading
    it returns early. Their messages name fields by their Chinese label, as the field errors do."""

    class Meta:
        unknown = RAISE

    def _label(self, name: str) -> str:
        return label_of(name, [c.__name__ for c in type(self).__mro__])


class TreeQuery(Strict):
    """网格树: `at` picks whose chiefs and staff are shown (default: now)."""

    at = instant(required=False)


class RouteQuery(Strict):
    """线索流转: who handles a clue of this community at `at` (default: now)."""

    street_id = ident()
    community_id = ident()
    grid_id = ident(required=False)
    at = instant(required=False)


class ResponsibleQuery(Strict):
    """谁负责: by place (community and/or grid), by industry sector, or both, at `at`."""

    community_id = ident(required=False)
    grid_id = ident(required=False)
    sector = optional_code(list(INDUSTRY_SECTORS))
    at = instant(required=False)

    @validates_schema(skip_on_field_errors=False)
    def _something(self, data: dict[str, Any], **_: Any) -> None:
        asked = ("community_id", "grid_id", "sector")
        if any(name not in data for name in asked):  # given but refused: something was asked
            return
        if not any(data[name] for name in asked):
            raise ValidationError(f"须给出{'、'.join(map(self._label, asked[:2]))}或{self._label('sector')}（至少一项）",
                                  "community_id")


class ImportQuery(Strict):
    """名册导入: `street_id` limits the import to one street (a row of another is refused); `list`
    names the list when the header alone does not say. Who imports is the token's person: there is
    no `actor` parameter (S3: nothing the caller types decides who did it or which street it is)."""

    street_id = ident(required=False)
    list_kind = fields.String(data_key="list", load_default="", validate=validate.OneOf(["", *ROSTER_LISTS]))


class ExportQuery(Strict):
    """名册导出: which list, as CSV or XLSX; `at` keeps only what held then (default: the history)."""

    list_kind = fields.String(data_key="list", load_default="street", validate=validate.OneOf(list(ROSTER_LISTS)))
    format = fields.String(load_default="csv", validate=validate.OneOf(["csv", "xlsx"]))
    at = instant(required=False)
    community_id = ident(required=False)


class NoQuery(Strict):
    """A change takes no query parameters: an `?actor=` or `?street_id=` is refused, not obeyed."""


class AssignChiefRequest(Strict):
    """任命网格长: from `valid_from` on; `name` (and `phone`) register a person not yet on the roster."""

    person_id = ident()
    valid_from = instant()
    name = plain_name(50, required=False)
    phone = phone()


class VacancyRequest(Strict):
    valid_from = instant()


class RegisterUnitRequest(Strict):
    unit_id = ident()
    name = plain_name(100)
    kind = code(MEMBER_UNIT_KINDS)
    sectors = fields.List(code(INDUSTRY_SECTORS), load_default=None, validate=validate.Length(max=len(INDUSTRY_SECTORS)))
    sectors_from = instant(required=False)
    is_office = fields.Boolean(load_default=False)

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _dated(self, data: dict[str, Any], original: dict[str, Any], **_: Any) -> None:
        """Sectors given (even bad ones) need their date; a date given but refused is its own error."""
        if original.get("sectors") is None or "sectors_from" in original:
            return
        raise ValidationError(f"给出{self._label('sectors')}时须给出{self._label('sectors_from')}", "sectors_from")


class SectorsRequest(Strict):
    sectors = fields.List(code(INDUSTRY_SECTORS), required=True, validate=validate.Length(max=len(INDUSTRY_SECTORS)))
    valid_from = instant()


class _Place(Strict):
    role = code(ASSIGNABLE_ROLES)
    community_id = ident(required=False)
    grid_id = ident(required=False)
    unit_id = ident(required=False)
    position = optional_code(list(LEADING_GROUP_POSITIONS))


class RoleRequest(_Place):
    """任职: a role at a place from `valid_from`; `name` (and `phone`) register a new person."""

    title = plain_name(100, required=False)
    valid_from = instant()
    valid_until = instant(required=False)
    name = plain_name(50, required=False)
    phone = phone()

    @validates_schema(skip_on_field_errors=False)
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if "valid_from" not in data or data.get("valid_until") is None:  # refused or open-ended
            return
        if data["valid_until"] <= data["valid_from"]:
            raise ValidationError(f"{self._label('valid_until')}须晚于{self._label('valid_from')}", "valid_until")


class EndRoleRequest(_Place):
    valid_until = instant()


class GroupRequest(Strict):
    name = plain_name(100, required=False)
    office_unit_id = ident(required=False)

    @validates_schema(skip_on_field_errors=False)
    def _something(self, data: dict[str, Any], **_: Any) -> None:
        given = ("name", "office_unit_id")
        if any(name not in data for name in given):  # given but refused: there is something to change
            return
        if not any(data[name] for name in given):
            raise ValidationError(f"须给出{self._label('name')}或{self._label('office_unit_id')}", "name")

"""Property-based tests over intake's HTTP schemas (S6): whatever a client sends, a schema either
refuses it with field messages or returns exactly the approved fields, each within its bounds;
valid reports always pass and come out normalised."""

from __future__ import annotations

import string
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st
from marshmallow import ValidationError

from fangfei.auth.formats import credit_check_char, id_check_char, is_credit_code, is_resident_id
from fangfei.vocab import CLUE_CATEGORIES, CLUE_SOURCES
from services.intake.schemas import ReasonRequest, ReportClueRequest, ReporterIdentityRequest

from .support import valid_clue

CAPS = {"title": 100, "description": 4000, "subject_name": 200, "address": 300, "credit_code": 18}
FIELDS = set(ReportClueRequest().fields)

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=300))
json_value = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.text(max_size=20), inner, max_size=4), max_leaves=12)
ids = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.:-]{0,20}\Z")
mobiles = st.from_regex(r"\A1[3-9][0-9]{9}\Z")


@st.composite
def resident_ids(draw: Any) -> str:
    region = draw(st.from_regex(r"\A99[0-9]{4}\Z"))  # 99: no such province, so never a real person's
    birth = draw(st.dates(min_value=__import__("datetime").date(1920, 1, 1),
                          max_value=__import__("datetime").date(2010, 12, 31)))
    seq = draw(st.from_regex(r"\A[0-9]{3}\Z"))
    first17 = f"{region}{birth:%Y%m%d}{seq}"
    return first17 + id_check_char(first17)


@st.composite
def credit_codes(draw: Any) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    head = draw(st.text(alphabet, min_size=2, max_size=2))
    division = draw(st.text("0123456789", min_size=6, max_size=6))
    org = draw(st.text(alphabet, min_size=9, max_size=9))
    first17 = head + division + org
    return first17 + credit_check_char(first17)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(sorted(FIELDS | {"street_id", "status", "x"})), json_value, max_size=6))
def test_any_body_is_refused_cleanly_or_loaded_within_bounds(over: dict[str, Any]) -> None:
    body = valid_clue(**over)
    try:
        loaded = ReportClueRequest().load(body)
    except ValidationError as exc:
        assert exc.messages_dict and set(exc.messages_dict) <= set(body) | {"_schema", "reporter"}
        return
    assert set(loaded) <= FIELDS
    for name, cap in CAPS.items():
        assert len(loaded.get(name, "")) <= cap
    assert loaded["category"] in CLUE_CATEGORIES and loaded["source"] in CLUE_SOURCES
    assert loaded["found_at"].tzinfo is not None


@settings(max_examples=100)
@given(
    title=st.text(min_size=1, max_size=100).filter(str.strip),
    description=st.text(min_size=1, max_size=600).filter(str.strip),
    category=st.sampled_from(sorted(CLUE_CATEGORIES)),
    source=st.sampled_from(sorted(CLUE_SOURCES)),
    community=ids,
    credit=st.one_of(st.just(""), credit_codes()),
    phone=mobiles,
    id_number=resident_ids(),
    dash=st.booleans(),
)
def test_every_valid_report_loads_and_is_normalised(title: str, description: str, category: str, source: str,
                                                    community: str, credit: str, phone: str, id_number: str,
                                                    dash: bool) -> None:
    typed_phone = f"{phone[:3]}-{phone[3:7]}-{phone[7:]}" if dash else phone
    body = valid_clue(title=title, description=description, category=category, source=source,
                      community_id=community, credit_code=credit.lower(),
                      reporter={"name": "测试举报人", "phone": typed_phone, "id_number": id_number.lower()})
    loaded = ReportClueRequest().load(body)
    assert loaded["reporter"] == {"name": "测试举报人", "phone": phone, "id_number": id_number}
    assert loaded["credit_code"] == credit


@settings(max_examples=150)
@given(st.dictionaries(st.sampled_from(["name", "phone", "id_number", "email", "address"]), json_value, max_size=4))
def test_reporter_identity_takes_only_name_phone_and_id(body: dict[str, Any]) -> None:
    try:
        loaded = ReporterIdentityRequest().load(body)
    except ValidationError:
        return
    assert set(loaded) <= {"name", "phone", "id_number"} and loaded
    if "phone" in loaded:
        assert loaded["phone"].isdigit()
    if "id_number" in loaded:
        assert is_resident_id(loaded["id_number"])


@settings(max_examples=100)
@given(st.dictionaries(st.text(max_size=10), json_value, max_size=3))
def test_reason_requests_are_bounded(body: dict[str, Any]) -> None:
    try:
        loaded = ReasonRequest().load(body)
    except ValidationError:
        return
    assert len(loaded.get("reason", "")) <= 64


# -- check digits -----------------------------------------------------------------------------------
@given(resident_ids(), st.integers(0, 17), st.sampled_from(string.digits + "X"))
def test_a_resident_id_with_any_single_character_changed_is_refused(valid: str, pos: int, ch: str) -> None:
    assert is_resident_id(valid)
    changed = valid[:pos] + ch + valid[pos + 1:]
    if changed != valid:
        assert not is_resident_id(changed)


@given(credit_codes(), st.integers(0, 17), st.sampled_from("0123456789ABCDEFGHJKLMNPQRTUWXY"))
def test_a_credit_code_with_any_single_character_changed_is_refused(valid: str, pos: int, ch: str) -> None:
    assert is_credit_code(valid)
    changed = valid[:pos] + ch + valid[pos + 1:]
    if changed != valid:
        assert not is_credit_code(changed)

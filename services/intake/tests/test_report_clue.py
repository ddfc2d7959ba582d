"""Intake: what a person reporting a clue sees, through the real HTTP entrypoint code (routed
in-process, with real tokens)."""

from __future__ import annotations

import pytest

from .support import Intake, valid_clue


@pytest.fixture
def intake() -> Intake:
    return Intake()


def test_valid_clue_is_recorded_in_the_tokens_street_by_the_tokens_person(intake: Intake) -> None:
    status, body = intake.post("/api/clues", valid_clue(), person="wg-magang-01")
    assert status == 201
    events = intake.store.events.read_stream(f"clue-{body['clue_id']}")
    assert [e.type for e in events] == ["clue.reported"]
    assert events[0].street_id == "longgang"  # from the token: the body cannot name a street
    assert events[0].actor == "wg-magang-01" and events[0].payload["reported_by"] == "wg-magang-01"
    assert events[0].payload["title"] == "某公司承诺年化18%回报"
    assert events[0].payload["reporter_id"] == ""  # anonymous: no reporter pseudonym either


def test_retry_with_same_idempotency_key_records_once(intake: Intake) -> None:
    first = intake.post("/api/clues", valid_clue(), headers={"Idempotency-Key": "phone-42-0001"})
    second = intake.post("/api/clues", valid_clue(), headers={"Idempotency-Key": "phone-42-0001"})
    assert (first[0], second[0]) == (201, 200)
    assert first[1]["clue_id"] == second[1]["clue_id"]
    assert intake.store.events.head_position() == 1


def test_the_same_idempotency_key_from_another_person_is_another_clue(intake: Intake) -> None:
    a = intake.post("/api/clues", valid_clue(), headers={"Idempotency-Key": "k-1"}, person="wg-01")
    b = intake.post("/api/clues", valid_clue(), headers={"Idempotency-Key": "k-1"}, person="wg-02")
    assert (a[0], b[0]) == (201, 201) and a[1]["clue_id"] != b[1]["clue_id"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({k: v for k, v in valid_clue().items() if k != "title"}, "title"),
        (valid_clue(category=3), "category"),
        (valid_clue(category="lottery"), "category"),
        (valid_clue(status="closed"), "status"),
        (valid_clue(street_id="pingshan"), "street_id"),
        (valid_clue(reported_by="someone-else"), "reported_by"),
        (valid_clue(found_at="2026-03-14T09:30:00"), "found_at"),
        (valid_clue(title="x" * 101), "title"),
        (valid_clue(found_at="2026-03-15T09:30:00+08:00"), "found_at"),
        (valid_clue(credit_code="91350100M000100Y44"), "credit_code"),
        (valid_clue(reporter={"phone": "12345"}), "reporter"),
        (valid_clue(reporter={"id_number": "990101199001010010"}), "reporter"),
        (valid_clue(reporter={}), "reporter"),
    ],
    ids=["missing", "wrong-type", "unknown-code", "sets-status", "sets-street", "sets-reporter-of-record",
         "naive-time", "too-long", "future", "credit-check-digit", "bad-phone", "id-check-digit", "empty-reporter"],
)
def test_bad_input_is_refused_with_the_field_named_and_nothing_recorded(intake: Intake, body, field) -> None:
    status, answer = intake.post("/api/clues", body)
    assert status == 400
    assert field in answer["error"]["details"]
    assert intake.store.events.head_position() == 0


def test_a_valid_credit_code_is_kept_in_its_normal_form(intake: Intake) -> None:
    status, body = intake.post("/api/clues", valid_clue(credit_code="91350100m000100y43"))
    assert status == 201
    assert intake.store.events.read_stream(f"clue-{body['clue_id']}")[0].payload["credit_code"] == "91350100M000100Y43"


def test_oversize_body_is_refused_before_it_is_read(intake: Intake) -> None:
    status, _ = intake.post("/api/clues", raw=b"{" + b" " * (10 * 1024 * 1024) + b"}")
    assert status == 413
    assert intake.store.events.head_position() == 0


@pytest.mark.parametrize("raw", [b"not json", b"[" * 50000, b"[" * 990 + b"]" * 990, b'{"n": ' + b"9" * 5000 + b"}",
                                 b"\xff\xfe", b'{"title": "\\ud800"}', b'{"title": "a\\u0000b"}'],
                         ids=["text", "deep-nesting", "nested-990", "huge-number", "bad-utf8", "lone-surrogate", "nul"])
def test_non_json_body_is_refused_with_a_400(intake: Intake, raw: bytes) -> None:
    assert intake.post("/api/clues", raw=raw)[0] == 400


def test_a_grid_worker_reports_only_in_their_own_community(intake: Intake) -> None:
    status, body = intake.post("/api/clues", valid_clue(community_id="luogang"), community="magang")
    assert (status, body["error"]["code"]) == (403, "community_out_of_scope")
    assert intake.store.events.head_position() == 0


def test_a_street_office_reports_for_any_community_of_its_street(intake: Intake) -> None:
    assert intake.post("/api/clues", valid_clue(community_id="luogang"), role="street_office")[0] == 201


@pytest.mark.parametrize("role", ["district_office", "auditor", "ops", "member_unit"])
def test_roles_without_a_street_of_their_own_cannot_report(intake: Intake, role: str) -> None:
    assert intake.post("/api/clues", valid_clue(), role=role)[0] == 403
    assert intake.store.events.head_position() == 0


def test_a_clue_is_readable_in_scope_and_invisible_outside_it(intake: Intake) -> None:
    clue_id = intake.report()["clue_id"]
    path = f"/api/clues/{clue_id}"
    assert intake.get(path)[0] == 200
    assert intake.get(path, role="street_office")[0] == 200
    assert intake.get(path, role="district_office")[0] == 200
    assert intake.get(path, community="luogang")[0] == 404  # another community of the same street
    assert intake.get(path, role="street_office", street="pingshan")[0] == 404  # another street
    assert intake.get(path, role="member_unit")[0] == 403
    assert intake.get(path, role=None)[0] == 401


def test_a_clue_shows_only_its_allowed_fields(intake: Intake) -> None:
    clue_id = intake.report()["clue_id"]
    _, body = intake.get(f"/api/clues/{clue_id}", role="auditor")
    assert set(body) == {"clue_id", "street_id", "version", "clue", "events"}
    assert set(body["clue"]) == {
        "clue_id", "community_id", "category", "source", "title", "description", "subject_name", "credit_code",
        "address", "found_at", "reported_by", "reporter_id",
    }

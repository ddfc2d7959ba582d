"""Reporter protection (举报人保护, P1, P2, P4, A2): a named reporter's identity is sealed apart from
the clue, read only by an office that may, with an approved reason and an audit record, and can be
erased for good while the clue and the hash chain stay."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fangfei.eventstore.store import verify_chains
from services.intake.schemas import ReportClueRequest, ReporterIdentityRequest
from services.intake.vault import IDENTITIES, KEYS

from .support import REPORTER, SYNTHETIC_ID, Intake, valid_clue

READ = {"reason": "reward_payout", "reference": "JL-2026-031"}
PHONE_DIGITS = "137-0000-9001".replace("-", "")  # the synthetic reporter's phone as it is stored
CLEAR_TEXT = ("测试举报人甲", PHONE_DIGITS, "137-0000-9001", SYNTHETIC_ID)

# P1: what a clue may carry, as approved (docs/security.md, "Minimal collection").
APPROVED_CLUE_FIELDS = {
    "community_id", "category", "source", "title", "description", "subject_name", "credit_code", "address",
    "found_at", "reporter",
}
APPROVED_REPORTER_FIELDS = {"name", "phone", "id_number"}


@pytest.fixture
def intake() -> Intake:
    return Intake()


@pytest.fixture
def reported(intake: Intake) -> dict[str, Any]:
    return intake.report(reporter=REPORTER)


def dump_everything(intake: Intake) -> str:
    """Every document of every collection of intake's database, as text (escaped and not)."""
    db = intake.store.db
    docs = [doc for name in db.list_collection_names() for doc in db[name].find({})]
    text = json.dumps(docs, ensure_ascii=False, default=str)
    return text + json.dumps(docs, default=str)


def test_the_intake_schema_collects_only_the_approved_fields() -> None:
    assert set(ReportClueRequest().fields) == APPROVED_CLUE_FIELDS
    assert set(ReporterIdentityRequest().fields) == APPROVED_REPORTER_FIELDS


def test_the_clue_carries_a_pseudonym_and_nothing_stored_holds_the_identity_in_clear(
    intake: Intake, reported: dict[str, Any]
) -> None:
    event = intake.store.events.read_stream(f"clue-{reported['clue_id']}")[0]
    assert event.payload["reporter_id"] == reported["reporter_id"] != ""
    assert "reporter" not in event.payload
    everything = dump_everything(intake)
    assert reported["reporter_id"] in everything  # the search itself works …
    for text in CLEAR_TEXT:
        assert text not in everything  # … and finds no name, phone or ID number
    assert intake.store.db[IDENTITIES].count_documents({}) == 1
    assert intake.store.db[KEYS].count_documents({}) == 1


def test_a_street_office_with_an_approved_reason_reads_it_and_an_audit_record_is_made(
    intake: Intake, reported: dict[str, Any]
) -> None:
    rid = reported["reporter_id"]
    status, body = intake.post(f"/api/reporters/{rid}/identity", READ, role="street_office", person="jd-office-01")
    assert status == 200, body
    assert body["identity"] == {"name": "测试举报人甲", "phone": PHONE_DIGITS, "id_number": SYNTHETIC_ID}
    audit = intake.store.events.read_stream(f"reporter-{rid}")
    assert [e.type for e in audit] == ["audit.identity_read"]
    assert audit[0].actor == "jd-office-01" and audit[0].event_id == body["audit_event_id"]
    assert audit[0].payload["reason"] == "reward_payout" and audit[0].payload["disclosed"] is True
    for text in CLEAR_TEXT:
        assert text not in json.dumps(audit[0].as_dict(), ensure_ascii=False)


@pytest.mark.parametrize("body", [{}, {"reason": "curiosity"}, {"reason": ""}], ids=["none", "unapproved", "empty"])
def test_no_approved_reason_no_identity_and_nothing_recorded(intake: Intake, reported: dict[str, Any], body) -> None:
    rid = reported["reporter_id"]
    status, answer = intake.post(f"/api/reporters/{rid}/identity", body, role="street_office")
    assert (status, answer["error"]["code"]) == (403, "reason_not_approved")
    assert intake.store.events.read_stream(f"reporter-{rid}") == []


@pytest.mark.parametrize("role, token_kw, status", [
    ("grid_staff", {}, 403), ("community_office", {}, 403), ("auditor", {}, 403), ("member_unit", {}, 403),
    ("ops", {}, 403), ("street_office", {"street": "pingshan"}, 404), ("district_office", {}, 200),
])
def test_only_the_offices_that_may_read_an_identity_can(
    intake: Intake, reported: dict[str, Any], role: str, token_kw: dict[str, str], status: int
) -> None:
    rid = reported["reporter_id"]
    assert intake.post(f"/api/reporters/{rid}/identity", READ, role=role, **token_kw)[0] == status
    assert len(intake.store.events.read_stream(f"reporter-{rid}")) == (1 if status == 200 else 0)


def test_erasure_leaves_a_tombstone_the_clue_and_a_verifying_chain(intake: Intake, reported: dict[str, Any]) -> None:
    rid = reported["reporter_id"]
    intake.post(f"/api/reporters/{rid}/identity", READ, role="street_office")
    status, body = intake.post(f"/api/reporters/{rid}/erasure", {"reason": "reporter_request"}, role="district_office")
    assert (status, body["erased"]) == (200, True)
    assert intake.store.db[KEYS].count_documents({}) == 0  # the data key is gone: crypto-shredded

    status, body = intake.post(f"/api/reporters/{rid}/identity", READ, role="street_office")
    assert status == 200 and body["status"] == "erased"
    assert set(body["identity"].values()) == {"［已删除］"}
    assert intake.get(f"/api/clues/{reported['clue_id']}")[0] == 200  # the clue stays
    trail = [e.type for e in intake.store.events.read_stream(f"reporter-{rid}")]
    assert trail == ["audit.identity_read", "reporter.identity_erased", "audit.identity_read"]
    assert intake.store.events.read_stream(f"reporter-{rid}")[-1].payload["disclosed"] is False
    assert verify_chains(intake.store.db).ok

    again = intake.post(f"/api/reporters/{rid}/erasure", {"reason": "reporter_request"}, role="district_office")
    assert again[1]["erased"] is False
    assert len(intake.store.events.read_stream(f"reporter-{rid}")) == 3  # recorded once


def test_the_sealed_identity_does_not_open_on_another_record(intake: Intake) -> None:
    a = intake.report(reporter=REPORTER)["reporter_id"]
    b = intake.report(reporter={"name": "测试举报人乙"})["reporter_id"]
    col = intake.store.db[IDENTITIES]
    sealed_a = col.find_one({"_id": a})["sealed"]
    col.update_one({"_id": b}, {"$set": {"sealed": sealed_a}})  # someone with database access swaps blobs
    status, body = intake.post(f"/api/reporters/{b}/identity", READ, role="street_office")
    assert status == 200 and body["status"] == "unreadable"  # never shown as a's identity


def test_an_erasure_needs_an_approved_reason(intake: Intake, reported: dict[str, Any]) -> None:
    rid = reported["reporter_id"]
    assert intake.post(f"/api/reporters/{rid}/erasure", {"reason": "tidy-up"}, role="district_office")[0] == 403
    assert intake.store.db[KEYS].count_documents({}) == 1


def test_the_audit_trail_is_readable_by_the_auditor_and_has_no_route_that_changes_it(
    intake: Intake, reported: dict[str, Any]
) -> None:
    rid = reported["reporter_id"]
    intake.post(f"/api/reporters/{rid}/identity", READ, role="district_office", person="qu-office-01")
    status, body = intake.get(f"/api/reporters/{rid}/audit", role="auditor")
    assert status == 200
    assert [(r["type"], r["actor"], r["reason_label"]) for r in body["records"]] == [
        ("audit.identity_read", "qu-office-01", "发放举报奖励")]
    for method in ("PUT", "PATCH", "DELETE"):
        assert intake.client.open(f"/api/reporters/{rid}/audit", method=method,
                                  headers=intake.headers("district_office")).status_code == 405


def test_an_anonymous_report_has_no_reporter(intake: Intake) -> None:
    body = intake.report()
    assert body["reporter_id"] == ""
    assert intake.store.db[IDENTITIES].count_documents({}) == 0


def test_without_a_master_key_an_identified_report_is_refused_not_stored_bare(intake: Intake) -> None:
    intake.svc.vault._master._active = "missing"  # a deployment whose key directory lacks data/
    intake.svc.vault._master.reload = lambda: None  # type: ignore[method-assign]
    status, body = intake.post("/api/clues", valid_clue(reporter=REPORTER))
    assert (status, body["error"]["code"]) == (503, "vault_unavailable")
    assert intake.store.events.head_position() == 0
    assert intake.post("/api/clues", valid_clue())[0] == 201  # anonymous reports still work

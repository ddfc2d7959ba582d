"""Typed ledger records (日常监管、宣传、信访…) entered through intake: validated like clues,
recorded as events in the token's street, updated by a later version of the same record."""

from __future__ import annotations

import pytest

from .support import Intake

PUBLICITY = {"community_id": "magang", "held_on": "2026-03-14", "theme": "守住钱袋子·护好幸福家", "form": "lecture",
             "audience_count": 60, "materials": [{"kind": "leaflet", "quantity": 200}]}


@pytest.fixture
def intake() -> Intake:
    return Intake()


def test_a_publicity_activity_is_recorded_in_the_tokens_street(intake: Intake) -> None:
    status, body = intake.post("/api/records/publicity", PUBLICITY, person="wg-magang-01")
    assert status == 201 and body["created"] is True
    events = intake.store.events.read_stream(f"publicity-{body['record_id']}")
    assert [e.type for e in events] == ["publicity.activity_recorded"]
    assert events[0].street_id == "longgang" and events[0].payload["recorded_by"] == "wg-magang-01"
    assert events[0].payload["materials"] == [{"kind": "leaflet", "quantity": 200}]


def test_the_same_record_id_appends_a_progress_update(intake: Intake) -> None:
    body = {"community_id": "magang", "case_name": "某案（虚构）", "assets": "房产一处", "stage": "frozen",
            "reported_on": "2026-03-14"}
    _, first = intake.post("/api/records/asset-disposal", body)
    status, second = intake.post("/api/records/asset-disposal", {**body, "stage": "auctioned",
                                                                 "record_id": first["record_id"]})
    assert status == 200 and second["version"] == 2 and second["created"] is False


@pytest.mark.parametrize("body, field", [
    ({**PUBLICITY, "audience_count": -1}, "audience_count"),
    ({**PUBLICITY, "form": "parade"}, "form"),
    ({**PUBLICITY, "street_id": "pingshan"}, "street_id"),
    ({k: v for k, v in PUBLICITY.items() if k != "theme"}, "theme"),
    ({**PUBLICITY, "materials": [{"kind": "leaflet", "quantity": 0}]}, "materials"),
])
def test_bad_records_are_refused_with_the_field_named(intake: Intake, body, field) -> None:
    status, answer = intake.post("/api/records/publicity", body)
    assert status == 400 and field in answer["error"]["details"]
    assert intake.store.events.head_position() == 0


def test_grid_staff_cannot_record_for_another_community_or_update_its_records(intake: Intake) -> None:
    status, _ = intake.post("/api/records/publicity", {**PUBLICITY, "community_id": "bantian"})
    assert status == 403
    _, mine = intake.post("/api/records/publicity", {**PUBLICITY, "community_id": "bantian"}, role="street_office")
    status, _ = intake.post("/api/records/publicity", {**PUBLICITY, "record_id": mine["record_id"]})
    assert status in (400, 404)


def test_unknown_record_kind_is_404(intake: Intake) -> None:
    assert intake.post("/api/records/lottery", PUBLICITY)[0] == 404

"""Intake: what a person reporting a clue sees, through the real HTTP entrypoint code."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from nameko.testing.services import worker_factory
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from fangfei.clock import FrozenClock
from fangfei.testing.stores import memory_store
from services.intake.service import IntakeService

NOW = datetime(2026, 3, 14, 2, 0, tzinfo=timezone.utc)


def valid_clue(**over: object) -> dict:
    body = {
        "street_id": "longgang",
        "community_id": "magang",
        "category": "illegal_finance",
        "source": "grid_patrol",
        "title": "某公司承诺年化18%回报",
        "description": "网格员巡查发现门店宣传保本高息理财产品。",
        "found_at": "2026-03-14T09:30:00+08:00",
    }
    body.update(over)
    return body


def post(service: IntakeService, body: object, headers: dict | None = None, raw: bytes | None = None):
    data = raw if raw is not None else json.dumps(body).encode()
    builder = EnvironBuilder(method="POST", path="/api/clues", data=data, headers=headers or {},
                             content_type="application/json")
    return service.report_clue(Request(builder.get_environ()))


@pytest.fixture
def service() -> IntakeService:
    svc = worker_factory(IntakeService, store=memory_store("intake"))
    svc.clock = FrozenClock(NOW)
    return svc


def test_valid_clue_is_recorded_and_readable(service: IntakeService) -> None:
    resp = post(service, valid_clue())
    assert resp.status_code == 201
    clue_id = json.loads(resp.get_data())["clue_id"]
    events = service.store.events.read_stream(f"clue-{clue_id}")
    assert [e.type for e in events] == ["clue.reported"]
    assert events[0].street_id == "longgang"
    assert events[0].payload["title"] == "某公司承诺年化18%回报"


def test_retry_with_same_idempotency_key_records_once(service: IntakeService) -> None:
    first = post(service, valid_clue(), {"Idempotency-Key": "phone-42-0001"})
    second = post(service, valid_clue(), {"Idempotency-Key": "phone-42-0001"})
    assert (first.status_code, second.status_code) == (201, 200)
    assert json.loads(first.get_data())["clue_id"] == json.loads(second.get_data())["clue_id"]
    assert service.store.events.head_position() == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({k: v for k, v in valid_clue().items() if k != "title"}, "title"),
        (valid_clue(category=3), "category"),
        (valid_clue(category="lottery"), "category"),
        (valid_clue(status="closed"), "status"),
        (valid_clue(found_at="2026-03-14T09:30:00"), "found_at"),
        (valid_clue(title="x" * 101), "title"),
        (valid_clue(found_at="2026-03-15T09:30:00+08:00"), "found_at"),
    ],
    ids=["missing", "wrong-type", "unknown-code", "unknown-field", "naive-time", "too-long", "future"],
)
def test_bad_input_is_refused_with_the_field_named_and_nothing_recorded(service, body, field) -> None:
    resp = post(service, body)
    assert resp.status_code == 400
    assert field in json.loads(resp.get_data())["error"]["details"]
    assert service.store.events.head_position() == 0


def test_oversize_body_is_refused_before_it_is_read(service: IntakeService) -> None:
    resp = post(service, None, raw=b"{" + b" " * (10 * 1024 * 1024) + b"}")
    assert resp.status_code == 413
    assert service.store.events.head_position() == 0


def test_non_json_body_is_refused(service: IntakeService) -> None:
    assert post(service, None, raw=b"not json").status_code == 400

"""Escalation HTTP: a case looked up by its id, by whoever may see it (token scoped)."""

from __future__ import annotations

import json

import pytest
from nameko.testing.services import worker_factory
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from fangfei.clock import FrozenClock
from fangfei.roster_view import RosterReplica
from fangfei.testing.auth import test_gate
from fangfei.testing.stores import memory_store
from services.escalation.service import EscalationService

from .support import NOW, clue, demo_roster


@pytest.fixture
def service() -> EscalationService:
    store = memory_store("escalation", FrozenClock(NOW))
    gate, mint = test_gate()
    svc = worker_factory(EscalationService, store=store, roster=RosterReplica(store.db), auth=gate)
    svc.mint = mint
    svc.clock = store.clock
    for ev in demo_roster():
        svc.apply_roster_event(ev)
    return svc


def get(service: EscalationService, case_id: str, role: str = "district_office", **claims: str):
    headers = service.mint.headers(role, **claims)
    request = Request(EnvironBuilder(method="GET", path=f"/api/cases/{case_id}", headers=headers).get_environ())
    return service.get_case(request, case_id)


def test_opened_case_is_readable_with_names_and_deadline(service: EscalationService) -> None:
    service.open_case(clue("c0042"))
    resp = get(service, "c0042")

    assert resp.status_code == 200
    body = json.loads(resp.get_data())
    assert body["case_id"] == "c0042"
    assert (body["status"], body["status_label"]) == ("reported", "已上报")
    assert (body["level"], body["level_label"]) == (3, "三级网格")
    assert (body["assignee_person_id"], body["assignee_name"]) == ("p-zhang01", "张网格01")
    assert body["community_name"] == "马岗社区"
    assert body["register_deadline"] == "2026-03-14T13:30:00+08:00"
    assert body["version"] == 2
    assert [e["type"] for e in body["events"]] == ["case.opened", "case.risk_screened"]
    assert body["clock"]["rule"] == "registration" and body["clock"]["remaining_seconds"] == 3600 * 4 - 1800
    assert [a["action"] for a in body["allowed_actions"]][0] == "register"


def test_district_level_case_says_so(service: EscalationService) -> None:
    service.open_case(clue("c0043", community_id="nowhere"))
    body = json.loads(get(service, "c0043").get_data())
    assert (body["level"], body["level_label"], body["assignee_name"]) == (4, "区处非办", "")


@pytest.mark.parametrize("case_id", ["c9999", "bad id!"])
def test_unknown_case_is_a_404_in_chinese(service: EscalationService, case_id: str) -> None:
    resp = get(service, case_id)
    assert resp.status_code == 404
    assert json.loads(resp.get_data())["error"]["message"] == f"未找到：案件 {case_id}"


def test_a_grid_worker_sees_the_cases_of_their_community_and_nothing_else(service: EscalationService) -> None:
    service.open_case(clue("c0044"))  # 龙岗 / 马岗
    assert get(service, "c0044", "grid_staff", street="longgang", community="magang").status_code == 200
    for claims in ({"street": "longgang", "community": "luogang"}, {"street": "pingshan", "community": "magang"}):
        resp = get(service, "c0044", "grid_staff", **claims)
        assert resp.status_code == 404, claims  # looks exactly like a missing case
        assert json.loads(resp.get_data())["error"]["message"] == "未找到：案件 c0044"
    assert get(service, "c0044", "ops").status_code == 403

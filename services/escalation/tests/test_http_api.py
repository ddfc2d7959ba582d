"""The workflow over HTTP as a client sees it: every step answers with the case (who, when, why
in its history); a forbidden step is a 409 in Chinese with the current state and what is
allowed; bad input is a 400 naming the field; another street's case does not exist (404)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from fangfei.clock import SHANGHAI

from .harness import World

T0 = datetime(2026, 3, 16, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def w() -> World:
    world = World(T0 + timedelta(minutes=30))
    world.report("c1", found_at=T0.isoformat())
    return world


def test_a_case_walks_from_registration_to_closure_with_who_when_why(w: World) -> None:
    w.ok("c1", "register", by="p-zhang01", reason="")
    w.advance(hours=2)
    w.ok("c1", "escalate", by="p-zhang01", reason="超出职权：涉及多名投资人", stabilization="已劝散聚集群众")
    w.ok("c1", "escalate", by="p-chen01", reason="社区无法协调")
    w.ok("c1", "mark-abnormal", by="p-li01", reason="资金链疑似断裂")
    w.ok("c1", "joint-meeting", by="p-office01", reason="跨部门", departments=["police_station", "market_regulation"])
    w.ok("c1", "joint-meeting-decision", by="p-office01", reason="会商", decision="移送公安", lead_department="police_station")
    body = w.ok("c1", "disposal", by="p-office01", reason="涉嫌犯罪", disposal="transfer_police")
    assert body["status"] == "disposal" and body["recorded"][0]["type"] == "case.disposal_decided"
    body = w.ok("c1", "close", by="p-office01", reason="公安已立案", outcome="transferred")
    assert (body["status"], body["status_label"], body["outcome"]) == ("closed", "已办结", "transferred")
    steps = [(h["action"], h["by"]) for h in body["history"] if h["action"]]
    assert steps == [("register", "p-zhang01"), ("escalate", "p-zhang01"), ("escalate", "p-chen01"),
                     ("mark_abnormal", "p-li01"), ("escalate", "p-li01"), ("convene_joint_meeting", "p-office01"),
                     ("conclude_joint_meeting", "p-office01"), ("decide_disposal", "p-office01"),
                     ("close", "p-office01")]
    assert set(body["agencies"]) == {"police_station", "market_regulation", "district_office"}
    assert body["allowed_actions"] == [] and body["clock"] is None


def test_an_illegal_step_is_a_409_with_the_current_state_and_the_allowed_actions(w: World) -> None:
    status, body = w.act("c1", "close", outcome="resolved")
    assert status == 409
    err = body["error"]
    assert err["code"] == "illegal_transition"
    assert err["message"].startswith("案件当前状态为「已上报」，不能执行「办结」；当前可执行：登记")
    assert err["details"]["status"] == "reported"
    assert [a["action"] for a in err["details"]["allowed_actions"]] == [
        "register", "pause", "extend", "assign_leader", "list_supervision"]
    assert len(w.events("c1")) == 2


def test_an_extension_after_expiry_is_a_409_saying_why(w: World) -> None:
    w.advance(hours=4)
    status, body = w.act("c1", "extension", hours=2, reason="来不及")
    assert status == 409 and body["error"]["code"] == "extend_refused"
    assert body["error"]["message"] == "已超过期限（2026-03-16T13:00:00+08:00），不能申请延期"


@pytest.mark.parametrize("action, fields, field", [
    ("close", {"outcome": "happy"}, "outcome"),
    ("register", {"status": "closed"}, "status"),
    ("extension", {"hours": "two"}, "hours"),
    ("escalate", {"reason": "x" * 501}, "reason"),
])
def test_bad_input_is_a_400_naming_the_field(w: World, action: str, fields: dict, field: str) -> None:
    status, body = w.act("c1", action, **fields)
    assert status == 400 and field in body["error"]["details"]


def test_a_missing_reason_or_stabilization_is_a_400_in_chinese(w: World) -> None:
    w.ok("c1", "register")
    status, body = w.act("c1", "escalate", reason="上报")
    assert status == 400 and "稳控措施" in body["error"]["message"]
    status, body = w.act("c1", "close", reason="", outcome="resolved")
    assert status == 400 and body["error"]["message"] == "「办结」须说明理由"


def test_another_streets_case_is_not_found(w: World) -> None:
    status, body = w.act("c1", "register", street_id="xinzhan")
    assert status == 404 and body["error"]["message"] == "未找到：案件 c1"
    assert w.get("/api/cases/c1", street_id="xinzhan")[0] == 404
    assert w.get("/api/cases", street_id="xinzhan")[1]["total"] == 0


def test_an_unknown_action_is_a_404_listing_the_actions(w: World) -> None:
    status, body = w.act("c1", "teleport")
    assert status == 404 and "register" in body["error"]["details"]["actions"]


def test_lists_filter_by_status_level_and_overdue(w: World) -> None:
    w.report("c2", found_at=T0.isoformat())
    w.ok("c2", "register")
    w.advance(hours=4)
    w.scan()
    _, all_ = w.get("/api/cases", street_id="longgang")
    assert {c["case_id"]: (c["status"], c["level"]) for c in all_["cases"]} == {
        "c1": ("level2_review", 2), "c2": ("triage", 3)}
    _, overdue = w.get("/api/cases", street_id="longgang", overdue="true")
    assert overdue["total"] == 0  # c1 breached and moved up: its new clock is running
    _, level3 = w.get("/api/cases", street_id="longgang", level="3")
    assert [c["case_id"] for c in level3["cases"]] == ["c2"]


def test_leader_and_supervision_for_an_old_case(w: World) -> None:
    w.ok("c1", "register")
    body = w.ok("c1", "leader", by="p-office01", reason="陈案攻坚", leader_person_id="p-leader01")
    assert body["leader_person_id"] == "p-leader01"
    body = w.ok("c1", "supervision", by="p-office01", reason="信访突出", supervisor="区处非办",
                target_date="2026-06-30T17:00:00+08:00")
    assert body["supervision"]["supervisor"] == "区处非办"
    assert body["supervision"]["target_date"] == "2026-06-30T17:00:00+08:00"
    assert body["status"] == "triage"


def test_assessment_counts_bounce_backs_repeated_extensions_last_minute_and_breaches(w: World) -> None:
    w.advance(hours=3, minutes=10)  # 3 h 40 min after it was found: the last tenth of 4 hours
    w.ok("c1", "register", by="p-zhang01")
    w.ok("c1", "extension", by="p-zhang01", hours=4, reason="等待当事人")
    w.ok("c1", "extension", by="p-zhang01", hours=4, reason="仍在等待")
    w.ok("c1", "escalate", by="p-zhang01", stabilization="已稳控")
    w.ok("c1", "bounce-back", by="p-chen01", reason="未附走访记录")
    w.advance(days=3)
    w.scan()
    status, body = w.get("/api/assessment", street_id="longgang")
    zhang = body["people"]["p-zhang01"]
    assert (zhang["last_minute"], zhang["repeated_extensions"], zhang["bounce_backs"]) == (1, 1, 1)
    assert zhang["breaches"] == 1  # the returned case was left at level 3 past its day

"""The case workflow as a table: every action in every status is either a transition to a
named status, a refusal by a rule, or an illegal transition — nothing else. The table below is
the specification (seed 000 §四, seed 003 §五(三), seed 004); the code's own table is not used to
build it, so a change in the state machine must change this file too."""

from __future__ import annotations

from typing import Any

import pytest

from services.escalation.domain.errors import CommandRefused, IllegalTransition, InvalidCommand
from services.escalation.domain.vocabulary import STATUS_LABELS
from services.escalation.domain.workflow import ACTIONS, ALLOWED_FROM, allowed_actions

from .domain_support import T0, Script, h

PATHS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "reported": [],
    "triage": [("register", {})],
    "level2_review": [("register", {}), ("escalate", {"stabilization": "已劝离围观群众"})],
    "level1_review": [("register", {}), ("escalate", {"stabilization": "已稳控"}), ("escalate", {})],
    "district": [("register", {}), ("escalate", {"stabilization": "已稳控"}), ("escalate", {}), ("escalate", {})],
    "joint_meeting": [("register", {}), ("escalate", {"stabilization": "已稳控"}), ("escalate", {}),
                      ("convene_joint_meeting", {"departments": ["police_station", "market_regulation"]})],
    "disposal": [("register", {}), ("escalate", {"stabilization": "已稳控"}), ("escalate", {}),
                 ("decide_disposal", {"disposal": "interview"})],
    "closed": [("register", {}), ("close", {"outcome": "resolved"})],
}

HOURLY = {"reported", "triage", "level2_review", "level1_review"}


def params_for(action: str, status: str) -> dict[str, Any]:
    return {
        "escalate": {"stabilization": "已稳控"},
        "mark_abnormal": {},
        "record_agency_response": {"agency": "police_station", "response": "已受理"},
        "convene_joint_meeting": {"departments": ["police_station", "market_regulation"]},
        "conclude_joint_meeting": {"decision": "由市场监督管理所牵头约谈", "lead_department": "market_regulation"},
        "decide_disposal": {"disposal": "interview"},
        "close": {"outcome": "resolved"},
        "pause": {"waiting_on": "police_station"},
        "extend": {"hours": 2} if status in HOURLY else {"working_days": 1},
        "assign_leader": {"leader_person_id": "p-leader"},
        "list_supervision": {"supervisor": "区处非办"},
    }.get(action, {})


R = "refused"
# status → {action: resulting status, or R for "allowed here but refused by a rule now"}
EXPECTED: dict[str, dict[str, str]] = {
    "reported": {"register": "triage", "pause": "reported", "extend": "reported", "assign_leader": "reported",
                 "list_supervision": "reported", "resume": R, "record_agency_response": R},
    "triage": {"register": R, "escalate": "level2_review", "close": "closed", "pause": "triage", "extend": "triage",
               "assign_leader": "triage", "list_supervision": "triage", "resume": R, "record_agency_response": R},
    "level2_review": {"register": R, "escalate": "level1_review", "bounce_back": "triage", "close": "closed",
                      "pause": "level2_review", "extend": "level2_review", "assign_leader": "level2_review",
                      "list_supervision": "level2_review", "resume": R, "record_agency_response": R},
    "level1_review": {"register": R, "escalate": "district", "bounce_back": "level2_review", "mark_abnormal": "district",
                      "convene_joint_meeting": "joint_meeting", "decide_disposal": "disposal", "close": "closed",
                      "pause": "level1_review", "extend": "level1_review", "assign_leader": "level1_review",
                      "list_supervision": "level1_review", "resume": R, "record_agency_response": R},
    "district": {"register": R, "bounce_back": "level1_review", "convene_joint_meeting": "joint_meeting",
                 "decide_disposal": "disposal", "close": "closed", "pause": "district", "extend": "district",
                 "assign_leader": "district", "list_supervision": "district", "resume": R, "record_agency_response": R},
    "joint_meeting": {"conclude_joint_meeting": "level1_review", "pause": "joint_meeting", "extend": "joint_meeting",
                      "assign_leader": "joint_meeting", "list_supervision": "joint_meeting", "resume": R,
                      "record_agency_response": R},
    "disposal": {"decide_disposal": "disposal", "close": "closed", "assign_leader": "disposal",
                 "list_supervision": "disposal", "pause": R, "resume": R, "extend": R, "complete_rectification": R,
                 "record_agency_response": R},
    "closed": {},
}


def case_in(status: str) -> Script:
    s = Script(T0)
    t = T0
    for action, params in PATHS[status]:
        t += h(1)
        s.do(action, t, **params)
    assert s.case.status == status
    return s


def test_the_table_covers_every_status_and_the_code_allows_exactly_what_it_says() -> None:
    assert set(EXPECTED) == set(STATUS_LABELS)
    for status, row in EXPECTED.items():
        assert {a for a in ACTIONS if status in ALLOWED_FROM[a]} == set(row), status


CELLS = [(status, action) for status in EXPECTED for action in ACTIONS]


@pytest.mark.parametrize("status, action", CELLS, ids=[f"{s}-{a}" for s, a in CELLS])
def test_every_action_in_every_status(status: str, action: str) -> None:
    s = case_in(status)
    at = T0 + h(len(PATHS[status]) + 1) - h(0.5)
    expected = EXPECTED[status].get(action)
    before = len(s.events)
    if expected is None:
        with pytest.raises(IllegalTransition) as err:
            s.do(action, at, **params_for(action, status))
        assert err.value.status == status
        assert f"案件当前状态为「{STATUS_LABELS[status]}」" in err.value.message
        assert "当前可执行" in err.value.message
    elif expected == R:
        with pytest.raises(CommandRefused):
            s.do(action, at, **params_for(action, status))
    else:
        recorded = s.do(action, at, by="p-actor", reason="按规定处理", **params_for(action, status))
        assert s.case.status == expected
        for ev in recorded:  # who, when and why on every step
            if "by" in ev.payload:
                assert ev.payload["by"] == "p-actor" and ev.payload["at"] == at.isoformat()
                assert ev.payload["reason"]
        return
    assert len(s.events) == before, "a refused command must record nothing"


@pytest.mark.parametrize("status", sorted(EXPECTED))
def test_allowed_actions_lists_exactly_the_transitions_that_succeed(status: str) -> None:
    s = case_in(status)
    at = T0 + h(len(PATHS[status]) + 1) - h(0.5)
    assert set(allowed_actions(s.case, at)) == {a for a, res in EXPECTED[status].items() if res != R}


def test_a_closed_case_refuses_everything_in_chinese() -> None:
    s = case_in("closed")
    with pytest.raises(IllegalTransition) as err:
        s.do("register", T0 + h(5))
    assert err.value.message == "案件当前状态为「已办结」，不能执行「登记」；当前可执行：无"


# -- the transitions whose outcome depends on what happened before ------------------------------

def test_resume_after_pause_and_agency_response_after_mark_abnormal() -> None:
    s = case_in("level1_review")
    s.do("pause", T0 + h(4), waiting_on="police_station")
    assert s.case.clock is not None and s.case.clock.paused_at is not None
    s.do("resume", T0 + h(5), reason="")
    assert s.case.clock.paused_at is None
    events = s.do("mark_abnormal", T0 + h(6), reason="发现大量老人排队交钱")
    assert [e.type for e in events] == ["case.marked_abnormal"] + ["case.agency_notified"] * 3 + ["case.escalated"]
    assert [e.payload["agency"] for e in events[1:4]] == ["police_station", "market_regulation", "district_office"]
    assert (s.case.status, s.case.level, s.case.abnormal) == ("district", 4, True)
    s.do("record_agency_response", T0 + h(7), agency="police_station", response="已立案侦查")
    assert s.case.agencies["police_station"]["response"] == "已立案侦查"
    with pytest.raises(CommandRefused):
        s.do("record_agency_response", T0 + h(8), agency="tax_office", response="无")


def test_joint_meeting_returns_to_the_status_it_was_convened_from() -> None:
    s = case_in("district")
    s.do("convene_joint_meeting", T0 + h(5), departments=["police_station", "market_regulation", "tax_office"])
    s.do("conclude_joint_meeting", T0 + h(6), decision="移送公安并由税务所核查账目", lead_department="police_station")
    assert s.case.status == "district"
    assert s.case.joint_meeting["lead_department"] == "police_station"


def test_bounce_back_goes_to_the_level_that_escalated_and_names_who_escalated() -> None:
    s = case_in("level1_review")
    [ev] = s.do("bounce_back", T0 + h(4), by="p-l1", reason="材料不全，请补充走访记录")
    assert (ev.payload["from_level"], ev.payload["to_level"]) == (1, 2)
    assert ev.payload["bounced_person_id"] == "p-actor"  # who had escalated it to level 1
    assert (s.case.status, s.case.level) == ("level2_review", 2)
    s.do("bounce_back", T0 + h(5))
    assert s.case.status == "triage"
    with pytest.raises(IllegalTransition):
        s.do("bounce_back", T0 + h(6))


def test_level_3_must_stabilize_before_escalating() -> None:
    s = case_in("triage")
    with pytest.raises(InvalidCommand) as err:
        s.do("escalate", T0 + h(3))
    assert "稳控" in err.value.message


def test_a_reason_is_required_for_every_step_but_registration() -> None:
    s = case_in("triage")
    with pytest.raises(InvalidCommand) as err:
        s.do("close", T0 + h(3), reason=" ", outcome="resolved")
    assert err.value.message == "「办结」须说明理由"


@pytest.mark.parametrize("disposal, extra, more", [
    ("interview", {}, []),
    ("rectification_order", {"working_days": 10}, []),
    ("pledge", {}, []),
    ("administrative", {}, []),
    ("transfer_police", {}, ["case.agency_notified"]),
    ("joint_review", {"public_warning": "警惕以养老公寓为名的高息集资"}, []),
])
def test_every_disposal_class_is_recorded(disposal: str, extra: dict, more: list[str]) -> None:
    s = case_in("district")
    events = s.do("decide_disposal", T0 + h(5), disposal=disposal, **extra)
    assert [e.type for e in events] == ["case.disposal_decided"] + more
    assert s.case.status == "disposal"
    assert s.case.rectification_open == (disposal == "rectification_order")
    assert (s.case.clock is not None) == (disposal == "rectification_order")


def test_rectification_order_needs_its_period_and_joint_review_its_warning() -> None:
    s = case_in("district")
    with pytest.raises(InvalidCommand):
        s.do("decide_disposal", T0 + h(5), disposal="rectification_order")
    with pytest.raises(InvalidCommand):
        s.do("decide_disposal", T0 + h(5), disposal="joint_review")


def test_a_pledge_after_a_rectification_order_keeps_the_order_running() -> None:
    s = case_in("district")
    s.do("decide_disposal", T0 + h(5), disposal="rectification_order", working_days=5)
    clock_no = s.case.clock.no
    s.do("decide_disposal", T0 + h(6), disposal="pledge")
    assert s.case.clock is not None and s.case.clock.no == clock_no and s.case.rectification_open
    [ev] = s.do("complete_rectification", T0 + h(30), reason="")
    assert ev.payload["on_time"] is True
    assert s.case.clock is None and not s.case.rectification_open
    s.do("close", T0 + h(31), outcome="rectified")
    assert s.case.outcome == "rectified"

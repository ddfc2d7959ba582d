"""Risk enterprises by 统一社会信用代码: the same code reported in two streets flags both, once;
红黄绿挂牌 and 一企一策 are set by people; another street cannot read them."""

from __future__ import annotations

from datetime import datetime

from prometheus_client import REGISTRY

from fangfei.clock import SHANGHAI
from fangfei.credit_code import check_character

from .harness import World
from .support import clue, full_chain_roster, other_street_roster

T0 = datetime(2026, 3, 16, 9, 0, tzinfo=SHANGHAI)
CODE = "91350100M000100Y43"  # the example code of GB 32100-2015
OTHER = "91340102MA2N" + "00001" + check_character("91340102MA2N00001")  # synthetic, valid


def world() -> World:
    return World(T0, full_chain_roster() + other_street_roster())


def enterprise(w: World, street: str, code: str = CODE) -> tuple[int, dict]:
    return w.get(f"/api/enterprises/{code}", street_id=street)


def flags(street: str) -> float:
    return REGISTRY.get_sample_value("fangfei_cross_street_flags_total", {"street": street}) or 0


def test_the_same_credit_code_in_two_streets_flags_both_once() -> None:
    w = world()
    before = flags("longgang"), flags("xinzhan")
    w.svc.open_case(clue("c1", subject_name="某某财富管理有限公司", credit_code=CODE.lower()))
    status, first = enterprise(w, "longgang")
    assert status == 200 and first["cross_street"] is False and first["sightings"][0]["case_id"] == "c1"

    # the enterprise reappears in another street under a new name
    w.svc.open_case(clue("c2", street_id="xinzhan", community_id="huadu", subject_name="某某科技有限公司",
                         credit_code=CODE))
    w.svc.open_case(clue("c2", street_id="xinzhan", community_id="huadu", subject_name="某某科技有限公司",
                         credit_code=CODE))  # redelivered: nothing twice
    _, here = enterprise(w, "longgang")
    _, there = enterprise(w, "xinzhan")
    assert (here["cross_street"], here["other_streets"]) == (True, ["xinzhan"])
    assert (there["cross_street"], there["other_streets"]) == (True, ["longgang"])
    assert there["name"] == "某某科技有限公司" and len(there["sightings"]) == 1
    assert (flags("longgang") - before[0], flags("xinzhan") - before[1]) == (1, 1)
    status, listed = w.get("/api/enterprises", street_id="longgang", cross_street="true")
    assert [e["credit_code"] for e in listed["enterprises"]] == [CODE]

    # a third clue in the first street adds a sighting but no second flag
    w.svc.open_case(clue("c3", subject_name="某某财富管理有限公司", credit_code=CODE))
    _, again = enterprise(w, "longgang")
    assert len(again["sightings"]) == 2 and again["other_streets"] == ["xinzhan"]
    assert flags("longgang") - before[0] == 1


def test_an_enterprise_registered_by_hand_when_it_moves_in_is_flagged_too() -> None:
    w = world()
    w.svc.open_case(clue("c1", credit_code=OTHER))
    status, body = w.post("/api/enterprises", {"street_id": "xinzhan", "by": "p-zhao01", "credit_code": OTHER,
                                               "name": "迁入企业", "movement": "moved_in"})
    assert status == 201 and body["other_streets"] == ["longgang"]
    assert enterprise(w, "longgang", OTHER)[1]["other_streets"] == ["xinzhan"]


def test_a_wrong_check_digit_is_not_a_key_but_a_risk_indicator() -> None:
    w = world()
    bad = CODE[:-1] + "4"
    w.svc.open_case(clue("c1", credit_code=bad))
    assert enterprise(w, "longgang", bad)[0] == 404
    risk = w.case("c1")["risk"]
    assert risk["credit_code_status"] == "invalid"
    assert "credit_code_invalid" in [h["indicator"] for h in risk["hits"]]
    status, body = w.post("/api/enterprises", {"street_id": "longgang", "by": "p-li01", "credit_code": bad})
    assert status == 400 and "校验位错误" in body["error"]["details"]["credit_code"][0]


def test_red_yellow_green_tag_and_one_plan_per_enterprise() -> None:
    w = world()
    w.svc.open_case(clue("c1", credit_code=CODE, subject_name="某某财富管理有限公司",
                         description="业务员在菜场发传单，向老年人承诺保本年化18%回报"))
    _, ent = enterprise(w, "longgang")
    assert ent["suggested_tag"] == "red" and ent["tag"] == "" and ent["tag_label"] == "未挂牌"

    status, ent = w.post(f"/api/enterprises/{CODE}/tag", {"street_id": "longgang", "by": "p-li01", "tag": "red",
                                                          "reason": "承诺保本高息，涉众面广"})
    assert (status, ent["tag"], ent["tag_label"]) == (200, "red", "红")
    plan = {"street_id": "longgang", "by": "p-li01", "measures": ["约谈法定代表人", "每周走访一次"],
            "responsible_person_id": "p-chen01", "leader_person_id": "p-leader01", "deadline": "2026-04-30"}
    status, ent = w.post(f"/api/enterprises/{CODE}/plan", plan)
    assert status == 200 and ent["plan"]["deadline"] == "2026-04-30T23:59:59+08:00"
    status, ent = w.post(f"/api/enterprises/{CODE}/plan", {**plan, "measures": ["责令停止宣传"]})
    assert ent["plan"]["measures"] == ["责令停止宣传"]  # one plan: the new one replaces it
    status, listed = w.get("/api/enterprises", street_id="longgang", tag="red")
    assert listed["total"] == 1 and listed["enterprises"][0]["has_plan"] is True

    w.at("2026-05-01T00:00:00+08:00")
    assert enterprise(w, "longgang")[1]["plan_overdue"] is True
    w.scan()
    w.scan()
    [breach] = [e for e in w.store.events.read_stream(f"enterprise-longgang.{CODE}") if e.type == "sla.breached"]
    assert (breach.payload["rule"], breach.payload["responsible_person_id"]) == ("enterprise_plan", "p-chen01")
    assert breach.payload["deadline"] == "2026-04-30T23:59:59+08:00"
    status, body = w.post(f"/api/enterprises/{CODE}/plan", {**plan, "deadline": "2026-04-01"})
    assert status == 400 and body["error"]["message"] == "整改期限须晚于当前时间"


def test_another_street_cannot_read_or_tag_an_enterprise_it_never_saw() -> None:
    w = world()
    w.svc.open_case(clue("c1", credit_code=CODE))
    assert enterprise(w, "xinzhan")[0] == 404
    status, _ = w.post(f"/api/enterprises/{CODE}/tag", {"street_id": "xinzhan", "by": "p-zhao01", "tag": "green",
                                                        "reason": "无"})
    assert status == 404

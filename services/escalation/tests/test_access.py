"""Who may do what to a case, beyond the policy table (which tests/contract/test_access_policy.py
runs for every role × route × street): who acts is the token's person, never the body's; a grid
worker works the cases of their own community while they are at the grid or community level; a
district-wide caller names the street of its command; community roles see their community only."""

from __future__ import annotations

from datetime import datetime

from fangfei.clock import SHANGHAI
from fangfei.testing.wsgi import ServiceApp

from .harness import World

T0 = datetime(2026, 3, 16, 9, 0, tzinfo=SHANGHAI)


def world() -> World:
    w = World(T0)
    w.report("c1", found_at=T0.isoformat())  # 马岗 (magang)
    w.report("c2", found_at=T0.isoformat(), community_id="baihua")  # 白花村, same street
    return w


def grid(w: World, community: str = "magang", person: str = "p-zhang01") -> dict[str, str]:
    return w.mint.headers("grid_staff", street="longgang", community=community, person=person)


def test_the_actor_is_the_tokens_person_and_a_body_naming_one_is_refused() -> None:
    w = world()
    status, body = w.post("/api/cases/c1/register", {"reason": ""}, grid(w))
    assert status == 200 and body["history"][-1]["by"] == "p-zhang01"
    assert w.events("c1")[-1].actor == "p-zhang01"
    client = ServiceApp(w.svc).client  # the raw body, as sent (the harness would take `by` out)
    for smuggled in ({"by": "p-li01"}, {"actor": "p-li01"}, {"street_id": "pingshan"}):
        resp = client.post("/api/cases/c1/escalate", json={"reason": "r", "stabilization": "s", **smuggled},
                           headers=grid(w))
        assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "validation_failed", smuggled
    assert len(w.events("c1")) == 3  # opened, screened, registered: nothing from the refused bodies


def test_a_grid_worker_works_their_communitys_cases_until_they_leave_the_community() -> None:
    w = world()
    status, _ = w.act("c2", "register", headers=grid(w))  # 白花村's case: not theirs
    assert status == 404
    assert w.act("c1", "register", headers=grid(w))[0] == 200
    assert w.act("c1", "escalate", stabilization="已劝离", headers=grid(w))[0] == 200  # → level 2 (community)
    status, body = w.act("c1", "leader", leader_person_id="p-li01", headers=grid(w))
    assert status == 403 and body["error"]["code"] == "office_only_action"
    assert w.act("c1", "escalate", headers=grid(w, person="p-chen01"))[0] == 200  # → level 1 (street)
    status, body = w.act("c1", "pause", waiting_on="police_station", headers=grid(w))
    assert status == 403 and body["error"]["message"] == "案件已上报至一级网格，社区和网格人员不能再办理"
    assert w.act("c1", "pause", waiting_on="police_station", by="p-li01")[0] == 200  # the street office may


def test_reading_roles_cannot_act_and_another_streets_office_sees_nothing() -> None:
    w = world()
    for role in ("member_unit", "auditor", "ops"):
        status, _ = w.act("c1", "register", headers=w.mint.headers(role))
        assert status == 403, role
    assert w.get("/api/cases/c1", headers=w.mint.headers("member_unit"))[0] == 200  # its street's case: readable
    other = w.office("pingshan")
    assert w.act("c1", "register", headers=other)[0] == 404
    status, body = w.get("/api/cases", headers=other, street_id="longgang")
    assert status == 403 and body["error"]["code"] == "street_out_of_scope"
    assert len(w.events("c1")) == 2


def test_listings_are_cut_to_the_callers_community_and_street() -> None:
    w = world()
    assert [c["case_id"] for c in w.get("/api/cases", headers=grid(w))[1]["cases"]] == ["c1"]
    assert [c["case_id"] for c in w.get("/api/cases")[1]["cases"]] == ["c1", "c2"]  # the street office
    status, _ = w.get("/api/cases", headers=grid(w), community_id="baihua")
    assert status == 403
    status, body = w.get("/api/obligations", headers=grid(w), **{"from": "2026-03-16", "to": "2026-03-22"})
    assert status == 200 and {o["unit_id"] for o in body["obligations"]} == {"magang"}


def test_a_grid_worker_submits_their_own_communitys_report_only() -> None:
    w = world()
    status, _ = w.post("/api/obligations/weekly:baihua:2026-W12/submission", {}, grid(w))
    assert status == 404
    status, body = w.post("/api/obligations/weekly:magang:2026-W12/submission", {"summary": "无"}, grid(w))
    assert status == 201 and body["submitted_by"] == "p-zhang01"


def test_the_district_office_names_the_street_it_acts_in() -> None:
    w = world()
    district = w.mint.headers("district_office", person="qu-01")
    campaign = {"campaign_id": "zx", "name": "专项行动", "phases": [{"phase_id": "p1", "name": "部署", "due_at": "2026-06-15"}]}
    status, body = w.post("/api/campaigns", campaign, district)
    assert status == 400 and body["error"]["code"] == "street_required"
    status, body = w.post("/api/campaigns", {**campaign, "street_id": "longgang"}, district)
    assert status == 201 and body["street_id"] == "longgang"
    status, body = w.post("/api/campaigns", {**campaign, "campaign_id": "zx2", "street_id": "pingshan"}, w.office())
    assert status == 403 and body["error"]["code"] == "street_out_of_scope"
    assert [c["case_id"] for c in w.get("/api/cases", headers=district)[1]["cases"]] == ["c1", "c2"]  # every street
    assert w.act("c1", "register", headers=district)[0] == 200  # the district may act at any level

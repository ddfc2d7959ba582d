"""A clue that reached escalation before the roster did is opened for nobody (「不在名册中」, the
district office). When the roster arrives, a case nobody has acted on yet is routed again
(`case.rerouted`), keeps its 4-hour deadline, and a breach then names the grid chief."""

from __future__ import annotations

from datetime import datetime, timedelta

from fangfei.clock import SHANGHAI

from .harness import World
from .support import full_chain_roster

T0 = datetime(2026, 3, 16, 9, 0, tzinfo=SHANGHAI)


def test_a_case_opened_before_the_roster_is_routed_when_the_roster_arrives_once() -> None:
    w = World(T0 + timedelta(minutes=10), roster=[])
    w.report("c1", found_at=T0.isoformat())
    w.report("c2", found_at=T0.isoformat())
    before = w.case("c1")
    assert (before["level"], before["assignee_person_id"]) == (4, "")
    assert "不在名册中" in before["routing_note"]
    w.ok("c2", "register", by="qu-01")  # the district office took c2 on already: it stays theirs

    w.advance(minutes=20)
    roster = full_chain_roster()
    for ev in roster + roster:  # delivered twice
        w.svc.apply_roster_event(ev)

    after = w.case("c1")
    assert (after["level"], after["assignee_person_id"], after["assignee_name"]) == (3, "p-zhang01", "张网格01")
    assert after["register_deadline"] == before["register_deadline"] == "2026-03-16T13:00:00+08:00"
    assert after["history"][-1]["action_label"] == "名册到达后重新分派"
    assert [e.type for e in w.events("c1")].count("case.rerouted") == 1
    assert [e.type for e in w.events("c2")].count("case.rerouted") == 0

    w.at("2026-03-16T13:00:01+08:00")
    w.scan()
    breach = w.events("c1", "sla.breached")[0].payload
    assert (breach["rule"], breach["level"], breach["responsible_person_id"]) == ("registration", 3, "p-zhang01")


def test_rerouting_survives_a_replay_of_the_log() -> None:
    w = World(T0 + timedelta(minutes=10), roster=[])
    w.report("c1", found_at=T0.isoformat())
    for ev in full_chain_roster():
        w.svc.apply_roster_event(ev)
    w.restart()
    w.store.db["case_index"].delete_many({})
    w.scan()  # the read model is rebuilt from the log
    assert (w.case("c1")["level"], w.case("c1")["assignee_person_id"]) == (3, "p-zhang01")
    assert w.get("/api/cases", headers=w.mint.headers("grid_staff", community="magang"))[1]["total"] == 1

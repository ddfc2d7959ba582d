"""Issue 13 — accountability officers can trust, in simulated time through the real service class:

1. lateness never depends on the scanner's timing: a step taken after its deadline that ends the
   clock (registering late, escalating after the review day, completing a rectification late, a
   report submitted late) records the breach (or `obligation.missed`) itself, exactly once, whether
   or not the scanner passed first, across restarts; a passed deadline cannot be paused away;
2. a breach names who held the case at the deadline (not a chief appointed later), and where
   nobody did it says so (「该时点无人负责」);
3. a community's weekly report (and its reminder) is the community liaison's (联络员) at the
   instant, falling back to the level-2 chief, and the record says so."""

from __future__ import annotations

from datetime import datetime

import pytest
from prometheus_client import REGISTRY

from fangfei.clock import SHANGHAI
from services.escalation.domain.sla import decide_step
from services.escalation.domain.workflow import Command

from .domain_support import T0 as MONDAY_0900, Script
from .harness import World
from .support import demo_roster, full_chain_roster, person, roster_event

T0 = datetime(2026, 3, 16, 9, 0, tzinfo=SHANGHAI)  # a Monday; the clue is found now, due 13:00
WEEKLY = "weekly:magang:2026-W12"  # due Friday 2026-03-20 12:00


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def breaches(w: World, case_id: str = "c0001") -> list[dict]:
    return [dict(e.payload) for e in w.events(case_id, "sla.breached")]


def liaison(person_id: str, community: str, valid_from: str) -> object:
    return roster_event("roster.role_assigned", f"person-{person_id}", {
        "person_id": person_id, "role": "liaison", "community_id": community, "grid_id": "", "unit_id": "",
        "position": "", "title": "社区联络员", "valid_from": valid_from}, version=2)


def liaison_ended(person_id: str, community: str, valid_until: str) -> object:
    return roster_event("roster.role_ended", f"person-{person_id}", {
        "person_id": person_id, "role": "liaison", "community_id": community, "grid_id": "", "unit_id": "",
        "position": "", "valid_until": valid_until}, version=3)


# -- 1. lateness does not depend on when the scanner ran -------------------------------------------

@pytest.mark.parametrize("scanner_first", [False, True], ids=["registered-before-the-scan", "scanner-first"])
def test_a_clue_registered_after_its_4_hours_records_exactly_one_breach_whoever_came_first(scanner_first: bool) -> None:
    w = World(T0)
    w.report(found_at=T0.isoformat())
    before = metric("fangfei_sla_breaches_total", street="longgang", level="3", rule="registration")
    w.at("2026-03-16T13:20:00+08:00")  # twenty minutes late; the scanner has not (or has) passed
    if scanner_first:
        w.scan()
    w.ok("c0001", "register", by="p-zhang01")
    w.scan()
    w.restart()  # a new process on the same store, and the read model lost as well
    w.store.db["case_index"].delete_many({})
    w.scan()
    w.advance(minutes=5)
    w.scan()

    [breach] = breaches(w)
    assert (breach["rule"], breach["deadline"], breach["responsible_person_id"], breach["level"]) == \
        ("registration", "2026-03-16T13:00:00+08:00", "p-zhang01", 3)
    assert w.case()["registration_late"] is True
    after = metric("fangfei_sla_breaches_total", street="longgang", level="3", rule="registration")
    assert after - before == 1
    if not scanner_first:
        # the late registration itself is the handling: recorded, not escalated; level 3 keeps it
        assert breach["consequence"] == "recorded"
        assert (w.case()["status"], w.case()["level"]) == ("triage", 3)
        types = [e.type for e in w.events()]
        assert types.index("sla.breached") == types.index("case.registered") - 1  # one commit, breach first


def test_escalating_after_the_review_day_records_the_missed_review_once() -> None:
    w = World(T0)
    w.report(found_at=T0.isoformat())
    w.ok("c0001", "register", by="p-zhang01")  # 09:00, on time: the triage day runs to Tuesday 09:00
    w.at("2026-03-17T10:00:00+08:00")
    w.ok("c0001", "escalate", by="p-zhang01", stabilization="已劝离聚集人员")
    w.scan()
    w.advance(hours=1)
    w.scan()
    assert [(b["rule"], b["deadline"], b["responsible_person_id"], b["consequence"]) for b in breaches(w)] == [
        ("triage", "2026-03-17T09:00:00+08:00", "p-zhang01", "recorded")]
    assert w.case()["status"] == "level2_review"  # the step went where the person sent it, not further


def test_a_rectification_completed_after_its_deadline_records_its_breach() -> None:
    s = Script(MONDAY_0900, level=1)
    s.do("register", MONDAY_0900)
    s.do("decide_disposal", MONDAY_0900, disposal="rectification_order", working_days=2)  # due Wed 23:59:59
    late = datetime(2026, 3, 19, 10, 0, tzinfo=SHANGHAI)
    changes = decide_step(s.case, Command("complete_rectification", "p-actor", late), s.ctx)
    assert [c.type for c in changes] == ["sla.breached", "case.rectification_completed"]
    assert (changes[0].payload["rule"], changes[0].payload["deadline"]) == ("rectification", "2026-03-18T23:59:59+08:00")
    assert changes[1].payload["on_time"] is False
    s.record(changes, late)
    assert s.scan(late) == []  # nothing left for a scanner to find
    # on time: nothing extra
    s2 = Script(MONDAY_0900, level=1)
    s2.do("register", MONDAY_0900)
    s2.do("decide_disposal", MONDAY_0900, disposal="rectification_order", working_days=2)
    on_time = datetime(2026, 3, 18, 10, 0, tzinfo=SHANGHAI)
    assert [c.type for c in decide_step(s2.case, Command("complete_rectification", "p-actor", on_time), s2.ctx)] == [
        "case.rectification_completed"]


def test_a_passed_deadline_cannot_be_paused_away() -> None:
    w = World(T0)
    w.report(found_at=T0.isoformat())
    w.at("2026-03-16T13:20:00+08:00")
    status, body = w.act("c0001", "pause", by="p-zhang01", waiting_on="police_station")
    assert status == 409 and "已超过期限" in body["error"]["message"], body
    w.scan()
    assert [b["rule"] for b in breaches(w)] == ["registration"]


@pytest.mark.parametrize("scanner_first", [False, True], ids=["submitted-before-the-scan", "scanner-first"])
def test_a_weekly_report_submitted_late_is_recorded_missed_once_whoever_came_first(scanner_first: bool) -> None:
    w = World(T0)
    w.scan()  # tracking starts Monday
    before = metric("fangfei_report_obligations_total", street="longgang", kind="weekly", outcome="missed")
    w.at("2026-03-20T12:30:00+08:00")  # half an hour after Friday noon
    if scanner_first:
        w.scan()
    status, body = w.post(f"/api/obligations/{WEEKLY}/submission", {"summary": "本周无新增线索", "by": "p-chen01"})
    assert status == 201 and body["status"] == "late", body
    w.scan()
    w.restart()
    w.scan()
    stream = w.store.events.read_stream(f"obligation-longgang:{WEEKLY}")
    assert [e.type for e in stream if e.type != "obligation.reminder_due"] == ["obligation.missed", "obligation.submitted"]
    missed = next(e.payload for e in stream if e.type == "obligation.missed")
    assert (missed["due_at"], missed["responsible_person_id"]) == ("2026-03-20T12:00:00+08:00", "p-chen01")
    after = metric("fangfei_report_obligations_total", street="longgang", kind="weekly", outcome="missed")
    assert after - before == 2  # 马岗's, once whoever came first, and 白花村's, which nobody sent


def test_a_report_due_before_tracking_started_is_late_but_not_missed() -> None:
    w = World(datetime(2026, 3, 20, 12, 30, tzinfo=SHANGHAI))
    w.scan()  # tracking starts half an hour after the deadline: it was never owed here
    status, body = w.post(f"/api/obligations/{WEEKLY}/submission", {"summary": "补报", "by": "p-chen01"})
    assert status == 201 and body["status"] == "late", body
    stream = w.store.events.read_stream(f"obligation-longgang:{WEEKLY}")
    assert [e.type for e in stream] == ["obligation.submitted"]


# -- 2. the person who held the case; nobody, said so ---------------------------------------------

def test_a_breach_where_nobody_held_the_case_says_so() -> None:
    w = World(T0, roster=demo_roster())  # the street's level-1 post is vacant
    w.report(community_id="nowhere", found_at=T0.isoformat())  # not on the roster: the district office
    assert (w.case()["level"], w.case()["assignee_person_id"]) == (4, "")
    w.advance(hours=4)
    w.scan()
    [breach] = breaches(w)
    assert breach["responsible_person_id"] == ""
    assert breach["responsibility_note"] == "该时点无人负责（案件在区处非办，未指定责任人）"
    assert w.case()["breaches"][0]["responsibility_note"].startswith("该时点无人负责")


def test_a_case_rerouted_after_its_deadline_was_nobodys_at_the_deadline() -> None:
    w = World(T0, roster=[])  # the roster has not reached escalation yet
    w.report(found_at=T0.isoformat())
    w.at("2026-03-16T13:30:00+08:00")
    for ev in full_chain_roster():  # the roster arrives half an hour after the deadline
        w.svc.apply_roster_event(ev)
    assert w.case()["assignee_person_id"] == "p-zhang01"  # re-routed: it is his from now on
    w.scan()
    [breach] = breaches(w)
    assert (breach["responsible_person_id"], breach["responsibility_note"]) == (
        "", "该时点无人负责（案件在区处非办，未指定责任人）")


# -- 3. the community's liaison answers for its weekly report --------------------------------------

def liaison_roster() -> list:
    return full_chain_roster() + [
        person("p-liaison01", "联络员丁01", "liaison", "magang"),
        person("p-liaison02", "联络员丁02", "liaison", "magang"),
        liaison("p-liaison01", "magang", "2026-01-01T00:00:00+08:00"),
        # 丁01 hands the post to 丁02 on Thursday 15:00, between the reminder and the deadline
        liaison_ended("p-liaison01", "magang", "2026-03-19T15:00:00+08:00"),
        liaison("p-liaison02", "magang", "2026-03-19T15:00:00+08:00"),
    ]


def test_the_weekly_report_and_its_reminder_are_charged_to_the_liaison_at_each_instant() -> None:
    w = World(T0, roster=liaison_roster())
    w.scan()
    w.at("2026-03-19T12:00:00+08:00")
    w.scan()  # the reminder, 24 hours before Friday noon
    w.at("2026-03-20T12:00:01+08:00")
    w.scan()  # the deadline passed with nothing in
    stream = {e.type: e.payload for e in w.store.events.read_stream(f"obligation-longgang:{WEEKLY}")}
    assert (stream["obligation.reminder_due"]["responsible_person_id"],
            stream["obligation.reminder_due"]["responsibility_note"]) == ("p-liaison01", "")
    assert (stream["obligation.missed"]["responsible_person_id"],
            stream["obligation.missed"]["responsibility_note"]) == ("p-liaison02", "")
    status, body = w.get("/api/assessment", street_id="longgang")
    assert status == 200
    assert body.get("people", body)["p-liaison02"]["missed_reports"] == 1
    assert "p-chen01" not in body.get("people", body)  # the level-2 chief is not charged


def test_without_a_liaison_the_level_2_chief_answers_and_the_record_says_why() -> None:
    w = World(T0)  # 白花村 and 马岗社区 list no liaison
    w.scan()
    w.at("2026-03-20T12:00:01+08:00")
    w.scan()
    baihua = {e.type: e.payload for e in w.store.events.read_stream("obligation-longgang:weekly:baihua:2026-W12")}
    missed = baihua["obligation.missed"]
    assert (missed["responsible_person_id"], missed["responsibility_note"]) == (
        "p-wang01", "白花村该时点未设联络员；由二级网格长负责")
    status, body = w.get("/api/obligations", street_id="longgang", **{"from": "2026-03-20", "to": "2026-03-20"})
    row = next(o for o in body["obligations"] if o["obligation_id"] == "weekly:baihua:2026-W12")
    assert (row["status"], row["responsible_person_id"], row["responsibility_note"]) == (
        "missed", "p-wang01", "白花村该时点未设联络员；由二级网格长负责")

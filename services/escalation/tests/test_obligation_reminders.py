"""Reminders before a report obligation is due (`obligation.reminder_due`), in simulated time:
a lead time (default 24 h) before the deadline, once per obligation whatever restarts, replays
or second scanners happen, never once the report is in or the deadline has passed, and named
after whoever answers for the report at the reminder's instant."""

from __future__ import annotations

from datetime import datetime

import pytest

from fangfei.clock import SHANGHAI
from services.escalation import service as escalation_service

from .harness import World
from .support import chief, full_chain_roster

MONDAY = datetime(2026, 3, 16, 9, 0, tzinfo=SHANGHAI)
WEEKLY = "weekly:magang:2026-W12"  # due Friday 2026-03-20 12:00
REMINDER = "obligation.reminder_due"


def world(at: datetime = MONDAY, roster: list | None = None) -> World:
    w = World(at, roster)
    w.scan()  # tracking of the street and its communities starts now
    return w


def reminders(w: World, oid: str = WEEKLY) -> list:
    return [e for e in w.store.events.read_stream(f"obligation-longgang:{oid}") if e.type == REMINDER]


def scan_at(w: World, iso: str) -> None:
    w.at(iso)
    w.scan()


def test_the_weekly_report_is_reminded_24_hours_before_friday_noon_and_not_earlier() -> None:
    w = world()
    scan_at(w, "2026-03-19T11:59:59+08:00")
    assert reminders(w) == []
    scan_at(w, "2026-03-19T12:00:00+08:00")
    [reminder] = reminders(w)
    p = reminder.payload
    assert (p["due_at"], p["at"], p["lead_hours"]) == ("2026-03-20T12:00:00+08:00", "2026-03-19T12:00:00+08:00", 24)
    assert (p["title"], p["responsible_person_id"], p["grid_id"]) == ("2026年第12周周报", "p-chen01", "g2-magang")
    assert reminder.actor == "system:escalation" and reminder.street_id == "longgang"
    # a reminder is no verdict: the report is still open and nobody is counted for anything
    status, body = w.get("/api/obligations", street_id="longgang", **{"from": "2026-03-20", "to": "2026-03-20"})
    row = next(o for o in body["obligations"] if o["obligation_id"] == WEEKLY)
    assert (row["status"], row["responsible_person_id"]) == ("open", "p-chen01")
    status, body = w.get("/api/assessment", street_id="longgang")
    assert status == 200 and "p-chen01" not in body.get("people", body)


def test_a_reminder_is_recorded_once_across_scans_a_restart_a_lost_read_model_and_a_second_scanner() -> None:
    w = world()
    scan_at(w, "2026-03-19T12:00:00+08:00")
    w.scan()
    w.restart()
    scan_at(w, "2026-03-19T18:00:00+08:00")
    w.store.db["obligation_index"].delete_many({})  # a read model lost: the stream still knows
    w.scan()
    other = World(w.now, roster=full_chain_roster(), store=w.store)  # a second process on the same store
    other.scan()
    assert len(reminders(w)) == 1
    assert len(reminders(w, "weekly:baihua:2026-W12")) == 1  # each community's report, once


def test_a_late_scan_records_the_same_instant_and_person_as_a_punctual_one() -> None:
    roster = full_chain_roster() + [chief("g2-magang", "p-wang01", valid_from="2026-03-19T15:00:00+08:00")]
    w = world(roster=roster)
    scan_at(w, "2026-03-19T20:00:00+08:00")  # the scanner was down from noon to 20:00
    [reminder] = reminders(w)
    # the holder at the reminder's instant (noon), not at the scan: 王社区01 took over at 15:00
    assert (reminder.payload["at"], reminder.payload["responsible_person_id"]) == \
        ("2026-03-19T12:00:00+08:00", "p-chen01")


def test_the_person_responsible_at_the_reminder_is_named() -> None:
    roster = full_chain_roster() + [chief("g2-magang", "p-wang01", valid_from="2026-03-19T00:00:00+08:00")]
    w = world(roster=roster)
    scan_at(w, "2026-03-19T12:00:00+08:00")
    assert [r.payload["responsible_person_id"] for r in reminders(w)] == ["p-wang01"]


def test_no_reminder_once_the_report_is_in() -> None:
    w = world()
    w.at("2026-03-18T10:00:00+08:00")
    status, row = w.post(f"/api/obligations/{WEEKLY}/submission",
                         {"street_id": "longgang", "by": "p-chen01", "summary": "本周排查3家企业"})
    assert (status, row["status"]) == (201, "on_time")
    scan_at(w, "2026-03-19T12:00:00+08:00")
    scan_at(w, "2026-03-20T12:00:01+08:00")
    assert [e.type for e in w.store.events.read_stream(f"obligation-longgang:{WEEKLY}")] == ["obligation.submitted"]
    assert len(reminders(w, "weekly:baihua:2026-W12")) == 1  # 白花 has not reported: it is reminded


def test_no_reminder_after_the_deadline_passed_only_the_missed_report() -> None:
    w = world()
    scan_at(w, "2026-03-20T12:00:01+08:00")  # the scanner was down for the whole lead
    types = [e.type for e in w.store.events.read_stream(f"obligation-longgang:{WEEKLY}")]
    assert types == ["obligation.missed"]


def test_tracking_that_starts_inside_the_lead_reminds_at_once_but_never_of_older_deadlines() -> None:
    w = world(datetime(2026, 3, 19, 18, 0, tzinfo=SHANGHAI))  # Thursday evening: W11 long gone
    [reminder] = reminders(w)
    assert reminder.payload["at"] == "2026-03-19T18:00:00+08:00"  # when tracking started, not 12:00
    assert w.store.events.read_stream("obligation-longgang:weekly:magang:2026-W11") == []


def test_the_february_30th_sweep_is_reminded_24_hours_before_the_end_of_the_28th() -> None:
    oid = "sweep:longgang:2026-02.30"
    w = world(datetime(2026, 2, 16, 9, 0, tzinfo=SHANGHAI))
    scan_at(w, "2026-02-27T23:59:58+08:00")
    assert reminders(w, oid) == []
    scan_at(w, "2026-02-27T23:59:59+08:00")
    [reminder] = reminders(w, oid)
    p = reminder.payload
    assert (p["due_at"], p["at"]) == ("2026-02-28T23:59:59+08:00", "2026-02-27T23:59:59+08:00")
    assert (p["title"], p["responsible_person_id"]) == ("2026年2月下半月集中清查情况汇总", "p-li01")


def test_a_campaign_phase_defined_inside_the_lead_is_still_reminded() -> None:
    w = world(datetime(2026, 3, 24, 9, 0, tzinfo=SHANGHAI))
    status, body = w.post("/api/campaigns", {
        "street_id": "longgang", "by": "p-li01", "campaign_id": "zx2026", "name": "打击非法集资专项行动",
        "community_ids": ["magang"], "phases": [{"phase_id": "deploy", "name": "部署发动", "due_at": "2026-03-25"}]})
    assert status == 201, body
    scan_at(w, "2026-03-25T00:00:00+08:00")
    [reminder] = reminders(w, "campaign:magang:zx2026.deploy")
    assert reminder.payload["title"] == "打击非法集资专项行动·部署发动"


def test_the_lead_time_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(escalation_service, "REMINDER_LEAD_H", 2)
    w = world()
    scan_at(w, "2026-03-20T09:59:59+08:00")
    assert reminders(w) == []
    scan_at(w, "2026-03-20T10:00:00+08:00")
    assert [r.payload["lead_hours"] for r in reminders(w)] == [2]


@pytest.mark.parametrize("raw, expected", [("", 24), ("48", 48), ("1", 1)])
def test_the_lead_setting_is_read_in_whole_hours(monkeypatch: pytest.MonkeyPatch, raw: str, expected: int) -> None:
    monkeypatch.setenv("FANGFEI_OBLIGATION_REMINDER_LEAD_H", raw)
    assert escalation_service._reminder_lead_h() == expected


@pytest.mark.parametrize("raw", ["0", "-3", "1.5", "abc", "721"])
def test_a_bad_lead_setting_stops_the_service_with_the_variable_named(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("FANGFEI_OBLIGATION_REMINDER_LEAD_H", raw)
    with pytest.raises(ValueError, match="FANGFEI_OBLIGATION_REMINDER_LEAD_H"):
        escalation_service._reminder_lead_h()

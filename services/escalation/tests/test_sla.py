"""SLA clocks in simulated time: warnings at 75%, breaches attributed to whoever held the post
at the deadline, automatic escalation once per level up to the district, pauses, extensions,
and the same verdicts however often (or late) the scanner runs."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from fangfei.clock import SHANGHAI
from services.escalation.domain.errors import CommandRefused, InvalidCommand

from .domain_support import T0, FakeRoster, Script, breaches, h


def test_an_untouched_case_climbs_level_by_level_to_the_district_blaming_whoever_held_it_at_each_deadline() -> None:
    roster = FakeRoster(l2="p-chen", l1="p-li")
    # the level-2 post changes hands before its deadline, but the case was escalated to p-chen and
    # nobody moved it: p-chen held it when the review day ran out (issue 13), not the successor
    roster.hand_over(2, T0 + h(20), "p-chen-successor")
    s = Script(T0, roster=roster)
    recorded = s.scan_every(T0, T0 + timedelta(days=14), timedelta(minutes=30))

    assert breaches(recorded) == [
        ("registration", 3, "p-l3", "2026-03-16T13:00:00+08:00"),  # found 09:00 + 4 h, routed to p-l3
        ("level2_review", 2, "p-chen", "2026-03-17T13:00:00+08:00"),  # reviews daily
        ("level1_review", 1, "p-li", "2026-03-18T13:00:00+08:00"),
        ("district_review", 4, "", "2026-03-25T23:59:59+08:00"),  # 5 working days, then no more
    ]
    ups = [e.payload for e in recorded if e.type == "case.escalated"]
    assert [(u["from_level"], u["to_level"], u["automatic"]) for u in ups] == [(3, 2, True), (2, 1, True), (1, 4, True)]
    assert all("超时" in u["reason"] and "自动上报上一级" in u["reason"] for u in ups)
    assert (s.case.status, s.case.level) == ("district", 4)
    # each escalation starts the next level's clock AT the breach, not when the scanner noticed
    assert [u["at"] for u in ups] == ["2026-03-16T13:00:00+08:00", "2026-03-17T13:00:00+08:00",
                                      "2026-03-18T13:00:00+08:00"]
    # one warning per clock, at 75% of its window
    warns = [(e.payload["rule"], e.payload["warn_at"]) for e in recorded if e.type == "sla.warned"]
    assert warns[:3] == [("registration", "2026-03-16T12:00:00+08:00"), ("level2_review", "2026-03-17T07:00:00+08:00"),
                         ("level1_review", "2026-03-18T07:00:00+08:00")]
    assert len(warns) == 4


def test_no_flood_the_district_breach_is_recorded_once_however_long_it_stays() -> None:
    s = Script(T0, level=4)
    s.do("register", T0 + h(1))
    first = s.scan_every(T0, T0 + timedelta(days=60), timedelta(hours=6))
    assert len(breaches(first)) == 1
    assert s.scan(T0 + timedelta(days=90)) == []


def test_a_clue_found_at_23_00_breaches_at_03_00_the_next_day() -> None:
    found = datetime(2026, 3, 14, 23, 0, tzinfo=SHANGHAI)
    s = Script(found)
    assert s.scan(datetime(2026, 3, 15, 2, 59, 59, tzinfo=SHANGHAI))[0].type == "sla.warned"
    assert breaches(s.scan(datetime(2026, 3, 15, 2, 59, 59, tzinfo=SHANGHAI))) == []
    assert breaches(s.scan(datetime(2026, 3, 15, 3, 0, tzinfo=SHANGHAI))) == [
        ("registration", 3, "p-l3", "2026-03-15T03:00:00+08:00")]


def test_a_paused_case_does_not_breach_while_paused_and_breaches_right_after_resume_with_time_kept() -> None:
    s = Script(T0)
    s.do("register", T0 + h(1))  # triage clock: 24 h, due 10:00 the next day
    s.do("pause", T0 + h(5), waiting_on="police_station", reason="等待派出所核实资金流向")  # 4 h of 24 used
    assert s.scan_every(T0 + h(5), T0 + timedelta(days=5), timedelta(hours=1)) == []  # days pass: nothing
    resumed = T0 + timedelta(days=5)
    s.do("resume", resumed, reason="")
    # 20 hours were left when it paused: the deadline is resume + 20 h, not a fresh day
    assert s.case.clock is not None
    assert s.case.clock.due_at() == resumed + h(20)
    assert breaches(s.scan(resumed + h(20) - timedelta(seconds=1))) == []
    assert breaches(s.scan(resumed + h(20))) == [("triage", 3, "p-l3", (resumed + h(20)).isoformat())]


def test_an_extension_is_granted_before_the_deadline_limited_and_refused_after_expiry() -> None:
    s = Script(T0)
    s.do("register", T0 + h(1))  # due T0+25h
    [ext] = s.do("extend", T0 + h(10), hours=8, reason="当事人外出，明日回访")
    assert (ext.payload["extension_no"], ext.payload["deadline"]) == (1, (T0 + h(33)).isoformat())
    s.do("extend", T0 + h(20), hours=8, reason="仍未回访到当事人")  # the second: a "repeated extension"
    with pytest.raises(CommandRefused) as err:
        s.do("extend", T0 + h(30), hours=1, reason="再延")
    assert err.value.message == "延期次数已达上限（2次）"

    late = Script(T0)
    late.do("register", T0 + h(1))
    with pytest.raises(CommandRefused) as err:
        late.do("extend", T0 + h(25), hours=4, reason="忘了")  # at the deadline: too late
    assert "已超过期限" in err.value.message
    with pytest.raises(InvalidCommand):
        late.do("extend", T0 + h(2), working_days=1, reason="单位不对")  # an hourly clock extends in hours


def test_the_breach_after_an_extension_is_at_the_extended_deadline() -> None:
    s = Script(T0)
    s.do("extend", T0 + h(2), hours=2, reason="暴雨，网格员无法到场")
    assert breaches(s.scan(T0 + h(5))) == []
    assert breaches(s.scan(T0 + h(6))) == [("registration", 3, "p-l3", (T0 + h(6)).isoformat())]


def test_handling_in_the_last_tenth_of_the_window_is_marked_last_minute() -> None:
    early, late = Script(T0), Script(T0)
    [a] = early.do("register", T0 + h(1), by="p-zhang")
    [b] = late.do("register", T0 + h(3.7), by="p-zhang")  # 3 h 42 min of 4 h
    assert (a.payload["last_minute"], b.payload["last_minute"]) == (False, True)
    assert (a.payload["late"], b.payload["late"]) == (False, False)


def test_a_working_day_deadline_set_before_national_day_lands_after_the_holiday() -> None:
    order_day = datetime(2026, 9, 29, 10, 0, tzinfo=SHANGHAI)  # Tuesday before the 10/1–10/7 holiday
    s = Script(order_day - timedelta(days=3))
    for action, params in [("register", {}), ("escalate", {"stabilization": "已稳控"}), ("escalate", {}),
                           ("escalate", {})]:
        s.do(action, order_day - timedelta(hours=5), **params)
    [ev] = s.do("decide_disposal", order_day, disposal="rectification_order", working_days=3,
                reason="违规发布理财广告，责令限期整改")
    # 9/30 is the 1st working day, 10/1–10/7 are holidays, 10/8 and 10/9 are the 2nd and 3rd
    assert ev.payload["deadline"] == "2026-10-09T23:59:59+08:00"
    s.do("extend", order_day + h(1), working_days=1, reason="企业申请延期一日")
    assert s.case.clock is not None
    assert s.case.clock.deadline.isoformat() == "2026-10-10T23:59:59+08:00"  # Saturday 10/10 is a 调休 working day
    assert breaches(s.scan(datetime(2026, 10, 11, 0, 0, tzinfo=SHANGHAI))) == [
        ("rectification", 4, "", "2026-10-10T23:59:59+08:00")]


def test_escalation_skips_a_vacant_level_and_says_so() -> None:
    roster = FakeRoster()
    roster.hand_over(2, T0 - h(1), "")  # the level-2 post is vacant
    s = Script(T0, roster=roster)
    recorded = s.scan(T0 + h(4))
    [up] = [e.payload for e in recorded if e.type == "case.escalated"]
    assert (up["to_level"], up["assignee_person_id"], up["routing_note"]) == (1, "p-l1", "二级网格网格长空缺")


SCAN_PLANS = {"every 5 minutes": timedelta(minutes=5), "every 7 hours": timedelta(hours=7),
              "once, days later": timedelta(days=30)}


def _verdicts(step: timedelta) -> list[tuple]:
    roster = FakeRoster(l3="p-zhang", l2="p-chen", l1="p-li")
    roster.hand_over(1, T0 + h(30), "p-li-successor")
    s = Script(T0, roster=roster)
    s.do("register", T0 + h(2))
    s.do("pause", T0 + h(3), waiting_on="market_regulation", reason="等市场监管所调取登记档案")
    s.do("resume", T0 + h(9), reason="")
    start, end = T0 + h(9), T0 + timedelta(days=29)
    recorded = s.scan_every(start + step, end, step) + s.scan(end)
    return [(e.type, {k: v for k, v in e.payload.items()}) for e in recorded if e.type != "sla.warned"]


def test_replaying_with_any_scan_frequency_records_the_same_breaches_and_escalations() -> None:
    results = {name: _verdicts(step) for name, step in SCAN_PLANS.items()}
    reference = results["every 5 minutes"]
    assert [p["rule"] for t, p in reference if t == "sla.breached"] == [
        "triage", "level2_review", "level1_review", "district_review"]
    assert [p["responsible_person_id"] for t, p in reference if t == "sla.breached"][2] == "p-li-successor"
    for name, result in results.items():
        assert result == reference, name

"""The deadline scanner through the real service class: a breach is raised exactly once per
deadline even when the scanner dies between recording a breach and updating its read model
(R9), metrics count each fact once, gauges show what is open and overdue."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY

from fangfei.clock import SHANGHAI

from .harness import World
from .support import chief, full_chain_roster

T0 = datetime(2026, 3, 16, 9, 0, tzinfo=SHANGHAI)


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs, nothing catches it."""


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def crash_after(world: World, appends: int) -> None:
    """Let `appends` more commits through, then die right after the next one is durable."""
    real = world.store.append
    left = {"n": appends}

    def append(stream_id: str, expected: int, events: Any) -> Any:
        commit = real(stream_id, expected, events)
        if left["n"] == 0:
            raise Killed()
        left["n"] -= 1
        return commit

    world.store.append = append  # type: ignore[method-assign]


def breaches_per_case(world: World, ids: list[str]) -> dict[str, list[tuple[str, int]]]:
    return {c: [(e.payload["rule"], e.payload["level"]) for e in world.events(c, "sla.breached")] for c in ids}


def test_a_scanner_killed_mid_scan_and_restarted_raises_each_breach_exactly_once() -> None:
    w = World(T0 + timedelta(hours=5))
    ids = [w.report(f"c{i:03d}", found_at=(T0 + timedelta(minutes=i)).isoformat()) for i in range(12)]
    before = metric("fangfei_sla_breaches_total", street="longgang", level="3", rule="registration")
    crash_after(w, appends=5)
    with pytest.raises(Killed):
        w.scan()
    del w.store.append  # the process is gone; a new one starts on the same store
    w.restart()
    w.scan()
    w.scan()  # and once more for good measure

    assert breaches_per_case(w, ids) == {c: [("registration", 3)] for c in ids}
    assert all(w.case(c)["status"] == "level2_review" for c in ids)
    after = metric("fangfei_sla_breaches_total", street="longgang", level="3", rule="registration")
    # counted where first recorded: the one the dead process recorded (and died before counting) is
    # not counted again by its successor, and nothing is counted twice
    assert after - before == 11
    # the read model caught up with the breach the dead scanner recorded but never indexed
    status, listed = w.get("/api/cases", street_id="longgang", status="level2_review")
    assert status == 200 and listed["total"] == 12


def test_a_breach_due_while_the_service_was_down_is_raised_once_on_restart_at_the_deadline() -> None:
    w = World(T0)
    w.report(found_at=T0.isoformat())
    w.advance(days=3)  # nobody scanned for three days
    w.restart().scan_deadlines()
    got = [(e.payload["rule"], e.payload["deadline"]) for e in w.events(type_="sla.breached")]
    assert got == [("registration", "2026-03-16T13:00:00+08:00"), ("level2_review", "2026-03-17T13:00:00+08:00"),
                   ("level1_review", "2026-03-18T13:00:00+08:00")]
    w.scan()
    assert len(w.events(type_="sla.breached")) == 3


def test_gauges_show_open_overdue_and_unregistered_cases() -> None:
    w = World(T0)
    w.report("c1", found_at=T0.isoformat())
    w.report("c2", found_at=T0.isoformat())
    w.ok("c2", "register")
    w.advance(hours=4, minutes=1)
    w.scan()  # c1 breaches registration and moves to level 2; it is still not registered
    assert metric("fangfei_cases_open", street="longgang", level="2") == 1
    assert metric("fangfei_cases_open", street="longgang", level="3") == 1
    assert metric("fangfei_clues_unregistered_overdue", street="longgang") == 1
    assert metric("fangfei_cases_overdue", street="longgang", level="2") == 0
    w.ok("c1", "register", by="p-chen01")  # 补登记 by level 2
    w.ok("c1", "pause", by="p-chen01", waiting_on="police_station")
    w.advance(hours=22)  # c2's triage day is over: it breaches and moves to level 2
    w.scan()
    assert metric("fangfei_clues_unregistered_overdue", street="longgang") == 0
    assert metric("fangfei_cases_overdue", street="longgang", level="2") == 0  # paused: not overdue
    assert metric("fangfei_cases_open", street="longgang", level="2") == 2  # c2 breached triage meanwhile


def test_registration_metrics_count_on_time_and_late_once() -> None:
    w = World(T0 + timedelta(hours=1))
    on_time = metric("fangfei_clues_registered_total", street="longgang", outcome="on_time")
    late = metric("fangfei_clues_registered_total", street="longgang", outcome="late")
    w.report("c1", found_at=T0.isoformat())
    w.report("c2", found_at=(T0 - timedelta(hours=5)).isoformat())
    w.ok("c1", "register")
    w.ok("c2", "register")
    w.act("c1", "register")  # refused: already registered, counts nothing
    assert metric("fangfei_clues_registered_total", street="longgang", outcome="on_time") - on_time == 1
    assert metric("fangfei_clues_registered_total", street="longgang", outcome="late") - late == 1


def test_a_warning_reaches_the_responsible_person_once_at_75_percent() -> None:
    w = World(T0)
    w.report(found_at=T0.isoformat())
    w.at("2026-03-16T11:59:00+08:00")
    w.scan()
    assert w.events(type_="sla.warned") == []
    w.at("2026-03-16T12:00:00+08:00")
    w.scan()
    w.scan()
    [warned] = w.events(type_="sla.warned")
    assert (warned.payload["responsible_person_id"], warned.payload["deadline"]) == ("p-zhang01", "2026-03-16T13:00:00+08:00")


def test_the_breach_names_who_held_the_case_at_the_deadline_not_a_chief_appointed_after_it_was_routed() -> None:
    """Issue 13: 孙网格01 became the grid's chief at 11:00, two hours after the clue had been routed
    to 张网格01; nobody handed the case over, so it was 张网格01's when the 4 hours ran out."""
    handover = chief("g3-magang-01", "p-sun01", valid_from="2026-03-16T11:00:00+08:00")
    w = World(T0, full_chain_roster() + [handover])
    w.report(found_at=T0.isoformat())
    assert w.case()["assignee_person_id"] == "p-zhang01"  # routed to the chief when it was found
    w.advance(hours=4)
    w.scan()
    [breach] = w.events(type_="sla.breached")
    assert (breach.payload["responsible_person_id"], breach.payload["responsibility_note"]) == ("p-zhang01", "")
    # the automatic escalation goes to level 2, whose chief then holds it
    assert w.case()["assignee_person_id"] == "p-chen01"


def test_an_untouched_case_climbs_to_the_district_naming_each_levels_chief_from_the_roster_copy() -> None:
    w = World(T0)
    w.report(found_at=T0.isoformat())
    for _ in range(12 * 12):  # twelve days, scanned every two hours
        w.advance(hours=2)
        w.scan()
    got = [(e.payload["rule"], e.payload["level"], e.payload["responsible_person_id"], e.payload["consequence"])
           for e in w.events(type_="sla.breached")]
    assert got == [("registration", 3, "p-zhang01", "escalated"), ("level2_review", 2, "p-chen01", "escalated"),
                   ("level1_review", 1, "p-li01", "escalated"), ("district_review", 4, "", "recorded")]
    case = w.case()
    assert (case["status"], case["level_label"]) == ("district", "区处非办")
    assert [h["action_label"] for h in case["history"] if h["action"] == "auto_escalate"] == ["超时自动上报"] * 3

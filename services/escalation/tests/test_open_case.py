"""Escalation: each reported clue becomes exactly one case, routed to whoever must register it."""

from __future__ import annotations

from typing import Any

import pytest
from nameko.testing.services import worker_factory

from fangfei.clock import FrozenClock
from fangfei.eventstore.provider import ServiceStore
from fangfei.roster_view import RosterReplica
from fangfei.testing.stores import memory_store
from services.escalation.service import EscalationService

from .support import NOW, clue, demo_roster, grid


def make_service(store: ServiceStore, roster_events: list) -> EscalationService:
    svc = worker_factory(EscalationService, store=store, roster=RosterReplica(store.db))
    svc.clock = store.clock
    for ev in roster_events:
        svc.apply_roster_event(ev)
    return svc


@pytest.fixture
def store() -> ServiceStore:
    return memory_store("escalation", FrozenClock(NOW))


def opened(store: ServiceStore, clue_id: str = "c0001") -> list:
    return [e for e in store.events.read_stream(f"case-{clue_id}") if e.type == "case.opened"]


def test_clue_goes_to_its_level_3_grid_chief_with_a_four_hour_deadline(store: ServiceStore) -> None:
    svc = make_service(store, demo_roster())
    reported = clue(found_at="2026-03-14T09:30:00+08:00")
    svc.open_case(reported)

    [case] = opened(store)
    assert case.type == "case.opened"
    assert case.payload == {
        "case_id": "c0001",
        "clue_id": "c0001",
        "community_id": "magang",
        "grid_id": "g3-magang-01",
        "level": 3,
        "assignee_person_id": "p-zhang01",
        "found_at": "2026-03-14T09:30:00+08:00",
        "register_deadline": "2026-03-14T13:30:00+08:00",
        "routing_note": "",
    }
    assert (case.street_id, case.actor) == ("longgang", "system:escalation")
    assert case.causation_id == reported.event_id
    assert case.correlation_id == reported.correlation_id


def test_vacant_level_3_grid_goes_to_the_level_2_chief_with_a_note(store: ServiceStore) -> None:
    svc = make_service(store, demo_roster())
    svc.open_case(clue(community_id="baihua"))

    [case] = opened(store)
    assert (case.payload["level"], case.payload["grid_id"]) == (2, "g2-baihua")
    assert case.payload["assignee_person_id"] == "p-wang01"
    assert "白花第一网格（3级网格）网格长空缺" in case.payload["routing_note"]


def test_unknown_community_goes_to_the_district_office_with_a_note(store: ServiceStore) -> None:
    svc = make_service(store, demo_roster(with_street_chief=False))
    svc.open_case(clue(community_id="nowhere"))

    [case] = opened(store)
    assert case.payload["level"] == 4
    assert case.payload["assignee_person_id"] == ""
    assert "社区（编号 nowhere）不在名册中" in case.payload["routing_note"]
    assert "转区处非办" in case.payload["routing_note"]


def test_unknown_community_goes_to_the_street_chief_when_the_street_has_one(store: ServiceStore) -> None:
    svc = make_service(store, demo_roster(with_street_chief=True))
    svc.open_case(clue(community_id="nowhere"))

    [case] = opened(store)
    assert (case.payload["level"], case.payload["assignee_person_id"]) == (1, "p-li01")
    assert "社区（编号 nowhere）不在名册中" in case.payload["routing_note"]


def test_clue_found_late_in_the_evening_is_due_after_midnight(store: ServiceStore) -> None:
    svc = make_service(store, demo_roster())
    svc.open_case(clue(found_at="2026-03-13T15:00:00Z"))  # 23:00 in Shanghai

    [case] = opened(store)
    assert case.payload["found_at"] == "2026-03-13T23:00:00+08:00"
    assert case.payload["register_deadline"] == "2026-03-14T03:00:00+08:00"


def test_the_same_clue_delivered_twice_opens_one_case(store: ServiceStore) -> None:
    svc = make_service(store, demo_roster())
    reported = clue()
    svc.open_case(reported)
    svc.open_case(reported)  # redelivery after a crash before the consumer's bookkeeping

    assert len(opened(store)) == 1
    assert store.events.head_position() == 1  # one commit: the case and its risk screening


def test_roster_copy_survives_a_restart_and_routes_the_same(store: ServiceStore) -> None:
    make_service(store, demo_roster())
    restarted = worker_factory(EscalationService, store=store, roster=RosterReplica(store.db))
    restarted.clock = store.clock
    restarted.open_case(clue())

    [case] = opened(store)
    assert case.payload["assignee_person_id"] == "p-zhang01"


def test_roster_event_delivered_twice_is_kept_once(store: ServiceStore) -> None:
    events = demo_roster()
    svc = make_service(store, events + events)
    assert store.db["roster_replica"].count_documents({}) == len(events)
    assert svc.roster.load().grids["g3-magang-01"].chief_at(NOW) == "p-zhang01"


def test_a_very_long_vacancy_chain_still_opens_the_case(store: ServiceStore) -> None:
    long: list[Any] = [
        grid("g1-longgang", "一" * 100, 1),
        grid("g2-magang", "二" * 100, 2, "g1-longgang", "magang"),
        grid("g3-magang-01", "三" * 100, 3, "g2-magang", "magang"),
    ]
    svc = make_service(store, long)
    svc.open_case(clue())

    [case] = opened(store)
    assert case.payload["level"] == 4
    assert len(case.payload["routing_note"]) == 300
    assert case.payload["routing_note"].endswith("…")


def test_the_clue_is_screened_in_the_same_commit_with_an_explained_score(store: ServiceStore) -> None:
    svc = make_service(store, demo_roster())
    svc.open_case(clue(subject_name="某某财富管理有限公司", description="业务员在小区向老年人发传单，宣传保本年化18%。"))

    [_, screened] = store.events.read_stream("case-c0001")
    assert screened.type == "case.risk_screened"
    p = screened.payload
    assert {h["indicator"] for h in p["hits"]} >= {"name_finance_words", "promised_returns", "public_solicitation",
                                                   "vulnerable_investors"}
    assert p["score"] == sum(h["weight"] for h in p["hits"]) and p["suggested_tag"] == "red"
    assert p["credit_code_status"] == "absent"

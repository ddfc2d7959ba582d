"""Routing by place (fangfei.roster_view.RosterView.route): who must handle a clue of a community
at a given instant, at every level of the grid.

These are the answers every consuming service gets from its own replica, so they are tested on
the shared view directly, built from roster events exactly as a replica folds them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from fangfei.events import Event, new_event
from fangfei.roster_view import DISTRICT_LEVEL, RosterView

T0 = datetime(2025, 1, 1, tzinfo=timezone(timedelta(hours=8)))
LATER = datetime(2026, 3, 14, 10, 0, tzinfo=timezone.utc)
STREET = "longgang"


def ev(type: str, **payload: object) -> Event:
    return new_event(type, "test-1", STREET, payload, actor="test", occurred_at=T0)


def grid(grid_id: str, name: str, level: int, parent: str = "", community: str = "") -> Event:
    return ev("roster.grid_registered", grid_id=grid_id, name=name, level=level,
              parent_grid_id=parent, community_id=community)


def chief(grid_id: str, person_id: str, valid_from: datetime = T0) -> Event:
    return ev("roster.chief_assigned", grid_id=grid_id, person_id=person_id,
              valid_from=valid_from.isoformat())


def structure() -> list[Event]:
    """龙岗街道 → 马岗社区 (二级) → 马岗第01网格 (三级), nobody assigned yet."""
    return [
        ev("roster.street_registered", street_id=STREET, name="龙岗街道"),
        ev("roster.community_registered", community_id="magang", name="马岗社区", kind="community"),
        grid("longgang-l1", "龙岗街道一级网格", 1),
        grid("magang-l2", "马岗社区二级网格", 2, "longgang-l1", "magang"),
        grid("magang-l3-01", "马岗社区第01网格", 3, "magang-l2", "magang"),
    ]


def staffed() -> list[Event]:
    return structure() + [chief("longgang-l1", "chief-l1"), chief("magang-l2", "chief-l2"),
                          chief("magang-l3-01", "chief-l3")]


def test_a_clue_goes_to_its_level_3_chief_without_a_note() -> None:
    route = RosterView.from_events(staffed()).route(STREET, "magang", LATER)
    assert (route.level, route.grid_id, route.person_id, route.note) == (3, "magang-l3-01", "chief-l3", "")


def test_a_reassignment_takes_effect_exactly_at_its_start() -> None:
    handover = datetime(2026, 3, 1, tzinfo=timezone(timedelta(hours=8)))
    view = RosterView.from_events(staffed() + [chief("magang-l3-01", "chief-l3-new", handover)])
    assert view.route(STREET, "magang", handover - timedelta(seconds=1)).person_id == "chief-l3"
    assert view.route(STREET, "magang", handover).person_id == "chief-l3-new"
    # the same instant written in UTC is the same handover
    assert view.route(STREET, "magang", handover.astimezone(timezone.utc)).person_id == "chief-l3-new"
    assert view.route(STREET, "magang", LATER).person_id == "chief-l3-new"


def test_a_chief_counts_only_from_the_start_of_the_assignment() -> None:
    view = RosterView.from_events(staffed())
    route = view.route(STREET, "magang", T0 - timedelta(seconds=1))
    assert (route.level, route.person_id) == (DISTRICT_LEVEL, "")


def test_a_vacant_level_3_grid_goes_to_level_2_and_says_why() -> None:
    events = structure() + [chief("longgang-l1", "chief-l1"), chief("magang-l2", "chief-l2")]
    route = RosterView.from_events(events).route(STREET, "magang", LATER)
    assert (route.level, route.grid_id, route.person_id) == (2, "magang-l2", "chief-l2")
    assert route.note == "马岗社区第01网格（3级网格）网格长空缺"


def test_an_unknown_community_goes_to_the_street_chief_with_a_note() -> None:
    route = RosterView.from_events(staffed()).route(STREET, "nowhere", LATER)
    assert (route.level, route.grid_id, route.person_id) == (1, "longgang-l1", "chief-l1")
    assert route.note == "社区（编号 nowhere）不在名册中"


def test_an_unknown_community_of_a_street_without_chief_goes_to_the_district() -> None:
    events = structure() + [chief("magang-l2", "chief-l2"), chief("magang-l3-01", "chief-l3")]
    route = RosterView.from_events(events).route(STREET, "nowhere", LATER)
    assert (route.level, route.grid_id, route.person_id) == (DISTRICT_LEVEL, "", "")
    assert route.note.startswith("社区（编号 nowhere）不在名册中") and route.note.endswith("转区处非办")


def test_when_every_level_is_vacant_the_district_office_handles_it() -> None:
    route = RosterView.from_events(structure()).route(STREET, "magang", LATER)
    assert (route.level, route.grid_id, route.person_id) == (DISTRICT_LEVEL, "", "")
    assert route.note == (
        "马岗社区第01网格（3级网格）网格长空缺；马岗社区二级网格（2级网格）网格长空缺；"
        "龙岗街道一级网格（1级网格）网格长空缺；转区处非办"
    )


def test_an_explicit_grid_is_routed_from_that_grid() -> None:
    events = staffed() + [grid("magang-l3-02", "马岗社区第02网格", 3, "magang-l2", "magang"),
                          chief("magang-l3-02", "chief-l3-02")]
    view = RosterView.from_events(events)
    assert view.route(STREET, "magang", LATER, grid_id="magang-l3-02").person_id == "chief-l3-02"


def test_events_delivered_twice_route_the_same() -> None:
    """A replica may see an event again after a crash; the answer must not change."""
    once = RosterView.from_events(staffed())
    twice = RosterView.from_events(staffed() + staffed())
    assert twice.route(STREET, "magang", LATER) == once.route(STREET, "magang", LATER)
    assert twice.grids["magang-l3-01"].chiefs == once.grids["magang-l3-01"].chiefs


def test_re_registering_a_grid_keeps_its_chiefs() -> None:
    events = staffed() + [grid("magang-l3-01", "马岗社区第一网格", 3, "magang-l2", "magang")]
    route = RosterView.from_events(events).route(STREET, "magang", LATER)
    assert (route.level, route.person_id) == (3, "chief-l3")


def test_a_known_community_without_grids_says_why_it_went_to_the_street() -> None:
    events = staffed() + [
        ev("roster.community_registered", community_id="luogang", name="罗岗社区", kind="community")
    ]
    route = RosterView.from_events(events).route(STREET, "luogang", LATER)
    assert (route.level, route.person_id) == (1, "chief-l1")
    assert route.note != ""


def test_a_vacant_street_chief_is_noted_when_an_unknown_community_falls_back() -> None:
    route = RosterView.from_events(structure()).route(STREET, "nowhere", LATER)
    assert "龙岗街道一级网格（1级网格）网格长空缺" in route.note


def vacate(grid_id: str, at: datetime) -> Event:
    return ev("roster.grid_vacated", grid_id=grid_id, valid_from=at.isoformat())


def test_a_vacated_grid_routes_to_the_level_above_from_that_instant() -> None:
    gone = datetime(2026, 3, 1, tzinfo=timezone(timedelta(hours=8)))
    view = RosterView.from_events(staffed() + [vacate("magang-l3-01", gone)])
    before = view.route(STREET, "magang", gone - timedelta(seconds=1))
    after = view.route(STREET, "magang", gone)
    assert (before.level, before.person_id, before.note) == (3, "chief-l3", "")
    assert (after.level, after.person_id) == (2, "chief-l2")
    assert after.note == "马岗社区第01网格（3级网格）网格长空缺"


def test_a_vacancy_and_a_successor_from_the_same_instant_is_a_handover() -> None:
    handover = datetime(2026, 3, 1, tzinfo=timezone(timedelta(hours=8)))
    events = staffed() + [vacate("magang-l3-01", handover), chief("magang-l3-01", "chief-l3-new", handover)]
    view = RosterView.from_events(events)
    assert view.route(STREET, "magang", handover).person_id == "chief-l3-new"
    terms = view.grids["magang-l3-01"].terms()
    assert [(t.person_id, t.end, t.vacated) for t in terms] == [("chief-l3", handover, True), ("chief-l3-new", None, False)]


@pytest.mark.parametrize("level", [3, 2, 1, DISTRICT_LEVEL])
def test_every_level_of_the_grid_is_reached_when_those_below_are_vacant(level: int) -> None:
    gone = datetime(2026, 1, 1, tzinfo=timezone.utc)
    below = {3: [], 2: ["magang-l3-01"], 1: ["magang-l3-01", "magang-l2"],
             DISTRICT_LEVEL: ["magang-l3-01", "magang-l2", "longgang-l1"]}[level]
    view = RosterView.from_events(staffed() + [vacate(g, gone) for g in below])
    route = view.route(STREET, "magang", LATER)
    expected = {3: "chief-l3", 2: "chief-l2", 1: "chief-l1", DISTRICT_LEVEL: ""}[level]
    assert (route.level, route.person_id) == (level, expected)
    assert route.note.count("网格长空缺") == len(below)


def test_notes_name_the_grid_and_streets_a_mismatch_involves() -> None:
    """A clue filed under the wrong street: the note is read by people, so it names the grid and both
    streets (a street the roster never registered is called by its code, marked as such)."""
    events = staffed() + [new_event("roster.street_registered", "test-2", "pingshan",
                                    {"street_id": "pingshan", "name": "坪山街道"}, actor="test", occurred_at=T0)]
    view = RosterView.from_events(events)
    assert view.route("pingshan", "magang", LATER).note == "马岗社区第01网格属于龙岗街道，非坪山街道"
    assert view.route("kengzi", "magang", LATER).note == "马岗社区第01网格属于龙岗街道，非街道（编号 kengzi）"


def test_a_community_without_grids_is_named_in_the_note() -> None:
    events = staffed() + [ev("roster.community_registered", community_id="huadu", name="华都社区", kind="community")]
    assert RosterView.from_events(events).route(STREET, "huadu", LATER).note == "华都社区未设网格"

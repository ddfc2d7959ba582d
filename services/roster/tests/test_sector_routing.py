"""Routing by industry sector (fangfei.roster_view.RosterView.route_sector): which member units of a
street answer for a clue of a sector at an instant, and where it goes when none does.

The demo street carries seed 003 §三 as recorded through the import path; the other cases build
the view from roster events as every replica does."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from fangfei.events import Event, new_event
from fangfei.roster_view import RosterView
from fangfei.vocab import INDUSTRY_SECTORS
from services.roster.projections import roster_view

from .helpers import DEMO, NOW, import_bytes, new_store

T0 = datetime(2025, 1, 1, tzinfo=timezone(timedelta(hours=8)))
STREET = "longgang"

# Seed 003 §三 and §四(一): every sector it names, and who answers for it.
SEED_003 = {
    "education_training": "公共服务办",
    "elderly_care": "公共服务办",
    "commerce": "公共服务办",
    "e_commerce": "公共服务办",
    "culture_tourism": "公共服务办",
    "medical_beauty_health": "公共服务办",
    "real_estate": "城市管理办",
    "agriculture_forestry": "城市管理办",
    "advertising": "龙岗市场监督管理所",
    # focus industries seed 003 gives to no unit: the leading group's office takes them
    "investment_financing": None,
    "equity_investment": None,
    "consulting": None,
}


@pytest.fixture(scope="module")
def demo() -> RosterView:
    store = new_store()
    import_bytes(store, DEMO.read_bytes())
    return roster_view(store.events)


@pytest.mark.parametrize("sector", list(SEED_003))
def test_every_sector_of_seed_003_reaches_its_unit_or_the_office(demo: RosterView, sector: str) -> None:
    route = demo.route_sector(STREET, sector, NOW)
    unit = SEED_003[sector]
    if unit is not None:
        assert route.target == "member_unit"
        assert [demo.units[u].name for u in route.unit_ids] == [unit]
        assert [demo.people[p]["name"] for p in route.person_ids] == [demo.people[f"{route.unit_ids[0]}-contact"]["name"]]
        assert route.note == ""
    else:
        assert route.target == "leading_group_office"
        assert route.unit_ids == ("longgang-ggfw",)  # 领导小组办公室设在街道公共服务办
        assert [demo.people[p]["name"] for p in route.person_ids] == ["办公室主任戊06"]
        assert route.note == f"行业「{INDUSTRY_SECTORS[sector]}」未指定负责的成员单位；转领导小组办公室（公共服务办）"


@pytest.mark.parametrize("sector", list(INDUSTRY_SECTORS))
def test_every_sector_of_the_catalogue_has_an_explicit_answer(demo: RosterView, sector: str) -> None:
    route = demo.route_sector(STREET, sector, NOW)
    assert route.person_ids, route  # somebody is always told
    assert route.target == "member_unit" or route.note


def test_seed_003_names_every_focus_industry_in_the_catalogue() -> None:
    assert set(SEED_003) == set(list(INDUSTRY_SECTORS)[:12])


# -- built from events ---------------------------------------------------------------------------
def ev(type: str, stream: str = "test-1", street: str = STREET, **payload: object) -> Event:
    return new_event(type, stream, street, payload, actor="test", occurred_at=T0)


def unit(unit_id: str, name: str, kind: str, sectors: list[str], since: datetime = T0, street: str = STREET) -> list[Event]:
    return [ev("roster.member_unit_registered", street=street, unit_id=unit_id, name=name, kind=kind),
            ev("roster.unit_sectors_assigned", street=street, unit_id=unit_id, sectors=sectors,
               valid_from=since.isoformat())]


def role(person_id: str, role_: str, since: datetime = T0, **place: str) -> Event:
    return ev("roster.role_assigned", person_id=person_id, role=role_, valid_from=since.isoformat(), **place)


def end(person_id: str, role_: str, until: datetime, **place: str) -> Event:
    return ev("roster.role_ended", person_id=person_id, role=role_, valid_until=until.isoformat(), **place)


def street() -> list[Event]:
    return [ev("roster.street_registered", street_id=STREET, name="龙岗街道")]


def office() -> list[Event]:
    return [ev("roster.leading_group_registered", name="领导小组", office_unit_id="ggfw"),
            *unit("ggfw", "公共服务办", "public_service_office", ["elderly_care"]),
            role("director", "office_staff", position="office_director", unit_id="ggfw")]


def test_several_responsible_units_are_all_named_with_their_contacts() -> None:
    view = RosterView.from_events(street() + unit("ggfw", "公共服务办", "public_service_office", ["real_estate"])
                                  + unit("csgl", "城市管理办", "urban_management_office", ["real_estate"])
                                  + [role("a", "member_unit_contact", unit_id="csgl"),
                                     role("b", "member_unit_contact", unit_id="ggfw")])
    route = view.route_sector(STREET, "real_estate", NOW)
    assert (route.target, route.unit_ids, route.person_ids, route.note) == (
        "member_unit", ("ggfw", "csgl"), ("b", "a"), "")


def test_a_unit_without_a_contact_is_named_in_the_note() -> None:
    view = RosterView.from_events(street() + unit("ggfw", "公共服务办", "public_service_office", ["real_estate"])
                                  + unit("csgl", "城市管理办", "urban_management_office", ["real_estate"])
                                  + [role("a", "member_unit_contact", unit_id="csgl")])
    route = view.route_sector(STREET, "real_estate", NOW)
    assert (route.target, route.person_ids, route.note) == ("member_unit", ("a",), "公共服务办联系人空缺")


def test_when_no_responsible_unit_has_a_contact_the_office_takes_it() -> None:
    view = RosterView.from_events(street() + office() + unit("csgl", "城市管理办", "urban_management_office",
                                                             ["real_estate"]))
    route = view.route_sector(STREET, "real_estate", NOW)
    assert (route.target, route.unit_ids, route.person_ids) == ("leading_group_office", ("ggfw",), ("director",))
    assert route.note == "城市管理办联系人空缺；转领导小组办公室（公共服务办）"


def test_an_office_without_a_director_falls_back_to_its_units_contacts() -> None:
    events = street() + [ev("roster.leading_group_registered", name="领导小组", office_unit_id="ggfw"),
                         *unit("ggfw", "公共服务办", "public_service_office", []),
                         role("clerk", "member_unit_contact", unit_id="ggfw")]
    route = RosterView.from_events(events).route_sector(STREET, "consulting", NOW)
    assert (route.target, route.person_ids) == ("leading_group_office", ("clerk",))


def test_a_street_without_a_leading_group_sends_it_to_the_district() -> None:
    route = RosterView.from_events(street()).route_sector(STREET, "consulting", NOW)
    assert (route.target, route.unit_ids, route.person_ids) == ("district_office", (), ())
    assert route.note == "行业「咨询服务」未指定负责的成员单位；龙岗街道未设领导小组；转区处非办"


def test_an_unstaffed_office_sends_it_to_the_district() -> None:
    events = street() + office() + [end("director", "office_staff", T0 + timedelta(days=30),
                                        position="office_director", unit_id="ggfw")]
    view = RosterView.from_events(events)
    assert view.route_sector(STREET, "consulting", T0 + timedelta(days=29)).target == "leading_group_office"
    late = view.route_sector(STREET, "consulting", T0 + timedelta(days=30))
    assert (late.target, late.note) == (
        "district_office", "行业「咨询服务」未指定负责的成员单位；领导小组办公室无人在岗；转区处非办")


def test_an_unknown_sector_or_street_is_explicit() -> None:
    view = RosterView.from_events(street() + office())
    unknown = view.route_sector(STREET, "lottery", NOW)
    assert (unknown.target, unknown.note) == ("leading_group_office", "行业 lottery 不在行业目录中；转领导小组办公室（公共服务办）")
    nowhere = view.route_sector("nowhere", "elderly_care", NOW)
    assert (nowhere.target, nowhere.note) == ("district_office", "街道（编号 nowhere）不在名册中；转区处非办")


def test_a_unit_of_another_street_never_answers() -> None:
    events = street() + office() + unit("other-csgl", "别处城管办", "urban_management_office", ["real_estate"],
                                        street="other") + [role("x", "member_unit_contact", unit_id="other-csgl")]
    route = RosterView.from_events(events).route_sector(STREET, "real_estate", NOW)
    assert route.target == "leading_group_office"


def test_sectors_moved_to_another_unit_route_by_the_time_of_the_clue() -> None:
    moved = datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=8)))
    events = street() + office() + unit("csgl", "城市管理办", "urban_management_office", ["real_estate"]) + [
        role("c", "member_unit_contact", unit_id="csgl"),
        ev("roster.unit_sectors_assigned", unit_id="csgl", sectors=[], valid_from=moved.isoformat()),
        ev("roster.unit_sectors_assigned", unit_id="ggfw", sectors=["elderly_care", "real_estate"],
           valid_from=moved.isoformat()),
        role("g", "member_unit_contact", unit_id="ggfw"),
    ]
    view = RosterView.from_events(events)
    assert view.route_sector(STREET, "real_estate", moved - timedelta(seconds=1)).unit_ids == ("csgl",)
    assert view.route_sector(STREET, "real_estate", moved).unit_ids == ("ggfw",)


def test_a_contact_counts_only_during_their_term() -> None:
    until = T0 + timedelta(days=10)
    events = street() + office() + unit("csgl", "城市管理办", "urban_management_office", ["real_estate"]) + [
        role("c", "member_unit_contact", unit_id="csgl"), end("c", "member_unit_contact", until, unit_id="csgl"),
        role("c", "member_unit_contact", until + timedelta(days=5), unit_id="csgl")]
    view = RosterView.from_events(events)
    assert view.route_sector(STREET, "real_estate", until - timedelta(seconds=1)).person_ids == ("c",)
    assert view.route_sector(STREET, "real_estate", until).target == "leading_group_office"
    assert view.route_sector(STREET, "real_estate", until + timedelta(days=5)).person_ids == ("c",)


def test_replayed_events_route_the_same() -> None:
    events = street() + office() + unit("csgl", "城市管理办", "urban_management_office", ["real_estate"]) + [
        role("c", "member_unit_contact", unit_id="csgl")]
    once, twice = RosterView.from_events(events), RosterView.from_events(events + events)
    for sector in INDUSTRY_SECTORS:
        assert once.route_sector(STREET, sector, NOW) == twice.route_sector(STREET, sector, NOW)

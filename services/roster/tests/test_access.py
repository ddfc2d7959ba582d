"""Who may read and change which street's roster (docs/security.md): every route, every role, in
the caller's street and in another. A street office keeps its own street's roster and can neither
read nor change another's; everyone who works a street reads its tree and who is responsible; the
district office reaches every street; nothing changes on a refusal, and a refusal never shows the
other street's data."""

from __future__ import annotations

import pytest

from fangfei.auth.policy import POLICY
from fangfei.auth.roles import (
    AUDITOR, COMMUNITY_OFFICE, DISTRICT_OFFICE, GRID_STAFF, MEMBER_UNIT, OPS, ROLES, STREET_OFFICE,
)
from fangfei.testing.wsgi import http_routes
from services.roster import exporter
from services.roster.service import XLSX_TYPE, RosterService

from .access_world import (
    MEMBER_PERSON, OTHER_COMMUNITY, OTHER_STREET, OWN_COMMUNITY, OWN_STREET, PROBES, RosterWorld, street_rows,
    volunteer_file,
)
from .helpers import district, read_csv, to_csv, with_rows

READERS = {GRID_STAFF, COMMUNITY_OFFICE, STREET_OFFICE, DISTRICT_OFFICE, MEMBER_UNIT, AUDITOR}
KEEPERS = {STREET_OFFICE, DISTRICT_OFFICE}
DISTRICT_WIDE = {DISTRICT_OFFICE, AUDITOR}
READS = {("GET", "/api/roster/streets/<id>/tree"), ("GET", "/api/roster/streets/<id>/responsible"),
         ("GET", "/api/roster/route")}
EXPORT = ("GET", "/api/roster/streets/<id>/export")


def allowed(key: tuple[str, str]) -> set[str]:
    """The roles that may use a route, as this service's users need them."""
    if key in READS:
        return READERS
    if key == EXPORT:
        return {STREET_OFFICE, DISTRICT_OFFICE, AUDITOR}
    return KEEPERS


def headers(world: RosterWorld, role: str) -> dict[str, str]:
    return world.mint.headers(role, street=OWN_STREET, community=OWN_COMMUNITY,
                              person=MEMBER_PERSON if role == MEMBER_UNIT else "")


def test_every_route_has_a_probe_and_a_policy_entry_as_this_file_expects() -> None:
    routes = {(method, getattr(RosterService, name).fangfei_api[1])
              for method, url, name in http_routes(RosterService) if url not in ("/health", "/metrics")}
    assert routes == set(PROBES)
    for method, route in routes:
        entry = POLICY[("roster", method, route)]
        assert set(entry) == allowed((method, route)), route


@pytest.fixture(scope="module")
def reading_world() -> RosterWorld:
    return RosterWorld()  # reads change nothing, so one world serves every read


@pytest.mark.parametrize("key", sorted(PROBES), ids=lambda k: f"{k[0]} {k[1]}")
@pytest.mark.parametrize("role", sorted(ROLES))
def test_role_on_route_in_its_street_and_another(key: tuple[str, str], role: str, reading_world) -> None:
    for street in (OWN_STREET, OTHER_STREET):
        world = reading_world if key[0] == "GET" else RosterWorld()
        before = world.records()
        status, text = PROBES[key](world, headers(world, role), street)
        where = f"{role} {key} in {street}: {status} {text[:300]}"
        if role not in allowed(key):
            assert status == 403, where
        elif street == OWN_STREET or role in DISTRICT_WIDE:
            assert 200 <= status < 300, where
            if key[0] != "GET":
                assert world.records() > before, where  # every probe changes something when allowed
            continue
        else:
            assert status in (403, 404), where
            assert OTHER_STREET not in text and OTHER_COMMUNITY not in text, where
        assert world.records() == before, where


@pytest.mark.parametrize("key", sorted(PROBES), ids=lambda k: f"{k[0]} {k[1]}")
def test_no_token_no_roster(key: tuple[str, str], reading_world) -> None:
    world = reading_world if key[0] == "GET" else RosterWorld()
    before = world.records()
    status, text = PROBES[key](world, {}, OWN_STREET)
    assert status == 401 and "未登录" in text
    assert world.records() == before


def test_a_member_unit_reads_the_streets_it_serves() -> None:
    world = RosterWorld()
    both = world.mint.headers(MEMBER_UNIT, streets=(OWN_STREET, OTHER_STREET), person=MEMBER_PERSON)
    for street in (OWN_STREET, OTHER_STREET):
        assert PROBES[("GET", "/api/roster/streets/<id>/tree")](world, both, street)[0] == 200
    one = world.mint.headers(MEMBER_UNIT, street=OWN_STREET, person=MEMBER_PERSON)
    assert PROBES[("GET", "/api/roster/streets/<id>/tree")](world, one, OTHER_STREET)[0] == 404


# -- imports by a street office ------------------------------------------------------------------------
def office(world: RosterWorld) -> dict[str, str]:
    return world.mint.headers(STREET_OFFICE, street=OWN_STREET, person="longgang-office-01")


def post(world: RosterWorld, hdrs: dict[str, str], data: bytes, query: str = "") -> tuple[int, str]:
    return world.send("POST", f"/api/roster/import{query}", hdrs, data, "text/csv; charset=utf-8")


def test_a_street_office_imports_its_own_street_as_itself() -> None:
    world = RosterWorld()
    status, _ = post(world, office(world), volunteer_file(OWN_STREET))
    assert status == 200
    [event] = [e for e in world.store.events.read_stream("person-magang-volunteer-09") if e.type == "roster.role_assigned"]
    assert (event.street_id, event.actor) == (OWN_STREET, "longgang-office-01")
    assert post(world, office(world), volunteer_file(OWN_STREET), f"?street_id={OWN_STREET}")[0] == 200


def test_a_file_with_rows_of_another_street_is_refused_whole_with_those_rows() -> None:
    world = RosterWorld()
    before = world.records()
    mixed = to_csv(with_rows(*street_rows(OWN_STREET, 1), *street_rows(OTHER_STREET, 2)))
    status, text = post(world, office(world), mixed)
    assert status == 403
    assert '"rows":[{"row":8,' in text and text.count('"row":') == 6  # rows 8–13: the other street's six
    assert post(world, office(world), volunteer_file(OWN_STREET), f"?street_id={OTHER_STREET}")[0] == 403
    assert world.records() == before


def test_a_street_office_cannot_take_over_or_learn_about_another_streets_ids() -> None:
    """Ids are one namespace: registering another street's community in our street is refused, and
    the answer says the id is taken without naming the street; a reference to another street's unit
    reads as not registered."""
    world = RosterWorld()
    before = world.records()
    hijack = {"街道编号": OWN_STREET, "街道名称": "龙岗街道", "社区编号": OTHER_COMMUNITY, "社区名称": "坪山一社区",
              "社区类型": "社区"}
    status, text = post(world, office(world), to_csv(with_rows(hijack)))
    assert status == 400 and "社区编号 ps-1 已被其他街道使用" in text and OTHER_STREET not in text
    member = {"街道编号": OWN_STREET, "街道名称": "龙岗街道", "小组职务": "组员", "成员单位编号": f"{OTHER_STREET}-pcs",
              "人员编号": "lg-09", "人员姓名": "组员09", "任职起始": "2026-03-01T00:00:00+08:00"}
    status, text = post(world, office(world), to_csv(with_rows(member)))
    assert status == 400 and "成员单位 pingshan-pcs 未登记" in text
    status, text = world.send("POST", f"/api/roster/streets/{OWN_STREET}/people/lg-09/roles", office(world), {
        "role": "member_unit_contact", "unit_id": f"{OTHER_STREET}-pcs", "valid_from": "2026-03-01T00:00:00+08:00",
        "name": "联系人09"})
    assert status == 400 and "未登记" in text and "属于街道" not in text
    assert world.records() == before


def test_the_district_office_imports_any_street() -> None:
    world = RosterWorld()
    district = world.mint.headers(DISTRICT_OFFICE, person="qu-office-01")
    assert post(world, district, volunteer_file(OTHER_STREET))[0] == 200
    assert post(world, district, volunteer_file(OWN_STREET), f"?street_id={OTHER_STREET}")[0] == 400


def test_ops_has_nothing_but_health_and_metrics(reading_world) -> None:
    ops = headers(reading_world, OPS)
    assert reading_world.send("GET", f"/api/roster/streets/{OWN_STREET}/tree", ops)[0] == 403
    assert reading_world.app.client.get("/health").status_code == 200


def test_the_district_loads_a_whole_district_workbook_and_each_office_gets_back_its_street() -> None:
    """Acceptance (issue 3) through the API, with tokens: a 3-street, 30-community, 981-person
    街道名册 as one XLSX workbook with Chinese headers goes in through the district office; each
    street office exports its own street (CSV) and the three give back the same rows; each office
    importing its export records nothing; no office can export another street."""
    world = RosterWorld()
    table = district()
    district_office = world.mint.headers(DISTRICT_OFFICE, person="qu-office-01")
    status, text = post_workbook(world, district_office, exporter.to_xlsx(table, "街道名册"))
    assert status == 200, text[:500]
    exported = [table[0]]
    for street in ("s01", "s02", "s03"):
        own = world.mint.headers(STREET_OFFICE, street=street, person=f"{street}-office")
        resp = world.app.client.get(f"/api/roster/streets/{street}/export", headers=own)
        assert resp.status_code == 200
        exported += read_csv(resp.get_data())[1:]
        head = world.records()
        assert post(world, own, resp.get_data())[0] == 200
        assert world.records() == head  # re-importing changes nothing
        other = "s02" if street == "s01" else "s01"
        assert world.app.client.get(f"/api/roster/streets/{other}/export", headers=own).status_code == 404
    assert exported == table


def post_workbook(world: RosterWorld, hdrs: dict[str, str], data: bytes) -> tuple[int, str]:
    return world.send("POST", "/api/roster/import", hdrs, data, XLSX_TYPE)

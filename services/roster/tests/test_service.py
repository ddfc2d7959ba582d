"""Roster over HTTP: a clerk imports the street's roster, then looks at the tree and routes."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from nameko.testing.services import worker_factory
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from fangfei.clock import FrozenClock
from fangfei.testing.stores import memory_store
from services.roster.service import IMPORT_MAX_BYTES, RosterService

from .helpers import DEMO, demo_table, edit, grid_row, to_csv, with_rows

NOW = datetime(2026, 3, 14, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def service() -> RosterService:
    svc = worker_factory(RosterService, store=memory_store("roster", FrozenClock(NOW)))
    svc.clock = FrozenClock(NOW)
    return svc


def post_csv(svc: RosterService, data: bytes, content_type: str = "text/csv; charset=utf-8"):
    builder = EnvironBuilder(method="POST", path="/api/roster/import", data=data, content_type=content_type)
    return svc.import_roster(Request(builder.get_environ()))


def get(path: str, **query: str) -> Request:
    return Request(EnvironBuilder(method="GET", path=path, query_string=query).get_environ())


def get_tree(svc: RosterService, street_id: str, **query: str):
    return svc.street_tree(get(f"/api/roster/streets/{street_id}/tree", **query), street_id)


def get_route(svc: RosterService, **query: str):
    return svc.route(get("/api/roster/route", **query))


def body(resp) -> dict:
    return json.loads(resp.get_data())


def route(svc: RosterService, **query: str) -> dict:
    resp = get_route(svc, **query)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return body(resp)


def test_import_then_the_street_tree_shows_every_grid_with_its_chief(service) -> None:
    resp = post_csv(service, DEMO.read_bytes())
    assert resp.status_code == 200
    assert body(resp)["created"] == {"streets": 1, "communities": 10, "grids": 21, "people": 31,
                                     "chief_assignments": 21}
    tree = body(get_tree(service, "longgang"))
    assert tree["name"] == "龙岗街道"
    [top] = tree["grids"]
    assert (top["grid_id"], top["level"], top["chief"]["name"]) == ("longgang-l1", 1, "街道网格长甲01")
    assert len(top["children"]) == 10
    magang = next(g for g in top["children"] if g["grid_id"] == "magang-l2")
    assert (magang["level_label"], magang["chief"]["name"]) == ("二级网格", "社区网格长乙01")
    assert [(g["grid_id"], g["chief"]["name"]) for g in magang["children"]] == [("magang-l3-01", "网格长丙01")]
    communities = {c["community_id"]: c for c in tree["communities"]}
    assert len(communities) == 10
    assert communities["hupo"]["name"] == "琥珀社区"
    assert [p["name"] for p in communities["hupo"]["liaisons"]] == ["联络员丁03"]


def test_importing_the_same_file_twice_changes_nothing(service) -> None:
    post_csv(service, DEMO.read_bytes())
    head = service.store.events.head_position()
    resp = post_csv(service, DEMO.read_bytes())
    assert resp.status_code == 200
    assert set(body(resp)["created"].values()) == {0}
    assert service.store.events.head_position() == head


def test_a_file_with_bad_rows_is_refused_whole_with_each_row_explained(service) -> None:
    table = demo_table()
    edit(table, 3, 网格层级="4")
    edit(table, 5, 任职起始="2025-01-01")
    edit(table, 8, 上级网格编号="nowhere-l2")
    resp = post_csv(service, to_csv(table))
    assert resp.status_code == 400
    error = body(resp)["error"]
    assert error["code"] == "import_rejected"
    assert [r["row"] for r in error["details"]["rows"]] == [3, 5, 8]
    assert all(r["reason"] for r in error["details"]["rows"])
    assert service.store.events.head_position() == 0  # the 28 good rows were not recorded either


def test_route_names_the_chief_who_handles_a_clue(service) -> None:
    post_csv(service, DEMO.read_bytes())
    found = route(service, street_id="longgang", community_id="hupo", at="2026-03-14T09:30:00+08:00")
    assert (found["level"], found["grid_id"], found["person_name"], found["note"]) == (
        3, "hupo-l3-01", "网格长丙03", "")
    unknown = route(service, street_id="longgang", community_id="nowhere")
    assert (unknown["level"], unknown["person_name"]) == (1, "街道网格长甲01")
    assert "不在名册中" in unknown["note"]


def test_a_reassignment_imported_later_routes_by_time(service) -> None:
    post_csv(service, DEMO.read_bytes())
    resp = post_csv(service, to_csv(with_rows(grid_row(
        人员编号="magang-l3-01-chief-b", 人员姓名="网格长丙11", 任职起始="2026-03-01T00:00:00+08:00"))))
    assert body(resp)["created"]["chief_assignments"] == 1
    before = route(service, street_id="longgang", community_id="magang", at="2026-02-28T23:59:59+08:00")
    after = route(service, street_id="longgang", community_id="magang", at="2026-03-01T00:00:00+08:00")
    assert (before["person_name"], after["person_name"]) == ("网格长丙01", "网格长丙11")
    tree = body(get_tree(service, "longgang"))  # now = 2026-03-14
    magang = next(g for g in tree["grids"][0]["children"] if g["grid_id"] == "magang-l2")
    assert magang["children"][0]["chief"]["name"] == "网格长丙11"


def test_a_grid_imported_without_chief_routes_to_level_2_with_a_note(service) -> None:
    post_csv(service, DEMO.read_bytes())
    vacant = grid_row(网格编号="magang-l3-02", 网格名称="马岗社区第02网格", 人员编号="", 人员姓名="", 人员角色="", 任职起始="")
    assert post_csv(service, to_csv(with_rows(vacant))).status_code == 200
    found = route(service, street_id="longgang", community_id="magang", grid_id="magang-l3-02")
    assert (found["level"], found["person_name"]) == (2, "社区网格长乙01")
    assert found["note"] == "马岗社区第02网格（3级网格）网格长空缺"


@pytest.mark.parametrize(
    "query, field",
    [
        ({"street_id": "longgang"}, "community_id"),
        ({"street_id": "longgang", "community_id": "magang", "at": "2026-03-14T09:30:00"}, "at"),
        ({"street_id": "longgang", "community_id": "magang", "who": "me"}, "who"),
    ],
    ids=["missing", "naive-time", "unknown-parameter"],
)
def test_a_bad_route_query_names_the_parameter(service, query: dict[str, str], field: str) -> None:
    resp = get_route(service, **query)
    assert resp.status_code == 400
    assert field in body(resp)["error"]["details"]


def test_an_unknown_street_has_no_tree(service) -> None:
    resp = get_tree(service, "nowhere")
    assert resp.status_code == 404
    assert "nowhere" in body(resp)["error"]["message"]


def test_only_csv_is_accepted(service) -> None:
    resp = post_csv(service, b'{"rows": []}', content_type="application/json")
    assert resp.status_code == 415
    assert service.store.events.head_position() == 0


def test_a_file_over_the_import_limit_is_refused_before_it_is_read(service) -> None:
    resp = post_csv(service, DEMO.read_bytes() + b"\r\n" * IMPORT_MAX_BYTES)
    assert resp.status_code == 413
    assert service.store.events.head_position() == 0


def test_a_file_larger_than_a_json_command_may_be_imported(service) -> None:
    """Imports may exceed the 64 KB JSON limit: blank rows pad the demo file past it."""
    padded = DEMO.read_bytes() + b"\r\n" * (service.store.settings.max_body_bytes + 1)
    resp = post_csv(service, padded)
    assert resp.status_code == 200
    assert body(resp)["created"]["grids"] == 21

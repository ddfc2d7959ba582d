"""Roster over HTTP: a clerk imports the street's roster, looks at the tree, asks who is
responsible, exports the lists and makes single changes; every answer a user reads is Chinese."""

from __future__ import annotations

import json
from io import BytesIO

import pytest
from nameko.testing.services import worker_factory
from openpyxl import load_workbook
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from fangfei.clock import FrozenClock, parse_iso
from fangfei.roster_view import RosterReplica, RosterView
from fangfei.testing.auth import test_gate
from fangfei.testing.stores import memory_store
from services.roster.service import IMPORT_MAX_BYTES, XLSX_TYPE, RosterService

from .helpers import DEMO, NOW, demo_table, edit, grid_row, to_csv, with_rows

HANDOVER = "2026-03-01T00:00:00+08:00"
GATE, MINT = test_gate()
# The district office's clerk: reaches every street, so these tests are about the roster's rules;
# who may do what where is test_access.py.
CLERK = "clerk-07"
OFFICE = MINT.headers("district_office", person=CLERK)


def make_service() -> RosterService:
    svc = worker_factory(RosterService, store=memory_store("roster", FrozenClock(NOW)), auth=GATE)
    svc.clock = FrozenClock(NOW)
    return svc


@pytest.fixture
def service() -> RosterService:
    return make_service()


@pytest.fixture
def demo(service) -> RosterService:
    assert post_file(service, DEMO.read_bytes()).status_code == 200
    return service


def post_file(svc: RosterService, data: bytes, content_type: str = "text/csv; charset=utf-8",
              headers: dict[str, str] | None = None, **query: str):
    builder = EnvironBuilder(method="POST", path="/api/roster/import", data=data, content_type=content_type,
                             query_string=query, headers=OFFICE if headers is None else headers)
    return svc.import_roster(Request(builder.get_environ()))


def get(path: str, headers: dict[str, str] | None = None, **query: str) -> Request:
    return Request(EnvironBuilder(method="GET", path=path, query_string=query,
                                  headers=OFFICE if headers is None else headers).get_environ())


def send(method: str, path: str, body: object, headers: dict[str, str] | None = None, **query: str) -> Request:
    return Request(EnvironBuilder(method=method, path=path, data=json.dumps(body), content_type="application/json",
                                  query_string=query, headers=OFFICE if headers is None else headers).get_environ())


def body(resp: Response) -> dict:
    return json.loads(resp.get_data())


def ok(resp: Response, status: int = 200) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)
    return body(resp)


def tree(svc: RosterService, street_id: str = "longgang", **query: str) -> Response:
    return svc.street_tree(get(f"/api/roster/streets/{street_id}/tree", **query), street_id)


def route(svc: RosterService, **query: str) -> dict:
    return ok(svc.route(get("/api/roster/route", **query)))


def responsible(svc: RosterService, street_id: str = "longgang", **query: str) -> Response:
    return svc.responsible(get(f"/api/roster/streets/{street_id}/responsible", **query), street_id)


def assign_chief(svc: RosterService, grid_id: str, street_id: str = "longgang", **cmd: str) -> Response:
    path = f"/api/roster/streets/{street_id}/grids/{grid_id}/chief"
    return svc.assign_chief(send("POST", path, cmd), street_id, grid_id)


def grid_node(tree_: dict, grid_id: str) -> dict:
    stack = list(tree_["grids"])
    while stack:
        node = stack.pop()
        if node["grid_id"] == grid_id:
            return node
        stack += node["children"]
    raise LookupError(grid_id)


# -- import, tree, route ---------------------------------------------------------------------------
def test_import_then_the_street_tree_shows_grids_people_units_and_the_leading_group(service) -> None:
    created = ok(post_file(service, DEMO.read_bytes()))["created"]
    assert (created["grids"], created["member_units"], created["leading_groups"]) == (21, 7, 1)
    found = ok(tree(service))
    assert found["name"] == "龙岗街道"
    [top] = found["grids"]
    assert (top["grid_id"], top["level"], top["chief"]["name"]) == ("longgang-l1", 1, "街道网格长甲01")
    assert len(top["children"]) == 10
    magang = grid_node(found, "magang-l2")
    assert (magang["level_label"], magang["chief"]["name"]) == ("二级网格", "社区网格长乙01")
    assert [(s["role_label"], s["name"]) for s in magang["staff"]] == [
        ("网格员", "社区书记庚01"), ("联络员", "联络员丁01"), ("社区书记", "社区书记庚01")]
    communities = {c["community_id"]: c for c in found["communities"]}
    assert [p["name"] for p in communities["hupo"]["liaisons"]] == ["联络员丁03"]
    assert [p["phone"] for p in communities["hupo"]["secretaries"]] == ["139-0000-0012"]
    units = {u["unit_id"]: u for u in found["member_units"]}
    assert units["longgang-csgl"]["sector_labels"] == ["农林水产", "房地产"]
    assert units["longgang-ggfw"]["is_office"] and not units["longgang-pcs"]["is_office"]
    group = found["leading_group"]
    assert (group["name"], group["office_unit_name"]) == ("龙岗街道打击非法集资专项行动领导小组", "公共服务办")
    assert [(m["position_label"], m["title"]) for m in group["members"]][:2] == [
        ("组长", "龙岗街道筹备组党委书记"), ("副组长", "龙岗街道筹备组党委副书记")]


def test_importing_the_same_file_twice_changes_nothing(demo) -> None:
    head = demo.store.events.head_position()
    assert set(ok(post_file(demo, DEMO.read_bytes()))["created"].values()) == {0}
    assert demo.store.events.head_position() == head


def test_a_file_with_bad_rows_is_refused_whole_with_each_row_explained(service) -> None:
    table = demo_table()
    edit(table, 3, 网格层级="4")
    edit(table, 5, 任职起始="2025-01-01")
    edit(table, 8, 上级网格编号="nowhere-l2")
    resp = post_file(service, to_csv(table))
    assert resp.status_code == 400
    error = body(resp)["error"]
    assert (error["code"], error["message"]) == ("import_rejected", "名册有 3 行有误，未导入任何数据")
    assert [r["row"] for r in error["details"]["rows"]] == [3, 5, 8]
    assert all(r["reason"] for r in error["details"]["rows"])
    assert service.store.events.head_position() == 0  # the good rows were not recorded either


def test_an_import_limited_to_one_street_refuses_rows_of_another(service) -> None:
    resp = post_file(service, DEMO.read_bytes(), street_id="other")
    assert resp.status_code == 400
    assert "不是本次导入的街道 other" in body(resp)["error"]["details"]["rows"][0]["reason"]
    assert service.store.events.head_position() == 0


def test_an_xlsx_file_is_accepted(service) -> None:
    exported = make_service()
    post_file(exported, DEMO.read_bytes())
    workbook = exported.export_roster(get("/api/roster/streets/longgang/export", format="xlsx"), "longgang")
    assert ok(post_file(service, workbook.get_data(), XLSX_TYPE))["rows"] == 87


def test_route_names_the_chief_who_handles_a_clue(demo) -> None:
    found = route(demo, street_id="longgang", community_id="hupo", at="2026-03-14T09:30:00+08:00")
    assert (found["level"], found["grid_id"], found["person_name"], found["note"]) == (3, "hupo-l3-01", "网格长丙03", "")
    unknown = route(demo, street_id="longgang", community_id="nowhere")
    assert (unknown["level"], unknown["person_name"]) == (1, "街道网格长甲01")
    assert "不在名册中" in unknown["note"]


# -- who is responsible ------------------------------------------------------------------------------
def test_who_is_responsible_by_place_and_by_sector(demo) -> None:
    found = ok(responsible(demo, community_id="magang", sector="real_estate"))
    assert (found["grid"]["level"], found["grid"]["person_name"]) == (3, "网格长丙01")
    sector = found["sector"]
    assert (sector["target_label"], [u["name"] for u in sector["units"]]) == ("成员单位", ["城市管理办"])
    assert [p["name"] for p in sector["people"]] == ["联系人己02"]
    by_grid = ok(responsible(demo, grid_id="magang-l2"))
    assert (by_grid["grid"]["level"], by_grid["grid"]["person_name"], by_grid["sector"]) == (2, "社区网格长乙01", None)
    office = ok(responsible(demo, sector="consulting"))["sector"]
    assert (office["target_label"], office["note"]) == (
        "领导小组办公室", "行业「咨询服务」未指定负责的成员单位；转领导小组办公室（公共服务办）")


@pytest.mark.parametrize(
    "street, query, status, field",
    [
        ("longgang", {}, 400, "community_id"),
        ("longgang", {"sector": "lottery"}, 400, "sector"),
        ("longgang", {"grid_id": "other-l1"}, 404, ""),
        ("nowhere", {"community_id": "magang"}, 404, ""),
    ],
    ids=["nothing-asked", "unknown-sector", "unknown-grid", "unknown-street"],
)
def test_a_bad_responsibility_query_is_refused(demo, street, query, status, field) -> None:
    resp = responsible(demo, street, **query)
    assert resp.status_code == status
    if field:
        assert field in body(resp)["error"]["details"]


# -- export --------------------------------------------------------------------------------------
def test_export_gives_a_named_file_in_the_format_asked(demo) -> None:
    resp = demo.export_roster(get("/api/roster/streets/longgang/export"), "longgang")
    assert resp.status_code == 200
    assert resp.content_type == "text/csv; charset=utf-8"
    assert resp.get_data() == DEMO.read_bytes()
    disposition = resp.headers["Content-Disposition"]
    assert 'filename="roster-longgang-street.csv"' in disposition
    assert "filename*=UTF-8''%E9%BE%99%E5%B2%97" in disposition  # 龙岗街道街道名册.csv
    resp = demo.export_roster(get("/api/roster/streets/longgang/export", list="leading_group", format="xlsx"),
                              "longgang")
    assert resp.content_type == XLSX_TYPE
    sheet = load_workbook(BytesIO(resp.get_data()), read_only=True).worksheets[0]
    assert sheet.title == "领导小组名单"
    assert next(sheet.iter_rows(values_only=True))[:4] == ("序号", "街道编号", "领导小组名称", "小组职务")


def test_an_unknown_street_has_no_tree_and_no_export(service) -> None:
    resp = tree(service, "nowhere")
    assert resp.status_code == 404
    assert "nowhere" in body(resp)["error"]["message"]
    assert service.export_roster(get("/api/roster/streets/nowhere/export"), "nowhere").status_code == 404


# -- changes ---------------------------------------------------------------------------------------
def test_reassigning_a_chief_at_t_routes_clues_by_when_they_were_found(demo) -> None:
    """Acceptance: clues found after T go to the new chief, before T to the old one, also after a
    rebuild of the roster from the event log (and in another service's replica)."""
    created = ok(assign_chief(demo, "magang-l3-01", person_id="magang-l3-01-chief-b", name="网格长丙11",
                              valid_from=HANDOVER), 201)["created"]
    assert (created["people"], created["chief_assignments"]) == (1, 1)
    before, after = "2026-02-28T23:59:59+08:00", "2026-03-01T00:00:01+08:00"
    assert route(demo, street_id="longgang", community_id="magang", at=before)["person_name"] == "网格长丙01"
    assert route(demo, street_id="longgang", community_id="magang", at=after)["person_name"] == "网格长丙11"

    events = [e for c in demo.store.events.iter_all() for e in c.events]
    rebuilt = RosterView.from_events(events)
    escalation_db = memory_store("escalation").db
    replica = RosterReplica(escalation_db)
    for event in events + events[:20]:  # a replica may see some events again
        replica.add(event)
    restarted = RosterReplica(escalation_db).load()  # a consumer restarted: folded from its own copy
    for view in (rebuilt, replica.load(), restarted):
        assert view.route("longgang", "magang", parse_iso(before)).person_id == "magang-l3-01-chief"
        assert view.route("longgang", "magang", parse_iso(after)).person_id == "magang-l3-01-chief-b"


def test_the_same_change_twice_records_it_once(demo) -> None:
    cmd = dict(person_id="magang-l3-01-chief-b", name="网格长丙11", valid_from=HANDOVER)
    ok(assign_chief(demo, "magang-l3-01", **cmd), 201)
    assert set(ok(assign_chief(demo, "magang-l3-01", **cmd), 200)["created"].values()) == {0}


@pytest.mark.parametrize(
    "grid, cmd, status, words",
    [
        ("magang-l3-01", {"person_id": "nobody", "valid_from": HANDOVER}, 400, "人员 nobody 未登记"),
        ("magang-l3-01", {"person_id": "luogang-l2-chief", "valid_from": "2025-01-01T00:00:00+08:00"}, 400,
         "同一时刻不能任命两人"),
        ("magang-l3-01", {"person_id": "magang-liaison", "valid_from": "2026-03-01T00:00:00"}, 400, "valid_from"),
        ("magang-l3-01", {"person_id": "x", "valid_from": HANDOVER, "name": "@x"}, 400, "name"),
        ("nowhere", {"person_id": "magang-liaison", "valid_from": HANDOVER}, 404, "网格 nowhere"),
    ],
    ids=["unknown-person", "same-instant", "naive-time", "formula-name", "unknown-grid"],
)
def test_a_chief_assignment_the_rules_refuse_says_why(demo, grid, cmd, status, words) -> None:
    head = demo.store.events.head_position()
    resp = assign_chief(demo, grid, **cmd)
    assert resp.status_code == status
    assert words in json.dumps(body(resp)["error"], ensure_ascii=False)
    assert demo.store.events.head_position() == head


def test_another_streets_grid_or_person_is_not_found(demo) -> None:
    other = with_rows(grid_row(街道编号="other", 街道名称="别的街道", 社区编号="o1", 社区名称="别的社区", 网格编号="o1-l2",
                               网格名称="别的二级网格", 网格层级="2", 上级网格编号="o1-l1", 人员编号="o-chief", 人员姓名="别人"),
                      grid_row(街道编号="other", 街道名称="别的街道", 社区编号="", 社区名称="", 社区类型="", 网格编号="o1-l1",
                               网格名称="别的一级网格", 网格层级="1", 上级网格编号="", 人员编号="o-chief1", 人员姓名="别人1"))
    ok(post_file(demo, to_csv(other)))
    assert assign_chief(demo, "o1-l2", person_id="magang-liaison", valid_from=HANDOVER).status_code == 404
    resp = assign_chief(demo, "magang-l3-01", person_id="o-chief", valid_from=HANDOVER)
    assert (resp.status_code, body(resp)["error"]["message"]) == (404, "未找到：人员 o-chief")
    assert assign_chief(demo, "magang-l3-01", street_id="other", person_id="o-chief",
                        valid_from=HANDOVER).status_code == 404


def test_a_vacated_grid_routes_to_the_level_above_with_a_note(demo) -> None:
    path = "/api/roster/streets/longgang/grids/magang-l3-01/vacancy"
    created = ok(demo.vacate_grid(send("POST", path, {"valid_from": HANDOVER}), "longgang", "magang-l3-01"), 201)
    assert created["created"]["vacancies"] == 1
    found = route(demo, street_id="longgang", community_id="magang", at="2026-03-02T00:00:00+08:00")
    assert (found["level"], found["person_name"], found["note"]) == (2, "社区网格长乙01", "马岗社区第01网格（3级网格）网格长空缺")
    again = demo.vacate_grid(send("POST", path, {"valid_from": "2026-03-05T00:00:00+08:00"}), "longgang", "magang-l3-01")
    assert set(ok(again)["created"].values()) == {0}  # already vacant then: nothing to record
    node = grid_node(ok(tree(demo)), "magang-l3-01")
    assert node["chief"] is None


def test_registering_a_member_unit_makes_it_answer_for_its_sectors(demo) -> None:
    path = "/api/roster/streets/longgang/member-units"
    cmd = {"unit_id": "longgang-jrb", "name": "金融办", "kind": "other", "sectors": ["investment_financing", "consulting"],
           "sectors_from": HANDOVER}
    ok(demo.register_unit(send("POST", path, cmd), "longgang"), 201)
    role = {"role": "member_unit_contact", "unit_id": "longgang-jrb", "valid_from": HANDOVER, "name": "联系人己99"}
    ok(demo.assign_role(send("POST", "/api/roster/streets/longgang/people/jrb-contact/roles", role), "longgang",
                        "jrb-contact"), 201)
    before = ok(responsible(demo, sector="consulting", at="2026-02-01T00:00:00+08:00"))["sector"]
    after = ok(responsible(demo, sector="consulting"))["sector"]
    assert before["target"] == "leading_group_office"
    assert (after["target"], [p["name"] for p in after["people"]]) == ("member_unit", ["联系人己99"])
    sectors = {"sectors": ["consulting"], "valid_from": "2026-03-10T00:00:00+08:00"}
    ok(demo.assign_sectors(send("POST", f"{path}/longgang-jrb/sectors", sectors), "longgang", "longgang-jrb"), 201)
    assert ok(responsible(demo, sector="investment_financing"))["sector"]["target"] == "leading_group_office"
    missing = demo.assign_sectors(send("POST", f"{path}/nowhere/sectors", sectors), "longgang", "nowhere")
    assert missing.status_code == 404


def test_roles_are_given_and_ended_with_their_dates(demo) -> None:
    base = "/api/roster/streets/longgang/people/magang-v2/roles"
    role = {"role": "volunteer", "grid_id": "magang-l3-01", "valid_from": "2026-01-01T00:00:00+08:00",
            "name": "志愿者壬99", "phone": "139-0000-0999"}
    ok(demo.assign_role(send("POST", base, role), "longgang", "magang-v2"), 201)
    end = {"role": "volunteer", "grid_id": "magang-l3-01", "community_id": "magang",
           "valid_until": "2026-03-01T00:00:00+08:00"}
    ok(demo.end_role(send("POST", base + "/end", end), "longgang", "magang-v2"), 201)
    communities = {c["community_id"]: c for c in ok(tree(demo, at="2026-02-01T00:00:00+08:00"))["communities"]}
    assert "志愿者壬99" in [p["name"] for p in communities["magang"]["volunteers"]]
    communities = {c["community_id"]: c for c in ok(tree(demo))["communities"]}
    assert "志愿者壬99" not in [p["name"] for p in communities["magang"]["volunteers"]]
    resp = demo.end_role(send("POST", base + "/end", {**end, "valid_until": "2026-04-01T00:00:00+08:00"}),
                         "longgang", "magang-v2")
    assert resp.status_code == 400
    assert "该人员在此时未担任此职务" in body(resp)["error"]["details"]["reasons"][0]


@pytest.mark.parametrize(
    "cmd, words",
    [
        ({"role": "leader", "valid_from": HANDOVER}, "须填写小组职务"),
        ({"role": "leader", "position": "office_director", "valid_from": HANDOVER}, "小组职务与人员角色不符"),
        ({"role": "member_unit_contact", "community_id": "magang", "valid_from": HANDOVER}, "成员单位联系人只填成员单位"),
        ({"role": "liaison", "valid_from": HANDOVER}, "须填写社区"),
        ({"role": "liaison", "community_id": "nowhere", "valid_from": HANDOVER}, "社区 nowhere 未登记"),
        ({"role": "liaison", "community_id": "magang", "valid_from": "2025-06-01T00:00:00+08:00"}, "任期不能重叠"),
        ({"role": "grid_chief", "grid_id": "magang-l2", "valid_from": HANDOVER}, "role"),
    ],
    ids=["leader-without-post", "post-vs-role", "contact-in-community", "liaison-nowhere", "unknown-community",
         "overlap", "chief-is-not-a-role"],
)
def test_a_role_the_rules_refuse_says_why(demo, cmd, words) -> None:
    person = "magang-liaison" if cmd.get("community_id") == "magang" else "longgang-lg-01"
    if cmd.get("community_id") == "magang":
        cmd = {**cmd, "grid_id": "magang-l2"}
    resp = demo.assign_role(send("POST", f"/api/roster/streets/longgang/people/{person}/roles", cmd), "longgang", person)
    assert resp.status_code == 400
    assert words in json.dumps(body(resp)["error"], ensure_ascii=False)


def test_the_leading_group_can_be_renamed_and_its_office_moved(demo) -> None:
    path = "/api/roster/streets/longgang/leading-group"
    ok(demo.register_group(send("PUT", path, {"office_unit_id": "longgang-csgl"}), "longgang"), 201)
    group = ok(tree(demo))["leading_group"]
    assert (group["name"], group["office_unit_name"]) == ("龙岗街道打击非法集资专项行动领导小组", "城市管理办")
    resp = demo.register_group(send("PUT", path, {"office_unit_id": "nowhere"}), "longgang")
    assert "成员单位 nowhere 未登记" in body(resp)["error"]["details"]["reasons"][0]
    assert demo.register_group(send("PUT", path, {}), "longgang").status_code == 400


def test_the_actor_of_a_change_and_of_an_import_is_the_person_of_the_token(demo) -> None:
    """S3: who did it comes from the token; a request naming an actor is refused, not obeyed."""
    path = "/api/roster/streets/longgang/grids/magang-l3-01/chief"
    cmd = {"person_id": "magang-l3-01-chief-b", "name": "网格长丙11", "valid_from": HANDOVER}
    ok(demo.assign_chief(send("POST", path, cmd), "longgang", "magang-l3-01"), 201)
    assert demo.store.events.read_stream("grid-magang-l3-01")[-1].actor == CLERK
    assert {e.actor for e in demo.store.events.read_stream("street-longgang")} == {CLERK}  # the import
    head = demo.store.events.head_position()
    forged = demo.assign_chief(send("POST", path, {**cmd, "valid_from": "2026-03-02T00:00:00+08:00"}, actor="boss"),
                               "longgang", "magang-l3-01")
    assert (forged.status_code, "actor" in body(forged)["error"]["details"]) == (400, True)
    assert post_file(demo, DEMO.read_bytes(), actor="boss").status_code == 400
    assert demo.store.events.head_position() == head


# -- the body --------------------------------------------------------------------------------------
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
    resp = service.route(get("/api/roster/route", **query))
    assert resp.status_code == 400
    assert field in body(resp)["error"]["details"]


def test_only_csv_and_xlsx_are_accepted(service) -> None:
    resp = post_file(service, b'{"rows": []}', content_type="application/json")
    assert resp.status_code == 415
    assert service.store.events.head_position() == 0


def test_a_file_over_the_import_limit_is_refused_before_it_is_read(service) -> None:
    resp = post_file(service, DEMO.read_bytes() + b"\r\n" * IMPORT_MAX_BYTES)
    assert resp.status_code == 413
    assert service.store.events.head_position() == 0


def test_a_file_larger_than_a_json_command_may_be_imported(service) -> None:
    """Imports may exceed the 64 KB JSON limit: blank rows pad the demo file past it."""
    padded = DEMO.read_bytes() + b"\r\n" * (service.store.settings.max_body_bytes + 1)
    assert ok(post_file(service, padded))["created"]["grids"] == 21

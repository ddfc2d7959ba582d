"""A small two-street roster for access-control tests: 龙岗 (longgang, community 马岗 magang) and
坪山 (pingshan, community ps-1), each with a grid tree and chiefs, a liaison, a member unit with a
sector and a contact, and a leading group; and one probe per roster route that succeeds in its
street for a caller allowed there. Used by test_access.py and by the role × route × street table in
tests/contract/test_access_policy.py (the `World` interface: app, mint, store, records(), own,
other)."""

from __future__ import annotations

import json
from typing import Any, Callable

from nameko.testing.services import worker_factory

from fangfei.testing.auth import test_gate
from fangfei.testing.stores import memory_store
from fangfei.testing.wsgi import ServiceApp
from services.roster import handlers
from services.roster.projections import roster_view
from services.roster.service import RosterService

from .helpers import T0, to_csv, with_rows

OWN_STREET, OWN_COMMUNITY = "longgang", "magang"
OTHER_STREET, OTHER_COMMUNITY = "pingshan", "ps-1"
MEMBER_PERSON = "mu-police-01"
SINCE = "2026-03-01T00:00:00+08:00"
STREETS = {OWN_STREET: ("龙岗街道", OWN_COMMUNITY, "马岗社区"), OTHER_STREET: ("坪山街道", OTHER_COMMUNITY, "坪山一社区")}


def street_rows(street: str, serial: int = 1) -> list[dict[str, str]]:
    """The roster of one street as 街道名册 rows (synthetic people, clearly fake phones)."""
    name, community, community_name = STREETS[street]
    base = {"街道编号": street, "街道名称": name}
    com = {**base, "社区编号": community, "社区名称": community_name, "社区类型": "社区"}

    def person(pid: str, pname: str, role: str) -> dict[str, str]:
        return {"人员编号": pid, "人员姓名": pname, "人员角色": role, "联系方式": f"139-0000-{serial:02d}{len(pid):02d}",
                "任职起始": T0}

    unit = {**base, "成员单位编号": f"{street}-pcs", "成员单位名称": f"{name}派出所", "单位类型": "派出所"}
    return [
        {**base, "网格编号": f"{street}-l1", "网格名称": f"{name}一级网格", "网格层级": "1",
         **person(f"{street}-l1-chief", f"街道网格长{serial:02d}", "网格长")},
        {**com, "网格编号": f"{community}-l2", "网格名称": f"{community_name}二级网格", "网格层级": "2",
         "上级网格编号": f"{street}-l1", **person(f"{community}-l2-chief", f"社区网格长{serial:02d}", "网格长")},
        {**com, "网格编号": f"{community}-l2", "网格名称": f"{community_name}二级网格", "网格层级": "2",
         "上级网格编号": f"{street}-l1", **person(f"{community}-liaison", f"联络员{serial:02d}", "联络员")},
        {**com, "网格编号": f"{community}-l3-01", "网格名称": f"{community_name}第01网格", "网格层级": "3",
         "上级网格编号": f"{community}-l2", **person(f"{community}-l3-01-chief", f"网格长{serial:02d}", "网格长")},
        {**unit, "负责行业": "房地产", "职责起始": T0, "领导小组办公室": "是", "领导小组名称": f"{name}领导小组"},
        {**unit, **person(f"{street}-pcs-contact", f"派出所联系人{serial:02d}", "成员单位联系人")},
    ]


def volunteer_file(street: str) -> bytes:
    """What a street office sends: one more volunteer on its community's level-3 grid."""
    name, community, community_name = STREETS[street]
    row = {"街道编号": street, "街道名称": name, "社区编号": community, "社区名称": community_name, "社区类型": "社区",
           "网格编号": f"{community}-l3-01", "网格名称": f"{community_name}第01网格", "网格层级": "3",
           "上级网格编号": f"{community}-l2", "人员编号": f"{community}-volunteer-09", "人员姓名": "志愿者09",
           "人员角色": "志愿者", "任职起始": SINCE}
    return to_csv(with_rows(row))


class RosterWorld:
    """The roster service in-process (memory store, test keys) holding both streets."""

    def __init__(self) -> None:
        gate, self.mint = test_gate()
        self.store = memory_store("roster")
        data = to_csv(with_rows(*street_rows(OWN_STREET, 1), *street_rows(OTHER_STREET, 2)))
        handlers.import_file(self.store, roster_view(self.store.events), data, "csv", "test-setup")
        self.app = ServiceApp(worker_factory(RosterService, store=self.store, auth=gate))
        self.own, self.other = OWN_COMMUNITY, OTHER_COMMUNITY

    def records(self) -> Any:
        """Everything the roster recorded: must not change on a refused request."""
        return self.store.events.head_position()

    def send(self, method: str, path: str, headers: dict[str, str], body: Any = None,
             content_type: str = "application/json") -> tuple[int, str]:
        if body is None:
            resp = self.app.client.open(path, method=method, headers=headers)
        else:
            data = body if isinstance(body, bytes) else json.dumps(body)
            resp = self.app.client.open(path, method=method, data=data, headers=headers, content_type=content_type)
        return resp.status_code, resp.get_data(as_text=True)


# -- one probe per route: (world, headers, street) -> (status, body text) ------------------------------
RosterProbe = Callable[[RosterWorld, dict[str, str], str], tuple[int, str]]


def _streets(suffix: str, method: str = "GET", body: Callable[[str], Any] | None = None,
             query: Callable[[str], str] = lambda s: "") -> RosterProbe:
    def probe(world: RosterWorld, headers: dict[str, str], street: str) -> tuple[int, str]:
        path = f"/api/roster/streets/{street}{suffix.format(c=STREETS[street][1], s=street)}{query(street)}"
        return world.send(method, path, headers, body(street) if body else None)
    return probe


def probe_import(world: RosterWorld, headers: dict[str, str], street: str) -> tuple[int, str]:
    return world.send("POST", "/api/roster/import", headers, volunteer_file(street), "text/csv; charset=utf-8")


def probe_route(world: RosterWorld, headers: dict[str, str], street: str) -> tuple[int, str]:
    return world.send("GET", f"/api/roster/route?street_id={street}&community_id={STREETS[street][1]}", headers)


PROBES: dict[tuple[str, str], RosterProbe] = {
    ("POST", "/api/roster/import"): probe_import,
    ("GET", "/api/roster/streets/<id>/export"): _streets("/export"),
    ("GET", "/api/roster/streets/<id>/tree"): _streets("/tree"),
    ("GET", "/api/roster/streets/<id>/responsible"): _streets(
        "/responsible", query=lambda s: f"?community_id={STREETS[s][1]}&sector=real_estate"),
    ("GET", "/api/roster/route"): probe_route,
    ("POST", "/api/roster/streets/<id>/grids/<id>/chief"): _streets(
        "/grids/{c}-l3-01/chief", "POST", lambda s: {"person_id": f"{s}-new-chief", "name": "新网格长09",
                                                    "valid_from": SINCE}),
    ("POST", "/api/roster/streets/<id>/grids/<id>/vacancy"): _streets(
        "/grids/{c}-l3-01/vacancy", "POST", lambda s: {"valid_from": SINCE}),
    ("POST", "/api/roster/streets/<id>/member-units"): _streets(
        "/member-units", "POST", lambda s: {"unit_id": f"{s}-jrb", "name": "金融办", "kind": "other"}),
    ("POST", "/api/roster/streets/<id>/member-units/<id>/sectors"): _streets(
        "/member-units/{s}-pcs/sectors", "POST", lambda s: {"sectors": ["consulting"], "valid_from": SINCE}),
    ("POST", "/api/roster/streets/<id>/people/<id>/roles"): _streets(
        "/people/{s}-volunteer-01/roles", "POST", lambda s: {
            "role": "volunteer", "community_id": STREETS[s][1], "valid_from": SINCE, "name": "志愿者01"}),
    ("POST", "/api/roster/streets/<id>/people/<id>/roles/end"): _streets(
        "/people/{c}-liaison/roles/end", "POST", lambda s: {
            "role": "liaison", "community_id": STREETS[s][1], "grid_id": f"{STREETS[s][1]}-l2", "valid_until": SINCE}),
    ("PUT", "/api/roster/streets/<id>/leading-group"): _streets(
        "/leading-group", "PUT", lambda s: {"name": f"{STREETS[s][0]}防范非法集资领导小组"}),
}

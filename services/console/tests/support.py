"""The console in-process (worker_factory, test keys) with a fake of the services it calls.

The fake answers like the real services do for the scope of the token it is given: a clue or case
of another community or street is a 404, a listing holds only the caller's rows. It also records
every call, so tests can check that the person's own token was forwarded."""

from __future__ import annotations

from typing import Any, Mapping

from nameko.testing.services import worker_factory

from fangfei.auth.gate import Gate
from fangfei.testing.auth import test_gate
from fangfei.testing.stores import memory_store
from fangfei.testing.wsgi import ServiceApp
from services.console.backend import EXPORT_FORMATS, LEDGERS, STATISTICS, Download, Reply
from services.console.service import ConsoleService

OWN_STREET, OWN_COMMUNITY = "longgang", "magang"
OTHER_STREET, OTHER_COMMUNITY = "pingshan", "ps-1"

CASES: dict[str, dict[str, Any]] = {
    "own-1": {"case_id": "own-1", "clue_id": "own-1", "street_id": OWN_STREET, "community_id": OWN_COMMUNITY,
              "community_name": "马岗社区", "status": "triage", "status_label": "三级网格处置中", "level": 3,
              "level_label": "三级网格", "assignee_person_id": "magang-l3-01-chief", "assignee_name": "网格长丙01",
              "found_at": "2026-03-14T10:00:00+08:00",
              "clock": {"deadline": "2026-03-15T10:00:00+08:00", "rule_label": "三级网格处置", "overdue": False,
                        "remaining_seconds": 7200, "paused": False},
              "risk": {"score": 40, "suggested_tag": "yellow"},
              "history": [{"action_label": "立案分派", "at": "2026-03-14T10:00:00+08:00", "by": "", "reason": ""}],
              "allowed_actions": [{"action": "escalate", "label": "稳控并上报"}, {"action": "close", "label": "办结"},
                                  {"action": "pause", "label": "暂停计时"}]},
    "other-1": {"case_id": "other-1", "clue_id": "other-1", "street_id": OTHER_STREET,
                "community_id": OTHER_COMMUNITY, "status": "triage", "level": 3, "history": [],
                "allowed_actions": []},
}
CLUES = {cid: {"clue_id": cid, "street_id": c["street_id"],
               "clue": {"title": "其他街道的秘密线索" if cid == "other-1" else "<script>alert(1)</script>门店保本理财",
                        "description": "描述", "community_id": c["community_id"]}}
         for cid, c in CASES.items()}
LEDGER_ROWS = [{"clue_id": cid, "street_id": c["street_id"], "community_id": c["community_id"], "title": "=HYPERLINK(1)",
                "found_at": "2026-03-14T10:00:00+08:00", "status_label": "已分派"} for cid, c in CASES.items()]
COLUMNS = [{"key": "clue_id", "label": "线索编号"}, {"key": "community_id", "label": "社区"},
           {"key": "title", "label": "线索标题"}, {"key": "found_at", "label": "发现时间"},
           {"key": "status_label", "label": "核查状态"}]
# every other ledger: one record per street, the shape of the ledger's record ledgers
RECORD_ROWS = [{"id": f"rec-{c['community_id']}", "street_id": c["street_id"], "community_id": c["community_id"],
                "period_date": "2026-03-14", "status_label": "办理中"} for c in CASES.values()]
RECORD_COLUMNS = [{"key": "id", "label": "记录编号"}, {"key": "community_id", "label": "社区"},
                  {"key": "period_date", "label": "日期"}, {"key": "status_label", "label": "状态"}]
TEN_ONE_ITEMS = {"organisation": "一个打击非法集资组织", "publicity_series": "一系列宣传教育", "liaison": "一名联络员"}
COMMUNITY_NAMES = {OWN_COMMUNITY: "马岗社区", "luogang": "罗岗社区", OTHER_COMMUNITY: "坪山一社区"}


def _not_found() -> Reply:
    return Reply(404, {"error": {"code": "not_found", "message": "未找到"}})


class FakeBackend:
    def __init__(self, gate: Gate) -> None:
        self.gate = gate  # the real verification of the forwarded token, not a shortcut
        self.calls: list[tuple[str, str, Any]] = []  # (method, token, argument)
        self.acted: list[tuple[str, str, dict[str, Any]]] = []
        self.reported: list[dict[str, Any]] = []

    def _sees(self, token: str, street: str, community: str) -> bool:
        p = self.gate.authenticate({"Authorization": f"Bearer {token}"})
        if p.district_wide:
            return True
        streets = p.street_set() or frozenset()
        if street not in streets:
            return False
        return not p.community or p.community == community

    def report_clue(self, token: str, clue: dict[str, Any], idempotency_key: str) -> Reply:
        self.calls.append(("report_clue", token, clue))
        if not clue.get("title"):
            return Reply(400, {"error": {"message": "输入校验未通过", "details": {"title": ["必填"]}}})
        self.reported.append(clue)
        return Reply(201, {"clue_id": "new-1", "created": True})

    def clue(self, token: str, clue_id: str) -> Reply:
        self.calls.append(("clue", token, clue_id))
        c = CLUES.get(clue_id)
        return Reply(200, c) if c and self._sees(token, c["street_id"], c["clue"]["community_id"]) else _not_found()

    def case(self, token: str, case_id: str) -> Reply:
        self.calls.append(("case", token, case_id))
        c = CASES.get(case_id)
        return Reply(200, c) if c and self._sees(token, c["street_id"], c["community_id"]) else _not_found()

    def cases(self, token: str, street_id: str, open_only: bool = True) -> Reply:
        self.calls.append(("cases", token, street_id))
        rows = [{**c, "overdue": c["case_id"] == "own-1", "deadline": "2026-03-15T10:00:00+08:00"}
                for c in CASES.values() if c["street_id"] == street_id and self._sees(token, c["street_id"], c["community_id"])]
        return Reply(200, {"street_id": street_id, "total": len(rows), "cases": rows})

    def act(self, token: str, case_id: str, action: str, fields: dict[str, Any]) -> Reply:
        self.calls.append(("act", token, case_id))
        if self.case(token, case_id).status != 200:
            return _not_found()
        if action == "escalate" and not fields.get("stabilization"):
            return Reply(400, {"error": {"message": "三级网格上报须填写稳控措施"}})
        self.acted.append((case_id, action, fields))
        return Reply(200, CASES[case_id])

    def risk_preview(self, token: str, text: dict[str, str]) -> Reply:
        self.calls.append(("risk_preview", token, text))
        hit = "保本" in "".join(text.values())
        return Reply(200, {"score": 30 if hit else 0, "suggested_tag": "yellow" if hit else "green",
                           "suggested_tag_label": "黄" if hit else "绿",
                           "hits": [{"label": "承诺保本", "matched": "保本"}] if hit else []})

    def _principal(self, token: str) -> Any:
        return self.gate.authenticate({"Authorization": f"Bearer {token}"})

    def _refuse_street(self, token: str, filters: Mapping[str, Any]) -> Reply | None:
        """As the ledger: another street than the token's is a 403; a district role must name one."""
        streets = self._principal(token).street_set()
        if streets is None and not filters.get("street_id"):
            return Reply(400, {"error": {"code": "missing_street_id", "message": "请指定街道（street_id）"}})
        if filters.get("street_id") and streets is not None and filters["street_id"] not in streets:
            return Reply(403, {"error": {"code": "street_out_of_scope", "message": "无权查看其他街道的数据"}})
        return None

    def _scoped(self, token: str, rows: list[dict[str, Any]], filters: Mapping[str, Any]) -> list[dict[str, Any]]:
        p = self._principal(token)
        street = filters.get("street_id") or p.street or (p.streets[0] if p.streets else "")
        return [r for r in rows if r["street_id"] == street and self._sees(token, r["street_id"], r["community_id"])
                and (not filters.get("community_id") or r["community_id"] == filters["community_id"])]

    def ledger(self, token: str, key: str, filters: Mapping[str, Any]) -> Reply:
        self.calls.append(("ledger", token, dict(filters)))
        return self._ledger(token, key, filters)

    def _ledger(self, token: str, key: str, filters: Mapping[str, Any]) -> Reply:
        if key not in LEDGERS:
            return _not_found()
        refused = self._refuse_street(token, filters)
        if refused:
            return refused
        verification = key == "clue-verification"
        rows = self._scoped(token, LEDGER_ROWS if verification else RECORD_ROWS, filters)
        return Reply(200, {"ledger": LEDGERS[key].title, "columns": COLUMNS if verification else RECORD_COLUMNS,
                           "rows": rows, "page": 1, "page_size": 50, "total": len(rows)})

    def ledger_export(self, token: str, key: str, filters: Mapping[str, Any], fmt: str) -> Reply:
        self.calls.append(("ledger_export", token, {**filters, "format": fmt}))
        return self._file(self._ledger(token, key, filters), fmt)

    def _ten_ones(self, token: str, filters: Mapping[str, Any]) -> list[dict[str, Any]]:
        p = self._principal(token)
        street = filters.get("street_id") or p.street or (p.streets[0] if p.streets else "")
        communities = [OWN_COMMUNITY, "luogang"] if street == OWN_STREET else [OTHER_COMMUNITY]
        if p.community or filters.get("community_id"):
            communities = [c for c in communities if c == (p.community or filters.get("community_id"))]
        rows: list[dict[str, Any]] = []
        for c in communities:
            done = set(TEN_ONE_ITEMS) if c == OWN_COMMUNITY else {"liaison"}
            rows.append({"community_id": c, "community_name": COMMUNITY_NAMES[c],
                         **{f"item_{k}": "已完成" if k in done else "未完成" for k in TEN_ONE_ITEMS},
                         "done": len(done), "certified": "达标" if done == set(TEN_ONE_ITEMS) else "未达标"})
        if not (p.community or filters.get("community_id")):
            certified = sum(r["certified"] == "达标" for r in rows)
            rows.append({"community_id": "合计", "community_name": f"达标 {certified}/{len(rows)}",
                         "done": certified, "certified": "已达目标" if certified * 2 >= len(rows) else "未达目标（50%）"})
        return rows

    def statistics(self, token: str, table: str, filters: Mapping[str, Any]) -> Reply:
        self.calls.append(("statistics", token, {**filters, "table": table}))
        return self._statistics(token, table, filters)

    def _statistics(self, token: str, table: str, filters: Mapping[str, Any]) -> Reply:
        if table not in STATISTICS:
            return _not_found()
        refused = self._refuse_street(token, filters)
        if refused:
            return refused
        if table == "ten-ones":
            columns = [{"key": "community_id", "label": "社区"}, {"key": "community_name", "label": "社区名称"},
                       *({"key": f"item_{k}", "label": v} for k, v in TEN_ONE_ITEMS.items()),
                       {"key": "done", "label": "已完成项数"}, {"key": "certified", "label": "是否达标"}]
            rows = self._ten_ones(token, filters)
        else:
            columns = [{"key": "community_id", "label": "社区"}, {"key": "clues", "label": "线索总数"}]
            rows = [{"community_id": r["community_id"], "clues": 1234} for r in self._scoped(token, LEDGER_ROWS, filters)]
        return Reply(200, {"table": STATISTICS[table], "columns": columns, "rows": rows, "total": len(rows)})

    def statistics_export(self, token: str, table: str, filters: Mapping[str, Any], fmt: str) -> Reply:
        self.calls.append(("statistics_export", token, {**filters, "table": table, "format": fmt}))
        return self._file(self._statistics(token, table, filters), fmt)

    @staticmethod
    def _file(listing: Reply, fmt: str) -> Reply:
        """The ledger's file for a listing: CSV as the ledger writes it; XLSX as opaque bytes."""
        if not listing.ok:
            return listing
        cols = listing.body["columns"]
        lines = [",".join(c["label"] for c in cols)] + [",".join(str(r.get(c["key"], "")) for c in cols)
                                                         for r in listing.body["rows"]]
        data = ("\ufeff" + "\r\n".join(lines) + "\r\n").encode() if fmt == "csv" else b"PK\x03\x04 ledger xlsx"
        return Reply(200, Download(data, EXPORT_FORMATS[fmt], str(len(listing.body["rows"]))))

    def tree(self, token: str, street_id: str) -> Reply:
        """The roster's tree as the roster answers it: ids with the names people read."""
        self.calls.append(("tree", token, street_id))
        if not self._sees(token, street_id, ""):
            if street_id != OWN_STREET:
                return _not_found()
        if street_id == OTHER_STREET:
            return Reply(200, {"street_id": OTHER_STREET, "name": "坪山街道", "grids": [], "member_units": [],
                               "communities": [{"community_id": OTHER_COMMUNITY, "name": "坪山一社区"}],
                               "leading_group": None})
        if street_id != OWN_STREET:
            return _not_found()
        chief = {"person_id": "magang-l3-01-chief", "name": "网格长丙01", "role_label": "网格长"}
        return Reply(200, {"street_id": street_id, "name": "龙岗街道", "grids": [
            {"grid_id": "longgang-l1", "level_label": "一级网格", "name": "龙岗街道一级网格",
             "chief": {"person_id": "longgang-l1-chief", "name": "街道网格长甲01"}, "staff": [],
             "children": [{"grid_id": "magang-l2", "level_label": "二级网格", "name": "马岗社区二级网格", "chief": None,
                           "staff": [], "children": [
                               {"grid_id": "magang-l3-01", "level_label": "三级网格", "name": "马岗社区第01网格",
                                "chief": chief, "staff": [{"person_id": "magang-staff-01", "name": "网格员丁01",
                                                           "role_label": "网格员"}], "children": []}]}]}],
            "communities": [{"community_id": OWN_COMMUNITY, "name": "马岗社区",
                             "secretaries": [{"person_id": "magang-secretary", "name": "社区书记戊"}]},
                            {"community_id": "luogang", "name": "罗岗社区"}],
            "member_units": [{"unit_id": "longgang-police", "name": "龙岗派出所", "kind_label": "派出所",
                              "sector_labels": [], "contacts": [{"person_id": "police-contact-01", "name": "联系人己01"}]}],
            "leading_group": {"name": "龙岗街道防范处置非法集资领导小组", "members": []}})

    def responsible(self, token: str, street_id: str, community_id: str = "", sector: str = "") -> Reply:
        self.calls.append(("responsible", token, (street_id, community_id, sector)))
        return Reply(200, {"grid": {"level_label": "三级网格", "grid_name": "马岗社区第01网格", "person_name": "网格长丙01",
                                    "note": ""} if community_id else None, "sector": None})


class ConsoleWorld:
    """The console with the fake services: for the access-policy matrix and the page tests."""

    def __init__(self) -> None:
        gate, self.mint = test_gate()
        self.backend = FakeBackend(gate)
        self.store = memory_store("console")
        self.svc = worker_factory(ConsoleService, store=self.store, auth=gate, backend=self.backend)
        self.app = ServiceApp(self.svc)
        self.own, self.other = "own-1", "other-1"

    def records(self) -> Any:
        """The console stores nothing; what it caused elsewhere is what it asked the services to do."""
        return (len(self.backend.acted), len(self.backend.reported))

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
from services.console.backend import Reply
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

    def _rows(self, token: str, filters: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [r for r in LEDGER_ROWS if self._sees(token, r["street_id"], r["community_id"])
                and (not filters.get("street_id") or r["street_id"] == filters["street_id"])]

    def ledger(self, token: str, key: str, filters: Mapping[str, Any]) -> Reply:
        self.calls.append(("ledger", token, dict(filters)))
        if key != "clue-verification":
            return _not_found()
        p = self.gate.authenticate({"Authorization": f"Bearer {token}"})
        streets = p.street_set()
        if filters.get("street_id") and streets is not None and filters["street_id"] not in streets:
            return Reply(403, {"error": {"code": "street_out_of_scope", "message": "无权查看其他街道的数据"}})
        rows = self._rows(token, filters)
        return Reply(200, {"ledger": "非法集资举报线索核查台账", "columns": COLUMNS, "rows": rows, "page": 1,
                           "page_size": 50, "total": len(rows)})

    def ledger_all(self, token: str, key: str, filters: Mapping[str, Any]) -> Reply:
        return self.ledger(token, key, filters)

    def tree(self, token: str, street_id: str) -> Reply:
        self.calls.append(("tree", token, street_id))
        if not self._sees(token, street_id, ""):
            if street_id != OWN_STREET:
                return _not_found()
        return Reply(200, {"street_id": street_id, "name": "龙岗街道", "grids": [
            {"level_label": "一级网格", "name": "龙岗街道一级网格", "chief": {"name": "街道网格长甲01"}, "staff": [],
             "children": [{"level_label": "二级网格", "name": "马岗社区二级网格", "chief": None, "staff": [],
                           "children": []}]}],
            "communities": [{"community_id": OWN_COMMUNITY, "name": "马岗社区"}], "member_units": [],
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

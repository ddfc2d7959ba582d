"""A simulated-time harness: the real service class (nameko `worker_factory`), an in-memory
store, a FrozenClock shared by the store and the service, and the HTTP entrypoints driven with
werkzeug requests carrying real tokens — so tests walk the workflow exactly as a client would,
hours in a second.

Who calls: `post`/`get` take `headers=` (a token of any role from `self.mint`); without them the
caller is the street office of the body's or query's `street_id` (default 龙岗 longgang) acting as
the body's `by` (taken out of the body: the person comes from the token)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from nameko.testing.services import worker_factory
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from fangfei.clock import SHANGHAI, FrozenClock
from fangfei.roster_view import RosterReplica
from fangfei.testing.auth import test_gate
from fangfei.testing.stores import memory_store
from services.escalation.service import EscalationService

from .support import clue, full_chain_roster


class World:
    def __init__(self, start: datetime, roster: list | None = None, store: Any = None) -> None:
        self.clock = FrozenClock(start)
        self.gate, self.mint = test_gate()
        self.store = store or memory_store("escalation", self.clock)
        self.svc = self.restart()
        for ev in roster if roster is not None else full_chain_roster():
            self.svc.apply_roster_event(ev)

    def restart(self) -> EscalationService:
        """A new process on the same store (what a SIGKILL and restart leaves behind)."""
        svc = worker_factory(EscalationService, store=self.store, roster=RosterReplica(self.store.db), auth=self.gate)
        svc.clock = self.clock
        self.svc = svc
        return svc

    @property
    def now(self) -> datetime:
        return self.clock.now().astimezone(SHANGHAI)

    def at(self, iso: str) -> None:
        self.clock.set(datetime.fromisoformat(iso))

    def advance(self, **delta: float) -> None:
        self.clock.advance(timedelta(**delta))

    def report(self, clue_id: str = "c0001", **over: Any) -> str:
        self.svc.open_case(clue(clue_id, **over))
        return clue_id

    def scan(self) -> None:
        self.svc.scan_deadlines()

    def office(self, street: str = "longgang", person: str = "") -> dict[str, str]:
        return self.mint.headers("street_office", street=street, person=person or f"office-{street}")

    def post(self, path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[int, Any]:
        body = dict(body)
        by = body.pop("by", "")
        if headers is None:
            headers = self.office(body.get("street_id") or "longgang", by)
        builder = EnvironBuilder(method="POST", path=path, data=json.dumps(body).encode(),
                                 content_type="application/json", headers=headers)
        request = Request(builder.get_environ())
        parts = path.strip("/").split("/")
        if parts[1] == "cases":
            resp = self.svc.act(request, parts[2], parts[3])
        elif parts[1] == "obligations":
            resp = self.svc.submit_obligation(request, parts[2])
        elif parts[1] == "campaigns":
            resp = self.svc.define_campaign(request)
        elif parts[1] == "enterprises" and len(parts) == 2:
            resp = self.svc.register_enterprise(request)
        elif parts[1] == "enterprises":
            resp = self.svc.change_enterprise(request, parts[2], parts[3])
        elif parts[1] == "risk":
            resp = self.svc.screen_risk(request)
        else:
            raise AssertionError(path)
        return resp.status_code, json.loads(resp.get_data())

    def get(self, path: str, headers: dict[str, str] | None = None, **query: Any) -> tuple[int, Any]:
        if headers is None:
            headers = self.office(query.get("street_id") or "longgang")
        builder = EnvironBuilder(method="GET", path=path, query_string=query, headers=headers)
        request = Request(builder.get_environ())
        parts = path.strip("/").split("/")
        if parts[1] == "cases" and len(parts) == 3:
            resp = self.svc.get_case(request, parts[2])
        elif parts[1] == "cases":
            resp = self.svc.list_cases(request)
        elif parts[1] == "obligations":
            resp = self.svc.list_obligations(request)
        elif parts[1] == "campaigns":
            resp = self.svc.list_campaigns(request)
        elif parts[1] == "enterprises" and len(parts) == 3:
            resp = self.svc.get_enterprise(request, parts[2])
        elif parts[1] == "enterprises":
            resp = self.svc.list_enterprises(request)
        elif parts[1] == "assessment":
            resp = self.svc.assessment(request)
        elif parts[1] == "risk":
            resp = self.svc.risk_indicators(request)
        else:
            raise AssertionError(path)
        return resp.status_code, json.loads(resp.get_data())

    def act(self, case_id: str, action: str, by: str = "p-zhang01", street_id: str = "longgang",
            reason: str = "理由", headers: dict[str, str] | None = None, **fields: Any) -> tuple[int, Any]:
        """A workflow step by `by`, as the street office of `street_id` unless `headers` say otherwise."""
        body = {"reason": reason, **fields}
        return self.post(f"/api/cases/{case_id}/{action}", body, headers or self.office(street_id, by))

    def ok(self, case_id: str, action: str, **kw: Any) -> dict[str, Any]:
        status, body = self.act(case_id, action, **kw)
        assert status == 200, body
        return body

    def case(self, case_id: str = "c0001") -> dict[str, Any]:
        status, body = self.get(f"/api/cases/{case_id}")
        assert status == 200, body
        return body

    def events(self, case_id: str = "c0001", type_: str | None = None) -> list:
        evs = self.store.events.read_stream(f"case-{case_id}")
        return [e for e in evs if type_ is None or e.type == type_]

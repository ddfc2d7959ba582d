"""Generated requests against every escalation route (seeded): never a 5xx, every refusal a
JSON error, and a refused request records nothing (S6 for this service)."""

from __future__ import annotations

import json
import random
from datetime import datetime
from typing import Any

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from fangfei.clock import SHANGHAI

from .harness import World

SEED = 20261123
REQUESTS = 1500
STRANGE: list[Any] = [None, True, 0, -1, 2 ** 63, 1e308, [], {}, [1], {"$ne": None}, "", " ", "x" * 600, "😀",
                      "2026-02-30", "2026-03-16T09:00:00", "2026-03-16T09:00:00+08:00", "police_station", "red",
                      "resolved", "rectification_order", "weekly:magang:2026-W12", "longgang", "p-x", "../..", "测" * 70]
SEGMENTS = ["register", "escalate", "bounce-back", "mark-abnormal", "agency-response", "joint-meeting",
            "joint-meeting-decision", "disposal", "rectification-completed", "close", "pause", "resume", "extension",
            "leader", "supervision", "nope"]
FIELDS = ["street_id", "by", "reason", "stabilization", "agencies", "agency", "response", "departments", "decision",
          "lead_department", "disposal", "working_days", "public_warning", "credit_code", "outcome", "waiting_on",
          "hours", "leader_person_id", "supervisor", "target_date", "summary", "tag", "measures", "deadline",
          "responsible_person_id", "campaign_id", "name", "phases", "community_ids", "movement", "title"]


def body(rng: random.Random) -> dict[str, Any]:
    out: dict[str, Any] = {"street_id": "longgang", "by": "p-zhang01", "reason": "理由"}
    for _ in range(rng.randrange(4)):
        out[rng.choice(FIELDS)] = rng.choice(STRANGE)
    if rng.random() < 0.2:
        out.pop(rng.choice(list(out)), None)
    return out


def test_generated_requests_never_get_a_5xx_and_refusals_record_nothing() -> None:
    rng = random.Random(SEED)
    w = World(datetime(2026, 3, 16, 9, 0, tzinfo=SHANGHAI))
    for i in range(3):
        w.report(f"c{i}", found_at="2026-03-16T08:00:00+08:00", credit_code="91350100M000100Y43")
    statuses: dict[int, int] = {}
    for n in range(REQUESTS):
        r = rng.random()
        case = rng.choice(["c0", "c1", "c2", "c9", "bad id"])
        if r < 0.6:
            method, path = "POST", f"/api/cases/{case}/{rng.choice(SEGMENTS)}"
        elif r < 0.7:
            method, path = "POST", f"/api/obligations/{rng.choice(STRANGE[20:23] + ['x:y:z'])}/submission"
        elif r < 0.8:
            method, path = "POST", rng.choice(["/api/campaigns", "/api/enterprises", "/api/risk/screen"])
        elif r < 0.9:
            method, path = "POST", f"/api/enterprises/91350100M000100Y43/{rng.choice(['tag', 'plan', 'x'])}"
        else:
            method, path = "GET", rng.choice(["/api/cases", "/api/obligations", "/api/enterprises",
                                              "/api/assessment", f"/api/cases/{case}"])
        payload = body(rng)
        raw = json.dumps(payload).encode() if rng.random() > 0.05 else b"{not json"
        query = {k: str(v) for k, v in payload.items() if rng.random() < 0.5} | (
            {"from": "2026-03-01", "to": rng.choice(["2026-03-31", "2028-01-01", "x"])} if "obligations" in path else {})
        before = w.store.events.head_position()
        if method == "GET":
            request = Request(EnvironBuilder(method="GET", path=path, query_string=query).get_environ())
        else:
            request = Request(EnvironBuilder(method="POST", path=path, data=raw,
                                             content_type="application/json").get_environ())
        parts = path.strip("/").split("/")
        svc = w.svc
        if method == "GET":
            resp = {"cases": svc.list_cases, "obligations": svc.list_obligations, "enterprises": svc.list_enterprises,
                    "assessment": svc.assessment}[parts[1]](request) if len(parts) == 2 else svc.get_case(request, parts[2])
        elif parts[1] == "cases":
            resp = svc.act(request, parts[2], parts[3])
        elif parts[1] == "obligations":
            resp = svc.submit_obligation(request, parts[2])
        elif parts[1] == "campaigns":
            resp = svc.define_campaign(request)
        elif parts[1] == "enterprises" and len(parts) == 2:
            resp = svc.register_enterprise(request)
        elif parts[1] == "enterprises":
            resp = svc.change_enterprise(request, parts[2], parts[3])
        else:
            resp = svc.screen_risk(request)
        status = resp.status_code
        statuses[status] = statuses.get(status, 0) + 1
        text = resp.get_data(as_text=True)
        assert status < 500, f"#{n} {method} {path} {payload} -> {status} {text[:300]}"
        if status >= 400:
            assert json.loads(text)["error"]["code"], text
            assert w.store.events.head_position() == before, f"#{n} refused but recorded: {path} {payload}"
        w.advance(minutes=7)
        if n % 50 == 0:
            w.scan()
    # the generator reaches the endpoints themselves, not only the schemas
    assert statuses.get(200, 0) + statuses.get(201, 0) > 20 and statuses.get(409, 0) > 0 and statuses.get(404, 0) > 0

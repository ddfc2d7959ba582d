"""Generated requests against every escalation route (seeded), routed like nameko routes them and
sent by a random caller (our street's grid worker or office, another street's office, the district
office, an auditor, no token): never a 5xx, every refusal a JSON error, and a refused request
records nothing (S6 for this service)."""

from __future__ import annotations

import json
import random
from datetime import datetime
from typing import Any

from fangfei.clock import SHANGHAI
from fangfei.testing.wsgi import ServiceApp

from .harness import World

SEED = 20261123
REQUESTS = 1500
STRANGE: list[Any] = [None, True, 0, -1, 2 ** 63, 1e308, [], {}, [1], {"$ne": None}, "", " ", "x" * 600, "😀",
                      "2026-02-30", "2026-03-16T09:00:00", "2026-03-16T09:00:00+08:00", "police_station", "red",
                      "resolved", "rectification_order", "weekly:magang:2026-W12", "longgang", "p-x", "../..", "测" * 70]
SEGMENTS = ["register", "escalate", "bounce-back", "mark-abnormal", "agency-response", "joint-meeting",
            "joint-meeting-decision", "disposal", "rectification-completed", "close", "pause", "resume", "extension",
            "leader", "supervision", "nope"]
FIELDS = ["street_id", "by", "actor", "reason", "stabilization", "agencies", "agency", "response", "departments", "decision",
          "lead_department", "disposal", "working_days", "public_warning", "credit_code", "outcome", "waiting_on",
          "hours", "leader_person_id", "supervisor", "target_date", "summary", "tag", "measures", "deadline",
          "responsible_person_id", "campaign_id", "name", "phases", "community_ids", "movement", "title"]


def body(rng: random.Random) -> dict[str, Any]:
    out: dict[str, Any] = {"reason": "理由"}
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
    app = ServiceApp(w.svc)
    callers = [w.office("longgang", "p-li01"), w.office("longgang", "p-li01"), w.office("pingshan"),
               w.mint.headers("grid_staff", street="longgang", community="magang", person="p-zhang01"),
               w.mint.headers("district_office", person="qu-01"), w.mint.headers("auditor"), {}]
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
        headers = rng.choice(callers)
        if method == "GET":
            resp = app.client.get(path, query_string=query, headers=headers)
        else:
            resp = app.client.post(path, data=raw, content_type="application/json", headers=headers)
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
    assert statuses.get(401, 0) > 0 and statuses.get(403, 0) > 0

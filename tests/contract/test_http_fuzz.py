"""Fuzzing the HTTP APIs of intake, ledger and notification (S6): 10,000+ generated requests,
in-process through the real routing, gate and endpoints. Every answer must be a 2xx, 3xx or 4xx
(never a 5xx), every refusal a JSON error without a stack trace, and a refused request must
leave every collection exactly as it was.

The generator is seeded (change FUZZ_SEED to explore): it mutates valid requests the way clients
and attackers get them wrong: missing, extra and mistyped fields, huge and strange strings, bad
JSON, wrong methods and paths, missing, forged, expired and misplaced tokens, odd query strings."""

from __future__ import annotations

import json
import os
import random
import time
from typing import Any, Callable

import pytest

from fangfei.auth.roles import ROLES
from fangfei.auth.tokens import claims_for, sign

from .worlds import (
    OTHER_STREET, OWN_COMMUNITY, OWN_STREET, REPORTER, IntakeWorld, LedgerWorld, NotificationWorld, World, clue_body,
)

FUZZ_SEED = int(os.environ.get("FANGFEI_FUZZ_SEED", "20261123"))
REQUESTS = {"intake": 4000, "ledger": 3000, "notification": 3000}

STRANGE = ["", " ", "\u0000", "\ud800", "😀" * 50, "‮evil", "<script>alert(1)</script>", "' OR 1=1 --", "../../etc",
           "%00", "\\", "null", "NaN", "x" * 70, "测" * 300, "a" * 5000, "$where", "{\"$gt\": \"\"}"]
VALUES: list[Any] = [None, True, False, 0, -1, 2 ** 63, 1e308, float("inf"), [], {}, [1, 2], {"$ne": None}, "x",
                     *STRANGE]


class Fuzzer:
    def __init__(self, rng: random.Random, world: World) -> None:
        self.rng = rng
        self.world = world
        self.tokens = {role: world.mint.token(role, street=OWN_STREET, community=OWN_COMMUNITY) for role in ROLES}
        self.tokens["other-street"] = world.mint.token("street_office", street=OTHER_STREET)
        self.tokens["expired"] = sign(world.mint.keys, claims_for(subject="qu-01", role="district_office", ttl_s=60,
                                                                  settings=world.mint.settings, now=time.time() - 7200))
        good = self.tokens["district_office"]
        self.tokens["tampered"] = good[:-6] + "AAAAAA"
        self.tokens["garbage"] = "eyJhbGciOiJub25lIn0.e30."

    def pick(self, seq: Any) -> Any:
        return seq[self.rng.randrange(len(seq))]

    def headers(self) -> tuple[dict[str, str], str]:
        r = self.rng.random()
        query = ""
        if r < 0.05:
            return {}, query
        if r < 0.75:  # mostly a good token of someone who may use the route, so the schemas get hit
            token = self.tokens[self.pick(["grid_staff", "street_office", "district_office", "auditor"])]
            headers = {"Authorization": "Bearer " + token}
        else:
            token = self.tokens[self.pick(sorted(self.tokens))]
            headers = {"Authorization": self.pick(["Bearer ", "bearer ", "Basic ", "Bearer  ", ""]) + token}
        if r > 0.95:
            query = self.pick(["access_token=", "token=", "jwt="]) + token
        if self.rng.random() < 0.2:
            headers["Idempotency-Key"] = self.pick(["k", "k" * 129, "重复", "phone-1", " "])
        return headers, query

    def mutate(self, body: dict[str, Any]) -> Any:
        body = json.loads(json.dumps(body))
        for _ in range(self.rng.randrange(1, 4)):
            op = self.rng.random()
            keys = list(body)
            if op < 0.25 and keys:
                body.pop(self.pick(keys))
            elif op < 0.5 and keys:
                body[self.pick(keys)] = self.pick(VALUES)
            elif op < 0.65:
                body[self.pick(["street_id", "status", "reported_by", "actor", "$set", "reporter_id", "x" * 200,
                                "__proto__", "clue_id"])] = self.pick(VALUES)
            elif op < 0.8:
                body["reporter"] = self.pick([REPORTER, {}, {"phone": self.pick(VALUES)},
                                              {"id_number": self.pick(["11010519491231002X", "990101199001010019",
                                                                       "99010119900101001x", "1" * 18])},
                                              {"name": self.pick(VALUES), "extra": 1}, self.pick(VALUES)])
            elif op < 0.9:
                return self.pick(VALUES)
            else:
                body[self.pick(keys or ["title"])] = self.pick(STRANGE)
        return body

    def raw_body(self, body: Any) -> tuple[bytes, str]:
        r = self.rng.random()
        ctype = "application/json" if r < 0.9 else self.pick(["text/plain", "application/x-www-form-urlencoded", ""])
        if self.rng.random() < 0.05:
            return self.pick([b"{", b"[" * 3000, b"\xff\xfe\x00", b'{"a":' + b"9" * 5000 + b"}",
                              b"{" + b" " * 70000 + b"}", b'{"title": "\\ud800"}']), ctype
        try:
            return json.dumps(body, allow_nan=True).encode(), ctype
        except (TypeError, ValueError):
            return b"{}", ctype

    def path_id(self, real: str) -> str:
        return self.pick([real, real, "x", "..", "%2e%2e", "a" * 300, "测试", "c0001;drop", "%00", OTHER_STREET])

    def query(self, valid: dict[str, str]) -> str:
        params = dict(valid)
        for _ in range(self.rng.randrange(0, 3)):
            params[self.pick(["street_id", "community_id", "status", "page", "page_size", "recipient_id", "sort",
                              "street_id[$ne]"])] = self.pick(["longgang", OTHER_STREET, "-1", "0", "99999999999999999999",
                                                                "abc", "", "测", "a" * 100, "routed", "1e9"])
        return "&".join(f"{k}={v}" for k, v in params.items())


def intake_request(f: Fuzzer) -> tuple[str, str, Any]:
    w: Any = f.world
    own_clue, other_clue = w.ids("clue")
    own_rep, other_rep = w.ids("reporter")
    r = f.rng.random()
    if r < 0.5:
        return "POST", "/api/clues", f.mutate(clue_body()) if f.rng.random() < 0.9 else clue_body()
    if r < 0.65:
        return f.pick(["GET", "GET", "DELETE", "PUT"]), f"/api/clues/{f.path_id(f.pick([own_clue, other_clue]))}", None
    rid = f.path_id(f.pick([own_rep, other_rep]))
    action = f.pick(["identity", "erasure", "audit"])
    method = "GET" if action == "audit" else f.pick(["POST", "POST", "GET"])
    body = f.mutate({"reason": f.pick(["reward_payout", "reporter_request", "curiosity"]), "reference": "JL-1"})
    return method, f"/api/reporters/{rid}/{action}", body


def ledger_request(f: Fuzzer) -> tuple[str, str, Any]:
    w = f.world
    if f.rng.random() < 0.6:
        return f.pick(["GET", "GET", "POST"]), f"/api/ledgers/{f.pick(['clue-verification', 'nope', '..'])}?" + \
            f.query({"street_id": f.pick([OWN_STREET, OTHER_STREET, ""])}), None
    return "GET", f"/api/ledgers/clue-verification/{f.path_id(f.pick([w.own, w.other]))}", None


def notification_request(f: Fuzzer) -> tuple[str, str, Any]:
    return f.pick(["GET", "GET", "GET", "POST", "DELETE"]), "/api/deliveries?" + f.query({}), None


GENERATORS: dict[str, tuple[Callable[[], World], Callable[[Fuzzer], tuple[str, str, Any]]]] = {
    "intake": (IntakeWorld, intake_request),
    "ledger": (LedgerWorld, ledger_request),
    "notification": (NotificationWorld, notification_request),
}


@pytest.mark.parametrize("service", sorted(GENERATORS))
def test_generated_requests_never_get_a_5xx_and_refusals_record_nothing(service: str) -> None:
    make, generate = GENERATORS[service]
    world = make()
    fuzzer = Fuzzer(random.Random(f"{FUZZ_SEED}-{service}"), world)
    statuses: dict[int, int] = {}
    before = world.records()
    for n in range(REQUESTS[service]):
        method, path, body = generate(fuzzer)
        headers, token_query = fuzzer.headers()
        if token_query:
            path += ("&" if "?" in path else "?") + token_query
        if body is not None or method == "POST":
            data, ctype = fuzzer.raw_body(body)
            resp = world.app.client.open(path, method=method, data=data, headers=headers, content_type=ctype)
        else:
            resp = world.app.client.open(path, method=method, headers=headers)
        status = resp.status_code
        statuses[status] = statuses.get(status, 0) + 1
        text = resp.get_data(as_text=True)
        where = f"#{n} {method} {path[:120]} -> {status} {text[:300]}"
        assert status < 500, where
        assert "Traceback" not in text and 'File "' not in text, where
        after = world.records()
        if status >= 400:
            assert after == before, "a refused request changed the store: " + where
            if status not in (404, 405) or text.startswith("{"):
                assert json.loads(text)["error"]["code"], where
        before = after
    print(service, dict(sorted(statuses.items())))
    assert sum(statuses.values()) == REQUESTS[service]
    assert any(200 <= s < 300 for s in statuses) and any(s == 401 for s in statuses) and any(s == 400 for s in statuses)


def test_the_fuzz_run_is_at_least_ten_thousand_requests() -> None:
    assert sum(REQUESTS.values()) >= 10_000

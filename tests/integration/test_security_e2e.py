"""Access control and reporter protection end to end, on real processes and a real broker:
tokens attacked over HTTP (S4), a burst limited (S5), streets kept apart (S1), a reporter's
identity read with a reason and an audit record, then erased (P2, P4), and at the end nothing
personal and no token anywhere: not on Kafka, not in any store, not in the logs, not on /metrics
(P2, P5); the stores' hash chains verify, and an altered or truncated store is named (A1)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from typing import Any, Iterator

import pytest

from fangfei.auth.formats import id_check_char
from fangfei.auth.tokens import claims_for, sign
from fangfei.cli import main as fangfei
from fangfei.cli import seed_demo
from fangfei.devstack.stack import Stack
from fangfei.eventstore.connect import open_database
from fangfei.testing.auth import TokenMinter
from fangfei.testing.client import call
from fangfei.testing.kafka import wait_until
from fangfei.testing.leaks import dump_database, find, read_everything, read_files

pytestmark = pytest.mark.integration

DEADLINE_S = 60.0
REPORTER = {"name": "测试举报人丁", "phone": "137 0000 9003",
            "id_number": "99020219700303004" + id_check_char("99020219700303004")}
PHONE_DIGITS = REPORTER["phone"].replace(" ", "")  # as the vault stores it
PERSONAL = list(REPORTER.values()) + [PHONE_DIGITS]
BURST = 30


class RecordingMinter(TokenMinter):
    """Remembers every token it mints, so the logs can be searched for them."""

    minted: list[str] = []

    def token(self, role: str, **kw: Any) -> str:
        token = super().token(role, **kw)
        RecordingMinter.minted.append(token)
        return token


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = Stack(str(tmp_path_factory.mktemp("secure")), extra_env={
        "FANGFEI_BLOCKING_DETECTION_S": "2",
        "FANGFEI_CONSUMER_SESSION_TIMEOUT_MS": "6000",
        "FANGFEI_RATE_LIMIT_BURST": str(BURST),
        "FANGFEI_RATE_LIMIT_PER_S": "2",
    })
    s.start(timeout_s=120)
    seed_demo(s.services["roster"].url, token=RecordingMinter(s.keys_dir).token("district_office"))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def mint(stack: Stack) -> RecordingMinter:
    return RecordingMinter(stack.keys_dir)


@pytest.fixture(scope="module")
def reported(stack: Stack, mint: RecordingMinter) -> dict[str, Any]:
    """A clue of 马岗社区 with a named reporter, routed into the ledger."""
    body = {"community_id": "magang", "category": "illegal_finance", "source": "hotline_12345",
            "title": "来电举报高息理财", "description": "举报人来电反映某工作室向老人推销保本高息理财。",
            "found_at": "2026-03-14T09:30:00+08:00", "reporter": REPORTER}
    status, answer = call("POST", url(stack, "intake", "/api/clues"), body,
                          headers=mint.headers("grid_staff", community="magang"))
    assert status == 201, answer
    wait_until(lambda: ledger_row(stack, mint, answer["clue_id"]), DEADLINE_S, "the clue in the ledger")
    return dict(answer)


def url(stack: Stack, service: str, path: str) -> str:
    return stack.services[service].url + path


def ledger_row(stack: Stack, mint: TokenMinter, clue_id: str) -> Any:
    status, body = call("GET", url(stack, "ledger", f"/api/ledgers/clue-verification/{clue_id}"),
                        headers=mint.headers("street_office"))
    return body if status == 200 else None


def head(stack: Stack) -> int:
    return int(call("GET", url(stack, "intake", "/health"))[1]["store"]["head_position"])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_attacks_on_the_token_are_all_401_and_record_nothing(stack: Stack, mint: RecordingMinter) -> None:
    settings, keys = mint.settings, mint.keys
    kid = keys.kids()[0]
    good = claims_for(subject="wg-x", role="grid_staff", street="longgang", community="magang", ttl_s=600,
                      settings=settings)
    unsigned = _b64(json.dumps({"alg": "none", "kid": kid}).encode()) + "." + _b64(json.dumps(good).encode())
    with open(os.path.join(stack.keys_dir, "tokens", f"{kid}.pub.pem"), "rb") as fh:
        confused_head = _b64(json.dumps({"alg": "HS256", "kid": kid}).encode()) + "." + _b64(json.dumps(good).encode())
        confused = confused_head + "." + _b64(hmac.new(fh.read(), confused_head.encode(), hashlib.sha256).digest())
    expired = sign(keys, claims_for(subject="wg-x", role="grid_staff", street="longgang", community="magang",
                                    ttl_s=600, settings=settings, now=time.time() - 3600))
    wrong_aud = sign(keys, {**good, "aud": "another-platform"})
    no_exp = sign(keys, {k: v for k, v in good.items() if k != "exp"})
    valid = mint.token("grid_staff")
    RecordingMinter.minted += [unsigned, confused, expired, wrong_aud, no_exp]
    before = head(stack)
    body = {"community_id": "magang", "category": "advertising", "source": "grid_patrol", "title": "t",
            "description": "d", "found_at": "2026-03-14T09:30:00+08:00"}
    for token in (unsigned + ".", confused, expired, wrong_aud, no_exp):
        assert call("POST", url(stack, "intake", "/api/clues"), body,
                    headers={"Authorization": f"Bearer {token}"})[0] == 401
    assert call("POST", url(stack, "intake", f"/api/clues?access_token={valid}"), body)[0] == 401
    assert call("GET", url(stack, "ledger", f"/api/ledgers/clue-verification?access_token={valid}"))[0] == 401
    assert head(stack) == before


def test_streets_do_not_see_each_other(stack: Stack, mint: RecordingMinter, reported: dict[str, Any]) -> None:
    other = mint.headers("street_office", street="pingshan", person="ps-office-01")
    clue_id, reporter_id = reported["clue_id"], reported["reporter_id"]
    assert call("GET", url(stack, "intake", f"/api/clues/{clue_id}"), headers=other)[0] == 404
    assert call("GET", url(stack, "ledger", f"/api/ledgers/clue-verification/{clue_id}"), headers=other)[0] == 404
    assert call("GET", url(stack, "ledger", "/api/ledgers/clue-verification?street_id=longgang"), headers=other)[0] == 403
    status, body = call("GET", url(stack, "ledger", "/api/ledgers/clue-verification"), headers=other)
    assert status == 200 and body["rows"] == []
    assert call("GET", url(stack, "notification", "/api/deliveries?street_id=longgang"), headers=other)[0] == 403
    assert call("POST", url(stack, "intake", f"/api/reporters/{reporter_id}/identity"),
                {"reason": "reward_payout"}, headers=other)[0] == 404
    # and the clue's own street sees it
    assert call("GET", url(stack, "intake", f"/api/clues/{clue_id}"), headers=mint.headers("street_office"))[0] == 200


def test_a_reporters_identity_needs_a_reason_leaves_a_trail_and_can_be_erased(
    stack: Stack, mint: RecordingMinter, reported: dict[str, Any]
) -> None:
    rid = reported["reporter_id"]
    path = url(stack, "intake", f"/api/reporters/{rid}")
    office = mint.headers("street_office", person="jd-office-01")
    assert call("POST", path + "/identity", {}, headers=office)[0] == 403
    assert call("POST", path + "/identity", {"reason": "reward_payout"},
                headers=mint.headers("grid_staff", community="magang"))[0] == 403
    status, body = call("POST", path + "/identity", {"reason": "reward_payout", "reference": "JL-2026-7"}, headers=office)
    assert status == 200 and body["identity"]["name"] == "测试举报人丁" and body["identity"]["phone"] == PHONE_DIGITS
    status, trail = call("GET", path + "/audit", headers=mint.headers("auditor"))
    assert status == 200 and [(r["type"], r["actor"]) for r in trail["records"]] == [("audit.identity_read", "jd-office-01")]

    status, body = call("POST", path + "/erasure", {"reason": "reporter_request"},
                        headers=mint.headers("district_office", person="qu-office-01"))
    assert status == 200 and body["erased"] is True
    status, body = call("POST", path + "/identity", {"reason": "reward_payout"}, headers=office)
    assert status == 200 and body["status"] == "erased" and "测试举报人丁" not in json.dumps(body, ensure_ascii=False)
    assert call("GET", url(stack, "intake", f"/api/clues/{reported['clue_id']}"), headers=office)[0] == 200


def test_a_burst_from_one_token_gets_429(stack: Stack, mint: RecordingMinter) -> None:
    headers = mint.headers("street_office")
    statuses = [call("GET", url(stack, "ledger", "/api/ledgers/clue-verification"), headers=headers)[0]
                for _ in range(BURST + 10)]
    assert statuses.count(200) >= BURST and 429 in statuses
    assert call("GET", url(stack, "ledger", "/api/ledgers/clue-verification"),
                headers=mint.headers("street_office"))[0] == 200  # a fresh token is not held back


def test_zz_nothing_personal_and_no_token_anywhere_and_the_chains_verify(
    stack: Stack, mint: RecordingMinter, reported: dict[str, Any], tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.wait_quiet(DEADLINE_S)
    topics = read_everything(stack.broker.bootstrap)
    published = b"\n".join(r for records in topics.values() for r in records)
    assert reported["reporter_id"].encode() in published  # the pseudonym travelled …
    assert find(published, PERSONAL) == []  # … the identity did not (P2)

    for name in stack.services:
        status, text = call("GET", url(stack, name, "/metrics"))
        assert status == 200 and find(text.encode(), PERSONAL + RecordingMinter.minted) == [], name

    stack.stop()  # the stores are one process per file: read them, and the logs, with everything stopped
    logs = b"\n".join(read_files(stack.log_dir).values())
    assert b"access_token=[redacted]" in logs  # the query-string token was logged, scrubbed (P5)
    assert find(logs, PERSONAL) == [] and find(logs, RecordingMinter.minted) == []
    for name in stack.services:
        client, db = open_database(f"embedded:{stack.data_dir}/{name}.sqlite", f"fangfei_{name}")
        try:
            assert find(dump_database(db), PERSONAL) == [], name
        finally:
            client.close()

    heads = str(tmp_path / "intake-heads.json")
    assert fangfei(["verify", "--service", "intake", "--data-dir", stack.data_dir, "--export-heads", heads]) == 0
    assert "chain OK" in capsys.readouterr().out
    client, db = open_database(f"embedded:{stack.data_dir}/intake.sqlite", "fangfei_intake")
    try:
        doc = db["commits"].find_one({"stream_id": f"clue-{reported['clue_id']}"})
        doc["events"][0]["payload"]["title"] = "已被篡改"
        db["commits"].replace_one({"_id": doc["_id"]}, doc)
        last = max(db["commits"].find({}), key=lambda d: d["_id"])
        db["commits"].delete_one({"_id": last["_id"]})
    finally:
        client.close()
    assert fangfei(["verify", "--service", "intake", "--data-dir", stack.data_dir, "--heads", heads]) == 1
    out = capsys.readouterr().out
    assert f"TAMPERED clue-{reported['clue_id']} version 1: content does not match its hash" in out
    assert f"TAMPERED {last['stream_id']} version {last['first_version']}: truncated" in out

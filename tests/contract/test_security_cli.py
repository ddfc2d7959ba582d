"""The operator's side of access control and tamper evidence, through the `fangfei` command:
keys are created and rotated, tokens issued for a role, and `fangfei verify` passes an intact
store and names the stream and version of an altered or truncated one."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest

from fangfei.auth.access import Access, Forbidden
from fangfei.auth.config import AuthSettings
from fangfei.auth.gate import Gate
from fangfei.auth.keys import TokenKeys, list_keys
from fangfei.auth.policy import Scope
from fangfei.auth.principal import Principal
from fangfei.auth.tokens import AuthError
from fangfei.cli import main as fangfei
from fangfei.eventstore.connect import open_database
from fangfei.eventstore.store import EventStore
from fangfei.events import new_event


def test_keys_init_issue_rotate_and_retire(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    keys = str(tmp_path / "keys")
    assert fangfei(["keys", "init", "--keys-dir", keys]) == 0
    assert fangfei(["token", "issue", "--role", "grid_staff", "--street", "longgang", "--community", "magang",
                    "--person", "wg-01", "--ttl", "3600", "--keys-dir", keys]) == 0
    out = capsys.readouterr()
    token = out.out.strip().splitlines()[-1]
    assert "网格员" in out.err and token.count(".") == 2 and token not in out.err
    gate = Gate(TokenKeys(keys), AuthSettings(keys_dir=keys))
    assert gate.authenticate({"Authorization": f"Bearer {token}"}).community == "magang"

    old = list_keys(keys)["tokens"]["active"]
    assert fangfei(["keys", "rotate", "--keys-dir", keys]) == 0
    assert list_keys(keys)["tokens"]["active"] != old
    gate.keys.reload()
    assert gate.authenticate({"Authorization": f"Bearer {token}"}).subject == "wg-01"  # still valid after rotation
    assert fangfei(["keys", "retire", old, "--keys-dir", keys]) == 0
    gate.keys.reload()
    with pytest.raises(AuthError, match="unknown_key"):
        gate.authenticate({"Authorization": f"Bearer {token}"})
    assert fangfei(["keys", "rotate", "--data", "--keys-dir", keys]) == 0
    assert len(list_keys(keys)["data"]["kids"]) == 2


@pytest.mark.parametrize("args", [
    ["--role", "grid_staff", "--street", "longgang", "--person", "wg-01"],  # no community
    ["--role", "district_office", "--street", "longgang", "--person", "qu-01"],  # district-wide with a street
    ["--role", "street_office", "--street", "longgang", "--person", "jd-01", "--ttl", "86400"],  # too long
])
def test_a_token_that_would_be_refused_is_not_issued(tmp_path: Any, args: list[str],
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    keys = str(tmp_path / "keys")
    fangfei(["keys", "init", "--keys-dir", keys])
    assert fangfei(["token", "issue", *args, "--keys-dir", keys]) == 2
    assert capsys.readouterr().out.strip() in ("", f"已生成密钥：{keys}")


def test_verify_passes_an_intact_store_and_names_what_was_altered(tmp_path: Any,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "intake.sqlite"
    client, db = open_database(f"embedded:{path}", "fangfei_intake")
    store = EventStore(db)
    at = datetime(2026, 3, 14, 1, 0, tzinfo=timezone.utc)
    for i in range(3):
        stream = f"street-s{i}"
        store.append(stream, 0, [new_event("roster.street_registered", stream, "longgang",
                                           {"street_id": f"s{i}", "name": "街道"}, actor="t", occurred_at=at)])
    store.append("street-s2", 1, [new_event("roster.street_registered", "street-s2", "longgang",
                                            {"street_id": "s2", "name": "改名"}, actor="t", occurred_at=at)])
    client.close()
    uri = f"embedded:{path}"
    heads = str(tmp_path / "heads.json")
    assert fangfei(["verify", "--service", "intake", "--store-uri", uri, "--export-heads", heads]) == 0
    assert "4 commits, chain OK" in capsys.readouterr().out

    client, db = open_database(uri, "fangfei_intake")
    doc = db["commits"].find_one({"stream_id": "street-s1"})
    doc["events"][0]["actor"] = "someone-else"
    db["commits"].replace_one({"_id": doc["_id"]}, doc)
    db["commits"].delete_one({"stream_id": "street-s2", "commit_seq": 2})
    client.close()
    assert fangfei(["verify", "--service", "intake", "--store-uri", uri]) == 1
    assert "TAMPERED street-s1 version 1: content does not match its hash" in capsys.readouterr().out
    assert fangfei(["verify", "--service", "intake", "--store-uri", uri, "--heads", heads]) == 1
    out = capsys.readouterr().out
    assert "TAMPERED street-s2 version 2: truncated" in out and "street-s1 version 1" in out
    assert out.splitlines()[-1].startswith("intake：") and "发现 2 处篡改、删除或截断" in out
    assert fangfei(["verify", "--service", "intake", "--store-uri", uri, "--heads", heads, "--json"]) == 1
    verdict = json.loads(capsys.readouterr().out)
    assert (verdict["ok"], len(verdict["problems"])) == (False, 2)
    assert any("street-s2 version 2: truncated" in p for p in verdict["problems"])


def test_verify_refuses_to_guess(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert fangfei(["verify", "--service", "intake", "--store-uri", f"embedded:{tmp_path}/missing.sqlite"]) == 2


# -- scopes, cell by cell ---------------------------------------------------------------------------
GRID = Principal("wg-01", "grid_staff", street="longgang", community="magang", token_id="j1")
STREET = Principal("jd-01", "street_office", street="longgang", token_id="j2")
MEMBER = Principal("mu-01", "member_unit", streets=("longgang", "pingshan"), sectors=("elderly_care",), token_id="j3")
DISTRICT = Principal("qu-01", "district_office", token_id="j4")


@pytest.mark.parametrize("access, street, community, person, allowed", [
    (Access(GRID, Scope.COMMUNITY), "longgang", "magang", "", True),
    (Access(GRID, Scope.COMMUNITY), "longgang", "luogang", "", False),
    (Access(GRID, Scope.COMMUNITY), "pingshan", "magang", "", False),
    (Access(GRID, Scope.COMMUNITY), "longgang", "", "", False),
    (Access(STREET, Scope.STREET), "longgang", "anything", "", True),
    (Access(STREET, Scope.STREET), "pingshan", "", "", False),
    (Access(STREET, Scope.STREET), "", "", "", False),
    (Access(MEMBER, Scope.STREET), "pingshan", "", "", True),
    (Access(MEMBER, Scope.STREET), "dadian", "", "", False),
    (Access(MEMBER, Scope.SELF), "longgang", "", "mu-01", True),
    (Access(MEMBER, Scope.SELF), "longgang", "", "wg-01", False),
    (Access(DISTRICT, Scope.ALL), "anywhere", "", "", True),
])
def test_allows(access: Access, street: str, community: str, person: str, allowed: bool) -> None:
    assert access.allows(street, community, person) is allowed


def test_listings_and_commands_take_the_street_from_the_token() -> None:
    assert Access(STREET, Scope.STREET).list_street("") == "longgang"
    assert Access(DISTRICT, Scope.ALL).list_street("") == ""
    assert Access(MEMBER, Scope.STREET).list_street("pingshan") == "pingshan"
    assert Access(GRID, Scope.COMMUNITY).list_community("") == "magang"
    assert Access(GRID, Scope.COMMUNITY).write_street() == "longgang"
    assert Access(GRID, Scope.COMMUNITY).in_street("longgang") and not Access(GRID, Scope.COMMUNITY).in_street("x")
    for call in (lambda: Access(STREET, Scope.STREET).list_street("pingshan"),
                 lambda: Access(MEMBER, Scope.STREET).list_street(""),
                 lambda: Access(GRID, Scope.COMMUNITY).list_community("luogang"),
                 lambda: Access(DISTRICT, Scope.ALL).write_street(),
                 lambda: Access(MEMBER, Scope.STREET).write_street(),
                 lambda: Access(GRID, Scope.COMMUNITY).check_community("luogang")):
        with pytest.raises(Forbidden):
            call()

"""`fangfei case|obligation|campaign|enterprise|risk|assessment`: the command line drives the
same endpoints a client would (here the in-process service behind its real routing, through a
transport stand-in), with the bearer token of --token or $FANGFEI_TOKEN, and nothing else saying
who acts."""

from __future__ import annotations

import argparse
import json
import urllib.parse
from datetime import datetime
from typing import Any

import pytest

from fangfei import cli
from fangfei.clients import escalation_cli
from fangfei.clock import SHANGHAI
from fangfei.testing.wsgi import ServiceApp

from .harness import World

T0 = datetime(2026, 3, 16, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def world() -> World:
    w = World(T0)
    w.report("c1", found_at=T0.isoformat())
    w.scan()
    return w


def token(world: World, role: str = "street_office", person: str = "p-li01", **kw: Any) -> str:
    return world.mint.token(role, person=person, **kw)


def run(world: World, capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, Any, list[tuple[str, str, str]]]:
    calls: list[tuple[str, str, str]] = []
    app = ServiceApp(world.svc)

    def transport(method: str, url: str, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
        parts = urllib.parse.urlsplit(url)
        calls.append((method, parts.path, parts.query))
        resp = app.client.open(parts.path, method=method, query_string=parts.query, headers=headers,
                               data=json.dumps(body) if body is not None else None,
                               content_type="application/json" if body is not None else None)
        return resp.status_code, json.loads(resp.get_data())

    code = escalation_cli.main([*argv, "--json"], transport=transport)
    out = capsys.readouterr()
    text = out.out if code == 0 else out.err
    return code, json.loads(text[text.index("{"):]), calls


def test_a_case_is_registered_escalated_and_shown_by_the_tokens_person(world: World, capsys: pytest.CaptureFixture,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    grid = token(world, "grid_staff", "p-zhang01", street="longgang", community="magang")
    code, body, calls = run(world, capsys, "case", "register", "c1", "--token", grid)
    assert code == 0 and body["status"] == "triage"
    assert calls == [("POST", "/api/cases/c1/register", "")]
    monkeypatch.setenv("FANGFEI_TOKEN", grid)  # the environment works as well as --token
    code, body, _ = run(world, capsys, "case", "escalate", "c1", "--reason", "超出职权", "--stabilization", "已劝离聚集人员")
    assert code == 0 and (body["status"], body["level"]) == ("level2_review", 2)
    code, body, _ = run(world, capsys, "case", "show", "c1")
    assert code == 0 and [(h["action"], h["by"]) for h in body["history"] if h["action"]] == [
        ("register", "p-zhang01"), ("escalate", "p-zhang01")]
    code, body, _ = run(world, capsys, "case", "list", "--level", "2")
    assert code == 0 and [c["case_id"] for c in body["cases"]] == ["c1"]


def test_a_refusal_exits_1_with_the_chinese_message(world: World, capsys: pytest.CaptureFixture) -> None:
    code, body, _ = run(world, capsys, "case", "close", "c1", "--token", token(world),
                        "--reason", "已化解", "--outcome", "resolved")
    assert code == 1 and body["error"]["code"] == "illegal_transition"
    assert "不能执行「办结」" in body["error"]["message"]
    other = token(world, street="pingshan")
    code, body, _ = run(world, capsys, "case", "show", "c1", "--token", other)
    assert code == 1 and body["error"]["message"] == "未找到：案件 c1"


def test_without_a_token_the_command_stops_before_calling(world: World, capsys: pytest.CaptureFixture,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FANGFEI_TOKEN", raising=False)
    with pytest.raises(SystemExit) as exc:
        escalation_cli.main(["case", "show", "c1"], transport=lambda *a: pytest.fail("called without a token"))
    assert "缺少令牌" in str(exc.value)


def test_disposal_obligations_campaigns_enterprises_and_risk(world: World, capsys: pytest.CaptureFixture) -> None:
    office = token(world)
    for step in (["register"], ["escalate", "--stabilization", "已稳控"], ["escalate"], ["escalate"]):
        assert run(world, capsys, "case", step[0], "c1", "--token", office, "--reason", "r", *step[1:])[0] == 0
    code, body, _ = run(world, capsys, "case", "disposal", "c1", "--token", office,
                        "--reason", "违规宣传", "--disposal", "rectification_order", "--working-days", "10")
    assert code == 0 and body["clock"]["rule"] == "rectification"

    code, body, _ = run(world, capsys, "obligation", "list", "--token", office, "--from", "2026-03-16",
                        "--to", "2026-03-22", "--kind", "weekly")
    assert code == 0 and {o["obligation_id"] for o in body["obligations"]} == {
        "weekly:magang:2026-W12", "weekly:baihua:2026-W12"}
    chen = token(world, "community_office", "p-chen01", street="longgang", community="magang")
    code, body, _ = run(world, capsys, "obligation", "submit", "weekly:magang:2026-W12", "--token", chen,
                        "--summary", "本周无新增线索")
    assert code == 0 and body["status"] == "on_time" and body["submitted_by"] == "p-chen01"

    district = token(world, "district_office", "qu-01")
    code, body, _ = run(world, capsys, "campaign", "define", "--token", district, "--street", "longgang", "--id", "zx",
                        "--name", "专项行动", "--phase", "deploy:部署发动:2026-06-15")
    assert code == 0 and body["phases"][0]["due_at"] == "2026-06-15T23:59:59+08:00"

    code, body, _ = run(world, capsys, "enterprise", "register", "91350100M000100Y43", "--token", office,
                        "--name", "某某财富管理有限公司", "--movement", "moved_in")
    assert code == 0
    code, body, _ = run(world, capsys, "enterprise", "tag", "91350100M000100Y43", "--token", office,
                        "--tag", "yellow", "--reason", "经营范围含理财")
    assert code == 0 and body["tag_label"] == "黄"
    code, body, _ = run(world, capsys, "enterprise", "plan", "91350100M000100Y43", "--token", office,
                        "--measure", "约谈", "--measure", "月度走访", "--responsible", "p-chen01",
                        "--leader", "p-leader01", "--deadline", "2026-06-30")
    assert code == 0 and body["plan"]["measures"] == ["约谈", "月度走访"]

    code, body, _ = run(world, capsys, "risk", "--token", office, "--title", "保本高息理财",
                        "--credit-code", "91350100M000100Y43")
    assert code == 0 and body["suggested_tag"] == "yellow" and body["credit_code_valid"] is True
    code, body, _ = run(world, capsys, "assessment", "--token", office)
    assert code == 0 and body["street_id"] == "longgang" and "people" in body


def test_the_fangfei_command_has_the_escalation_commands(capsys: pytest.CaptureFixture) -> None:
    parser = argparse.ArgumentParser(prog="fangfei")
    sub = parser.add_subparsers(dest="command")
    escalation_cli.register(sub)
    args = parser.parse_args(["case", "pause", "c1", "--token", "t", "--reason", "等", "--waiting-on",
                              "police_station"])
    assert args.waiting_on == "police_station" and callable(args.func)
    with pytest.raises(SystemExit):
        parser.parse_args(["case", "pause", "c1", "--by", "p-x", "--waiting-on", "police_station"])  # no --by
    for command in ("case", "obligation", "campaign", "enterprise", "risk", "assessment"):
        with pytest.raises(SystemExit) as exc:
            cli.main([command, "--help"])
        assert exc.value.code == 0 and "--help" in capsys.readouterr().out

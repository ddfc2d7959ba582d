"""`fangfei case|obligation|campaign|enterprise|risk|assessment`: the command line drives the
same endpoints a client would (here the in-process service, through a transport stand-in)."""

from __future__ import annotations

import argparse
import json
import urllib.parse
from datetime import datetime
from typing import Any

import pytest

from fangfei.clients import escalation_cli
from fangfei.clock import SHANGHAI

from .harness import World

T0 = datetime(2026, 3, 16, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def world() -> World:
    w = World(T0)
    w.report("c1", found_at=T0.isoformat())
    w.scan()
    return w


def run(world: World, capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, Any, list[tuple[str, str]]]:
    calls: list[tuple[str, str]] = []

    def transport(method: str, url: str, body: Any) -> tuple[int, Any]:
        parts = urllib.parse.urlsplit(url)
        calls.append((method, parts.path))
        if method == "GET":
            return world.get(parts.path, **dict(urllib.parse.parse_qsl(parts.query)))
        return world.post(parts.path, body)

    code = escalation_cli.main(list(argv), transport=transport)
    out = capsys.readouterr()
    text = out.out if code == 0 else out.err
    return code, json.loads(text[text.index("{"):]), calls


def test_a_case_is_registered_escalated_and_shown_from_the_shell(world: World, capsys: pytest.CaptureFixture) -> None:
    code, body, calls = run(world, capsys, "case", "register", "c1", "--street", "longgang", "--by", "p-zhang01")
    assert code == 0 and body["status"] == "triage"
    assert calls == [("POST", "/api/cases/c1/register")]
    code, body, _ = run(world, capsys, "case", "escalate", "c1", "--street", "longgang", "--by", "p-zhang01",
                        "--reason", "超出职权", "--stabilization", "已劝离聚集人员")
    assert code == 0 and (body["status"], body["level"]) == ("level2_review", 2)
    code, body, _ = run(world, capsys, "case", "show", "c1", "--street", "longgang")
    assert code == 0 and body["history"][-1]["reason"] == "超出职权"
    code, body, _ = run(world, capsys, "case", "list", "--street", "longgang", "--level", "2")
    assert code == 0 and [c["case_id"] for c in body["cases"]] == ["c1"]


def test_a_refusal_exits_1_with_the_chinese_message(world: World, capsys: pytest.CaptureFixture) -> None:
    code, body, _ = run(world, capsys, "case", "close", "c1", "--street", "longgang", "--by", "p-zhang01",
                        "--reason", "已化解", "--outcome", "resolved")
    assert code == 1 and body["error"]["code"] == "illegal_transition"


def test_disposal_obligations_campaigns_enterprises_and_risk(world: World, capsys: pytest.CaptureFixture) -> None:
    for step in (["register"], ["escalate", "--stabilization", "已稳控"], ["escalate"], ["escalate"]):
        assert run(world, capsys, "case", step[0], "c1", "--street", "longgang", "--by", "p-x", "--reason", "r",
                   *step[1:])[0] == 0
    code, body, _ = run(world, capsys, "case", "disposal", "c1", "--street", "longgang", "--by", "p-office01",
                        "--reason", "违规宣传", "--disposal", "rectification_order", "--working-days", "10")
    assert code == 0 and body["clock"]["rule"] == "rectification"

    code, body, _ = run(world, capsys, "obligation", "list", "--street", "longgang", "--from", "2026-03-16",
                        "--to", "2026-03-22", "--kind", "weekly")
    assert code == 0 and {o["obligation_id"] for o in body["obligations"]} == {
        "weekly:magang:2026-W12", "weekly:baihua:2026-W12"}
    code, body, _ = run(world, capsys, "obligation", "submit", "weekly:magang:2026-W12", "--street", "longgang",
                        "--by", "p-chen01", "--summary", "本周无新增线索")
    assert code == 0 and body["status"] == "on_time"

    code, body, _ = run(world, capsys, "campaign", "define", "--street", "longgang", "--by", "p-li01", "--id", "zx",
                        "--name", "专项行动", "--phase", "deploy:部署发动:2026-06-15")
    assert code == 0 and body["phases"][0]["due_at"] == "2026-06-15T23:59:59+08:00"

    code, body, _ = run(world, capsys, "enterprise", "register", "91350100M000100Y43", "--street", "longgang",
                        "--by", "p-li01", "--name", "某某财富管理有限公司", "--movement", "moved_in")
    assert code == 0
    code, body, _ = run(world, capsys, "enterprise", "tag", "91350100M000100Y43", "--street", "longgang",
                        "--by", "p-li01", "--tag", "yellow", "--reason", "经营范围含理财")
    assert code == 0 and body["tag_label"] == "黄"
    code, body, _ = run(world, capsys, "enterprise", "plan", "91350100M000100Y43", "--street", "longgang",
                        "--by", "p-li01", "--measure", "约谈", "--measure", "月度走访", "--responsible", "p-chen01",
                        "--leader", "p-leader01", "--deadline", "2026-06-30")
    assert code == 0 and body["plan"]["measures"] == ["约谈", "月度走访"]

    code, body, _ = run(world, capsys, "risk", "--title", "保本高息理财", "--credit-code", "91350100M000100Y43")
    assert code == 0 and body["suggested_tag"] == "yellow" and body["credit_code_valid"] is True
    code, body, _ = run(world, capsys, "assessment", "--street", "longgang")
    assert code == 0 and "people" in body


def test_register_adds_the_commands_to_an_existing_parser() -> None:
    parser = argparse.ArgumentParser(prog="fangfei")
    sub = parser.add_subparsers(dest="command")
    escalation_cli.register(sub)
    args = parser.parse_args(["case", "pause", "c1", "--street", "s", "--by", "p", "--reason", "等", "--waiting-on",
                              "police_station"])
    assert args.waiting_on == "police_station" and callable(args.func)

"""What the `fangfei` commands print for people and for scripts (fangfei.clients.output and the
ledger commands): Chinese headers, Beijing times, JSON unchanged with --json, and progress on
stderr with a rate and the time left, computed from successive polls of the service. The ledger
service is stood in for by a small HTTP server answering with payloads shaped like its own."""

from __future__ import annotations

import io
import json
import re
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator

import pytest

from fangfei import cli
from fangfei.clients import ledger_cli, output


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@contextmanager
def fake_service(routes: dict[tuple[str, str], Callable[[], tuple[int, dict[str, str], bytes]]]) -> Iterator[str]:
    calls: list[tuple[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            path = self.path.split("?")[0]
            calls.append((self.command, path))
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            status, headers, body = routes[(self.command, path)]()
            self.send_response(status)
            for k, v in {"Content-Length": str(len(body)), **headers}.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _json(data: Any, status: int = 200) -> Callable[[], tuple[int, dict[str, str], bytes]]:
    return lambda: (status, {"Content-Type": "application/json"}, json.dumps(data, ensure_ascii=False).encode())


# the ledger service's GET /api/ledger-admin/rebuild, as a rebuild of 10,000 events goes on
REBUILD_STATES = [
    {"state": "running", "state_label": "重建中", "phase": "queued", "attempt": 0, "events_read": 0,
     "events_total": None, "requested_at": "2026-03-16T01:00:00.000Z"},
    {"state": "running", "state_label": "重建中", "phase": "replaying", "attempt": 1, "events_read": 1000,
     "events_total": 10000, "requested_at": "2026-03-16T01:00:00.000Z", "started_at": "2026-03-16T01:00:01.000Z"},
    {"state": "running", "state_label": "重建中", "phase": "replaying", "attempt": 1, "events_read": 3000,
     "events_total": 10000, "requested_at": "2026-03-16T01:00:00.000Z", "started_at": "2026-03-16T01:00:01.000Z"},
    {"state": "running", "state_label": "重建中", "phase": "replaying", "attempt": 1, "events_read": 5000,
     "events_total": 10000, "requested_at": "2026-03-16T01:00:00.000Z", "started_at": "2026-03-16T01:00:01.000Z"},
    {"state": "done", "state_label": "已完成", "phase": "done", "attempt": 1, "events_read": 10000,
     "events_total": 10000, "row_changes": 12000, "rows": {"ledger_supervision": 40}, "undecodable": 0,
     "requested_at": "2026-03-16T01:00:00.000Z", "started_at": "2026-03-16T01:00:01.000Z",
     "finished_at": "2026-03-16T01:00:41.000Z", "seconds": 40.0},
]


def rebuild_routes() -> dict[tuple[str, str], Callable[[], tuple[int, dict[str, str], bytes]]]:
    states = iter(REBUILD_STATES)
    return {("POST", "/api/ledger-admin/rebuild"): _json(REBUILD_STATES[0], 202),
            ("GET", "/api/ledger-admin/rebuild"): lambda: _json(next(states))()}


def run_rebuild(url: str, *extra: str) -> int:
    clock = FakeClock()
    parser_args = ["ledger", "--url", url, "--token", "t", "rebuild", "--poll", "10", *extra]
    args = _parse(parser_args)
    return ledger_cli.cmd_rebuild(args, clock=clock, sleep=clock.sleep)


def _parse(argv: list[str]) -> Any:
    import argparse

    parser = argparse.ArgumentParser(prog="fangfei")
    ledger_cli.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_rebuild_progress_shows_events_of_total_rate_and_time_left_in_plain_lines(capsys) -> None:
    with fake_service(rebuild_routes()) as url:
        code = run_rebuild(url)
    out, err = capsys.readouterr()
    assert code == 0
    lines = err.splitlines()
    # polls 10 s apart; the rate is over the last 30 s (0 → 5,000 events): 166 a second, 5,000 left → 30 s
    assert lines[0] == "重建台账（第 1 次）：重放事件：1,000 条事件 / 10,000 条事件 10%，100 条事件/秒，预计还需 1分30秒"
    assert "重建台账（第 1 次）：重放事件：5,000 条事件 / 10,000 条事件 50%，166 条事件/秒，预计还需 30秒" in lines
    assert "\x1b" not in err and "\r" not in err  # not a terminal: no control characters in the log
    assert "台账重建结果" in out and "已完成" in out and "已读事件" in out and "共 40 行（1 张表）" in out
    assert "2026-03-16 09:00" in out and "01:00:00.000Z" not in out  # Beijing time, never the raw UTC instant


def test_rebuild_with_json_prints_the_services_final_state_unchanged(capsys) -> None:
    with fake_service(rebuild_routes()) as url:
        assert run_rebuild(url, "--json") == 0
    out = capsys.readouterr().out
    assert json.loads(out) == REBUILD_STATES[-1]


def test_on_a_terminal_the_bar_shows_rate_and_time_left() -> None:
    clock, stream = FakeClock(), io.StringIO()
    meter = output.Meter("重建台账", total=10000, unit="条事件", stream=stream, clock=clock, tty=True)
    for done in (0, 1500, 3000):
        meter.update(done)
        clock.sleep(10)
    meter.close()
    text = stream.getvalue()
    assert "3,000 条事件 / 10,000 条事件" in text and "150 条事件/秒" in text and "预计还需 47秒" in text
    assert "━" in text  # the bar itself


def test_a_restarted_job_starts_its_rate_afresh() -> None:
    """The service restarting mid-rebuild starts again from 0: the old rate says nothing then."""
    clock = FakeClock()
    meter = output.Meter("重建台账", total=10000, unit="条事件", stream=io.StringIO(), clock=clock, tty=False)
    for done in (0, 4000, 8000, 0, 500):
        meter.update(done)
        clock.sleep(10)
    assert meter.rate() == 50 and "预计还需 3分10秒" in meter.line()


def test_a_job_done_within_the_interval_prints_no_progress_line_when_not_a_terminal() -> None:
    stream = io.StringIO()
    meter = output.Meter("上传名册", total=100, unit="B", stream=stream, clock=FakeClock(), tty=False)
    meter.update(100)
    meter.close()
    assert stream.getvalue() == ""


def test_export_reports_bytes_and_rows_and_json_describes_the_file(tmp_path, capsys) -> None:
    body = "序号,线索编号\r\n".encode("utf-8-sig") + b"1,c1\r\n" * 5000
    routes = {("GET", "/api/ledgers/clue-verification/export"):
              lambda: (200, {"Content-Type": "text/csv", "X-Total-Rows": "5000"}, body)}
    target = tmp_path / "核查.csv"
    with fake_service(routes) as url:
        code = cli.main(["ledger", "--url", url, "--token", "t", "export", "clue-verification", "--format", "csv",
                         "--out", str(target)])
        out, _ = capsys.readouterr()
        assert code == 0 and target.read_bytes() == body
        assert out == f"已导出 5000 行（{len(body):,} 字节）→ {target}\n"
        code = cli.main(["ledger", "--url", url, "--token", "t", "export", "clue-verification", "--format", "csv",
                         "--out", str(target), "--json"])
        assert json.loads(capsys.readouterr().out) == {"name": "clue-verification", "file": str(target),
                                                       "rows": 5000, "bytes": len(body)}


def test_check_prints_a_chinese_verdict_and_json_for_scripts(capsys) -> None:
    answer = {"consistent": False, "differences": 1, "first": [
        {"collection": "ledger_supervision", "id": "longgang:2026-03-16", "field": "count", "live": 3, "rebuilt": 4}]}
    with fake_service({("POST", "/api/ledger-admin/check"): _json(answer)}) as url:
        assert cli.main(["ledger", "--url", url, "--token", "t", "check"]) == 1
        out = capsys.readouterr().out
        assert "不一致：1 处差异" in out and "当前台账" in out and "重放结果" in out and "longgang:2026-03-16" in out
        assert cli.main(["ledger", "--url", url, "--token", "t", "check", "--json"]) == 1
        assert json.loads(capsys.readouterr().out) == answer


@pytest.mark.parametrize("value, shown", [
    ("2026-03-16T01:00:00.000Z", "2026-03-16 09:00"),
    ("2026-03-16T18:30:00+00:00", "2026-03-17 02:30"),
    ("2026-03-16T09:00:00+08:00", "2026-03-16 09:00"),
    (True, "是"), ("", "—"), (["养老", "房地产"], "养老、房地产"),
])
def test_cells_are_shown_as_people_read_them(value: Any, shown: str) -> None:
    assert output.cell(value) == shown


# -- escalation and notification: the services' own answer shapes -------------------------------
CASE = {
    "case_id": "c1", "clue_id": "c1", "street_id": "longgang", "community_id": "magang", "grid_id": "g3-magang-01",
    "level": 3, "level_label": "三级网格", "assignee_person_id": "p-zhang01", "found_at": "2026-03-16T09:00:00+08:00",
    "register_deadline": "2026-03-16T13:00:00+08:00", "status": "triage", "status_label": "三级网格处置中",
    "opened_at": "2026-03-16T01:00:00.000Z", "version": 3, "registered_at": "2026-03-16T01:30:00.000Z",
    "registered_by": "p-li01", "registration_late": False,
    "clock": {"rule": "triage", "rule_label": "三级网格处置", "level": 3, "started_at": "2026-03-16T09:00:00+08:00",
              "deadline": "2026-03-17T01:00:00+00:00", "paused": False, "overdue": False, "remaining_seconds": 86400},
    "abnormal": False, "outcome": "", "closed_at": "",
    "risk": {"score": 25, "suggested_tag": "yellow"},
    "history": [{"version": 1, "type": "case.opened", "action": "", "action_label": "立案分派",
                 "at": "2026-03-16T09:00:00+08:00", "by": "", "reason": "", "status": "reported", "level": 3},
                {"version": 3, "type": "case.registered", "action": "register", "action_label": "登记",
                 "at": "2026-03-16T01:30:00.000Z", "by": "p-li01", "reason": "", "status": "triage", "level": 3}],
    "community_name": "马岗社区", "assignee_name": "张网格01",
    "allowed_actions": [{"action": "escalate", "label": "稳控并上报"}, {"action": "close", "label": "办结"}],
}


# the roster's street tree (GET /api/roster/streets/longgang/tree), as much of it as names need
TREE = {"street_id": "longgang", "name": "龙岗街道", "at": "2026-03-16T01:00:00+00:00",
        "grids": [{"grid_id": "magang-l3-01", "name": "马岗社区第01网格", "level": 3, "level_label": "三级网格",
                   "community_id": "magang", "children": [], "staff": [],
                   "chief": {"person_id": "magang-l3-01-chief", "name": "网格长丙01", "role": "grid_chief"}}],
        "communities": [{"community_id": "magang", "name": "马岗社区", "kind": "community", "kind_label": "社区",
                         "liaisons": [{"person_id": "magang-liaison", "name": "联络员丁01"}], "secretaries": [],
                         "grid_staff": [], "volunteers": []}],
        "member_units": [], "leading_group": None}


def run_escalation(capsys, answer: Any, *argv: str, status: int = 200, names: Any = None) -> tuple[int, str, str]:
    from fangfei.clients import escalation_cli

    code = escalation_cli.main([*argv, "--token", "t"], transport=lambda method, url, body, headers: (status, answer),
                               names=names)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_case_is_a_chinese_table_with_names_and_beijing_times(capsys) -> None:
    code, out, _ = run_escalation(capsys, CASE, "case", "show", "c1")
    assert code == 0
    for words in ("案件编号", "当前负责人", "张网格01", "马岗社区", "三级网格处置中", "时限截止", "办理经过", "当前可执行：稳控并上报、办结"):
        assert words in out
    assert "p-zhang01" not in out  # the name, not the id
    assert "2026-03-16 09:30" in out and "2026-03-17 09:00" in out  # UTC instants shown in Beijing time
    assert not re.search(r"\d{2}Z|T\d{2}:\d{2}", out) and "+00:00" not in out
    code, out, _ = run_escalation(capsys, CASE, "case", "show", "c1", "--json")
    assert json.loads(out) == CASE


def test_a_refusal_is_the_chinese_message_and_json_with_json(capsys) -> None:
    refusal = {"error": {"code": "illegal_transition", "message": "案件当前状态为「三级网格处置中」，不能执行「办结」",
                         "details": {}}}
    code, out, err = run_escalation(capsys, refusal, "case", "close", "c1", "--reason", "x", "--outcome", "resolved",
                                    status=409)
    assert (code, out) == (1, "") and err == "错误 409: 案件当前状态为「三级网格处置中」，不能执行「办结」\n"
    code, _, err = run_escalation(capsys, refusal, "case", "close", "c1", "--reason", "x", "--outcome", "resolved",
                                  "--json", status=409)
    assert json.loads(err[err.index("{"):]) == refusal


def test_the_outbox_is_a_table_in_beijing_time(capsys, monkeypatch) -> None:
    outbox = {"deliveries": [{
        "delivery_id": "d-01", "channel": "email", "state": "dead", "attempts": 5, "last_error": "SMTP 550",
        "source_event_id": "e1", "source_type": "case.opened", "street_id": "longgang", "recipient_kind": "person",
        "recipient_id": "magang-l3-01-chief", "subject": "新线索：门店宣传保本高息理财",
        "created_at": "2026-03-16T01:00:00.000Z", "sent_at": "", "channel_label": "电子邮件", "state_label": "发送失败"}]}
    routes = {("GET", "/api/notification/outbox"): _json(outbox),
              ("GET", "/api/roster/streets/longgang/tree"): _json(TREE)}
    with fake_service(routes) as url:
        monkeypatch.setenv("FANGFEI_ROSTER_URL", url)  # the recipient's name comes from the roster
        assert cli.main(["notification", "--url", url, "--token", "t", "outbox"]) == 0
        out = capsys.readouterr().out
        assert all(w in out for w in ("投递编号", "渠道", "电子邮件", "发送失败", "2026-03-16 09:00", "SMTP 550",
                                      "网格长丙01"))
        assert "magang-l3-01-chief" not in out
        assert "01:00:00.000Z" not in out
        assert cli.main(["notification", "--url", url, "--token", "t", "outbox", "--json"]) == 0
        assert json.loads(capsys.readouterr().out) == outbox


def test_a_case_list_names_communities_and_people_from_the_roster(capsys) -> None:
    from fangfei.clients.names import Names

    listing = {"street_id": "longgang", "total": 1, "cases": [{
        "version": 2, "street_id": "longgang", "community_id": "magang", "status": "reported", "level": 3,
        "open": True, "assignee_person_id": "magang-l3-01-chief", "found_at": "2026-03-16T01:00:00+00:00",
        "registered": False, "register_deadline": "2026-03-16T05:00:00+00:00", "deadline": "2026-03-16T05:00:00+00:00",
        "risk_tag": "yellow", "abnormal": False, "overdue": False, "case_id": "c1"}]}
    code, out, _ = run_escalation(capsys, listing, "case", "list", names=lambda street: Names.from_tree(TREE))
    assert code == 0
    row = next(line for line in out.splitlines() if "c1" in line)
    assert [c.strip() for c in row.split("│")[1:-1]] == [
        "c1", "马岗社区", "已上报", "三级网格", "网格长丙01", "2026-03-16 09:00", "2026-03-16 13:00", "否", "黄", "否"]
    assert "案件（龙岗街道，共 1 条）" in out and "longgang" not in out  # the street by its name, in the title too
    code, out, _ = run_escalation(capsys, listing, "case", "list", "--json", names=lambda street: Names.from_tree(TREE))
    assert json.loads(out) == listing  # names are for people; the JSON stays the service's


# -- validation errors: each bad field once, in the service's words (issue 13) --------------------
def refusal_of(schema: Any, body: dict[str, Any]) -> dict[str, Any]:
    """The 400 the service answers for `body`, made by fangfei.http itself (not written by hand)."""
    from fangfei.http import HttpError, error_response, load

    with pytest.raises(HttpError) as refused:
        load(schema, body)
    return json.loads(error_response(refused.value).get_data())


def assert_each_field_once(err: str, refusal: dict[str, Any]) -> None:
    fields_ = refusal["error"]["fields"]
    assert len(fields_) >= 2  # the point: more than the first bad field
    for f in fields_:
        for message in f["messages"]:
            assert err.count(message) == 1, (message, err)  # every message, once
        assert err.count(f["label"] + "：") == 1, (f["label"], err)  # its label once, not 标签：标签：…
        assert f"{f['field']}：" not in err  # no raw field name in front
    assert "  " + fields_[0]["messages"][0] in err.splitlines()


def test_an_escalation_validation_error_prints_each_bad_field_once_with_its_label(capsys) -> None:
    from services.escalation.schemas import CloseRequest

    refusal = refusal_of(CloseRequest(), {"reason": "x" * 600, "outcome": "forgotten"})
    code, out, err = run_escalation(capsys, refusal, "case", "close", "c1", "--reason", "x", "--outcome", "resolved",
                                    status=400)
    assert (code, out) == (1, "")
    assert err.splitlines()[0] == f"错误 400: {refusal['error']['message']}"
    assert len(err.splitlines()) == 3
    assert_each_field_once(err, refusal)


def test_an_escalation_error_without_fields_still_prints_its_details(capsys) -> None:
    refusal = {"error": {"code": "invalid_event", "message": "数据不符合事件约定", "details": {"level": ["当前层级：须为 1–3"]}}}
    code, _, err = run_escalation(capsys, refusal, "case", "show", "c1", status=400)
    assert (code, err) == (1, "错误 400: 数据不符合事件约定\n  level：当前层级：须为 1–3\n")


def test_a_notification_validation_error_prints_each_bad_field_once_with_its_label(capsys) -> None:
    from services.notification.schemas import SubscriptionBody

    refusal = refusal_of(SubscriptionBody(), {"agency": "police station", "name": "", "event_types": [],
                                              "mode": "pigeon", "url": "ftp://x"})
    with fake_service({("POST", "/api/subscriptions"): _json(refusal, 400)}) as url:
        code = cli.main(["notification", "--url", url, "--token", "t", "subscribe", "--agency", "police_station",
                         "--name", "派出所", "--events", "case.opened", "--webhook", "https://a.example.org/h"])
    err = capsys.readouterr().err
    assert code == 1 and err.splitlines()[0] == f"错误 400: {refusal['error']['message']}"
    assert len(err.splitlines()) == 1 + sum(len(f["messages"]) for f in refusal["error"]["fields"])
    assert_each_field_once(err, refusal)


def test_a_roster_validation_error_prints_each_bad_field_once_with_its_label(capsys) -> None:
    from services.roster.schemas import RoleRequest

    refusal = refusal_of(RoleRequest(), {"role": "volunteer", "grid_id": "magang-l3-01", "phone": "12345",
                                         "valid_from": "2026-03-01T00:00:00+08:00",
                                         "valid_until": "2026-02-01T00:00:00+08:00"})
    path = "/api/roster/streets/longgang/people/p1/roles"
    with fake_service({("POST", path): _json(refusal, 400)}) as url:
        code = cli.main(["roster", "--url", url, "--token", "t", "assign-role", "longgang", "p1", "--role", "volunteer",
                         "--grid", "magang-l3-01", "--from", "2026-03-01", "--until", "2026-02-01", "--phone", "12345"])
    err = capsys.readouterr().err
    assert code == 1 and err.splitlines()[0] == refusal["error"]["message"]
    assert len(err.splitlines()) == 3
    assert_each_field_once(err, refusal)

"""`fangfei case|obligation|campaign|enterprise|risk|assessment …`: the escalation API from a shell.

Wired into `fangfei` (fangfei/cli.py) with `escalation_cli.register(subparsers)`. Every command
talks HTTP to the escalation service (`--url`, default `$FANGFEI_ESCALATION_URL` or
http://127.0.0.1:8103) with the bearer token of `--token` or `$FANGFEI_TOKEN` (`fangfei token
issue …`), prints the JSON answer, and exits 1 with the service's Chinese message on a 4xx/5xx.

Who acts, and in which street, is the token's: there is no `--by`. `--street` is only for callers
whose token spans several streets (a district office naming the street it acts or reads in).

    export FANGFEI_TOKEN=$(fangfei token issue --role grid_staff --street longgang --community magang --person p-zhang01)
    fangfei case show c0042
    fangfei case register c0042
    fangfei case escalate c0042 --reason 超出职权 --stabilization 已劝离
    fangfei case close c0042 --reason 已化解 --outcome resolved
    fangfei obligation list --from 2026-03-01 --to 2026-03-31
    fangfei obligation submit weekly:magang:2026-W12 --summary …
    fangfei campaign define --id zx2026 --name 专项行动 \\
        --phase deploy:部署发动:2026-06-15 --phase screen:风险排查:2026-08-31
    fangfei enterprise tag 91350100M000100Y43 --tag red --reason …
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable

DEFAULT_URL = "http://127.0.0.1:8103"
TOKEN_ENV = "FANGFEI_TOKEN"
Transport = Callable[[str, str, Any, dict[str, str]], tuple[int, Any]]


def http_transport(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """(status, parsed JSON) — HTTP errors are answers too, not exceptions."""
    data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
    all_headers = dict(headers or {})
    if data is not None:
        all_headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, text = resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read().decode(errors="replace")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


# URL segment → (help, extra options as (flag, dest, kwargs))
CASE_ACTIONS: dict[str, tuple[str, list[tuple[str, str, dict[str, Any]]]]] = {
    "register": ("登记 (within 4 hours of the clue being found)", []),
    "escalate": ("稳控并上报: one level up", [("--stabilization", "stabilization", {"help": "稳控措施 (required at level 3)"})]),
    "bounce-back": ("退回: to the level that escalated it", []),
    "mark-abnormal": ("标记异常: to the district and, at once, police, market regulation and the 处非办",
                      [("--agency", "agencies", {"action": "append", "help": "an extra agency code (repeatable)"}),
                       ("--stabilization", "stabilization", {})]),
    "agency-response": ("记录部门反馈", [("--agency", "agency", {"required": True}),
                                   ("--response", "response", {"required": True})]),
    "joint-meeting": ("召开联席会议", [("--department", "departments", {"action": "append", "required": True})]),
    "joint-meeting-decision": ("联席会议裁决", [("--decision", "decision", {"required": True}),
                                          ("--lead-department", "lead_department", {"required": True})]),
    "disposal": ("处置决定: interview | rectification_order | pledge | administrative | transfer_police | joint_review",
                 [("--disposal", "disposal", {"required": True}),
                  ("--working-days", "working_days", {"type": int, "help": "整改期限 (rectification_order)"}),
                  ("--public-warning", "public_warning", {"help": "预警提示 (joint_review)"}),
                  ("--credit-code", "credit_code", {})]),
    "rectification-completed": ("整改完成", []),
    "close": ("办结: resolved | unfounded | rectified | transferred | disposed | merged",
              [("--outcome", "outcome", {"required": True})]),
    "pause": ("暂停计时 while waiting on an agency", [("--waiting-on", "waiting_on", {"required": True})]),
    "resume": ("恢复计时", []),
    "extension": ("申请延期 (before the deadline; at most twice)",
                  [("--hours", "hours", {"type": int}), ("--working-days", "working_days", {"type": int})]),
    "leader": ("领导包案", [("--leader", "leader_person_id", {"required": True})]),
    "supervision": ("挂牌督办", [("--supervisor", "supervisor", {"required": True}),
                             ("--target-date", "target_date", {"help": "an instant with offset"})]),
}


def _url(args: argparse.Namespace, path: str, **query: Any) -> str:
    q = {k: v for k, v in query.items() if v not in (None, "")}
    return args.url.rstrip("/") + path + ("?" + urllib.parse.urlencode(q) if q else "")


def _auth_headers(args: argparse.Namespace) -> dict[str, str]:
    """The bearer token from --token or $FANGFEI_TOKEN (never put it in the URL: the services
    refuse tokens in query strings)."""
    token = (getattr(args, "token", None) or os.environ.get(TOKEN_ENV, "")).strip()
    if not token:
        raise SystemExit(f"缺少令牌：请用 --token 或环境变量 {TOKEN_ENV} 提供（fangfei token issue …）")
    return {"Authorization": f"Bearer {token}"}


def _with_street(args: argparse.Namespace, body: dict[str, Any]) -> dict[str, Any]:
    if getattr(args, "street", None):
        body["street_id"] = args.street
    return body


def _run(args: argparse.Namespace, method: str, url: str, body: Any = None) -> int:
    transport: Transport = getattr(args, "transport", None) or http_transport
    status, answer = transport(method, url, body, _auth_headers(args))
    out = sys.stdout if status < 400 else sys.stderr
    if status >= 400 and isinstance(answer, dict) and "error" in answer:
        print(f"错误 {status}: {answer['error'].get('message', '')}", file=sys.stderr)
    print(json.dumps(answer, ensure_ascii=False, indent=2), file=out)
    return 0 if status < 400 else 1


def _common(p: argparse.ArgumentParser, street: bool = True) -> None:
    p.add_argument("--url", default=os.environ.get("FANGFEI_ESCALATION_URL", DEFAULT_URL), help="escalation service URL")
    p.add_argument("--token", default=None, help=f"bearer token (default ${TOKEN_ENV}); it names who acts and where")
    if street:
        p.add_argument("--street", default="", help="street_id (街道): only for tokens spanning several streets")


def _case_action(segment: str, options: list[tuple[str, str, dict[str, Any]]]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        body: dict[str, Any] = {}
        if args.reason:
            body["reason"] = args.reason
        for _, dest, _kw in options:
            value = getattr(args, dest)
            if value is not None:
                body[dest] = value
        return _run(args, "POST", _url(args, f"/api/cases/{args.case_id}/{segment}"), body)

    return run


def _register_case(sub: Any) -> None:
    case = sub.add_parser("case", help="案件: show, list, and every workflow step")
    steps = case.add_subparsers(dest="case_command", required=True)
    show = steps.add_parser("show", help="one case with its clock, history and allowed actions")
    show.add_argument("case_id")
    _common(show, street=False)
    show.set_defaults(func=lambda a: _run(a, "GET", _url(a, f"/api/cases/{a.case_id}")))
    ls = steps.add_parser("list", help="the street's cases")
    _common(ls)
    ls.add_argument("--status")
    ls.add_argument("--level", type=int)
    ls.add_argument("--overdue", choices=["true", "false"])
    ls.add_argument("--community", default="", help="community_id")
    ls.set_defaults(func=lambda a: _run(a, "GET", _url(a, "/api/cases", street_id=a.street, status=a.status,
                                                       level=a.level, overdue=a.overdue, community_id=a.community)))
    for segment, (help_, options) in CASE_ACTIONS.items():
        p = steps.add_parser(segment, help=help_)
        p.add_argument("case_id")
        _common(p, street=False)
        p.add_argument("--reason", default="", help="理由 (required except for register/resume)")
        for flag, dest, kw in options:
            p.add_argument(flag, dest=dest, **kw)
        p.set_defaults(func=_case_action(segment, options))


def _register_obligation(sub: Any) -> None:
    ob = sub.add_parser("obligation", help="报送义务: weekly / monthly / sweep / campaign reports")
    cmds = ob.add_subparsers(dest="obligation_command", required=True)
    ls = cmds.add_parser("list", help="obligations due in a date range, with their verdicts")
    _common(ls)
    ls.add_argument("--from", dest="start", required=True, help="YYYY-MM-DD")
    ls.add_argument("--to", dest="end", required=True, help="YYYY-MM-DD")
    ls.add_argument("--unit", help="a community id, or the street id for sweep summaries")
    ls.add_argument("--kind", choices=["weekly", "monthly", "sweep", "campaign"])
    ls.set_defaults(func=lambda a: _run(a, "GET", _url(a, "/api/obligations", street_id=a.street, unit_id=a.unit,
                                                       kind=a.kind, **{"from": a.start, "to": a.end})))
    sm = cmds.add_parser("submit", help="submit a report (on time or late)")
    sm.add_argument("obligation_id", help="e.g. weekly:magang:2026-W12")
    _common(sm)
    sm.add_argument("--summary", default="")
    sm.set_defaults(func=lambda a: _run(a, "POST", _url(a, f"/api/obligations/{a.obligation_id}/submission"),
                                        _with_street(a, {"summary": a.summary})))


def _phase(text: str) -> dict[str, str]:
    parts = text.split(":", 2)
    if len(parts) != 3:
        raise argparse.ArgumentTypeError("phase must be id:name:due (due YYYY-MM-DD or an instant)")
    return {"phase_id": parts[0], "name": parts[1], "due_at": parts[2]}


def _register_campaign(sub: Any) -> None:
    c = sub.add_parser("campaign", help="专项行动: phases with deadlines")
    cmds = c.add_subparsers(dest="campaign_command", required=True)
    d = cmds.add_parser("define")
    _common(d)
    d.add_argument("--id", dest="campaign_id", required=True)
    d.add_argument("--name", required=True)
    d.add_argument("--phase", dest="phases", action="append", type=_phase, required=True, help="id:name:due")
    d.add_argument("--community", dest="community_ids", action="append", default=[], help="default: every community")
    d.set_defaults(func=lambda a: _run(a, "POST", _url(a, "/api/campaigns"), _with_street(a, {
        "campaign_id": a.campaign_id, "name": a.name, "phases": a.phases, "community_ids": a.community_ids})))
    ls = cmds.add_parser("list")
    _common(ls)
    ls.set_defaults(func=lambda a: _run(a, "GET", _url(a, "/api/campaigns", street_id=a.street)))


def _register_enterprise(sub: Any) -> None:
    e = sub.add_parser("enterprise", help="风险企业: 红黄绿挂牌, 一企一策, cross-street flags")
    cmds = e.add_subparsers(dest="enterprise_command", required=True)
    ls = cmds.add_parser("list")
    _common(ls)
    ls.add_argument("--tag", choices=["red", "yellow", "green"])
    ls.add_argument("--cross-street", choices=["true", "false"])
    ls.set_defaults(func=lambda a: _run(a, "GET", _url(a, "/api/enterprises", street_id=a.street, tag=a.tag,
                                                       cross_street=a.cross_street)))
    show = cmds.add_parser("show")
    show.add_argument("credit_code")
    _common(show)
    show.set_defaults(func=lambda a: _run(a, "GET", _url(a, f"/api/enterprises/{a.credit_code}", street_id=a.street)))
    reg = cmds.add_parser("register", help="异动登记: moved in / out, or found by a sweep")
    _common(reg)
    reg.add_argument("credit_code")
    reg.add_argument("--name", default="")
    reg.add_argument("--address", default="")
    reg.add_argument("--movement", choices=["", "moved_in", "moved_out"], default="")
    reg.set_defaults(func=lambda a: _run(a, "POST", _url(a, "/api/enterprises"), _with_street(a, {
        "credit_code": a.credit_code, "name": a.name, "address": a.address, "movement": a.movement})))
    tag = cmds.add_parser("tag", help="红黄绿挂牌")
    tag.add_argument("credit_code")
    _common(tag)
    tag.add_argument("--tag", required=True, choices=["red", "yellow", "green"])
    tag.add_argument("--reason", required=True)
    tag.set_defaults(func=lambda a: _run(a, "POST", _url(a, f"/api/enterprises/{a.credit_code}/tag"), _with_street(a, {
        "tag": a.tag, "reason": a.reason})))
    plan = cmds.add_parser("plan", help="一企一策")
    plan.add_argument("credit_code")
    _common(plan)
    plan.add_argument("--measure", dest="measures", action="append", required=True)
    plan.add_argument("--responsible", required=True)
    plan.add_argument("--leader", required=True)
    plan.add_argument("--deadline", required=True, help="YYYY-MM-DD or an instant")
    plan.set_defaults(func=lambda a: _run(a, "POST", _url(a, f"/api/enterprises/{a.credit_code}/plan"), _with_street(a, {
        "measures": a.measures, "responsible_person_id": a.responsible, "leader_person_id": a.leader,
        "deadline": a.deadline})))


def _register_misc(sub: Any) -> None:
    r = sub.add_parser("risk", help="风险筛查 preview (records nothing)")
    _common(r, street=False)
    for flag in ("--subject-name", "--title", "--description", "--address", "--credit-code"):
        r.add_argument(flag, default="")
    r.set_defaults(func=lambda a: _run(a, "POST", _url(a, "/api/risk/screen"), {
        k: v for k, v in {"subject_name": a.subject_name, "title": a.title, "description": a.description,
                          "address": a.address, "credit_code": a.credit_code}.items() if v}))
    s = sub.add_parser("assessment", help="量化考核 facts per person: breaches, bounce-backs, extensions, last-minute")
    _common(s)
    s.set_defaults(func=lambda a: _run(a, "GET", _url(a, "/api/assessment", street_id=a.street)))


def register(subparsers: Any) -> None:
    """Add the escalation commands to the `fangfei` command line."""
    _register_case(subparsers)
    _register_obligation(subparsers)
    _register_campaign(subparsers)
    _register_enterprise(subparsers)
    _register_misc(subparsers)


def main(argv: list[str] | None = None, transport: Transport | None = None) -> int:
    """Run the escalation commands on their own (`python -m fangfei.clients.escalation_cli …`)."""
    parser = argparse.ArgumentParser(prog="fangfei", description="防非 Fangfei escalation commands")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    args.transport = transport
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())

"""`fangfei case|obligation|campaign|enterprise|risk|assessment …`: the escalation API from a shell.

Wired into `fangfei` (fangfei/cli.py) with `escalation_cli.register(subparsers)`. Every command
talks HTTP to the escalation service (`--url`, default `$FANGFEI_ESCALATION_URL` or
http://127.0.0.1:8103) with the bearer token of `--token` or `$FANGFEI_TOKEN` (`fangfei token
issue …`), prints the answer as tables (Chinese headers, times in Beijing time) or, with --json, the
service's JSON unchanged, and exits 1 with the service's Chinese message on a 4xx/5xx.

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

from .. import vocab
from . import output
from .names import Lookup, no_lookup, roster_lookup, with_names

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


# -- what people read ------------------------------------------------------------------------------
# Labels of escalation's codes that its listings carry without a label (as the console shows them).
CASE_STATUS = vocab.WORKFLOW_STATUSES
LEVELS = {str(k): v for k, v in vocab.CASE_LEVELS.items()}
OUTCOMES = vocab.CASE_OUTCOMES
TAGS = vocab.RISK_TAGS

CASE_FIELDS: list[output.Column] = [
    ("case_id", "案件编号"), (output.labelled("status", labels=CASE_STATUS), "状态"),
    (output.labelled("level", labels=LEVELS), "所在层级"), (output.named("community_id", "community_name"), "社区"),
    (output.named("assignee_person_id", "assignee_name"), "当前负责人"), ("found_at", "发现时间"),
    ("register_deadline", "登记期限（4小时）"), ("registered_at", "登记时间"),
    (lambda c: (c.get("clock") or {}).get("rule_label", ""), "当前时限"),
    (lambda c: (c.get("clock") or {}).get("deadline", ""), "时限截止"),
    (lambda c: (c.get("clock") or {}).get("overdue", False), "已超时"), ("abnormal", "标记异常"),
    (lambda c: f"{(c.get('risk') or {}).get('score', 0)} 分，建议"
               f"{TAGS.get((c.get('risk') or {}).get('suggested_tag', ''), '不挂')}牌", "风险评分"),
    (lambda c: OUTCOMES.get(c.get("outcome", ""), c.get("outcome", "")), "办结结果"), ("closed_at", "办结时间"),
]


def _show_case(case: dict[str, Any]) -> None:
    output.record(case, CASE_FIELDS, title=f"案件 {case.get('case_id', '')}")
    output.table(case.get("history", []), [("at", "时间"), ("action_label", "环节"), (output.named("by", "by_name"), "经办人"),
                                            ("reason", "理由"), (output.labelled("status", labels=CASE_STATUS), "之后状态")],
                 title="办理经过")
    allowed = "、".join(a["label"] for a in case.get("allowed_actions", []))
    if allowed:
        print(f"当前可执行：{allowed}")
    print(output.TZ_NOTE)


def _list(key: str, columns: list[output.Column], title: str) -> Callable[[Any], None]:
    def show(answer: dict[str, Any]) -> None:
        rows = answer.get(key, [])
        output.table(rows, columns, title=f"{title}（{answer.get('street_name') or answer.get('street_id', '')}，共 {answer.get('total', len(rows))} 条）",
                     caption=output.TZ_NOTE)

    return show


def _record(fields: list[output.Column], title: str) -> Callable[[Any], None]:
    return lambda answer: output.record(answer, fields, title=title)


CASES = _list("cases", [
    ("case_id", "案件编号"), (output.named("community_id", "community_name"), "社区"),
    (output.labelled("status", labels=CASE_STATUS), "状态"), (output.labelled("level", labels=LEVELS), "层级"),
    (output.named("assignee_person_id", "assignee_name"), "负责人"), ("found_at", "发现时间"), ("deadline", "时限截止"),
    ("overdue", "已超时"), (lambda c: TAGS.get(c.get("risk_tag", ""), ""), "风险"), ("abnormal", "异常")], "案件")
OBLIGATION_COLUMNS: list[output.Column] = [
    ("obligation_id", "义务编号"), ("title", "报送事项"), ("kind_label", "类型"), (output.named("unit_id", "unit_name"), "报送单位"),
    (output.named("responsible_person_id", "responsible_name"), "负责人"), ("due_at", "截止时间"),
    ("status_label", "状态"), ("submitted_at", "报送时间"), (output.named("submitted_by", "submitted_by_name"), "报送人")]
OBLIGATIONS = _list("obligations", OBLIGATION_COLUMNS, "报送义务")
CAMPAIGN_COLUMNS: list[output.Column] = [
    ("campaign_id", "编号"), ("name", "专项行动"), ("community_ids", "社区"), ("defined_at", "部署时间"),
    (lambda c: "；".join(f"{p['name']} {output.local_time(p['due_at'])}" for p in c.get("phases", [])), "阶段及截止")]
ENTERPRISE_FIELDS: list[output.Column] = [
    ("credit_code", "统一社会信用代码"), ("name", "企业名称"), ("address", "地址"), ("tag_label", "挂牌"),
    ("tag_reason", "挂牌理由"), ("tagged_at", "挂牌时间"), ("score", "风险评分"),
    (lambda e: TAGS.get(e.get("suggested_tag", ""), ""), "建议挂牌"), ("cross_street", "跨街道"),
    ("other_streets", "其他街道"), (lambda e: "；".join((e.get("plan") or {}).get("measures", [])), "一企一策措施"),
    (lambda e: (e.get("plan") or {}).get("deadline", ""), "一企一策期限"), ("plan_overdue", "一企一策逾期")]
ENTERPRISES = _list("enterprises", [
    ("credit_code", "统一社会信用代码"), ("name", "企业名称"), ("tag_label", "挂牌"), ("score", "风险评分"),
    ("other_streets", "其他街道"), ("has_plan", "一企一策"), ("plan_deadline", "一企一策期限")], "风险企业")


def _show_risk(answer: dict[str, Any]) -> None:
    print(answer.get("explanation") or f"风险评分 {answer.get('score', 0)}，建议{answer.get('suggested_tag_label', '不挂')}牌")
    output.table(answer.get("hits", []), [("label", "命中指标"), ("weight", "分值"), ("evidence", "依据")])
    if answer.get("credit_code"):
        print(f"统一社会信用代码 {answer['credit_code']}：" + ("校验通过" if answer.get("credit_code_valid") else "校验未通过"))


def _show_assessment(answer: dict[str, Any]) -> None:
    rows = [{"person": person, **counts} for person, counts in sorted((answer.get("people") or {}).items())]
    output.table(rows, [(output.named("person", "person_name"), "人员"), ("breaches", "超时"), ("bounce_backs", "被退回"),
                        ("repeated_extensions", "多次延期"), ("last_minute", "临期办理"),
                        ("missed_reports", "未报送"), ("late_reports", "迟报")],
                 title=f"量化考核（{answer.get('street_id', '')}）", empty="没有扣分事实")


def _show_campaigns(answer: dict[str, Any]) -> None:
    output.table(answer.get("campaigns", []), CAMPAIGN_COLUMNS, title=f"专项行动（{answer.get('street_name') or answer.get('street_id', '')}）",
                 caption=output.TZ_NOTE)


def _run(args: argparse.Namespace, method: str, url: str, body: Any = None,
         show: Callable[[Any], None] | None = None) -> int:
    transport: Transport = getattr(args, "transport", None) or http_transport
    status, answer = transport(method, url, body, _auth_headers(args))
    if status >= 400:
        message = answer["error"].get("message", "") if isinstance(answer, dict) and "error" in answer else str(answer)[:200]
        print(f"错误 {status}: {message}", file=sys.stderr)
        if getattr(args, "json", False):
            output.print_json(answer, stream=sys.stderr)
        else:
            error = answer.get("error") if isinstance(answer, dict) else None
            for line in output.error_lines(error if isinstance(error, dict) else {}):
                print(f"  {line}", file=sys.stderr)
        return 1
    if getattr(args, "json", False) or show is None:
        output.print_json(answer)
    else:
        lookup = getattr(args, "names", None) or roster_lookup(_auth_headers(args)["Authorization"][len("Bearer "):])
        show(with_names(answer, lookup, getattr(args, "street", "") or ""))
    return 0


def _common(p: argparse.ArgumentParser, street: bool = True) -> None:
    p.add_argument("--url", default=os.environ.get("FANGFEI_ESCALATION_URL", DEFAULT_URL), help="escalation service URL")
    p.add_argument("--token", default=None, help=f"bearer token (default ${TOKEN_ENV}); it names who acts and where")
    p.add_argument("--json", action="store_true", help="print the service's JSON answer (for scripts)")
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
        return _run(args, "POST", _url(args, f"/api/cases/{args.case_id}/{segment}"), body, _show_case)

    return run


def _register_case(sub: Any) -> None:
    case = sub.add_parser("case", help="案件: show, list, and every workflow step")
    steps = case.add_subparsers(dest="case_command", required=True)
    show = steps.add_parser("show", help="one case with its clock, history and allowed actions")
    show.add_argument("case_id")
    _common(show, street=False)
    show.set_defaults(func=lambda a: _run(a, "GET", _url(a, f"/api/cases/{a.case_id}"), show=_show_case))
    ls = steps.add_parser("list", help="the street's cases")
    _common(ls)
    ls.add_argument("--status")
    ls.add_argument("--level", type=int)
    ls.add_argument("--overdue", choices=["true", "false"])
    ls.add_argument("--community", default="", help="community_id")
    ls.set_defaults(func=lambda a: _run(a, "GET", _url(a, "/api/cases", street_id=a.street, status=a.status,
                                                       level=a.level, overdue=a.overdue, community_id=a.community), show=CASES))
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
                                                       kind=a.kind, **{"from": a.start, "to": a.end}), show=OBLIGATIONS))
    sm = cmds.add_parser("submit", help="submit a report (on time or late)")
    sm.add_argument("obligation_id", help="e.g. weekly:magang:2026-W12")
    _common(sm)
    sm.add_argument("--summary", default="")
    sm.set_defaults(func=lambda a: _run(a, "POST", _url(a, f"/api/obligations/{a.obligation_id}/submission"),
                                        _with_street(a, {"summary": a.summary}), _record(OBLIGATION_COLUMNS + [("summary", "报送内容")], "已报送")))


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
        "campaign_id": a.campaign_id, "name": a.name, "phases": a.phases, "community_ids": a.community_ids}),
        lambda c: _show_campaigns({"street_id": c.get("street_id", ""), "campaigns": [c]})))
    ls = cmds.add_parser("list")
    _common(ls)
    ls.set_defaults(func=lambda a: _run(a, "GET", _url(a, "/api/campaigns", street_id=a.street), show=_show_campaigns))


def _register_enterprise(sub: Any) -> None:
    e = sub.add_parser("enterprise", help="风险企业: 红黄绿挂牌, 一企一策, cross-street flags")
    cmds = e.add_subparsers(dest="enterprise_command", required=True)
    ls = cmds.add_parser("list")
    _common(ls)
    ls.add_argument("--tag", choices=["red", "yellow", "green"])
    ls.add_argument("--cross-street", choices=["true", "false"])
    ls.set_defaults(func=lambda a: _run(a, "GET", _url(a, "/api/enterprises", street_id=a.street, tag=a.tag,
                                                       cross_street=a.cross_street), show=ENTERPRISES))
    show = cmds.add_parser("show")
    show.add_argument("credit_code")
    _common(show)
    show.set_defaults(func=lambda a: _run(a, "GET", _url(a, f"/api/enterprises/{a.credit_code}", street_id=a.street),
                                          show=_record(ENTERPRISE_FIELDS, "风险企业")))
    reg = cmds.add_parser("register", help="异动登记: moved in / out, or found by a sweep")
    _common(reg)
    reg.add_argument("credit_code")
    reg.add_argument("--name", default="")
    reg.add_argument("--address", default="")
    reg.add_argument("--movement", choices=["", "moved_in", "moved_out"], default="")
    reg.set_defaults(func=lambda a: _run(a, "POST", _url(a, "/api/enterprises"), _with_street(a, {
        "credit_code": a.credit_code, "name": a.name, "address": a.address, "movement": a.movement}),
        _record(ENTERPRISE_FIELDS, "已登记")))
    tag = cmds.add_parser("tag", help="红黄绿挂牌")
    tag.add_argument("credit_code")
    _common(tag)
    tag.add_argument("--tag", required=True, choices=["red", "yellow", "green"])
    tag.add_argument("--reason", required=True)
    tag.set_defaults(func=lambda a: _run(a, "POST", _url(a, f"/api/enterprises/{a.credit_code}/tag"), _with_street(a, {
        "tag": a.tag, "reason": a.reason}), _record(ENTERPRISE_FIELDS, "已挂牌")))
    plan = cmds.add_parser("plan", help="一企一策")
    plan.add_argument("credit_code")
    _common(plan)
    plan.add_argument("--measure", dest="measures", action="append", required=True)
    plan.add_argument("--responsible", required=True)
    plan.add_argument("--leader", required=True)
    plan.add_argument("--deadline", required=True, help="YYYY-MM-DD or an instant")
    plan.set_defaults(func=lambda a: _run(a, "POST", _url(a, f"/api/enterprises/{a.credit_code}/plan"), _with_street(a, {
        "measures": a.measures, "responsible_person_id": a.responsible, "leader_person_id": a.leader,
        "deadline": a.deadline}), _record(ENTERPRISE_FIELDS, "一企一策已记录")))


def _register_misc(sub: Any) -> None:
    r = sub.add_parser("risk", help="风险筛查 preview (records nothing)")
    _common(r, street=False)
    for flag in ("--subject-name", "--title", "--description", "--address", "--credit-code"):
        r.add_argument(flag, default="")
    r.set_defaults(func=lambda a: _run(a, "POST", _url(a, "/api/risk/screen"), {
        k: v for k, v in {"subject_name": a.subject_name, "title": a.title, "description": a.description,
                          "address": a.address, "credit_code": a.credit_code}.items() if v}, _show_risk))
    s = sub.add_parser("assessment", help="量化考核 facts per person: breaches, bounce-backs, extensions, last-minute")
    _common(s)
    s.set_defaults(func=lambda a: _run(a, "GET", _url(a, "/api/assessment", street_id=a.street), show=_show_assessment))


def register(subparsers: Any) -> None:
    """Add the escalation commands to the `fangfei` command line."""
    _register_case(subparsers)
    _register_obligation(subparsers)
    _register_campaign(subparsers)
    _register_enterprise(subparsers)
    _register_misc(subparsers)


def main(argv: list[str] | None = None, transport: Transport | None = None, names: Lookup | None = None) -> int:
    """Run the escalation commands on their own (`python -m fangfei.clients.escalation_cli …`).
    `transport` stands in for HTTP; with it, names are looked up only through `names`."""
    parser = argparse.ArgumentParser(prog="fangfei", description="防非 Fangfei escalation commands")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    args.transport = transport
    args.names = names or (no_lookup if transport is not None else None)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())

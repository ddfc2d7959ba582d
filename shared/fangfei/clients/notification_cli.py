"""`fangfei notification …`: agency subscriptions, e-mail contacts and the outbound delivery log,
through the notification service's HTTP API.

    fangfei notification subscribe --agency police_station --name 龙岗派出所 \\
        --events case.opened,case.marked_abnormal --webhook https://agency.example.org/hook [--street longgang]
    fangfei notification subscribe --agency market_regulation --name 市场监管所 --events case.opened --topic
    fangfei notification subscriptions [--street longgang]
    fangfei notification unsubscribe sub-0123456789abcdef
    fangfei notification set-email magang-l3-01-chief grid01@example.org
    fangfei notification outbox [--state dead] [--channel email]

The service is FANGFEI_NOTIFICATION_URL (default http://127.0.0.1:8105) or --url; the bearer token
is FANGFEI_TOKEN or --token (a street office subscribes for its own street). The webhook secret is
printed once, when the subscription is created. Answers are tables (times in Beijing time); --json
prints the service's JSON. Exit status: 0 done, 1 refused, 2 unreachable.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from . import output
from .names import roster_lookup, with_names

DEFAULT_URL = "http://127.0.0.1:8105"


def _call(args: argparse.Namespace, method: str, path: str, body: Any = None,
          query: dict[str, str] | None = None) -> tuple[int, Any]:
    params = {k: v for k, v in (query or {}).items() if v}
    url = args.url.rstrip("/") + path + ("?" + urllib.parse.urlencode(params) if params else "")
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body, ensure_ascii=False).encode(), "application/json"
    if args.token:
        headers["Authorization"] = f"Bearer {args.token}"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        text = exc.read().decode(errors="replace")
        try:
            return exc.code, json.loads(text)
        except ValueError:
            return exc.code, {"error": {"message": text[:200]}}


def _run(args: argparse.Namespace) -> int:
    try:
        if args.notification_command == "subscribe":
            body: dict[str, Any] = {"agency": args.agency, "name": args.name,
                                    "event_types": [t for t in args.events.split(",") if t],
                                    "mode": "topic" if args.topic else "webhook", "url": args.webhook or "",
                                    "street_ids": [args.street] if args.street else [],
                                    "personal_data": args.personal_data}
            status, answer = _call(args, "POST", "/api/subscriptions", body)
        elif args.notification_command == "subscriptions":
            status, answer = _call(args, "GET", "/api/subscriptions", query={"street_id": args.street})
        elif args.notification_command == "unsubscribe":
            status, answer = _call(args, "DELETE", f"/api/subscriptions/{urllib.parse.quote(args.subscription_id)}")
        elif args.notification_command == "set-email":
            status, answer = _call(args, "PUT", f"/api/notification/contacts/{urllib.parse.quote(args.person_id)}",
                                   {"email": args.email})
        else:
            status, answer = _call(args, "GET", "/api/notification/outbox",
                                   query={"state": args.state, "channel": args.channel, "street_id": args.street})
    except (urllib.error.URLError, OSError) as exc:
        print(f"无法连接通知服务 {args.url}：{exc}", file=sys.stderr)
        return 2
    if status >= 400:
        error = answer.get("error", {}) if isinstance(answer, dict) else {}
        print(f"错误 {status}: {error.get('message', '')}", file=sys.stderr)
        if args.json:
            output.print_json(answer, stream=sys.stderr)
        else:
            for line in output.error_lines(error if isinstance(error, dict) else {}):
                print(f"  {line}", file=sys.stderr)
        return 2 if status >= 500 else 1
    if args.json:
        output.print_json(answer)
    elif args.notification_command == "outbox":  # recipients by name, from the roster of each row's street
        _show_outbox(args, with_names(answer, roster_lookup(args.token)))
    else:
        SHOW[args.notification_command](args, answer)
    return 0


MODES = {"webhook": "网络回调（Webhook）", "topic": "Kafka 主题"}
SUBSCRIPTION_COLUMNS: list[output.Column] = [
    ("subscription_id", "订阅编号"), ("name", "接收单位"), ("agency", "单位类型"), ("event_types", "订阅事件"),
    ("street_ids", "街道"), (lambda s: MODES.get(s.get("mode", ""), s.get("mode", "")), "方式"),
    (lambda s: s.get("url") or s.get("topic"), "地址或主题"), ("personal_data", "含个人信息"),
    ("active", "有效"), ("created_at", "订阅时间")]


def _show_subscribed(args: argparse.Namespace, answer: dict[str, Any]) -> None:
    output.record(answer, SUBSCRIPTION_COLUMNS, title="已订阅")
    if answer.get("secret"):
        print(f"签名密钥（只显示这一次，请妥善保存）：{answer['secret']}")


def _show_subscriptions(args: argparse.Namespace, answer: dict[str, Any]) -> None:
    output.table(answer.get("subscriptions", []), SUBSCRIPTION_COLUMNS, title="订阅", caption=output.TZ_NOTE)


def _show_unsubscribed(args: argparse.Namespace, answer: dict[str, Any]) -> None:
    print(f"已取消订阅 {answer.get('name') or args.subscription_id}（{args.subscription_id}）")


def _show_email(args: argparse.Namespace, answer: dict[str, Any]) -> None:
    print(f"已设置 {answer.get('name') or args.person_id} 的通知邮箱：{answer.get('email', args.email)}")


def _show_outbox(args: argparse.Namespace, answer: dict[str, Any]) -> None:
    output.table(answer.get("deliveries", []), [
        ("delivery_id", "投递编号"), ("channel_label", "渠道"), ("state_label", "状态"), ("attempts", "尝试次数"),
        ("subject", "标题"), (output.named("recipient_id", "recipient_name"), "收件人"), ("created_at", "生成时间"),
        ("sent_at", "发送时间"), ("last_error", "最近错误")], title="外发投递", caption=output.TZ_NOTE)


SHOW = {"subscribe": _show_subscribed, "subscriptions": _show_subscriptions, "unsubscribe": _show_unsubscribed,
        "set-email": _show_email, "outbox": _show_outbox}


def register(sub: Any) -> None:
    p = sub.add_parser("notification", help="agency subscriptions, e-mail contacts, outbound deliveries")
    p.add_argument("--url", default=os.environ.get("FANGFEI_NOTIFICATION_URL", DEFAULT_URL))
    p.add_argument("--token", default=os.environ.get("FANGFEI_TOKEN", ""))
    p.add_argument("--json", action="store_true", help="print the service's JSON answer (for scripts)")
    cmds = p.add_subparsers(dest="notification_command", required=True)
    s = cmds.add_parser("subscribe", help="subscribe an agency to event types of a street")
    s.add_argument("--agency", required=True)
    s.add_argument("--name", required=True)
    s.add_argument("--events", required=True, help="comma-separated event types (docs/subscriptions.md)")
    how = s.add_mutually_exclusive_group(required=True)
    how.add_argument("--webhook", help="https URL the events are POSTed to")
    how.add_argument("--topic", action="store_true", help="publish to the subscription's own Kafka topic")
    s.add_argument("--street", default="")
    s.add_argument("--personal-data", action="store_true", help="district office only")
    ls = cmds.add_parser("subscriptions", help="list subscriptions (never their secrets)")
    ls.add_argument("--street", default="")
    un = cmds.add_parser("unsubscribe", help="cancel a subscription")
    un.add_argument("subscription_id")
    em = cmds.add_parser("set-email", help="a person's e-mail address for notifications")
    em.add_argument("person_id")
    em.add_argument("email")
    ob = cmds.add_parser("outbox", help="outbound deliveries: pending, sent, dead (发送失败)")
    ob.add_argument("--state", default="")
    ob.add_argument("--channel", default="")
    ob.add_argument("--street", default="")
    for sub_parser in (s, ls, un, em, ob):  # --json after the subcommand as well
        sub_parser.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    p.set_defaults(func=_run)

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
printed once, when the subscription is created. Exit status: 0 done, 1 refused, 2 unreachable.
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
    print(json.dumps(answer, ensure_ascii=False, indent=2))
    if status >= 500:
        return 2
    return 0 if status < 400 else 1


def register(sub: Any) -> None:
    p = sub.add_parser("notification", help="agency subscriptions, e-mail contacts, outbound deliveries")
    p.add_argument("--url", default=os.environ.get("FANGFEI_NOTIFICATION_URL", DEFAULT_URL))
    p.add_argument("--token", default=os.environ.get("FANGFEI_TOKEN", ""))
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
    p.set_defaults(func=_run)

"""`fangfei` command line: run the embedded platform and operate it.

    fangfei up            start broker + six services, seed the demo street, print a token, wait for Ctrl-C
    fangfei seed-demo     (re)load the demo street into a running roster service (idempotent)
    fangfei dlq-replay S  send service S's dead letters back to their source topics (after a fix)
    fangfei token issue   print a bearer token for a person and role (clients/auth_cli.py)
    fangfei keys rotate   rotate the token signing key (or, with --data, the reporter-data key)
    fangfei verify        check a service's event store hash chains for tampering (clients/verify_cli.py)
    fangfei roster|case|obligation|campaign|enterprise|risk|assessment|ledger|notification …
                          the services' HTTP APIs from a terminal, with the token in $FANGFEI_TOKEN
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import urllib.error
import urllib.request
import warnings

# nameko (imported through the clients) warns that eventlet is deprecated on every start; a user of
# the command line can do nothing about it (docs/adr/0004-eventlet-and-io.md says what we do).
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

from .clients import auth_cli, escalation_cli, ledger_cli, notification_cli, roster_cli, verify_cli  # noqa: E402
from .config import SERVICE_NAMES  # noqa: E402

DEMO_CSV = os.path.join("services", "roster", "data", "demo_street.csv")


def seed_demo(roster_url: str, path: str | None = None, token: str | None = None) -> str:
    """POST the demo street file to the roster import endpoint; return the response text.
    `token`: a district or street office token (the roster import is an office's command)."""
    from .devstack.stack import REPO_ROOT

    with open(path or os.path.join(REPO_ROOT, DEMO_CSV), "rb") as fh:
        data = fh.read()
    headers = {"Content-Type": "text/csv; charset=utf-8"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(roster_url.rstrip("/") + "/api/roster/import", data=data, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.read().decode()
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"demo import failed ({exc.code}): {exc.read().decode(errors='replace')}") from exc


CURL_EXAMPLE = """\
  # 令牌 (a token for 马岗社区's grid staff, valid {ttl_h} h; `fangfei token issue --help` for others):
  export TOKEN='{token}'

  # 上报一条线索 (report a clue in 马岗社区, found now; the street comes from the token):
  curl -s -X POST {intake}/api/clues -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{{
    "community_id": "magang", "category": "illegal_finance",
    "source": "grid_patrol", "title": "门店宣传保本高息理财",
    "description": "网格员巡查发现某门店宣传年化18%保本理财产品",
    "found_at": "'"$(date -Iseconds)"'"}}'

  # 网页控制台 (web console): open {console}/login and paste the token above.

  # 在台账中查看 (the clue-verification ledger) and the delivery log:
  curl -s -H "Authorization: Bearer $TOKEN" '{ledger}/api/ledgers/clue-verification'
  curl -s -H "Authorization: Bearer $TOKEN" '{notification}/api/deliveries'
"""

DEMO_TOKEN_TTL_S = 8 * 3600


def _imported(answer: str) -> str:
    """The roster import's answer as a clerk reads it: 已导入 87 行：新记录 街道 1、社区 10 …"""
    import json

    try:
        data = json.loads(answer)
        return f"已导入 {data['rows']} 行：{roster_cli._created(data['created'])}"
    except (ValueError, KeyError, TypeError):
        return answer


def demo_tokens(keys_dir: str) -> dict[str, str]:
    """Tokens `fangfei up` prints and seeds with: a grid worker of 马岗社区 and the district office."""
    from .auth.config import AuthSettings
    from .auth.keys import TokenKeys
    from .auth.tokens import issue

    settings = AuthSettings.from_env()
    settings = AuthSettings(**{**settings.__dict__, "keys_dir": keys_dir})
    keys = TokenKeys(keys_dir)
    return {
        "grid_staff": issue(keys, settings, subject="magang-l3-01-chief", role="grid_staff", street="longgang",
                            community="magang", ttl_s=min(DEMO_TOKEN_TTL_S, settings.max_ttl_s)),
        "district_office": issue(keys, settings, subject="demo-district-office", role="district_office", ttl_s=600),
    }


def cmd_up(args: argparse.Namespace) -> int:
    from .devstack.stack import Stack, default_ports

    data_dir = os.environ.get("FANGFEI_DATA_DIR", os.path.join("var", "data"))
    keys_dir = os.environ.get("FANGFEI_AUTH_KEYS_DIR", os.path.join("var", "keys"))
    broker_port = int(os.environ.get("FANGFEI_BROKER_PORT", "9092"))
    stack = Stack(data_dir, broker_port=broker_port, ports=default_ports(), keys_dir=keys_dir)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"防非 Fangfei: starting broker on {stack.broker.bootstrap} and {len(stack.services)} services "
          f"(data in {stack.data_dir}) …", flush=True)
    try:
        stack.start(timeout_s=args.timeout)
        if stack.keys_created:
            print(f"  keys generated in {stack.keys_dir} (first start; keep this directory private)", flush=True)
        tokens = demo_tokens(stack.keys_dir)
        print("  示范街道 龙岗街道（demo street）:", _imported(seed_demo(stack.services["roster"].url,
                                                               token=tokens["district_office"])), flush=True)
        print("\nReady. Services:")
        for name, svc in stack.services.items():
            print(f"  {name:<13} {svc.url}   ({svc.url}/health, {svc.url}/metrics)")
        urls = {name: svc.url for name, svc in stack.services.items()}
        print("\n" + CURL_EXAMPLE.format(token=tokens["grid_staff"],
                                          ttl_h=DEMO_TOKEN_TTL_S // 3600, **urls))
        print(f"Logs: {stack.log_dir}.  Ctrl-C stops everything.", flush=True)
        while not stop.is_set():
            for name, svc in stack.services.items():
                if not svc.alive():
                    print(f"{name} exited; see {svc.log_path}", file=sys.stderr)
                    stop.set()
            stop.wait(1.0)
    finally:
        print("\nStopping …", flush=True)
        stack.stop()
        print("Stopped.", flush=True)
    return 0


def cmd_seed_demo(args: argparse.Namespace) -> int:
    answer = seed_demo(args.roster_url, args.file, args.token or os.environ.get("FANGFEI_TOKEN") or None)
    print(answer if args.json else _imported(answer))
    return 0


def cmd_dlq_replay(args: argparse.Namespace) -> int:
    from .bus.dlq import replay

    count = replay(args.bootstrap, args.service)
    print(f"已将 {args.service} 的 {count} 条死信重新发送到原主题（replayed {count} dead letter(s)）")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The whole `fangfei` command line (each subcommand sets `func`)."""
    parser = argparse.ArgumentParser(prog="fangfei", description="防非 Fangfei platform")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="run the embedded platform (broker + six services) until Ctrl-C")
    up.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the services to be healthy")
    up.set_defaults(func=cmd_up)
    seed = sub.add_parser("seed-demo", help="load the demo street into a running roster service")
    seed.add_argument("--roster-url", default="http://127.0.0.1:8102")
    seed.add_argument("--file", default=None, help="a roster CSV (default: the demo street)")
    seed.add_argument("--token", default=None, help="an office's bearer token (default: $FANGFEI_TOKEN)")
    seed.add_argument("--json", action="store_true", help="print the roster's JSON answer")
    seed.set_defaults(func=cmd_seed_demo)
    dlq = sub.add_parser("dlq-replay", help="send a service's dead letters back to their topics (after a fix)")
    dlq.add_argument("service", choices=SERVICE_NAMES)
    dlq.add_argument("--bootstrap", default=os.environ.get("FANGFEI_KAFKA_BOOTSTRAP", "127.0.0.1:9092"))
    dlq.set_defaults(func=cmd_dlq_replay)
    auth_cli.register(sub)
    ledger_cli.register(sub)
    notification_cli.register(sub)
    roster_cli.register(sub)
    escalation_cli.register(sub)
    verify_cli.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())

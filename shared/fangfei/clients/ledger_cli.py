"""`fangfei ledger …`: export ledgers and statistics tables, rebuild the read models, check them.

    fangfei ledger export supervision --street longgang --format xlsx --out 日常监管.xlsx
    fangfei ledger export ten-ones --stats --street longgang --out 十个一.csv
    fangfei ledger rebuild           # drop and replay from offset 0, printing progress
    fangfei ledger check             # live vs a private refold: differences, if any

Talks HTTP to the ledger service (--url, default $FANGFEI_LEDGER_URL or http://127.0.0.1:8104)
with a bearer token (--token, default $FANGFEI_TOKEN). Progress goes to stderr."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

CHUNK = 64 * 1024


def _request(args: argparse.Namespace, method: str, path: str, query: dict[str, str] | None = None) -> Any:
    url = args.url.rstrip("/") + path + ("?" + urllib.parse.urlencode(query) if query else "")
    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    data = b"{}" if method == "POST" else None
    if data is not None:
        headers["Content-Type"] = "application/json"
    return urllib.request.urlopen(urllib.request.Request(url, data=data, method=method, headers=headers), timeout=600)


def cmd_export(args: argparse.Namespace) -> int:
    query = {k: v for k, v in (("format", args.format), ("street_id", args.street), ("community_id", args.community),
                               ("period_from", args.period_from), ("period_to", args.period_to)) if v}
    path = f"/api/statistics/{args.name}/export" if args.stats else f"/api/ledgers/{args.name}/export"
    out = args.out or f"{args.name}.{args.format}"
    try:
        with _request(args, "GET", path, query) as resp, open(out, "wb") as fh:
            rows = resp.headers.get("X-Total-Rows", "?")
            size = 0
            while chunk := resp.read(CHUNK):  # streamed: a large ledger is written as it arrives
                fh.write(chunk)
                size += len(chunk)
                print(f"\r导出中 {args.name}: {size // 1024} KB（共 {rows} 行）", end="", file=sys.stderr)
    except urllib.error.HTTPError as exc:
        print(f"导出失败 ({exc.code}): {exc.read().decode(errors='replace')}", file=sys.stderr)
        return 1
    print(f"\n已导出 {rows} 行 → {out}", file=sys.stderr)
    return 0


def cmd_rebuild(args: argparse.Namespace) -> int:
    try:
        _request(args, "POST", "/api/ledger-admin/rebuild").read()
        while True:
            state = json.loads(_request(args, "GET", "/api/ledger-admin/rebuild").read())
            total = state.get("events_total") or "?"
            print(f"\r重建中 第{state.get('attempt', 0)}次：已读 {state.get('events_read', 0)}/{total} 条事件 "
                  f"({state.get('phase', '')})", end="", file=sys.stderr)
            if state.get("state") in ("done", "failed"):
                print(file=sys.stderr)
                print(json.dumps(state, ensure_ascii=False, indent=2))
                return 0 if state["state"] == "done" else 1
            time.sleep(args.poll)
    except (urllib.error.URLError, OSError) as exc:  # the service restarting mid-rebuild resumes it
        print(f"\n无法连接台账服务：{exc}（服务重启后会自动继续重建，可再次运行本命令查看进度）", file=sys.stderr)
        return 2


def cmd_check(args: argparse.Namespace) -> int:
    result = json.loads(_request(args, "POST", "/api/ledger-admin/check").read())
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0 if result["consistent"] else 1


def register(subparsers: Any) -> None:
    ledger = subparsers.add_parser("ledger", help="台账: export, rebuild, check")
    ledger.add_argument("--url", default=os.environ.get("FANGFEI_LEDGER_URL", "http://127.0.0.1:8104"))
    ledger.add_argument("--token", default=os.environ.get("FANGFEI_TOKEN", ""))
    cmds = ledger.add_subparsers(dest="ledger_command", required=True)
    exp = cmds.add_parser("export", help="export one ledger (or, with --stats, a statistics table)")
    exp.add_argument("name", help="ledger key (supervision, clue-verification, …) or statistics table key")
    exp.add_argument("--stats", action="store_true")
    exp.add_argument("--format", choices=("csv", "xlsx"), default="xlsx")
    exp.add_argument("--street", default="")
    exp.add_argument("--community", default="")
    exp.add_argument("--period-from", dest="period_from", default="")
    exp.add_argument("--period-to", dest="period_to", default="")
    exp.add_argument("--out", default="")
    exp.set_defaults(func=cmd_export)
    reb = cmds.add_parser("rebuild", help="drop the read models and replay every event, with progress")
    reb.add_argument("--poll", type=float, default=1.0)
    reb.set_defaults(func=cmd_rebuild)
    chk = cmds.add_parser("check", help="compare the live read models with a private refold of the log")
    chk.set_defaults(func=cmd_check)

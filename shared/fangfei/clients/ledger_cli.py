"""`fangfei ledger …`: export ledgers and statistics tables, rebuild the read models, check them.

    fangfei ledger export supervision --street longgang --format xlsx --out 日常监管.xlsx
    fangfei ledger export ten-ones --stats --street longgang --out 十个一.csv
    fangfei ledger rebuild           # drop and replay from offset 0, printing progress
    fangfei ledger check             # live vs a private refold: differences, if any

Talks HTTP to the ledger service (--url, default $FANGFEI_LEDGER_URL or http://127.0.0.1:8104)
with a bearer token (--token, default $FANGFEI_TOKEN). Progress bars (bytes, events read of the
total, rate, time left) go to stderr; results are tables on stdout, or JSON with --json."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable

from . import output

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
    meter: output.Meter | None = None
    try:
        with _request(args, "GET", path, query) as resp, open(out, "wb") as fh:
            rows = resp.headers.get("X-Total-Rows", "")
            total = int(resp.headers.get("Content-Length") or 0) or None
            what = f"导出 {args.name}" + (f"（共 {rows} 行）" if rows else "")
            meter = output.Meter(what, total=total, unit="B", stream=sys.stderr)
            size = 0
            while chunk := resp.read(CHUNK):  # streamed: a large ledger is written as it arrives
                fh.write(chunk)
                size += len(chunk)
                meter.update(size)
    except urllib.error.HTTPError as exc:
        print(f"导出失败 ({exc.code}): {_message(exc)}", file=sys.stderr)
        return 1
    except urllib.error.URLError as exc:
        print(f"无法连接台账服务 {args.url}：{exc.reason}", file=sys.stderr)
        return 2
    finally:
        if meter is not None:
            meter.close()
    summary = {"name": args.name, "file": out, "rows": int(rows) if rows.isdigit() else None, "bytes": size}
    if args.json:
        return output.print_json(summary)
    print(f"已导出 {rows or '?'} 行（{size:,} 字节）→ {out}")
    return 0


def _message(exc: urllib.error.HTTPError) -> str:
    text = exc.read().decode(errors="replace")
    try:
        return str(json.loads(text)["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return text[:200]


PHASES = {"queued": "排队中", "replaying": "重放事件", "catching_up": "追赶新事件", "writing": "写入台账",
          "done": "已完成", "failed": "失败"}


def _rows(state: dict[str, Any]) -> str:
    rows = state.get("rows")
    if not isinstance(rows, dict):
        return output.cell(rows)
    return f"共 {sum(rows.values()):,} 行（{len(rows)} 张表）"

REBUILD_FIELDS: list[output.Column] = [
    (output.labelled("state"), "状态"), ("attempt", "第几次"), ("events_read", "已读事件"), (_rows, "台账行数"),
    ("row_changes", "行变更"), ("undecodable", "无法解码的事件"), ("requested_at", "请求时间"),
    ("started_at", "开始时间"), ("finished_at", "完成时间"), ("seconds", "用时（秒）"), ("error", "错误"),
]


def cmd_rebuild(args: argparse.Namespace, clock: Callable[[], float] = time.monotonic,
                sleep: Callable[[float], None] = time.sleep) -> int:
    meter = output.Meter("重建台账：排队中", unit="条事件", stream=sys.stderr, clock=clock,
                         interval_s=max(5.0, args.poll))
    try:
        _request(args, "POST", "/api/ledger-admin/rebuild").read()
        while True:
            state = json.loads(_request(args, "GET", "/api/ledger-admin/rebuild").read())
            phase = PHASES.get(state.get("phase", ""), state.get("phase", ""))
            meter.update(state.get("events_read") or 0, state.get("events_total") or None,
                         description=f"重建台账（第 {state.get('attempt') or 1} 次）：{phase}")
            if state.get("state") in ("done", "failed"):
                meter.close()
                if args.json:
                    output.print_json(state)
                else:
                    output.record(state, REBUILD_FIELDS, title="台账重建结果")
                return 0 if state["state"] == "done" else 1
            sleep(args.poll)
    except urllib.error.HTTPError as exc:
        meter.close()
        print(f"重建请求被拒绝 ({exc.code}): {_message(exc)}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as exc:  # the service restarting mid-rebuild resumes it
        meter.close()
        print(f"无法连接台账服务：{exc}（服务重启后会自动继续重建，可再次运行本命令查看进度）", file=sys.stderr)
        return 2


def cmd_check(args: argparse.Namespace) -> int:
    try:
        result = json.loads(_request(args, "POST", "/api/ledger-admin/check").read())
    except urllib.error.HTTPError as exc:
        print(f"核对请求被拒绝 ({exc.code}): {_message(exc)}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"无法连接台账服务 {args.url}：{exc}", file=sys.stderr)
        return 2
    if args.json:
        output.print_json(result)
    elif result["consistent"]:
        print("台账与事件日志重放结果一致：0 处差异")
    else:
        print(f"台账与事件日志重放结果不一致：{result['differences']} 处差异（以下至多 50 处）")
        output.table(result["first"], [("collection", "集合"), ("id", "记录"), ("field", "字段"),
                                       ("live", "当前台账"), ("rebuilt", "重放结果")])
    return 0 if result["consistent"] else 1


def register(subparsers: Any) -> None:
    ledger = subparsers.add_parser("ledger", help="台账: export, rebuild, check")
    ledger.add_argument("--url", default=os.environ.get("FANGFEI_LEDGER_URL", "http://127.0.0.1:8104"))
    ledger.add_argument("--token", default=os.environ.get("FANGFEI_TOKEN", ""))
    ledger.add_argument("--json", action="store_true", help="print the service's JSON answer (for scripts)")
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
    for p in (exp, reb, chk):  # --json after the subcommand as well
        p.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON (for scripts)")

"""`fangfei verify`: check the hash chains of a service's event store (A1).

    fangfei verify --service intake                           # the embedded store under FANGFEI_DATA_DIR
    fangfei verify --service intake --store-uri mongodb://…   # or a MongoDB database (fangfei_intake)
    fangfei verify --service intake --export-heads heads.json # also write today's chain heads
    fangfei verify --service intake --heads heads.json        # … and later check nothing was cut off

Exit status 0 when every chain verifies, 1 when something was altered, deleted, reordered or
truncated (each problem printed as "<stream> version <n>: <reason>"), 2 when it cannot run.
It only reads; run it against a stopped embedded service or a copy of its file (the embedded
store is one process per file), or against MongoDB at any time."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timezone
from typing import Any

from ..config import SERVICE_NAMES, Settings
from ..eventstore.connect import StoreUriError, open_database
from ..eventstore.store import ChainReport, verify_chains

HEADS_FORMAT = "fangfei-chain-heads/1"


def verify_store(uri: str, service: str, heads: dict[str, Any] | None = None, allow_unchained: bool = False) -> ChainReport:
    if uri.startswith("embedded:") and not os.path.exists(uri[len("embedded:"):]):
        raise FileNotFoundError(uri[len("embedded:"):])
    client, db = open_database(uri, f"fangfei_{service}")
    try:
        return verify_chains(db, heads, allow_unchained)
    finally:
        client.close()


def cmd_verify(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    if args.data_dir:
        env["FANGFEI_DATA_DIR"] = args.data_dir
    uri = args.store_uri or Settings.from_env(args.service, env).resolved_store_uri
    expected = None
    if args.heads:
        with open(args.heads, encoding="utf-8") as fh:
            exported = json.load(fh)
        if exported.get("format") != HEADS_FORMAT or exported.get("service") != args.service:
            print(f"{args.heads} is not a chain-heads export of {args.service}", file=sys.stderr)
            return 2
        expected = exported["streams"]
    try:
        report = verify_store(uri, args.service, expected, args.allow_unchained)
    except (StoreUriError, FileNotFoundError, OSError) as exc:
        print(f"cannot open the store of {args.service}: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"service": args.service, "ok": report.ok, "streams": report.streams,
                          "commits": report.commits, "unchained": report.unchained, "digest": report.digest(),
                          "problems": [str(p) for p in report.problems]}, ensure_ascii=False, indent=2))
    else:
        # the English lines are for grep and alerting scripts; the last line says it in Chinese
        for problem in report.problems:
            print(f"TAMPERED {problem}")
        state = "OK" if report.ok else f"FAILED ({len(report.problems)} problem(s))"
        print(f"{args.service}: {report.streams} streams, {report.commits} commits, chain {state}; "
              f"heads digest {report.digest()}" + (f"; {report.unchained} unchained commit(s)" if report.unchained else ""))
        verdict = "哈希链完整，未发现篡改" if report.ok else f"发现 {len(report.problems)} 处篡改、删除或截断"
        print(f"{args.service}：{report.streams} 条事件流、{report.commits} 次提交，{verdict}")
    if args.export_heads and report.ok:
        with open(args.export_heads, "w", encoding="utf-8") as fh:
            json.dump({"format": HEADS_FORMAT, "service": args.service,
                       "exported_at": datetime.now(timezone.utc).isoformat(), "digest": report.digest(),
                       "streams": report.heads}, fh, indent=1, sort_keys=True)
        print(f"heads written to {args.export_heads}: keep a copy off this machine", file=sys.stderr if args.json else sys.stdout)
    return 0 if report.ok else 1


def register(subparsers: Any) -> None:
    v = subparsers.add_parser("verify", help="check a service's event store hash chains for tampering")
    v.add_argument("--service", required=True, choices=SERVICE_NAMES)
    v.add_argument("--store-uri", help="mongodb://… or embedded:<file> (default: from FANGFEI_* settings)")
    v.add_argument("--data-dir", help="data directory of the embedded stores (default FANGFEI_DATA_DIR or var/data)")
    v.add_argument("--heads", help="a chain-heads export to check truncation against")
    v.add_argument("--export-heads", help="write the current chain heads to this file (only if they verify)")
    v.add_argument("--allow-unchained", action="store_true",
                   help="accept commits without a hash at the start of a stream (stores older than the chain)")
    v.add_argument("--json", action="store_true", help="print the verdict as JSON (for scripts)")
    v.set_defaults(func=cmd_verify)

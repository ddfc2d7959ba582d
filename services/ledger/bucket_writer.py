"""Fold and write one group of a rebuild's buckets, in a process of its own (ADR 0018).

    python -m services.ledger.bucket_writer --shadow-dir DIR --db NAME --tag TAG --limit N \
        --collection C … --bucket PATH …

Why: once the fold outgrew memory, the rebuild worker ends with a phase that only folds bucket
files and writes rows (at 1M events, 22 of its 54 s), on one core while the other idled, since the
Kafka reading was over. The worker deals the collections into two groups with buckets of their own
(`BucketedRows(groups=2)`, largest collections first, so the groups weigh about the same) and hands
one group here: this process folds those buckets and writes those collections' shadow files while
the worker does the other group. The shadow keeps one SQLite file per collection, so the two
processes never write the same file; the worker reopens the files after this one is done.

Memory: each bucket is sized for `limit` rows (the worker's limit divided by the groups), so the
two processes together hold no more rows than one did.

It prints one JSON line, `{"done": {"applied", "counts", "peak", "splits", "written"}}`, and exits
0; an error exits non-zero with the traceback on stderr. It dies with the worker (PDEATHSIG).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .buckets import BucketedRows
from .pipes import ParentWatch, die_with_parent
from .rebuild import cyclic_gc_paused, write_all


def run(args: argparse.Namespace) -> dict[str, Any]:
    from fangfei.eventstore.shadow import Shadow

    parent = ParentWatch()

    def pause() -> None:
        if parent.gone():
            raise SystemExit(3)  # the worker is gone: nobody will use these rows

    shadow = Shadow.at(args.shadow_dir, args.db, args.collection, args.tag)
    rows = BucketedRows.of_files(args.bucket, args.limit, args.work_dir, pause=pause)
    try:
        with cyclic_gc_paused():
            written = write_all(shadow, rows)
    finally:
        rows.close()
        shadow.close()
    return {"applied": rows.applied, "counts": rows.counts, "peak": rows.peak, "splits": rows.splits,
            "written": written}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="services.ledger.bucket_writer")
    parser.add_argument("--shadow-dir", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--tag", required=True)
    parser.add_argument("--limit", type=int, required=True)
    parser.add_argument("--work-dir", default=None)
    parser.add_argument("--collection", action="append", default=[])
    parser.add_argument("--bucket", action="append", default=[])
    args = parser.parse_args(argv)
    die_with_parent()
    done = run(args)
    sys.stdout.write(json.dumps({"done": done}) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

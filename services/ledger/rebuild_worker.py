"""The heavy part of a ledger rebuild, in a process of its own (docs/adr/0018-bucketed-rebuild-fold.md).

    python -m services.ledger.rebuild_worker --bootstrap HOST:PORT --shadow-dir DIR --db NAME --tag TAG …

Why a process: the service runs on one eventlet hub (ADR 0004), so a rebuild folding a million
events in a green thread shares one OS thread and one GIL with the live consumer and the HTTP API.
It yielded every 100 events, but live ledger rows still waited 3.4x longer at p99 while rebuilds
ran. Here the replay, the fold and the bulk write run on another core, and the Kafka reading in
one more process (`replay_reader.py`), so that parsing overlaps with the fold. The service process only
reads this worker's progress and, when it is done, folds the last short tail and swaps under its
write lock (`rebuild_job.run`). The live embedded store is never opened here: it belongs to the
service process alone (ADR 0002). This process writes only the new shadow files, in their own
directory.

It prints one JSON object per line on stdout:
- `{"progress": {...}}`: `phase`, `events_read`, `events_total`, `rate_per_s`, `eta_s`, `rows_written`;
- `{"held": "<point>"}`: test fault injection (`FANGFEI_TEST_REBUILD_HOLD`); it then waits to be killed;
- `{"done": {...}}`: positions reached on every partition, rows counted, row changes, peak rows in
  memory, seconds per phase, undecodable records. The shadow is prepared (durable) and closed.

It dies with the service: the kernel kills it when its parent exits (PR_SET_PDEATHSIG), and it
also checks that its parent is still there, so a SIGKILLed service leaves no orphan writing on.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any, Iterable, Iterator

from fangfei.events import Event
from fangfei.events.envelope import EventError

from .buckets import BucketedRows
from .ledgers import all_collections, ensure_indexes, plans_for
from .pipes import die_with_parent, read_frames
from .rebuild import CACHE_ROWS, SpillRows, cyclic_gc_paused, write_all
from .replay import TopicReplay

PROGRESS_EVERY_S = 0.5
HOLD_ENV = "FANGFEI_TEST_REBUILD_HOLD"


class _Reporter:
    """Writes progress lines, at most every PROGRESS_EVERY_S, and exits if the parent is gone."""

    def __init__(self, replay: Any) -> None:
        self.replay = replay
        self.started = time.monotonic()
        self.last = 0.0
        self.parent = os.getppid()
        self.phase = "replaying"
        self.rows_written = 0

    @staticmethod
    def emit(obj: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def __call__(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < PROGRESS_EVERY_S:
            return
        self.last = now
        if os.getppid() != self.parent:
            os._exit(3)  # the service is gone: nobody will ever swap this shadow in
        read = self.replay.read
        total = self.replay.total()
        rate = read / max(now - self.started, 1e-6)
        eta = round(max(total - read, 0) / rate, 1) if total is not None and rate > 0 else None
        self.emit({"progress": {"phase": self.phase, "events_read": read, "events_total": total,
                                "rate_per_s": round(rate, 1), "eta_s": eta,
                                "rows_written": self.rows_written}})


def _hold(attempt: int, point: str, report: _Reporter) -> None:
    wanted = {w if "@" in w else f"{w}@1" for w in os.environ.get(HOLD_ENV, "").split(",") if w}
    if f"{point}@{attempt}" not in wanted:
        return
    report.emit({"held": point})
    while True:
        time.sleep(0.05)
        if os.getppid() != report.parent:
            os._exit(3)


class _Reader:
    """The replay reader process (replay_reader.py) seen like a `TopicReplay`: `read`, `total()`,
    `events()` (decoded here, with the same decoder and the same skipping of undecodable records),
    then `positions` for whoever reads on."""

    def __init__(self, args: argparse.Namespace) -> None:
        cmd = [sys.executable, "-m", "services.ledger.replay_reader", "--bootstrap", args.bootstrap,
               "--idle-timeout", str(args.idle_timeout)]
        for topic in args.topic or ():
            cmd += ["--topic", topic]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        self.read = 0
        self.undecodable = 0
        self.positions: dict[str, dict[str, int]] | None = None
        self._total: int | None = None

    def total(self) -> int | None:
        return self._total

    def events(self) -> Iterator[Event]:
        from . import replay as replay_module

        decode = replay_module._decode
        assert self.proc.stdout is not None
        for frame in read_frames(self.proc.stdout):
            if frame[0] == "values":
                _, values, self.read, self._total = frame
                for value in values:
                    try:
                        yield decode(value)
                    except EventError:
                        self.undecodable += 1  # the live consumer parked it too: skip alike
            elif frame[0] == "end":
                _, self.positions, self.read, self._total = frame
        code = self.proc.wait()
        if code != 0 or self.positions is None:
            raise RuntimeError(f"the replay reader process ended with exit code {code}")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def run(args: argparse.Namespace) -> dict[str, Any]:
    marks = [("replaying", time.monotonic())]
    reader = _Reader(args)
    report = _Reporter(reader)
    shadow = SHADOW_FACTORY(args.shadow_dir, args.db, all_collections(), args.tag)
    replay: TopicReplay | None = None
    try:
        with cyclic_gc_paused():
            ensure_indexes(shadow.db)
            bulk = BucketedRows(args.cache_rows, shadow.scratch_dir(), expected_events=reader.total,
                                pause=report, groups=2 if args.parallel_drain else 1)
            add, done = bulk.add, bulk.event_done
            n = 0
            for event in reader.events():
                done()
                for up in plans_for(event):
                    add(up)
                n += 1
                if n % 500 == 0:
                    report()
            _hold(args.attempt, "replaying", report)
            # what was published meanwhile is read here, from where the reader stopped
            replay = TopicReplay(args.bootstrap, idle_timeout_s=args.idle_timeout, topics=args.topic or None,
                                 positions=reader.positions, already_read=reader.read)
            replay.undecodable = reader.undecodable
            report.replay = replay
            marks.append(("writing", time.monotonic()))
            report.phase = "writing"
            report(force=True)

            def written(n: int) -> None:
                report.rows_written = n
                report()
            helpers: list[_BucketWriter] = []
            try:
                parts = bulk.detach()  # collections folded and written by other processes, beside this one
                if parts:
                    shadow.close()  # their files are the helpers' alone until they are done
                    helpers = [_BucketWriter(args, collections, paths, bulk) for collections, paths in parts]
                    shadow = SHADOW_FACTORY(args.shadow_dir, args.db, all_collections(), args.tag)
                write_all(shadow, bulk, progress=written)
                for helper in helpers:
                    theirs = helper.wait()
                    bulk.applied += theirs["applied"]
                    for collection, n in theirs["counts"].items():
                        bulk.counts[collection] = bulk.counts.get(collection, 0) + n
                    bulk.peak = max(bulk.peak, theirs["peak"])
                    bulk.splits += theirs["splits"]
                    report.rows_written += theirs["written"]
                if helpers:
                    shadow.close()  # reopened: the helpers' files as they left them
                    shadow = SHADOW_FACTORY(args.shadow_dir, args.db, all_collections(), args.tag)
                    shadow.loaded.update(bulk.counts)  # every collection with rows, for the catch-up's reads
            finally:
                for helper in helpers:
                    helper.kill()
                bulk.close()
            _hold(args.attempt, "writing", report)
            marks.append(("catching_up", time.monotonic()))
            report.phase = "catching_up"
            report(force=True)
            rows = SpillRows(shadow, args.cache_rows, spilled=True, counts=bulk.counts)
            for event in replay.events():  # what was published meanwhile (bounded like the rest)
                for up in plans_for(event):
                    rows.add(up)
                rows.event_done()
            rows.flush()
            applied = bulk.applied + rows.applied
        shadow.prepare()
        marks.append(("handed_over", time.monotonic()))
        return {"positions": replay.positions(), "events_read": replay.read, "events_total": replay.total(),
                "rows": rows.counts, "applied": applied, "peak_cache_rows": max(bulk.peak, rows.peak),
                "undecodable": replay.undecodable,
                "phase_s": {a: round(tb - ta, 3) for (a, ta), (_, tb) in zip(marks, marks[1:])}}
    finally:
        shadow.close()
        reader.close()
        if replay is not None:
            replay.close()


class _BucketWriter:
    """The process folding and writing one group of buckets (bucket_writer.py)."""

    def __init__(self, args: argparse.Namespace, collections: list[str], buckets: list[str],
                 bulk: BucketedRows) -> None:
        cmd = [sys.executable, "-m", "services.ledger.bucket_writer", "--shadow-dir", args.shadow_dir,
               "--db", args.db, "--tag", args.tag, "--limit", str(bulk._bucket_limit)]
        if bulk._work_root is not None:
            cmd += ["--work-dir", bulk._work_root]
        for collection in collections:
            cmd += ["--collection", collection]
        for path in buckets:
            cmd += ["--bucket", path]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)

    def wait(self) -> dict[str, Any]:
        out, _ = self.proc.communicate()
        if self.proc.returncode != 0:
            raise RuntimeError(f"the bucket writer process ended with exit code {self.proc.returncode}")
        for line in out.decode().splitlines():
            if line.startswith('{"done"'):
                return json.loads(line)["done"]
        raise RuntimeError("the bucket writer process ended without its result")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def _file_shadow(directory: str, db_name: str, collections: Iterable[str], tag: str) -> Any:
    from fangfei.eventstore.shadow import Shadow

    return Shadow.at(directory, db_name, collections, tag)


SHADOW_FACTORY = _file_shadow


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="services.ledger.rebuild_worker")
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--shadow-dir", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--tag", required=True)
    parser.add_argument("--cache-rows", type=int, default=CACHE_ROWS)
    parser.add_argument("--idle-timeout", type=float, default=60.0)
    parser.add_argument("--attempt", type=int, default=1)
    parser.add_argument("--single-drain", dest="parallel_drain", action="store_false",
                        help="fold and write every bucket here (no bucket writer process)")
    parser.add_argument("--topic", action="append", help="replaces the source topics (the bench's copies)")
    args = parser.parse_args(argv)
    die_with_parent()
    _Reporter.emit({"done": run(args)})
    return 0


if __name__ == "__main__":
    sys.exit(main())

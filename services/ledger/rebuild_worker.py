"""The heavy part of a ledger rebuild, in a process of its own (docs/adr/0018-bucketed-rebuild-fold.md).

    python -m services.ledger.rebuild_worker --bootstrap HOST:PORT --shadow-dir DIR --db NAME --tag TAG …

Why a process: the service runs on one eventlet hub (ADR 0004), so a rebuild folding a million
events in a green thread shares one OS thread and one GIL with the live consumer and the HTTP API.
It yielded every 100 events, but live ledger rows still waited 3.4x longer at p99 while rebuilds
ran. Here the fold and the bulk write run on other cores, in processes of their own:
- `replay_reader.py` (`READERS` of them): each reads its share of the topics' partitions, decodes
  and plans, and sends the row changes here, where they are folded; once the fold outgrew its
  memory and went to buckets, the readers are told the buckets' routing and send their changes
  routed and encoded, and this process only appends them to the bucket files;
- `bucket_writer.py`: once the fold went to buckets, it folds and writes half of the collections
  (by size) while this process does the other half.
The service process only
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
import queue
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping

# Only what starting the readers needs is imported here: the readers are started first, and the
# fold's modules (ledgers, shadow, Kafka: ~0.7 s of imports) load while the readers load theirs,
# instead of one after the other (a fixed cost that was a tenth of a 100k-event rebuild).
from .pipes import die_with_parent, read_frames

if TYPE_CHECKING:
    from .buckets import BucketedRows

PROGRESS_EVERY_S = 0.5
READERS = 2  # replay reader processes: they decode and plan, the bigger half of a replay's work
READERS_ENV = "FANGFEI_LEDGER_REBUILD_READERS"
# The worker and its children (which inherit it) run at a lower CPU priority than the services: a
# rebuild now keeps both cores busy, and live events must not queue behind it (ADR 0019).
# 19, the lowest: since ADR 0020 the readers no longer wait on the worker and keep both cores busy;
# at nice 10 live ledger rows then waited 1.69x and 2.15x longer at p99 during back-to-back rebuilds
# (two bench runs; 1.32x-1.51x before), at nice 19 1.62x (one run).
NICENESS = 19


def readers_setting(environ: Mapping[str, str] = os.environ) -> int:
    """How many replay readers a worker starts (`FANGFEI_LEDGER_REBUILD_READERS`, default 2)."""
    raw = environ.get(READERS_ENV, "").strip()
    if not raw:
        return READERS
    if not raw.isdigit() or not 1 <= int(raw) <= 16:
        raise ValueError(f"{READERS_ENV}={raw!r}: give a whole number of reader processes from 1 to 16")
    return int(raw)
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


class _Readers:
    """The replay reader processes (replay_reader.py), each reading, decoding and planning its share
    of the partitions, seen together like a `TopicReplay`: `read`, `total()`, `changes()`, then
    `positions` and `undecodable` for whoever reads on.

    A thread per reader moves its frames into one queue (so that no reader waits on another), and
    the fold takes them in arrival order: each stream is in one reader's frames, in order, and the
    fold commutes across streams (upserts.py)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.parts = max(1, args.readers)
        self.procs: list[subprocess.Popen[bytes]] = []
        for part in range(self.parts):
            cmd = [sys.executable, "-m", "services.ledger.replay_reader", "--bootstrap", args.bootstrap,
                   "--idle-timeout", str(args.idle_timeout), "--part", str(part), "--parts", str(self.parts)]
            for topic in args.topic or ():
                cmd += ["--topic", topic]
            self.procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.PIPE))
        self._read = [0] * self.parts
        self._totals: list[int | None] = [None] * self.parts
        self.undecodable = 0
        self.positions: dict[str, dict[str, int]] | None = None
        self._ended = 0
        self._queue: queue.Queue[tuple[int, Any]] = queue.Queue(maxsize=4 * self.parts)
        for part, proc in enumerate(self.procs):
            threading.Thread(target=self._pump, args=(part, proc), daemon=True,
                             name=f"replay-reader-{part}").start()

    def _pump(self, part: int, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        try:
            for frame in read_frames(proc.stdout):
                self._queue.put((part, frame))
        except Exception as exc:  # noqa: BLE001 - a frame that does not read back: fail the worker, never hang it
            self._queue.put((part, exc))
        finally:
            self._queue.put((part, None))  # this reader's pipe closed (or can no longer be read)

    @property
    def read(self) -> int:
        return sum(self._read)

    def total(self) -> int | None:
        return None if None in self._totals else sum(self._totals)  # type: ignore[arg-type]

    def route(self, routing: dict[str, int]) -> None:
        """Tell every reader still reading the buckets' routing: from its next frame on it sends its
        changes routed and encoded (`buckets.EncodedBatches`)."""
        line = (json.dumps({"routing": routing}) + "\n").encode()
        for proc in self.procs:
            try:
                proc.stdin.write(line)  # type: ignore[union-attr]
                proc.stdin.flush()  # type: ignore[union-attr]
            except (BrokenPipeError, ValueError):  # that reader is done: its frames are all plain
                pass

    def changes(self) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[str, int, int, bytes]], int]]:
        """(row changes, routed and encoded batches of them, events they came from), frame by
        frame, until every reader reached its end."""
        ended: set[int] = set()
        positions: dict[str, dict[str, int]] = {}
        while len(ended) < self.parts:
            part, frame = self._queue.get()
            if isinstance(frame, Exception):
                raise RuntimeError(f"replay reader {part + 1} of {self.parts} sent a frame that could not be "
                                   f"read: {frame!r}") from frame
            if frame is None:
                code = self.procs[part].wait()
                if code != 0 or part not in ended:
                    raise RuntimeError(f"replay reader {part + 1} of {self.parts} ended "
                                       f"with exit code {code}")
                continue
            if frame[0] == "upserts":
                _, changes, batches, events, self._read[part], self._totals[part] = frame
                yield changes, batches, events
            elif frame[0] == "end":
                _, theirs, self._read[part], self._totals[part], undecodable = frame
                self.undecodable += undecodable
                for topic, offsets in theirs.items():
                    positions.setdefault(topic, {}).update(offsets)
                ended.add(part)
        # the pipes' closing is awaited too: a reader that ended cleanly exits 0
        for part, proc in enumerate(self.procs):
            code = proc.wait()
            if code != 0:
                raise RuntimeError(f"replay reader {part + 1} of {self.parts} ended with exit code {code}")
        self.positions = positions

    def close(self) -> None:
        for proc in self.procs:
            try:
                proc.stdin.close()  # type: ignore[union-attr]
            except (BrokenPipeError, OSError):
                pass
            if proc.poll() is None:
                proc.kill()
            proc.wait()


def run(args: argparse.Namespace) -> dict[str, Any]:
    marks = [("replaying", time.monotonic())]
    reader = _Readers(args)
    try:
        from .buckets import BucketedRows
        from .ledgers import all_collections, ensure_indexes, plans_for
        from .rebuild import CACHE_ROWS, SpillRows, cyclic_gc_paused, write_all
        from .replay import TopicReplay
    except BaseException:
        reader.close()
        raise
    if args.cache_rows is None:
        args.cache_rows = CACHE_ROWS
    report = _Reporter(reader)
    shadow = SHADOW_FACTORY(args.shadow_dir, args.db, all_collections(), args.tag)
    replay: TopicReplay | None = None
    try:
        with cyclic_gc_paused():
            ensure_indexes(shadow.db)
            bulk = BucketedRows(args.cache_rows, shadow.scratch_dir(), expected_events=reader.total,
                                pause=report, groups=2 if args.parallel_drain else 1)
            add, add_encoded = bulk.add_parts, bulk.add_encoded
            routed = 0  # row changes the readers routed and encoded themselves
            routing_sent = False
            for changes, batches, events in reader.changes():
                for change in changes:
                    add(*change)
                for batch in batches:
                    add_encoded(*batch)
                    routed += batch[2]
                bulk.events_seen += events
                if not routing_sent:
                    routing = bulk.routing()
                    if routing is not None:
                        reader.route(routing)
                        routing_sent = True
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
            bucket_writers = 0
            try:
                parts = bulk.detach()  # collections folded and written by other processes, beside this one
                if parts:
                    shadow.close()  # their files are the helpers' alone until they are done
                    helpers = [_BucketWriter(args, collections, paths, bulk) for collections, paths in parts]
                    bucket_writers = len(helpers)
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
                "undecodable": replay.undecodable, "readers": reader.parts, "bucket_writers": bucket_writers,
                "routed_by_readers": routed, "bucket_splits": bulk.splits,
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
    parser.add_argument("--cache-rows", type=int, default=None, help="default: rebuild.CACHE_ROWS")
    parser.add_argument("--idle-timeout", type=float, default=60.0)
    parser.add_argument("--attempt", type=int, default=1)
    parser.add_argument("--readers", type=int, default=None,
                        help=f"replay reader processes sharing the log (default ${READERS_ENV} or {READERS})")
    parser.add_argument("--single-drain", dest="parallel_drain", action="store_false",
                        help="fold and write every bucket here (no bucket writer process)")
    parser.add_argument("--topic", action="append", help="replaces the source topics (the bench's copies)")
    args = parser.parse_args(argv)
    if args.readers is None:
        try:
            args.readers = readers_setting()
        except ValueError as exc:
            parser.error(str(exc))
    die_with_parent()
    try:
        os.nice(NICENESS)
    except OSError:  # not allowed here: run at the service's priority
        pass
    _Reporter.emit({"done": run(args)})
    # Everything is written, closed and reported: skip the interpreter's teardown (freeing every
    # object one by one took ~0.1 s, on the way to the service's swap).
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())

"""A replay's Kafka reading, in a process of its own (docs/adr/0018-bucketed-rebuild-fold.md).

    python -m services.ledger.replay_reader --bootstrap HOST:PORT [--topic T …] [--idle-timeout S]
        [--part K --parts N]

Why: kafka-python parses every record in Python (the reference consume alone costs ~8 us per
event here), and a rebuild worker that also decodes, plans and folds each event spent a third of
its time on that. On a second core the reading overlaps with the rest. This process reads the
ledger's source topics from offset 0 to their end (`TopicReplay.values`) and writes pickled
frames to stdout (`pipes.py`).

It also decodes each record and plans its row changes (`ledgers.plans_for`), and with `--part K
--parts N` it reads only its share of the partitions (whole partitions, so every stream stays in
one reader and in order): N readers share the decoding and planning that dominated the worker's
replay (decode ~8, plan ~9 us per event), and the worker only folds or buckets the changes.

Once the worker's fold outgrew its memory and went to buckets, it writes their routing on this
process's stdin (one JSON line, `{"routing": {collection: buckets}}`), and from then on this
process routes and encodes its row changes itself, in batches exactly as a bucket file holds them
(`buckets.EncodedBatches`): the worker only appends them to its files (ADR 0019).

Frames:
- `("upserts", [(collection, doc_id, stream_id, version, set, set_on_insert, max, inc), …],
  [(collection, bucket, records, encoded), …], events, read, total)`: the row changes of `events`
  records in read order (per partition in offset order), first those sent one by one, then those
  routed to buckets; with how many records this reader read so far and its share's length when
  known;
- `("end", positions, read, total, undecodable)`: the end was reached at these positions; the
  reader then exits. Undecodable records are skipped and counted, as the live consumer parks them.
An error ends the process with a non-zero exit code and its traceback on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import sys
from typing import Any

from .pipes import ParentWatch, die_with_parent, write_frame
from .gc_pause import cyclic_gc_paused
from .replay import TopicReplay

BATCH = 2000  # records per frame
FRAME_ENV = "FANGFEI_TEST_REPLAY_FRAME"  # tests: fewer records per frame, so that a switch comes mid-replay


class _Control:
    """The worker's messages on stdin, polled between frames without waiting."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.open = stream is not None

    def routing(self) -> dict[str, int] | None:
        """The buckets' routing, once the worker has sent it (None until then)."""
        if not self.open:
            return None
        try:
            ready, _, _ = select.select([self.stream], [], [], 0)
        except (OSError, ValueError):
            self.open = False
            return None
        if not ready:
            return None
        line = self.stream.readline()  # one short line, written at once (less than PIPE_BUF)
        if not line:
            self.open = False  # the worker closed it: nothing more will come
            return None
        return {str(c): int(n) for c, n in json.loads(line)["routing"].items()}


def _plan_frames(replay: TopicReplay, out: Any, parent: ParentWatch, control: _Control,
                 batch: int = BATCH) -> int:
    """Decode and plan every record; frames of row changes. Returns the undecodable count."""
    from fangfei.events.envelope import EventError

    from . import replay as replay_module
    from .buckets import EncodedBatches
    from .ledgers import plans_for

    decode = replay_module._decode
    undecodable = 0
    changes: list[tuple[Any, ...]] = []
    append = changes.append
    routed: EncodedBatches | None = None
    events = 0
    for value in replay.values():
        events += 1
        try:
            event = decode(value)
        except EventError:
            undecodable += 1
        else:
            if routed is None:
                for up in plans_for(event):
                    append((up.collection, up.doc_id, up.stream_id, up.version, up.set, up.set_on_insert, up.max,
                            up.inc))
            else:
                for up in plans_for(event):
                    routed.add(up.collection, up.doc_id, up.stream_id, up.version, up.set, up.set_on_insert,
                               up.max, up.inc)
        if events >= batch:
            write_frame(out, ("upserts", changes, routed.take() if routed else [], events, replay.read,
                              replay.total()))
            changes = []
            append = changes.append
            events = 0
            if parent.gone():
                raise SystemExit(3)
            if routed is None:
                routing = control.routing()
                if routing is not None:
                    routed = EncodedBatches(routing)
    write_frame(out, ("upserts", changes, routed.take(final=True) if routed else [], events, replay.read,
                      replay.total()))
    return undecodable


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="services.ledger.replay_reader")
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--idle-timeout", type=float, default=60.0)
    parser.add_argument("--topic", action="append", help="replaces the source topics (the bench's copies)")
    parser.add_argument("--part", type=int, default=0)
    parser.add_argument("--parts", type=int, default=1)
    args = parser.parse_args(argv)
    die_with_parent()
    parent = ParentWatch()
    out = sys.stdout.buffer
    replay = TopicReplay(args.bootstrap, idle_timeout_s=args.idle_timeout, topics=args.topic or None,
                         part=(args.part, args.parts))
    try:
        batch = int(os.environ.get(FRAME_ENV) or BATCH)
        with cyclic_gc_paused():  # nothing here is kept: reference counting frees it all
            undecodable = _plan_frames(replay, out, parent, _Control(sys.stdin.buffer), batch)
        write_frame(out, ("end", replay.positions(), replay.read, replay.total(), undecodable))
        out.flush()
    except BaseException:
        replay.close()
        raise
    # Done and reported: the worker waits for this exit, so skip closing the consumer and the
    # interpreter's teardown (the sockets close with the process).
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())

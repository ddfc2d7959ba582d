"""A replay's Kafka reading, in a process of its own (docs/adr/0018-bucketed-rebuild-fold.md).

    python -m services.ledger.replay_reader --bootstrap HOST:PORT [--topic T …] [--idle-timeout S]

Why: kafka-python parses every record in Python (the reference consume alone costs ~15 us per
event here), and a rebuild worker that also decodes, plans and folds each event spent a third of
its time on that. On a second core the reading overlaps with the rest. This process reads the
ledger's source topics from offset 0 to their end (`TopicReplay.values`, no decoding) and writes
pickled frames to stdout (`pipes.py`):

- `("values", [bytes, …], read, total)`: records in read order (per partition in offset order),
  with how many records were read so far and the log's length when known;
- `("end", positions, read, total)`: the end was reached at these positions; the reader then exits.
An error ends the process with a non-zero exit code and its traceback on stderr.
"""

from __future__ import annotations

import argparse
import sys

from .pipes import ParentWatch, die_with_parent, write_frame
from .replay import TopicReplay

BATCH = 2000  # records per frame


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="services.ledger.replay_reader")
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--idle-timeout", type=float, default=60.0)
    parser.add_argument("--topic", action="append", help="replaces the source topics (the bench's copies)")
    args = parser.parse_args(argv)
    die_with_parent()
    parent = ParentWatch()
    out = sys.stdout.buffer
    replay = TopicReplay(args.bootstrap, idle_timeout_s=args.idle_timeout, topics=args.topic or None)
    try:
        batch: list[bytes] = []
        for value in replay.values():
            batch.append(value)
            if len(batch) >= BATCH:
                write_frame(out, ("values", batch, replay.read, replay.total()))
                batch = []
                if parent.gone():
                    return 3
        write_frame(out, ("values", batch, replay.read, replay.total()))
        write_frame(out, ("end", replay.positions(), replay.read, replay.total()))
        out.flush()
    finally:
        replay.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

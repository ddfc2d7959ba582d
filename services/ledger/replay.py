"""Read the ledger's source topics from offset 0, as events, with progress.

Unlike the live consumer this joins no group and commits nothing: a rebuild or a check is a
private read of the whole log. Each stream lives on one partition of one topic, in version order,
so reading topic by topic keeps every stream in order (all a fold needs). The end is where each
partition's position reaches its high-water mark (kafka-python learns it from fetch responses;
`end_offsets()` is not trusted: Tansu reports it wrong); `events()` may be called again to read
on from there to the new end (a rebuild's final catch-up).

There is no deadline on the whole read (a log of any length can be replayed): only an **idle
timeout**, the time the reader may go without receiving a record while it is not at the end
(a broker gone away)."""

from __future__ import annotations

import time
from typing import Any, Callable, Iterator

from kafka import KafkaConsumer, TopicPartition

from fangfei.bus.kafka import partitions_of
from fangfei.bus.topics import events_topic
from fangfei.events import Event
from fangfei.events.envelope import EventError
from fangfei.events.registry import decode_event

from .record_values import read_values

try:  # the msgspec decoder, checked against the marshmallow catalogue (decoder's work)
    from fangfei.events.fast import decode_event_bytes as _decode
except ImportError:  # not there yet: the validating marshmallow decoder every consumer uses
    _decode = decode_event

SOURCES = ("intake", "escalation", "roster")  # the producers whose events feed a read model
# A replay reads history in bulk, not one live event at a time: big fetches (the bench's readers,
# reference and measured alike, use the same settings).
# A short fetch wait: at the end of the log (the catch-up, partly under the write lock) each round
# trip to the broker then takes ~20 ms instead of 100; while history streams in it changes nothing.
BULK_READ = {"enable_auto_commit": False, "allow_auto_create_topics": False, "fetch_max_wait_ms": 20,
             "max_partition_fetch_bytes": 4 * 1024 * 1024, "fetch_max_bytes": 64 * 1024 * 1024,
             "receive_buffer_bytes": 4 * 1024 * 1024}
POLL_RECORDS = 5000


class TopicReplay:
    def __init__(self, bootstrap: str, sources: tuple[str, ...] = SOURCES, idle_timeout_s: float = 60.0,
                 topics: list[str] | None = None, positions: dict[str, dict[str, int]] | None = None,
                 already_read: int = 0, part: tuple[int, int] | None = None) -> None:
        """`topics` replaces the sources' topics (the bench reads its own copies of them).
        `positions` ({topic: {partition: offset}}, as `positions()` gives them) goes on from where
        another reader stopped (a rebuild worker process) instead of offset 0; `already_read` is
        what that reader had read, so progress goes on counting. `part` = (k, n): only every n-th
        partition, from the k-th, of the sources' partitions in topic order (one of n readers
        sharing the log, each a whole partition, so each stream stays in one reader, in order)."""
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, client_id="fangfei-ledger-replay",
                                      **BULK_READ)
        read_values(self.consumer)  # polls give (offset, value) pairs, parsed at half the cost
        self.tps: list[TopicPartition] = []
        for topic in topics if topics is not None else [events_topic(source) for source in sources]:
            self.tps += [TopicPartition(topic, p) for p in sorted(partitions_of(self.consumer, topic))]
        if part is not None:
            k, n = part
            if not 0 <= k < n:
                raise ValueError(f"part {k} of {n} does not exist")
            self.tps = self.tps[k::n]
        self.idle_timeout_s = idle_timeout_s
        self.last_fetch_sent = 0.0  # monotonic send time of the newest fetch whose response arrived
        self._watch_fetches()
        self.read = already_read
        self.undecodable = 0
        if self.tps:
            self.consumer.assign(self.tps)
            if positions is None:
                self.consumer.seek_to_beginning(*self.tps)
            else:
                for tp in self.tps:
                    self.consumer.seek(tp, int(positions.get(tp.topic, {}).get(str(tp.partition), 0)))

    def positions(self) -> dict[str, dict[str, int]]:
        """Where this reader stands on each partition (JSON-friendly: partitions as strings)."""
        out: dict[str, dict[str, int]] = {}
        for tp in self.tps:
            out.setdefault(tp.topic, {})[str(tp.partition)] = int(self.consumer.position(tp, timeout_ms=5000))
        return out

    def _watch_fetches(self) -> None:
        """Learn when each fetch response's request was sent (kafka-python records its latency on
        a sensor; send time = now - latency). `events(fresh_after=t)` then knows for certain that
        the high-water marks it ends on were reported by a request sent after `t`. Without the
        sensor (metrics disabled, another client version) it falls back to polling a few times."""
        sensors = getattr(getattr(self.consumer, "_fetcher", None), "_sensors", None)
        sensor = getattr(sensors, "fetch_latency", None)
        if sensor is None:
            self.last_fetch_sent = None  # type: ignore[assignment]
            return
        replay = self

        class Watched:
            def record(self, value: float = 1.0, time_ms: Any = None) -> None:
                replay.last_fetch_sent = max(replay.last_fetch_sent, time.monotonic() - value / 1000.0)
                sensor.record(value, time_ms)

            def __getattr__(self, name: str) -> Any:
                return getattr(sensor, name)

        try:
            sensors.fetch_latency = Watched()
        except (AttributeError, TypeError):
            self.last_fetch_sent = None  # type: ignore[assignment]

    def total(self) -> int | None:
        """Sum of the high-water marks seen so far (None until every partition reported one)."""
        marks = [self.consumer.highwater(tp) for tp in self.tps]
        return None if any(m is None for m in marks) else sum(marks)  # type: ignore[arg-type]

    def _at_end(self) -> bool:
        marks = [self.consumer.highwater(tp) for tp in self.tps]
        return all(m is not None for m in marks) and all(
            self.consumer.position(tp, timeout_ms=5000) >= m for tp, m in zip(self.tps, marks)  # type: ignore[operator]
        )

    def events(self, min_polls: int = 1, fresh_after: float | None = None) -> Iterator[Event]:
        """Events from the current positions to the end. With `fresh_after` (a time.monotonic()
        instant), the end is only trusted once a fetch sent after that instant has answered: what
        was on the topics at that instant is then all read (a rebuild's last tail, under the lock)."""
        decode = _decode
        for value in self.values(min_polls, fresh_after):
            try:
                yield decode(value)
            except EventError:
                self.undecodable += 1  # the live consumer parked it too: skip alike

    def values(self, min_polls: int = 1, fresh_after: float | None = None) -> Iterator[bytes]:
        """`events`, undecoded: the records' values (a reader process hands them to a decoder
        in another process, rebuild_worker.py)."""
        if not self.tps:
            return
        if fresh_after is not None and self.last_fetch_sent is None:
            min_polls = max(min_polls, 3)  # no sensor: a few fetch round trips instead
            fresh_after = None
        idle_since = time.monotonic()
        polls = 0
        while True:
            batches = self.consumer.poll(timeout_ms=20 if fresh_after is not None else 50,
                                         max_records=POLL_RECORDS)
            polls += 1
            if batches:
                idle_since = time.monotonic()
            for tp in sorted(batches, key=self.tps.index):
                for _, value in batches[tp]:
                    self.read += 1
                    if value is not None:
                        yield value
            fresh = fresh_after is None or self.last_fetch_sent > fresh_after
            if polls >= min_polls and fresh and not batches and self._at_end():
                return
            if time.monotonic() - idle_since > self.idle_timeout_s:
                raise TimeoutError(f"no record from the source topics for {self.idle_timeout_s:.0f}s "
                                   f"before their end (read {self.read})")

    def close(self) -> None:
        try:
            self.consumer.close()
        except Exception:  # nothing to keep from a reader that is done
            pass


def replay_all(bootstrap: str, progress: Callable[[int, int | None], None] | None = None) -> list[Event]:
    """Every event of the source topics (for checks and tests)."""
    replay = TopicReplay(bootstrap)
    try:
        out = []
        for event in replay.events():
            out.append(event)
            if progress and len(out) % 5000 == 0:
                progress(replay.read, replay.total())
        return out
    finally:
        replay.close()


__all__ = ["TopicReplay", "replay_all", "SOURCES"]

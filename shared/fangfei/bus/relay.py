"""Outbox relay: publish every committed event to Kafka, in order per stream, at least once.

The store is the outbox. The relay reads commits by position after its checkpoint, sends each
event keyed by its stream id to `<service>.events`, waits for the broker to acknowledge all of
them, and only then moves the checkpoint. A crash anywhere repeats a batch (duplicates, which
consumers drop) but never skips one (R3). The checkpoint remembers the broker's cluster id; a new
id means the broker lost its topics, so the relay starts again from position 0 (R8).

Positions can have holes (a burned counter value). A hole is skipped only once it has stayed open
for `gap_grace_s`, so a commit still in flight from another writer is not passed over.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

from .. import metrics
from ..eventstore.checkpoints import Checkpoints
from ..eventstore.store import EventStore
from ..events.registry import encode_event

log = logging.getLogger(__name__)

CHECKPOINT_KEY = "relay"


class Relay:
    def __init__(
        self,
        service: str,
        store: EventStore,
        checkpoints: Checkpoints,
        topic: str,
        producer_factory: Callable[[], Any],
        cluster_id: Callable[[], str],
        ensure_topic: Callable[[str], None],
        batch: int = 500,
        gap_grace_s: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.service = service
        self._store = store
        self._checkpoints = checkpoints
        self._topic = topic
        self._producer_factory = producer_factory
        self._cluster_id = cluster_id
        self._ensure_topic = ensure_topic
        self._batch = batch
        self._gap_grace_s = gap_grace_s
        self._monotonic = monotonic
        self._producer: Any = None
        self._hole_seen: dict[int, float] = {}
        self.connected = False
        self.last_error = ""

    # -- state --------------------------------------------------------------------------------
    def position(self) -> tuple[int, str]:
        doc = self._checkpoints.get(CHECKPOINT_KEY) or {}
        return int(doc.get("position", 0)), str(doc.get("cluster_id", ""))

    def backlog(self) -> int:
        return max(0, self._store.head_position() - self.position()[0])

    # -- work ---------------------------------------------------------------------------------
    def run_once(self) -> int:
        """Publish what is pending, one batch at most; return how many events were published."""
        position, known_cluster = self.position()
        cluster = self._cluster_id()
        self.connected = True
        if cluster != known_cluster:
            # A broker we have not published to (first start, or the embedded broker came back
            # empty): make the topic and publish the whole store again.
            self._ensure_topic(self._topic)
            if known_cluster:
                log.warning("broker changed (%s -> %s): republishing from the start", known_cluster, cluster)
                metrics.BROKER_CHANGES.labels(self.service, "relay").inc()
            self._reset_producer()
            position = 0
            self._checkpoints.put(CHECKPOINT_KEY, position=0, cluster_id=cluster)
        head = self._store.head_position()
        metrics.STORE_HEAD.labels(self.service).set(head)
        if head <= position:
            self._report(position, head)
            return 0
        wanted = range(position + 1, min(position + self._batch, head) + 1)
        commits = {c.position: c for c in self._store.read_positions(wanted)}
        ready = []
        new_position = position
        for pos in wanted:
            commit = commits.get(pos)
            if commit is None:
                if not self._hole_expired(pos):
                    break  # wait: the commit may still be in flight
                log.warning("skipping burned commit position %d", pos)
                metrics.RELAY_GAPS.labels(self.service).inc()
            else:
                ready.append(commit)
            new_position = pos
        published = self._publish(ready)
        if new_position != position:
            self._checkpoints.put(CHECKPOINT_KEY, position=new_position, cluster_id=cluster)
            for pos in [p for p in self._hole_seen if p <= new_position]:
                del self._hole_seen[pos]
        self._report(new_position, head)
        return published

    def _hole_expired(self, pos: int) -> bool:
        first = self._hole_seen.setdefault(pos, self._monotonic())
        return self._monotonic() - first >= self._gap_grace_s

    def _publish(self, commits: list[Any]) -> int:
        if not commits:
            return 0
        producer = self._get_producer()
        futures = []
        for commit in commits:
            for event in commit.events:
                futures.append(
                    producer.send(
                        self._topic,
                        key=event.stream_id.encode(),
                        value=encode_event(event),
                        headers=[("type", event.type.encode()), ("event_id", event.event_id.encode())],
                    )
                )
        producer.flush(timeout=15)
        for fut in futures:
            fut.get(timeout=0)  # raises if the broker refused any of them: the batch is repeated
        metrics.EVENTS_PUBLISHED.labels(self.service, self._topic).inc(len(futures))
        self.connected = True
        return len(futures)

    def _report(self, position: int, head: int) -> None:
        metrics.RELAY_POSITION.labels(self.service).set(position)
        metrics.RELAY_BACKLOG.labels(self.service).set(max(0, head - position))

    def _get_producer(self) -> Any:
        if self._producer is None:
            self._producer = self._producer_factory()
        return self._producer

    def _reset_producer(self) -> None:
        if self._producer is not None:
            try:
                self._producer.close(timeout=2)
            except Exception:  # a broken producer is replaced either way
                pass
            self._producer = None

    def failed(self, exc: BaseException) -> None:
        """Record a failed round; the producer is rebuilt, the checkpoint stays where it was."""
        metrics.RELAY_ERRORS.labels(self.service).inc()
        self.connected = False
        self.last_error = type(exc).__name__
        self._reset_producer()

    def close(self) -> None:
        self._reset_producer()

"""The Kafka entrypoint for nameko: `@event_handler("clue.reported")`.

One consumer per service process (group `fangfei.<service>`) runs in a managed green thread and
feeds each message, one at a time per process, to the handlers registered for its event type.
What it guarantees (docs/adr/0005-consumer-entrypoint.md):

- **Commit after success.** Offsets are committed once per poll batch, after every message of the
  batch was applied or parked; a crash repeats the batch.
- **Dedupe.** The last applied version of every stream is kept in the service's own store; an
  event at or below it is dropped (redeliveries, relay repeats, broker-restart replays). Handlers
  also guard their own writes, so a crash between the handler and this bookkeeping applies nothing
  twice.
- **Order and gaps.** Events of a stream share a partition and are handled in order; an event
  whose version skips ahead is refused (counted), so a stream never silently loses a step.
- **Poison messages.** A failing handler is retried with exponential backoff, then the message
  is parked on `<service>.dlq` (headers say where it came from and why; the value is the original
  event) and counted; the partition moves on.
- **New broker.** When the broker's cluster id changes (the embedded broker restarted empty) the
  consumer is rebuilt and rejoins from the earliest offset; dedupe absorbs the replay.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

import eventlet
from eventlet.event import Event as GreenEvent
from kafka import KafkaConsumer
from nameko.extensions import Entrypoint, ProviderCollector, SharedExtension

from .. import metrics
from ..clock import parse_iso
from ..eventstore.checkpoints import StreamVersions
from ..eventstore.provider import StoreHandle
from ..events.envelope import Event, EventError
from ..events.fast import select_decoder
from .kafka import BrokerAdmin, make_producer
from .topics import dlq_topic, events_topic

log = logging.getLogger(__name__)


class HandlerFailed(Exception):
    pass


class StreamGap(Exception):
    """An event arrived whose version is more than one past the last one applied."""


class KafkaEventConsumer(ProviderCollector, SharedExtension):
    handle = StoreHandle()

    def setup(self) -> None:
        self.settings = self.handle.open().settings
        self.service = self.settings.service
        self.versions = StreamVersions(self.handle.db, self.settings.group_id)
        # msgspec Structs generated from the schemas, same verdicts as decode_event (ADR 0017);
        # FANGFEI_EVENT_DECODER=marshmallow switches back to the reference decoder
        self._decode = select_decoder()
        self._running = False
        self._consumer: KafkaConsumer | None = None
        self._dlq_producer: Any = None
        self._cluster = ""
        self.assigned: list[str] = []
        self.last_poll = 0.0
        self.last_error = ""
        self.lag: int | None = None  # messages behind the high-water marks; None until measured
        self._created_at = 0.0  # time.monotonic() when the current consumer was made

    @property
    def topics(self) -> list[str]:
        return sorted({events_topic(p.source) for p in self._providers})

    def start(self) -> None:
        if not self._providers:
            return
        self._running = True
        self._admin = BrokerAdmin(self.settings.kafka_bootstrap, f"fangfei-{self.service}-consumer")
        self._thread = self.container.spawn_managed_thread(self._run, identifier="fangfei.consumer")

    def stop(self) -> None:
        self._running = False
        self._close()
        super().stop()

    def kill(self) -> None:
        self._running = False
        self._close()

    # -- the loop -----------------------------------------------------------------------------
    def _run(self) -> None:
        backoff = 0.5
        while self._running:
            try:
                self._ensure_consumer()
                assert self._consumer is not None
                batch = self._consumer.poll(timeout_ms=200, max_records=500)
                self.last_poll = time.time()
                self.assigned = sorted(f"{tp.topic}/{tp.partition}" for tp in self._consumer.assignment())
                if not self.assigned and time.monotonic() - self._created_at > self._join_timeout_s():
                    # a join that never completes (seen on Tansu after a broker restart and a
                    # killed member): start over with a new member instead of waiting forever
                    log.warning("no partitions %.0fs after joining group %s: joining again with a new consumer",
                                time.monotonic() - self._created_at, self.settings.group_id)
                    metrics.GROUP_REJOINS.labels(self.service).inc()
                    self._drop_consumer()
                    continue
                for tp, messages in batch.items():
                    for msg in messages:
                        if not self._running:
                            return  # uncommitted: the next owner repeats it, dedupe drops it
                        self._process(msg)
                if batch:
                    self._consumer.commit(timeout_ms=15000)
                self._report_lag()
                backoff = 0.5
            except Exception as exc:  # broker gone, rebalance failure…: rebuild and go on
                if not self._running:
                    return
                log.warning("consumer round failed: %s: %s", type(exc).__name__, exc)
                self.last_error = type(exc).__name__
                self._close()
                eventlet.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    def _ensure_consumer(self) -> None:
        cluster = self._admin.cached_cluster_id()
        if self._consumer is not None and cluster == self._cluster:
            return
        if self._consumer is not None:
            log.warning("broker changed (%s -> %s): rejoining from the earliest offset", self._cluster, cluster)
            metrics.BROKER_CHANGES.labels(self.service, "consumer").inc()
            self._close()
        self._admin.ensure_topics(self.topics + [dlq_topic(self.service)])
        self._consumer = KafkaConsumer(
            *self.topics,
            bootstrap_servers=self.settings.kafka_bootstrap,
            group_id=self.settings.group_id,
            client_id=f"fangfei-{self.service}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            allow_auto_create_topics=False,
            session_timeout_ms=self.settings.consumer_session_timeout_ms,
            heartbeat_interval_ms=max(1000, self.settings.consumer_session_timeout_ms // 5),
            fetch_max_wait_ms=self.settings.consumer_fetch_max_wait_ms,
            max_poll_interval_ms=300000,
        )
        self._cluster = cluster
        self._created_at = time.monotonic()

    def _join_timeout_s(self) -> float:
        """How long a new consumer may go without partitions: three session timeouts (a rebalance
        after a crashed member waits out one), at least 30 s."""
        return max(30.0, 3 * self.settings.consumer_session_timeout_ms / 1000)

    def _drop_consumer(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            try:
                consumer.close(autocommit=False)
            except Exception:  # a broken consumer is replaced either way
                pass

    def _close(self) -> None:
        self._drop_consumer()
        producer, self._dlq_producer = self._dlq_producer, None
        if producer is not None:
            try:
                producer.close(timeout=2)
            except Exception:
                pass
        admin = getattr(self, "_admin", None)
        if admin is not None:
            admin.close()

    def _report_lag(self) -> None:
        consumer = self._consumer
        if consumer is None:
            return
        total: int | None = 0
        for tp in consumer.assignment():
            high = consumer.highwater(tp)
            try:
                pos = consumer.position(tp, timeout_ms=1000)
            except Exception:
                pos = None
            if high is None or pos is None:
                total = None  # not fetched yet: unknown, not zero
                continue
            metrics.CONSUMER_LAG.labels(self.service, tp.topic, str(tp.partition)).set(max(0, high - pos))
            if total is not None:
                total += max(0, high - pos)
        self.lag = total if consumer.assignment() else None

    # -- one message --------------------------------------------------------------------------
    def _process(self, msg: Any) -> None:
        try:
            event = self._decode(msg.value, self.settings.max_event_bytes)
        except EventError as exc:
            self._park(msg, None, f"undecodable: {exc}")
            return
        applied = self.versions.get(event.stream_id)
        if event.stream_version <= applied:
            metrics.CONSUMED.labels(self.service, msg.topic, "duplicate").inc()
            return
        handlers = [p for p in self._providers if p.event_type == event.type and events_topic(p.source) == msg.topic]
        if event.stream_version > applied + 1:
            metrics.STREAM_GAPS.labels(self.service).inc()
            self._park(msg, event, f"version gap: stream at {applied}, event is {event.stream_version}")
            return
        if handlers:
            error = self._apply_with_retries(handlers, event)
            if error is not None:
                self._park(msg, event, error)
                return
            metrics.CONSUMED.labels(self.service, msg.topic, "applied").inc()
            if event.recorded_at:  # how far behind the producer's commit this projection is
                lag = time.time() - parse_iso(event.recorded_at).timestamp()
                metrics.PROJECTION_LAG.labels(self.service, msg.topic).set(max(0.0, lag))
        else:
            metrics.CONSUMED.labels(self.service, msg.topic, "unhandled").inc()
        self.versions.advance(event.stream_id, event.stream_version)

    def _apply_with_retries(self, handlers: list["EventHandler"], event: Event) -> str | None:
        attempts = self.settings.consumer_max_retries + 1
        delay = self.settings.consumer_backoff_ms / 1000.0
        for handler in handlers:
            for attempt in range(1, attempts + 1):
                started = time.perf_counter()
                ok, error = handler.run(event)
                metrics.HANDLER_SECONDS.labels(self.service, event.type).observe(time.perf_counter() - started)
                if ok:
                    break
                if attempt == attempts:
                    return f"{handler.method_name} failed {attempts}x: {error}"
                metrics.RETRIES.labels(self.service, event.type).inc()
                eventlet.sleep(delay * (2 ** (attempt - 1)))
        return None

    def _park(self, msg: Any, event: Event | None, reason: str) -> None:
        """Send the original bytes to the dead-letter topic with where-from and why (no payload
        text in the headers: the reason names an error class, not data)."""
        log.error("parking %s[%s]@%s: %s", msg.topic, msg.partition, msg.offset, reason)
        if self._dlq_producer is None:
            self._dlq_producer = make_producer(self.settings.kafka_bootstrap, f"fangfei-{self.service}-dlq")
        headers = [
            ("source_topic", msg.topic.encode()),
            ("source_partition", str(msg.partition).encode()),
            ("source_offset", str(msg.offset).encode()),
            ("event_id", (event.event_id if event else "").encode()),
            ("type", (event.type if event else "").encode()),
            ("stream_id", (event.stream_id if event else "").encode()),
            ("error", reason[:300].encode()),
        ]
        fut = self._dlq_producer.send(dlq_topic(self.service), key=msg.key, value=msg.value, headers=headers)
        fut.get(timeout=15)  # if parking fails the batch is not committed and will be retried
        metrics.DEAD_LETTERS.labels(self.service, msg.topic).inc()
        metrics.CONSUMED.labels(self.service, msg.topic, "dead_lettered").inc()

    def status(self) -> dict[str, Any]:
        return {
            "group": self.settings.group_id,
            "topics": self.topics,
            "assigned": self.assigned,
            "seconds_since_poll": round(time.time() - self.last_poll, 1) if self.last_poll else None,
            "cluster_id": self._cluster,
            "lag": self.lag,
            "last_error": self.last_error,
        }


class EventHandler(Entrypoint):
    """`@event_handler("intake", "clue.reported")`: run the method for each such event, once."""

    consumer = KafkaEventConsumer()

    def __init__(self, source: str, event_type: str, **kwargs: Any) -> None:
        self.source = source
        self.event_type = event_type
        super().__init__(**kwargs)

    def setup(self) -> None:
        self.consumer.register_provider(self)

    def stop(self) -> None:
        self.consumer.unregister_provider(self)

    def run(self, event: Event) -> tuple[bool, str]:
        """Run one worker for `event` and wait for it; (ok, error class name)."""
        done = GreenEvent()

        def handle_result(worker_ctx: Any, result: Any, exc_info: Any) -> tuple[Any, Any]:
            done.send(exc_info)
            return result, exc_info

        self.container.spawn_worker(
            self, (event,), {}, context_data={"correlation_id": event.correlation_id}, handle_result=handle_result
        )
        exc_info = done.wait()
        if exc_info is None:
            return True, ""
        return False, exc_info[0].__name__


event_handler: Callable[..., Any] = EventHandler.decorator

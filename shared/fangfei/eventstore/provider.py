"""nameko glue for the event store: one store handle per service process, a worker-facing facade,
and the relay loop that publishes what workers commit.

No connection is made at import time: the store opens in `setup()`, the relay starts in `start()`."""

from __future__ import annotations

import logging
import threading
from typing import Any, Sequence

from nameko.extensions import DependencyProvider, SharedExtension

from .. import metrics
from ..bus.kafka import BrokerAdmin, make_producer
from ..bus.relay import Relay
from ..bus.topics import events_topic
from ..clock import Clock, SystemClock
from ..config import Settings
from ..events.envelope import Event
from .checkpoints import Checkpoints
from .connect import open_database
from .store import Commit, EventStore

log = logging.getLogger(__name__)


class StoreHandle(SharedExtension):
    """The service's database, opened once per process and shared by every extension."""

    clock: Clock = SystemClock()
    _opened = False

    def setup(self) -> None:
        self.open()

    def open(self) -> "StoreHandle":
        """Open the database once; extensions' setup() run in any order, so each calls this."""
        if self._opened:
            return self
        self._opened = True
        self.settings = Settings.from_env(self.container.service_name)
        self.client, self.db = open_database(self.settings.resolved_store_uri, f"fangfei_{self.settings.service}")
        self.events = EventStore(self.db, clock=self.clock, max_event_bytes=self.settings.max_event_bytes)
        self.checkpoints = Checkpoints(self.db)
        self.relay_wakeup = threading.Event()
        return self

    def kill(self) -> None:
        self.stop()

    def stop(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
            self.client = None


class ServiceStore:
    """What a worker gets: append events, read streams, use the service's own collections."""

    def __init__(self, handle: StoreHandle) -> None:
        self._handle = handle
        self.events: EventStore = handle.events
        self.db: Any = handle.db
        self.clock: Clock = handle.clock
        self.settings: Settings = handle.settings

    def append(self, stream_id: str, expected_version: int, events: Sequence[Event]) -> Commit:
        commit = self.events.append(stream_id, expected_version, events)
        for ev in commit.events:
            metrics.EVENTS_APPENDED.labels(self._handle.settings.service, ev.type).inc()
        self._handle.relay_wakeup.set()  # publish now rather than at the next tick
        return commit


class EventStoreProvider(DependencyProvider):
    """Gives workers a ServiceStore and runs the outbox relay of this service in the background."""

    handle = StoreHandle()

    def __init__(self, publishes: bool = True, **kwargs: Any) -> None:
        """`publishes=False` for a service that only keeps read models (the ledger): no relay,
        no empty `<service>.events` topic."""
        self.publishes = publishes
        super().__init__(**kwargs)

    def setup(self) -> None:
        self.handle.open()
        self._running = False
        self.relay: Relay | None = None

    def start(self) -> None:
        if not self.publishes:
            return
        settings = self.handle.settings
        self._admin = BrokerAdmin(settings.kafka_bootstrap, f"fangfei-{settings.service}-relay")
        self.relay = Relay(
            service=settings.service,
            store=self.handle.events,
            checkpoints=self.handle.checkpoints,
            topic=events_topic(settings.service),
            producer_factory=lambda: make_producer(settings.kafka_bootstrap, f"fangfei-{settings.service}-relay"),
            cluster_id=self._admin.cached_cluster_id,
            ensure_topic=lambda t: self._admin.ensure_topics([t]),
            batch=settings.relay_batch,
            gap_grace_s=settings.relay_gap_grace_ms / 1000.0,
        )
        self._running = True
        self._thread = self.container.spawn_managed_thread(self._run, identifier="fangfei.relay")

    def _run(self) -> None:
        import eventlet

        interval = self.handle.settings.relay_interval_ms / 1000.0
        backoff = 0.5
        assert self.relay is not None
        while self._running:
            try:
                published = self.relay.run_once()
                backoff = 0.5
                if published == 0:
                    self.handle.relay_wakeup.wait(interval)
                    self.handle.relay_wakeup.clear()
                else:
                    eventlet.sleep(0)
            except Exception as exc:  # the broker may be gone: keep the checkpoint, try again
                log.warning("relay round failed: %s", type(exc).__name__)
                self.relay.failed(exc)
                self._admin.close()
                eventlet.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    def stop(self) -> None:
        self._running = False
        self.handle.relay_wakeup.set()
        if self.relay is not None:
            self.relay.close()
        admin = getattr(self, "_admin", None)
        if admin is not None:
            admin.close()

    def kill(self) -> None:
        self.stop()

    def get_dependency(self, worker_ctx: Any) -> ServiceStore:
        return ServiceStore(self.handle)

    def status(self) -> dict[str, Any]:
        relay = self.relay
        if relay is None:
            return {"state": "stopped"}
        position, cluster = relay.position()
        head = self.handle.events.head_position()
        return {
            "position": position,
            "head": head,
            "backlog": max(0, head - position),
            "broker_connected": relay.connected,
            "cluster_id": cluster,
            "last_error": relay.last_error,
        }

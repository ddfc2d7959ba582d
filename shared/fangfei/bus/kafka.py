"""Thin helpers around kafka-python: explicit topic creation and the broker's identity.

Clients never auto-create topics (Tansu would make them with its own partition count): topics are
created here, and again after a broker comes back empty. The broker's cluster id is its identity:
when it changes (the embedded broker restarted and forgot everything) relays republish from the
stores and consumers rejoin from the beginning (docs/adr/0002-embedded-mode.md)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Iterable, TypeVar

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from .topics import partitions, replication

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Longest an admin call may take before it is abandoned (the client is then rebuilt).
ADMIN_CALL_TIMEOUT_S = 20.0


def bounded(call: Callable[[], T], timeout_s: float, what: str) -> T:
    """Run `call` on a helper thread and give up after `timeout_s`.

    kafka-python 3's admin client blocks its caller on an event with no deadline while its IO
    thread works; a request lost around a broker restart would hang the caller for good (a CI
    run stalled that way). The helper thread is a daemon: an abandoned call cannot keep the
    process alive, and the caller closes the client so the next call starts fresh."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc

    worker = threading.Thread(target=run, name=f"kafka-{what}", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        raise TimeoutError(f"Kafka {what} did not answer within {timeout_s:.0f}s")
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


def partitions_of(consumer: KafkaConsumer, topic: str, timeout_s: float = 15.0) -> set[int]:
    """The partitions of `topic` (empty if it does not exist), with a deadline: kafka-python 3
    waits for the metadata answer with none."""
    return set(bounded(lambda: consumer.partitions_for_topic(topic), timeout_s, "metadata") or ())


def all_topics(consumer: KafkaConsumer, timeout_s: float = 15.0) -> set[str]:
    """Every topic the broker knows, with a deadline (see `partitions_of`)."""
    return set(bounded(consumer.topics, timeout_s, "metadata"))


class BrokerAdmin:
    """Creates topics and reports the cluster id; reconnects after failures."""

    def __init__(self, bootstrap: str, client_id: str) -> None:
        self._bootstrap = bootstrap
        self._client_id = client_id
        self._admin: KafkaAdminClient | None = None
        self._cached: tuple[float, str] | None = None

    def cached_cluster_id(self, max_age_s: float = 2.0) -> str:
        """The cluster id, asked of the broker at most every `max_age_s` (it changes only when
        the broker is replaced; a failed call clears the cache)."""
        now = time.monotonic()
        if self._cached is None or now - self._cached[0] > max_age_s:
            self._cached = (now, self.cluster_id())
        return self._cached[1]

    def _client(self) -> KafkaAdminClient:
        if self._admin is None:
            self._admin = KafkaAdminClient(
                bootstrap_servers=self._bootstrap, client_id=self._client_id, request_timeout_ms=10000
            )
        return self._admin

    def cluster_id(self) -> str:
        try:
            return str(bounded(lambda: self._client().describe_cluster()["cluster_id"],
                               ADMIN_CALL_TIMEOUT_S, "describe_cluster"))
        except Exception:
            self.close()
            raise

    def ensure_topics(self, names: Iterable[str]) -> None:
        wanted = sorted(set(names))
        try:
            existing = set(bounded(self._client().list_topics, ADMIN_CALL_TIMEOUT_S, "list_topics"))
            missing = [n for n in wanted if n not in existing]
            if missing:
                try:
                    client = self._client()
                    bounded(lambda: client.create_topics(
                        [NewTopic(n, partitions(), replication()) for n in missing], validate_only=False
                    ), ADMIN_CALL_TIMEOUT_S, "create_topics")
                    log.info("created topics %s", ", ".join(missing))
                except TopicAlreadyExistsError:
                    pass
        except TopicAlreadyExistsError:
            pass
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        self._cached = None
        if self._admin is not None:
            admin = self._admin
            try:
                bounded(admin.close, 5.0, "admin close")
            except Exception:  # closing a broken client must not mask the original error
                pass
            self._admin = None


def make_producer(bootstrap: str, client_id: str) -> KafkaProducer:
    """A producer for the relay and dead letters.

    Not idempotent: after the embedded broker restarts, an idempotent producer fails for good with
    UnknownProducerIdError. Order per key is kept with one request in flight, and consumers dedupe
    the duplicates a retry can make."""
    return KafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=False,
        max_in_flight_requests_per_connection=1,
        retries=5,
        linger_ms=5,
        request_timeout_ms=10000,
        max_block_ms=10000,
    )


def wait_for_broker(bootstrap: str, timeout_s: float = 30.0) -> str:
    """Block until the broker answers; return its cluster id (used by the launcher and tests)."""
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        admin = BrokerAdmin(bootstrap, "fangfei-probe")
        try:
            return admin.cluster_id()
        except (KafkaError, OSError) as exc:
            last = exc
            time.sleep(0.2)
        finally:
            admin.close()
    raise TimeoutError(f"no Kafka broker answered at {bootstrap} within {timeout_s}s: {last}")


def read_all(bootstrap: str, topic: str, timeout_s: float = 60.0) -> list[Any]:
    """Every record of `topic` from offset 0 up to the high-water marks seen while reading.

    Done when each partition's position has reached its high-water mark (kafka-python learns the
    mark from fetch responses; `end_offsets()` is not trusted: Tansu reports it wrong)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, allow_auto_create_topics=False,
                             fetch_max_wait_ms=100)
    try:
        parts = partitions_of(consumer, topic)
        if not parts:
            return []
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        records: list[Any] = []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
            marks = [consumer.highwater(tp) for tp in tps]
            if all(m is not None for m in marks) and all(
                consumer.position(tp, timeout_ms=5000) >= m for tp, m in zip(tps, marks)  # type: ignore[operator]
            ):
                return records
        raise TimeoutError(f"could not read {topic} to its end within {timeout_s}s")
    finally:
        consumer.close()

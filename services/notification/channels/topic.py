"""Agency topics: the redacted event published to the subscription's own Kafka topic (one topic
per subscription, so broker ACLs can give each agency exactly its topic). The record key and the
`delivery_id` header are the idempotency key a consumer dedupes on."""

from __future__ import annotations

from typing import Any, Callable, Mapping

from .base import SendFailed


class TopicChannel:
    name = "topic"

    def __init__(self, producer_factory: Callable[[], Any], ensure_topic: Callable[[str], None],
                 timeout_s: float = 10.0) -> None:
        self._factory = producer_factory
        self._ensure = ensure_topic
        self._producer: Any = None
        self._known: set[str] = set()
        self.timeout_s = timeout_s

    def send(self, row: Mapping[str, Any]) -> None:
        topic = row["address"]
        try:
            if topic not in self._known:
                self._ensure(topic)
                self._known.add(topic)
            if self._producer is None:
                self._producer = self._factory()
            fut = self._producer.send(topic, key=row["delivery_id"].encode(), value=row["payload"].encode("utf-8"),
                                      headers=[("delivery_id", row["delivery_id"].encode())])
            fut.get(timeout=self.timeout_s)
        except Exception as exc:  # broker gone or topic refused: a new producer next time
            producer, self._producer = self._producer, None
            self._known.discard(topic)
            if producer is not None:
                try:
                    producer.close(timeout=2)
                except Exception:
                    pass
            raise SendFailed(type(exc).__name__) from exc

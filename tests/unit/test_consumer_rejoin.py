"""A consumer whose group join never completes starts over with a new member instead of waiting
forever (seen once on Tansu after a broker restart and a killed member: the restarted service got
no partitions for two minutes). Simulated time, fake clients: only the loop's decision is tested
here; joins against the real broker are in tests/contract and tests/integration."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from fangfei.bus import entrypoint


class StuckConsumer:
    """A KafkaConsumer whose join never completes: no partitions, no records."""

    made: list["StuckConsumer"] = []

    def __init__(self, *topics: str, **config: Any) -> None:
        self.closed = False
        StuckConsumer.made.append(self)

    def poll(self, timeout_ms: int = 0, max_records: int = 0) -> dict:
        clock.now += timeout_ms / 1000
        if len(StuckConsumer.made) >= 3:
            loop._running = False  # seen enough: stop the loop
        return {}

    def assignment(self) -> set:
        return set()

    def close(self, *args: Any, **kwargs: Any) -> None:
        self.closed = True


clock = SimpleNamespace(now=1000.0)
loop: Any = None


def test_a_join_that_never_completes_is_started_over(monkeypatch: pytest.MonkeyPatch) -> None:
    global loop
    StuckConsumer.made = []
    monkeypatch.setattr(entrypoint, "KafkaConsumer", StuckConsumer)
    monkeypatch.setattr(entrypoint.time, "monotonic", lambda: clock.now)
    loop = entrypoint.KafkaEventConsumer.__new__(entrypoint.KafkaEventConsumer)
    loop.service = "probe"
    loop.settings = SimpleNamespace(consumer_session_timeout_ms=6000, group_id="fangfei.probe",
                                    kafka_bootstrap="127.0.0.1:1", consumer_fetch_max_wait_ms=100)
    loop._providers = [SimpleNamespace(source="intake")]
    loop._admin = SimpleNamespace(cached_cluster_id=lambda: "cluster-1", ensure_topics=lambda topics: None)
    loop._consumer, loop._dlq_producer, loop._cluster = None, None, ""
    loop.assigned, loop.last_poll, loop.last_error, loop.lag, loop._created_at = [], 0.0, "", None, 0.0
    loop._running = True
    before = entrypoint.metrics.GROUP_REJOINS.labels("probe")._value.get()

    loop._run()

    made = StuckConsumer.made
    assert len(made) == 3, "after 30 s without partitions a new consumer joins, twice here"
    assert made[0].closed and made[1].closed, "the stuck member leaves before the new one joins"
    polls_per_member = 30 / 0.2
    assert clock.now >= 1000 + 2 * polls_per_member * 0.2, "not before the join timeout (30 s)"
    assert entrypoint.metrics.GROUP_REJOINS.labels("probe")._value.get() - before == 2

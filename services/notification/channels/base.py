"""The one interface every outbound channel implements, and the two ways a send can fail.

A channel gets an outbox row (`outbox.py`) and either returns (the far side accepted it) or raises
`SendFailed`. Every send carries the row's `delivery_id` as an idempotency key in the channel's own
form (SMTP Message-ID, `Idempotency-Key` header, `X-Fangfei-Delivery` header, Kafka key), because
a crash between a send and its record makes us send again (docs/adr/0011-notification-delivery.md)."""

from __future__ import annotations

from typing import Any, Mapping, Protocol


class SendFailed(Exception):
    """The send did not go through. `permanent` failures (a 4xx from a webhook, a refused address)
    are dead-lettered at once; others are retried with backoff. `reason` is a short class name for
    logs, metrics and the `delivery.dead_lettered` event: never message text or personal data."""

    def __init__(self, reason: str, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason[:200]
        self.permanent = permanent


class Channel(Protocol):
    name: str

    def send(self, row: Mapping[str, Any]) -> None:
        """Deliver one outbox row or raise SendFailed."""

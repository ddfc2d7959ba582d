"""Agency webhooks: POST the redacted event as JSON, signed with the subscription's secret
(signing.py). The body is fixed when the delivery is queued; only the timestamp changes between
attempts, so a receiver dedupes on `X-Fangfei-Delivery` (= `delivery_id` in the body)."""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping

from .base import SendFailed
from .http_post import post
from .signing import DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign


class WebhookChannel:
    name = "webhook"

    def __init__(self, secret_of: Callable[[str], str | None], timeout_s: float = 10.0,
                 now: Callable[[], float] = time.time) -> None:
        self.secret_of = secret_of  # subscription id -> secret (None: cancelled or unknown)
        self.timeout_s = timeout_s
        self.now = now

    def send(self, row: Mapping[str, Any]) -> None:
        secret = self.secret_of(row["recipient_id"])
        if secret is None:
            raise SendFailed("SubscriptionCancelled", permanent=True)
        body = row["payload"].encode("utf-8")
        ts = int(self.now())
        headers = {TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: sign(secret, ts, body),
                   DELIVERY_HEADER: row["delivery_id"]}
        post(row["address"], body, headers, self.timeout_s)

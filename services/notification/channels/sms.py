"""SMS through a configurable HTTP gateway: POST {"to", "text", "delivery_id"} as JSON with an
`Idempotency-Key: <delivery_id>` header (and a bearer token if configured). Gateways of Chinese
carriers differ; an adapter in front of one maps this small contract onto it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from .http_post import post


@dataclass(frozen=True)
class SmsSettings:
    url: str
    token: str = ""
    timeout_s: float = 10.0


class SmsChannel:
    name = "sms"

    def __init__(self, settings: SmsSettings) -> None:
        self.settings = settings

    def send(self, row: Mapping[str, Any]) -> None:
        body = json.dumps({"to": row["address"], "text": f"【防非】{row['subject']}：{row['body']}"[:500],
                           "delivery_id": row["delivery_id"]}, ensure_ascii=False).encode()
        headers = {"Idempotency-Key": row["delivery_id"]}
        if self.settings.token:
            headers["Authorization"] = f"Bearer {self.settings.token}"
        post(self.settings.url, body, headers, self.settings.timeout_s)

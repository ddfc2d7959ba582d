"""What every Fangfei service has: `/health` and `/metrics` (open to anyone, no personal data),
the access-control gate its `@api` endpoints pass (`self.auth`), log scrubbing of tokens, and the
blocking detector.

Services subclass `PlatformService`; nameko picks up the inherited entrypoints."""

from __future__ import annotations

import os
from typing import Any, Callable

from nameko.extensions import DependencyProvider
from nameko.web.handlers import http
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug.wrappers import Request, Response

from .auth import redact
from .auth.gate import AuthProvider, Gate
from .bus.entrypoint import KafkaEventConsumer
from .eventstore.provider import EventStoreProvider
from .http import json_response


def _enable_blocking_detection() -> None:
    """FANGFEI_BLOCKING_DETECTION_S=N makes eventlet raise in any green thread that holds the hub
    for more than N seconds: the tests run the services with it on (docs/adr/0004-eventlet-and-io.md)."""
    seconds = float(os.environ.get("FANGFEI_BLOCKING_DETECTION_S", "0") or 0)
    if seconds > 0:
        import eventlet.debug

        eventlet.debug.hub_blocking_detection(True, seconds)


_enable_blocking_detection()
redact.install()  # before any request is logged: no token text in any log line (P5)


class RuntimeStatus(DependencyProvider):
    """Gives `/health` a function that reports the relay and the consumer of this process."""

    def get_dependency(self, worker_ctx: Any) -> Callable[[], dict[str, Any]]:
        container = self.container

        def status() -> dict[str, Any]:
            out: dict[str, Any] = {}
            for ext in container.dependencies:
                if isinstance(ext, EventStoreProvider) and ext.publishes:
                    out["relay"] = ext.status()
            for ext in container.subextensions:
                if isinstance(ext, KafkaEventConsumer) and ext.topics:
                    out["consumer"] = ext.status()
            return out

        return status


class PlatformService:
    """Base of every service: the store (with its relay), the auth gate, and the health and
    metrics endpoints."""

    name = "platform"
    store = EventStoreProvider()
    runtime = RuntimeStatus()
    auth = AuthProvider()

    @http("GET", "/health")
    def health(self, request: Request) -> Response:
        body: dict[str, Any] = {"service": self.name, "status": "ok"}
        try:
            body["store"] = {"head_position": self.store.events.head_position()}
        except Exception as exc:  # the store is what makes us useful: say so with a 503
            body["status"] = "failing"
            body["store"] = {"error": type(exc).__name__}
            return json_response(body, 503)
        body.update(self.runtime())
        relay = body.get("relay", {})
        if relay.get("backlog") and not relay.get("broker_connected"):
            body["status"] = "degraded"
        if isinstance(self.auth, Gate):
            body["auth"] = self.auth.status()
            if not body["auth"]["verification_keys"]:
                body["status"] = "degraded"  # up, but every secured request is refused
        return json_response(body)

    @http("GET", "/metrics")
    def metrics(self, request: Request) -> Response:
        return Response(generate_latest(), content_type=CONTENT_TYPE_LATEST)

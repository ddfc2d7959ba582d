"""One typed settings object, read from the environment.

Every variable is documented in README.md ("Configuration"); defaults are those of the embedded
mode (`make run`), so a fresh machine needs no configuration at all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping

SERVICE_NAMES = ("intake", "roster", "escalation", "ledger", "notification")
# Services that keep no events of their own and only call the others over HTTP (the web console).
WEB_SERVICES = ("console",)
PLATFORM_SERVICES = SERVICE_NAMES + WEB_SERVICES

# Default HTTP ports of the embedded stack; production sets FANGFEI_HTTP_ADDRESS per container.
DEFAULT_PORTS = {"intake": 8101, "roster": 8102, "escalation": 8103, "ledger": 8104, "notification": 8105,
                 "console": 8106}


class ConfigError(ValueError):
    """A configuration variable has a value the platform cannot use."""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    """Settings of one service process (or of a CLI command acting for one service)."""

    service: str
    kafka_bootstrap: str = "127.0.0.1:9092"
    store_uri: str = ""
    data_dir: str = "var/data"
    http_address: str = ""
    relay_interval_ms: int = 50
    relay_batch: int = 500
    relay_gap_grace_ms: int = 5000
    consumer_max_retries: int = 3
    consumer_backoff_ms: int = 200
    consumer_session_timeout_ms: int = 10000
    consumer_fetch_max_wait_ms: int = 100
    max_body_bytes: int = 64 * 1024
    max_event_bytes: int = 256 * 1024
    blocking_detection_s: float = 0.0
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def group_id(self) -> str:
        """Kafka consumer group of this service: one group per service, shared by its replicas."""
        return f"fangfei.{self.service}"

    @property
    def resolved_store_uri(self) -> str:
        """The store URI; empty means the embedded store in `data_dir/<service>.sqlite`."""
        if self.store_uri:
            return self.store_uri
        return f"embedded:{os.path.join(self.data_dir, self.service + '.sqlite')}"

    @classmethod
    def from_env(cls, service: str, env: Mapping[str, str] | None = None) -> "Settings":
        """Read settings for `service` from `env` (default: the process environment)."""
        env = os.environ if env is None else env
        if service not in PLATFORM_SERVICES:
            raise ConfigError(f"unknown service {service!r}; expected one of {', '.join(PLATFORM_SERVICES)}")
        try:
            blocking = float(env.get("FANGFEI_BLOCKING_DETECTION_S", "0") or 0)
        except ValueError as exc:
            raise ConfigError("FANGFEI_BLOCKING_DETECTION_S must be a number of seconds") from exc
        return cls(
            service=service,
            kafka_bootstrap=env.get("FANGFEI_KAFKA_BOOTSTRAP", cls.kafka_bootstrap),
            store_uri=env.get("FANGFEI_STORE_URI", ""),
            data_dir=env.get("FANGFEI_DATA_DIR", cls.data_dir),
            http_address=env.get("FANGFEI_HTTP_ADDRESS", f"127.0.0.1:{DEFAULT_PORTS[service]}"),
            relay_interval_ms=_int(env, "FANGFEI_RELAY_INTERVAL_MS", cls.relay_interval_ms, 1),
            relay_batch=_int(env, "FANGFEI_RELAY_BATCH", cls.relay_batch, 1),
            relay_gap_grace_ms=_int(env, "FANGFEI_RELAY_GAP_GRACE_MS", cls.relay_gap_grace_ms, 0),
            consumer_max_retries=_int(env, "FANGFEI_CONSUMER_MAX_RETRIES", cls.consumer_max_retries, 0),
            consumer_backoff_ms=_int(env, "FANGFEI_CONSUMER_BACKOFF_MS", cls.consumer_backoff_ms, 0),
            consumer_session_timeout_ms=_int(
                env, "FANGFEI_CONSUMER_SESSION_TIMEOUT_MS", cls.consumer_session_timeout_ms, 6000
            ),
            consumer_fetch_max_wait_ms=_int(
                env, "FANGFEI_CONSUMER_FETCH_MAX_WAIT_MS", cls.consumer_fetch_max_wait_ms, 1
            ),
            max_body_bytes=_int(env, "FANGFEI_MAX_BODY_BYTES", cls.max_body_bytes, 1024),
            max_event_bytes=_int(env, "FANGFEI_MAX_EVENT_BYTES", cls.max_event_bytes, 1024),
            blocking_detection_s=blocking,
            extra={k: v for k, v in env.items() if k.startswith("FANGFEI_")},
        )

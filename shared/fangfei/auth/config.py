"""Settings of authentication, read from FANGFEI_AUTH_* / FANGFEI_RATE_* variables.

Kept apart from fangfei.config.Settings so the auth layer can be configured (and tested) on its
own; every variable is listed in docs/security.md."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

DEFAULT_KEYS_DIR = os.path.join("var", "keys")
DEFAULT_ISSUER = "fangfei"
DEFAULT_AUDIENCE = "fangfei-api"
# A token lives at most one working shift: a stolen token is worth little for long.
DEFAULT_MAX_TTL_S = 8 * 3600
DEFAULT_TTL_S = 3600


class AuthConfigError(ValueError):
    pass


def _number(env: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    raw = env.get(name, "")
    if raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise AuthConfigError(f"{name} must be a number, got {raw!r}") from exc
    if value < minimum:
        raise AuthConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


@dataclass(frozen=True)
class AuthSettings:
    keys_dir: str = DEFAULT_KEYS_DIR
    issuer: str = DEFAULT_ISSUER
    audience: str = DEFAULT_AUDIENCE
    max_ttl_s: int = DEFAULT_MAX_TTL_S
    leeway_s: int = 30  # clock skew tolerated on exp/iat between the issuer and the services
    rate_burst: float = 120.0  # requests a token may send at once …
    rate_per_s: float = 20.0  # … and sustained per second, per service process

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "AuthSettings":
        env = os.environ if env is None else env
        return cls(
            keys_dir=env.get("FANGFEI_AUTH_KEYS_DIR") or DEFAULT_KEYS_DIR,
            issuer=env.get("FANGFEI_AUTH_ISSUER") or DEFAULT_ISSUER,
            audience=env.get("FANGFEI_AUTH_AUDIENCE") or DEFAULT_AUDIENCE,
            max_ttl_s=int(_number(env, "FANGFEI_AUTH_MAX_TTL_S", DEFAULT_MAX_TTL_S, 60)),
            leeway_s=int(_number(env, "FANGFEI_AUTH_LEEWAY_S", 30, 0)),
            rate_burst=_number(env, "FANGFEI_RATE_LIMIT_BURST", 120.0, 1),
            rate_per_s=_number(env, "FANGFEI_RATE_LIMIT_PER_S", 20.0, 0.01),
        )

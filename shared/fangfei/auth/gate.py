"""The gate every secured request passes, once per request, in `fangfei.http.api`:

    token in the query string? → 401      (it would end up in logs and browser history)
    Authorization: Bearer <jwt> → verify   (tokens.py; 401 on any failure)
    rate limit of this token   → 429
    policy: role on this route → 403      (policy.py; deny by default)
    → Access(principal, scope) for the endpoint to scope its reads and writes

`AuthProvider` gives each worker the process's Gate (keys loaded once, reloaded on rotation)."""

from __future__ import annotations

import logging
from typing import Any, Mapping

from nameko.extensions import DependencyProvider

from .access import Access, Forbidden
from .config import AuthSettings
from .keys import TokenKeys
from .policy import scope_for
from .principal import Principal
from .ratelimit import RateLimiter
from .tokens import AuthError, verify

log = logging.getLogger(__name__)

QUERY_TOKEN_PARAMS = frozenset({"access_token", "token", "jwt", "id_token", "bearer", "authorization"})


class RateLimited(Exception):
    def __init__(self, retry_after_s: float) -> None:
        super().__init__("rate_limited")
        self.retry_after_s = retry_after_s


class Gate:
    def __init__(self, keys: TokenKeys, settings: AuthSettings, limiter: RateLimiter | None = None) -> None:
        self.keys = keys
        self.settings = settings
        self.limiter = limiter or RateLimiter(settings.rate_burst, settings.rate_per_s)

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> "Gate":
        return cls(TokenKeys(settings.keys_dir), settings)

    def authenticate(self, headers: Mapping[str, str], query_keys: Any = ()) -> Principal:
        if any(str(k).lower() in QUERY_TOKEN_PARAMS for k in query_keys):
            raise AuthError("token_in_query", "令牌不得放在网址中，请使用 Authorization 请求头")
        header = headers.get("Authorization") or ""
        scheme, _, token = header.strip().partition(" ")
        if not header:
            raise AuthError("missing_token", "未登录：请在 Authorization 请求头中提供令牌")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("malformed_token")
        return verify(token.strip(), self.keys, self.settings)

    def authorize(self, service: str, route: str, method: str, headers: Mapping[str, str],
                  query_keys: Any = ()) -> Access:
        principal = self.authenticate(headers, query_keys)
        wait = self.limiter.take(principal.token_id)
        if wait > 0:
            raise RateLimited(wait)
        scope = scope_for(service, method, route, principal.role)
        if scope is None:
            raise Forbidden("role_not_allowed", "当前角色无权执行此操作")
        return Access(principal, scope)

    def status(self) -> dict[str, Any]:
        return {"verification_keys": len(self.keys.kids())}


class AuthProvider(DependencyProvider):
    """One Gate per service process, configured from FANGFEI_AUTH_* (auth/config.py)."""

    def setup(self) -> None:
        self.gate = Gate.from_settings(AuthSettings.from_env())
        if not self.gate.keys.kids():
            log.error("no token verification keys in %s: every secured request will be refused "
                      "(run `fangfei keys rotate` or set FANGFEI_AUTH_KEYS_DIR)", self.gate.settings.keys_dir)

    def get_dependency(self, worker_ctx: Any) -> Gate:
        return self.gate

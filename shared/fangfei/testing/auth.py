"""Tokens for tests: a minter over a key directory (the embedded stack's, or a throwaway one) and
a Gate to hand to nameko's `worker_factory`:

    gate, mint = test_gate()
    svc = worker_factory(IntakeService, store=memory_store("intake"), auth=gate)
    headers = mint.headers("grid_staff", street="longgang", community="magang")

`mint.headers(role, street=…, community=…)` fills the claims each role requires (a member unit gets
`streets=[street]` and a sector; district-wide roles get no street), so one line gives a working
token for any cell of the role × endpoint table."""

from __future__ import annotations

import tempfile
from typing import Any

from ..auth.config import AuthSettings
from ..auth.gate import Gate
from ..auth.keys import TokenKeys, ensure_keys
from ..auth.ratelimit import RateLimiter
from ..auth.roles import AUDITOR, COMMUNITY_OFFICE, DISTRICT_OFFICE, GRID_STAFF, MEMBER_UNIT, OPS, STREET_OFFICE
from ..auth.tokens import issue


class TokenMinter:
    def __init__(self, keys_dir: str, settings: AuthSettings | None = None) -> None:
        self.settings = settings or AuthSettings(keys_dir=keys_dir)
        self.keys = TokenKeys(keys_dir)

    def token(self, role: str, *, street: str = "longgang", community: str = "magang", person: str = "",
              ttl_s: int = 3600, sectors: tuple[str, ...] = ("elderly_care",), streets: tuple[str, ...] = ()) -> str:
        kw: dict[str, Any] = {"subject": person or f"{role.replace('_', '-')}-{street or 'district'}", "role": role,
                              "ttl_s": ttl_s}
        if role in (GRID_STAFF, COMMUNITY_OFFICE):
            kw.update(street=street, community=community)
        elif role == STREET_OFFICE:
            kw.update(street=street)
        elif role == MEMBER_UNIT:
            kw.update(streets=streets or (street,), sectors=sectors)
        elif role not in (DISTRICT_OFFICE, AUDITOR, OPS):
            raise ValueError(f"unknown role {role}")
        return issue(self.keys, self.settings, **kw)

    def headers(self, role: str, **kw: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, **kw)}"}


_TEST_KEYS: str | None = None


def test_keys_dir() -> str:
    """One throwaway key directory per test process (generating Ed25519 keys is cheap, but a
    directory per test is clutter)."""
    global _TEST_KEYS
    if _TEST_KEYS is None:
        _TEST_KEYS = tempfile.mkdtemp(prefix="fangfei-keys-")
        ensure_keys(_TEST_KEYS)
    return _TEST_KEYS


def test_gate(keys_dir: str | None = None, burst: float = 1e6, per_s: float = 1e6) -> tuple[Gate, TokenMinter]:
    """A Gate for `worker_factory(..., auth=gate)` and a minter of tokens it accepts. The rate limit
    is effectively off unless a test asks for one."""
    keys_dir = keys_dir or test_keys_dir()
    settings = AuthSettings(keys_dir=keys_dir, rate_burst=burst, rate_per_s=per_s)
    return Gate(TokenKeys(keys_dir), settings, RateLimiter(burst, per_s)), TokenMinter(keys_dir, settings)


test_keys_dir.__test__ = False  # type: ignore[attr-defined]  # not pytest tests, despite the names
test_gate.__test__ = False  # type: ignore[attr-defined]

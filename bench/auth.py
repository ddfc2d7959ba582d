"""Bearer tokens for the bench's clients, only if the platform asks for them.

The bench probes intake with an empty body: a 401 means requests need a token, anything else (a
400: the body was read and refused) means they do not. Tokens are then minted from the stack's
own key directory with the platform's test minter (`fangfei.testing.auth.TokenMinter`), one per
simulated client, as a street office (role `street_office`: may report clues for any community of
its street and read its ledgers). Each client having its own token is also what keeps the
per-token rate limit meaningful; the bench stack raises that limit anyway (see `STACK_ENV`), so
the figures measure the platform's capacity, not the limiter's setting."""

from __future__ import annotations

from fangfei.devstack.stack import Stack

from .common import http_json

STREET = "longgang"
ROLE = "street_office"
# Per-token request budget, raised for the bench: with it at its default (20/s per token) a load
# test would measure the limiter. The limiter still runs (its cost is measured), it never refuses.
STACK_ENV = {"FANGFEI_RATE_LIMIT_PER_S": "1000000", "FANGFEI_RATE_LIMIT_BURST": "1000000"}


def client_tokens(stack: Stack, count: int) -> list[str]:
    """`count` tokens, one per simulated client; empty if the platform needs none."""
    status, _ = http_json("POST", stack.services["intake"].url + "/api/clues", {})
    if status != 401:
        return []
    keys_dir = getattr(stack, "keys_dir", None)
    try:
        from fangfei.testing.auth import TokenMinter  # type: ignore[import-not-found]
    except ImportError as exc:
        raise RuntimeError("intake requires a bearer token, but fangfei.testing.auth is missing") from exc
    if not keys_dir:
        raise RuntimeError("intake requires a bearer token, but the stack has no key directory")
    minter = TokenMinter(keys_dir)
    return [minter.token(ROLE, street=STREET, person=f"bench-client-{i:02d}", ttl_s=3 * 3600) for i in range(count)]


def seed_token(stack: Stack) -> str | None:
    """A district-office token for the roster import (`fangfei seed-demo` is an office's command);
    None when the stack has no key directory (a platform without access control)."""
    keys_dir = getattr(stack, "keys_dir", None)
    if not keys_dir:
        return None
    from fangfei.testing.auth import TokenMinter

    return TokenMinter(keys_dir).token("district_office", street="", person="bench-seed", ttl_s=600)


def office_token(stack: Stack) -> str | None:
    """A district-office token for `POST /api/ledger-admin/rebuild` (the e2e run during rebuilds)."""
    keys_dir = getattr(stack, "keys_dir", None)
    if not keys_dir:
        return None
    from fangfei.testing.auth import TokenMinter

    return TokenMinter(keys_dir).token("district_office", street="", person="bench-operator", ttl_s=3 * 3600)

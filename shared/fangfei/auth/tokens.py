"""Signed bearer tokens (JWT, RFC 7519) issued by `fangfei token issue`, verified by every service.

Decisions (docs/adr/0009-tokens-and-authorization.md, following RFC 8725):
- one algorithm, pinned: EdDSA over Ed25519. Verification passes only that algorithm to PyJWT and
  checks the header says so, so `alg: none`, HS256 "signed" with the public key (key confusion)
  and RSA/ECDSA tokens are all refused;
- `exp`, `iat`, `iss`, `aud`, `sub`, `jti` and a header `kid` are required; a lifetime over the
  configured maximum (8 h by default) is refused even if signed, so a long-lived token cannot be
  minted by mistake;
- the claims are validated by a schema (unknown claims refused; per-role scope claims required).

The token text is never logged or put in an error message; only its `jti` is used afterwards."""

from __future__ import annotations

import time
import uuid
from typing import Any, Iterable

import jwt
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from ..events.fields import ID_PATTERN
from .config import AuthSettings
from .keys import TokenKeys
from .principal import Principal
from .roles import FORBIDDEN_CLAIMS, REQUIRED_CLAIMS, ROLES

ALGORITHM = "EdDSA"
MAX_TOKEN_CHARS = 4096  # a real token is ~400 characters; a huge one is an attack on the parser

_ID = validate.Regexp(ID_PATTERN, error="not a valid identifier")


class AuthError(Exception):
    """Authentication failed (401). `code` is stable for clients; `message` is for people."""

    def __init__(self, code: str, message: str = "身份验证失败，请重新登录") -> None:
        super().__init__(code)
        self.code = code
        self.message = message


class ClaimsSchema(Schema):
    class Meta:
        unknown = RAISE

    iss = fields.String(required=True)
    aud = fields.Raw(required=True)
    iat = fields.Integer(required=True, strict=True)
    exp = fields.Integer(required=True, strict=True)
    nbf = fields.Integer(strict=True)
    jti = fields.String(required=True, validate=_ID)
    sub = fields.String(required=True, validate=_ID)
    role = fields.String(required=True, validate=validate.OneOf(list(ROLES)))
    street = fields.String(validate=_ID)
    community = fields.String(validate=_ID)
    streets = fields.List(fields.String(validate=_ID), validate=validate.Length(min=1, max=64))
    sectors = fields.List(fields.String(validate=_ID), validate=validate.Length(min=1, max=32))


def claims_for(
    *, subject: str, role: str, street: str = "", community: str = "", streets: Iterable[str] = (),
    sectors: Iterable[str] = (), ttl_s: int, settings: AuthSettings, now: float | None = None,
) -> dict[str, Any]:
    """The claims of a new token, checked as a service would check them (so a bad token is
    refused when it is issued, not at first use)."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "iss": settings.issuer, "aud": settings.audience, "iat": issued, "exp": issued + int(ttl_s),
        "jti": uuid.uuid4().hex, "sub": subject, "role": role,
    }
    for name, value in (("street", street), ("community", community)):
        if value:
            claims[name] = value
    for name, values in (("streets", list(streets)), ("sectors", list(sectors))):
        if values:
            claims[name] = values
    if ttl_s <= 0 or ttl_s > settings.max_ttl_s:
        raise AuthError("ttl_out_of_range", f"有效期须在 1–{settings.max_ttl_s} 秒之间")
    principal_from_claims(claims, settings)
    return claims


def sign(keys: TokenKeys, claims: dict[str, Any]) -> str:
    """The compact token of `claims`, signed with the active key (its kid in the header)."""
    kid, private = keys.signing_key()
    return jwt.encode(claims, private, algorithm=ALGORITHM, headers={"kid": kid, "typ": "JWT"})


def issue(keys: TokenKeys, settings: AuthSettings, **kw: Any) -> str:
    """Sign a new token with the active key. Keyword arguments as `claims_for`."""
    return sign(keys, claims_for(settings=settings, **kw))


def principal_from_claims(claims: dict[str, Any], settings: AuthSettings) -> Principal:
    try:
        data = ClaimsSchema().load(claims)
    except ValidationError as exc:
        raise AuthError("invalid_claims", "令牌声明不完整或不符合角色要求") from exc
    role = data["role"]
    missing = [c for c in REQUIRED_CLAIMS[role] if not data.get(c)]
    extra = [c for c in FORBIDDEN_CLAIMS[role] if c in data]
    if missing or extra:
        raise AuthError("invalid_claims", "令牌声明不完整或不符合角色要求")
    if data["exp"] - data["iat"] > settings.max_ttl_s + settings.leeway_s:
        raise AuthError("token_lifetime_too_long")
    return Principal(
        subject=data["sub"], role=role, street=data.get("street", ""), community=data.get("community", ""),
        streets=tuple(data.get("streets", ())), sectors=tuple(data.get("sectors", ())),
        token_id=data["jti"], expires_at=data["exp"],
    )


def verify(token: str, keys: TokenKeys, settings: AuthSettings) -> Principal:
    """The principal of a valid token; AuthError (401) for anything else."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise AuthError("malformed_token")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise AuthError("malformed_token") from exc
    if header.get("alg") != ALGORITHM:
        raise AuthError("algorithm_not_allowed")
    kid = header.get("kid")
    key = keys.verification_key(kid) if isinstance(kid, str) else None
    if key is None:
        raise AuthError("unknown_key")
    try:
        claims = jwt.decode(
            token, key, algorithms=[ALGORITHM], audience=settings.audience, issuer=settings.issuer,
            leeway=settings.leeway_s,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"], "verify_signature": True},
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthError("token_expired", "登录已过期，请重新登录") from exc
    except jwt.PyJWTError as exc:
        raise AuthError("invalid_token") from exc
    return principal_from_claims(claims, settings)

"""Bearer tokens (S4, RFC 8725): the algorithm is pinned, exp/aud/iss are required, lifetimes are
short, keys rotate without a restart, tokens never travel in URLs and never appear in logs.

Every refusal is checked twice: by the Gate (which reason) and through a real endpoint (401,
nothing recorded)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import shutil
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fangfei.auth.config import AuthSettings
from fangfei.auth.gate import Gate
from fangfei.auth.keys import TokenKeys, ensure_keys, retire_token_key, rotate_token_key
from fangfei.auth.redact import REDACTED, install
from fangfei.auth.tokens import AuthError, claims_for, sign
from fangfei.testing.auth import TokenMinter
from services.intake.tests.support import Intake, valid_clue


@pytest.fixture
def keys_dir(tmp_path: Any) -> str:
    ensure_keys(str(tmp_path))
    return str(tmp_path)


@pytest.fixture
def settings(keys_dir: str) -> AuthSettings:
    return AuthSettings(keys_dir=keys_dir)


@pytest.fixture
def gate(settings: AuthSettings) -> Gate:
    return Gate(TokenKeys(settings.keys_dir), settings)


def claims(settings: AuthSettings, **over: Any) -> dict[str, Any]:
    c = claims_for(subject="wg-01", role="grid_staff", street="longgang", community="magang", ttl_s=600,
                   settings=settings)
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def handmade(header: dict[str, Any], body: dict[str, Any], signature: bytes = b"") -> str:
    head = b64(json.dumps(header).encode()) + "." + b64(json.dumps(body).encode())
    return head + "." + b64(signature)


def refusal(gate: Gate, token: str) -> str:
    with pytest.raises(AuthError) as err:
        gate.authenticate({"Authorization": f"Bearer {token}"})
    return err.value.code


def test_a_valid_token_names_its_person_role_and_scope(gate: Gate, settings: AuthSettings) -> None:
    p = gate.authenticate({"Authorization": "Bearer " + sign(gate.keys, claims(settings))})
    assert (p.subject, p.role, p.street, p.community) == ("wg-01", "grid_staff", "longgang", "magang")


def test_alg_none_is_refused(gate: Gate, settings: AuthSettings) -> None:
    kid = gate.keys.kids()[0]
    assert refusal(gate, handmade({"alg": "none", "kid": kid, "typ": "JWT"}, claims(settings))) == "algorithm_not_allowed"
    assert refusal(gate, handmade({"alg": "None", "kid": kid}, claims(settings))) == "algorithm_not_allowed"


def test_key_confusion_hs256_signed_with_the_public_key_is_refused(gate: Gate, settings: AuthSettings,
                                                                   keys_dir: str) -> None:
    kid = gate.keys.kids()[0]
    with open(f"{keys_dir}/tokens/{kid}.pub.pem", "rb") as fh:
        public_pem = fh.read()
    header = {"alg": "HS256", "kid": kid, "typ": "JWT"}
    unsigned = handmade(header, claims(settings)).rsplit(".", 1)[0]
    mac = hmac.new(public_pem, unsigned.encode(), hashlib.sha256).digest()
    assert refusal(gate, unsigned + "." + b64(mac)) == "algorithm_not_allowed"


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_tokens_of_other_asymmetric_algorithms_are_refused(gate: Gate, settings: AuthSettings, alg: str) -> None:
    key = rsa.generate_private_key(65537, 2048) if alg == "RS256" else ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode(claims(settings), key, algorithm=alg, headers={"kid": gate.keys.kids()[0]})
    assert refusal(gate, token) == "algorithm_not_allowed"


def test_a_token_signed_by_a_key_we_do_not_hold_is_refused(gate: Gate, settings: AuthSettings, tmp_path: Any) -> None:
    other = tmp_path / "other"
    ensure_keys(str(other))
    foreign = TokenKeys(str(other))
    assert refusal(gate, sign(foreign, claims(settings))) == "unknown_key"


def test_a_token_whose_kid_is_ours_but_signature_is_not_is_refused(gate: Gate, settings: AuthSettings,
                                                                   tmp_path: Any) -> None:
    token = jwt.encode(claims(settings), Ed25519PrivateKey.generate(), algorithm="EdDSA",
                       headers={"kid": gate.keys.kids()[0]})
    assert refusal(gate, token) == "invalid_token"


def test_an_altered_payload_is_refused(gate: Gate, settings: AuthSettings) -> None:
    head, _, sig = sign(gate.keys, claims(settings)).split(".")
    forged = b64(json.dumps(claims(settings, role="district_office", street=None, community=None)).encode())
    assert refusal(gate, f"{head}.{forged}.{sig}") == "invalid_token"


@pytest.mark.parametrize("over, code", [
    ({"exp": int(time.time()) - 120, "iat": int(time.time()) - 600}, "token_expired"),
    ({"aud": "someone-else"}, "invalid_token"),
    ({"iss": "evil"}, "invalid_token"),
    ({"exp": None}, "invalid_token"),
    ({"aud": None}, "invalid_token"),
    ({"iss": None}, "invalid_token"),
    ({"jti": None}, "invalid_token"),
    ({"sub": None}, "invalid_token"),
    ({"iat": int(time.time()) + 3600}, "invalid_token"),
    ({"exp": int(time.time()) + 30 * 86400}, "token_lifetime_too_long"),
    ({"role": "superuser"}, "invalid_claims"),
    ({"community": None}, "invalid_claims"),
    ({"streets": ["pingshan"]}, "invalid_claims"),
    ({"admin": True}, "invalid_claims"),
], ids=["expired", "wrong-audience", "wrong-issuer", "no-exp", "no-aud", "no-iss", "no-jti", "no-sub",
        "issued-in-future", "too-long-lived", "unknown-role", "missing-scope", "extra-scope", "unknown-claim"])
def test_bad_claims_are_refused(gate: Gate, settings: AuthSettings, over: dict[str, Any], code: str) -> None:
    assert refusal(gate, sign(gate.keys, claims(settings, **over))) == code


def test_a_token_without_a_kid_is_refused(gate: Gate, settings: AuthSettings) -> None:
    _, private = gate.keys.signing_key()
    assert refusal(gate, jwt.encode(claims(settings), private, algorithm="EdDSA")) == "unknown_key"


@pytest.mark.parametrize("header", ["", "Basic d2c6cGFzcw==", "Bearer", "Bearer not.a.token", "Bearer " + "a" * 5000])
def test_missing_or_malformed_credentials_are_refused(gate: Gate, header: str) -> None:
    with pytest.raises(AuthError):
        gate.authenticate({"Authorization": header} if header else {})


def test_rotation_keeps_old_tokens_valid_until_their_key_is_retired(gate: Gate, settings: AuthSettings,
                                                                     keys_dir: str) -> None:
    old_kid = gate.keys.kids()[0]
    old_token = sign(TokenKeys(keys_dir), claims(settings))
    rotate_token_key(keys_dir)
    new_token = sign(TokenKeys(keys_dir), claims(settings))  # the issuer signs with the new key at once
    gate.keys._loaded_at = -1e9  # the service notices the new kid (a miss reloads within seconds)
    assert gate.authenticate({"Authorization": f"Bearer {new_token}"}).subject == "wg-01"
    assert gate.authenticate({"Authorization": f"Bearer {old_token}"}).subject == "wg-01"
    assert retire_token_key(keys_dir, old_kid)
    gate.keys.reload()
    assert refusal(gate, old_token) == "unknown_key"


# -- through a real endpoint ----------------------------------------------------------------------
@pytest.fixture
def intake() -> Intake:
    return Intake()


def post_with(intake: Intake, token: str | None, query: str = "") -> int:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    resp = intake.client.post("/api/clues" + query, data=json.dumps(valid_clue()), headers=headers,
                              content_type="application/json")
    return resp.status_code


def test_every_refused_token_is_a_401_with_nothing_recorded(intake: Intake) -> None:
    settings = intake.mint.settings
    keys = intake.mint.keys
    kid = keys.kids()[0]
    good = intake.mint.token("grid_staff")
    bad = [
        None,
        handmade({"alg": "none", "kid": kid}, claims(settings)),
        sign(keys, claims(settings, exp=int(time.time()) - 120, iat=int(time.time()) - 600)),
        sign(keys, claims(settings, aud="another-api")),
        sign(keys, claims(settings, exp=None)),
        good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"),
    ]
    assert [post_with(intake, t) for t in bad] == [401] * len(bad)
    assert intake.store.events.head_position() == 0
    resp = intake.client.post("/api/clues", data="{}", content_type="application/json")
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("param", ["access_token", "token", "jwt", "Authorization"])
def test_a_token_in_the_query_string_is_refused_even_with_a_valid_header(intake: Intake, param: str) -> None:
    token = intake.mint.token("grid_staff")
    assert post_with(intake, token, f"?{param}={token}") == 401
    assert intake.store.events.head_position() == 0


def test_tokens_never_reach_the_logs(intake: Intake, caplog: pytest.LogCaptureFixture) -> None:
    install()
    token = intake.mint.token("grid_staff")
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("nameko.web.server").info('127.0.0.1 - - "POST /api/clues?access_token=%s HTTP/1.1" 401', token)
        logging.getLogger("anything").warning("header was Authorization: Bearer %s", token)
        post_with(intake, token, f"?access_token={token}")
    text = caplog.text
    assert REDACTED in text and token not in text and token.split(".")[1] not in text


def test_a_burst_from_one_token_is_limited_per_token() -> None:
    intake = Intake(burst=5, per_s=0.01)
    a, b = intake.mint.token("grid_staff"), intake.mint.token("grid_staff")
    statuses = [post_with(intake, a) for _ in range(7)]
    assert statuses == [201] * 5 + [429] * 2
    assert post_with(intake, b) == 201  # another token (another person, another session) is not affected
    resp = intake.client.post("/api/clues", data=json.dumps(valid_clue()), content_type="application/json",
                              headers={"Authorization": f"Bearer {a}"})
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) >= 1
    assert intake.store.events.head_position() == 6


def test_the_public_keys_are_all_a_service_needs(keys_dir: str, settings: AuthSettings, tmp_path: Any) -> None:
    """A service given only the *.pub.pem files verifies tokens; it cannot sign any."""
    pub_only = tmp_path / "pub-only" / "tokens"
    pub_only.mkdir(parents=True)
    for f in os.listdir(f"{keys_dir}/tokens"):
        if f.endswith(".pub.pem"):
            shutil.copy(f"{keys_dir}/tokens/{f}", pub_only / f)
    service_keys = TokenKeys(str(pub_only.parent))
    token = sign(TokenKeys(keys_dir), claims(settings))
    assert Gate(service_keys, settings).authenticate({"Authorization": f"Bearer {token}"}).subject == "wg-01"
    with pytest.raises(LookupError):
        service_keys.signing_key()

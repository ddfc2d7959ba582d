"""Envelope encryption for personal data kept apart from events (reporter identities).

Each record gets its own random 256-bit data key; the data is sealed with AES-GCM under that key,
and the data key is wrapped (AES-GCM again) under a master key from the key directory
(keys.DataKeys). The record id is the associated data of both, so a sealed blob or a wrapped key
copied onto another record does not open.

Destroying a record's wrapped data key is crypto-shredding: the sealed data left behind anywhere
(this store, a backup, an export) can no longer be read by anyone, master key or not."""

from __future__ import annotations

import base64
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .keys import DataKeys, MissingKey

NONCE_BYTES = 12


class SealError(ValueError):
    """A sealed value or wrapped key does not open (wrong key, wrong record, or altered)."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def seal(key: bytes, plaintext: bytes, aad: bytes) -> dict[str, str]:
    nonce = os.urandom(NONCE_BYTES)
    return {"n": _b64(nonce), "c": _b64(AESGCM(key).encrypt(nonce, plaintext, aad))}


def unseal(key: bytes, sealed: dict[str, Any], aad: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(_unb64(sealed["n"]), _unb64(sealed["c"]), aad)
    except (InvalidTag, KeyError, ValueError, TypeError) as exc:
        raise SealError("sealed data does not open") from exc


def wrap(master: DataKeys, data_key: bytes, aad: bytes) -> dict[str, str]:
    kid, key = master.active()
    return {"kid": kid, **seal(key, data_key, aad)}


def unwrap(master: DataKeys, wrapped: dict[str, Any], aad: bytes) -> bytes:
    key = master.get(str(wrapped.get("kid", "")))
    if key is None:
        raise MissingKey(f"master key {wrapped.get('kid')!r} is not in the key directory")
    return unseal(key, wrapped, aad)

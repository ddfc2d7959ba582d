"""Keys in a key directory: token signing/verification keys and the master keys of reporter data.

Layout (created by `ensure_keys`, the embedded stack on first start, or `fangfei keys rotate`):

    <keys_dir>/tokens/<kid>.pub.pem   Ed25519 public keys: every one is accepted for verification
    <keys_dir>/tokens/<kid>.key.pem   the private key of the active kid (only the issuer needs it)
    <keys_dir>/tokens/active          the kid new tokens are signed with
    <keys_dir>/data/<kid>.key         256-bit master keys that wrap reporter data keys (intake only)
    <keys_dir>/data/active            the kid new data keys are wrapped with

Why a directory and not one variable: rotation needs several verification keys at once (tokens
signed by the previous key stay valid until they expire) and a deployment can mount only what a
process needs (services: the *.pub.pem files; intake: also data/; the issuer: the active private
key). Nothing here is committed: keys are generated on the machine that uses them.

The kid in a token header is only ever looked up in a dict of loaded keys, never used as a path."""

from __future__ import annotations

import base64
import os
import re
import secrets
import threading
import time
from datetime import datetime, timezone
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

TOKENS = "tokens"
DATA = "data"
ACTIVE = "active"
PUB_SUFFIX = ".pub.pem"
KEY_SUFFIX = ".key.pem"
DATA_SUFFIX = ".key"
KID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class MissingKey(LookupError):
    """A key the caller needs is not in the key directory."""


def new_kid(prefix: str) -> str:
    return f"{prefix}{datetime.now(timezone.utc):%Y%m%d}-{secrets.token_hex(3)}"


def _write_private(path: str, data: bytes) -> None:
    """Write a secret file readable by its owner only, atomically (no half-written key)."""
    tmp = f"{path}.tmp-{secrets.token_hex(4)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def _write_public(path: str, data: bytes) -> None:
    tmp = f"{path}.tmp-{secrets.token_hex(4)}"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def _dir(keys_dir: str, sub: str) -> str:
    path = os.path.join(keys_dir, sub)
    os.makedirs(path, mode=0o700, exist_ok=True)
    os.chmod(keys_dir, 0o700)
    return path


def _read_active(folder: str) -> str:
    try:
        with open(os.path.join(folder, ACTIVE), encoding="ascii") as fh:
            kid = fh.read().strip()
    except FileNotFoundError:
        return ""
    return kid if KID.match(kid) else ""


# -- writing keys (CLI, embedded stack) --------------------------------------------------------------
def rotate_token_key(keys_dir: str, keep: int = 2) -> str:
    """Make a new signing key active; keep the public keys of the `keep` newest kids (the new one
    included) so tokens signed before the rotation stay valid until they expire; drop the rest and
    every private key but the active one. Returns the new kid."""
    folder = _dir(keys_dir, TOKENS)
    kid = new_kid("t")
    private = Ed25519PrivateKey.generate()
    _write_private(os.path.join(folder, kid + KEY_SUFFIX), private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    _write_public(os.path.join(folder, kid + PUB_SUFFIX), private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    _write_public(os.path.join(folder, ACTIVE), kid.encode())
    pubs = sorted((os.path.getmtime(os.path.join(folder, f)), f[: -len(PUB_SUFFIX)])
                  for f in os.listdir(folder) if f.endswith(PUB_SUFFIX))
    keep_kids = {k for _, k in pubs[-max(1, keep):]} | {kid}
    for f in os.listdir(folder):
        if f.endswith(PUB_SUFFIX) and f[: -len(PUB_SUFFIX)] not in keep_kids:
            os.remove(os.path.join(folder, f))
        elif f.endswith(KEY_SUFFIX) and f[: -len(KEY_SUFFIX)] != kid:
            os.remove(os.path.join(folder, f))
    return kid


def retire_token_key(keys_dir: str, kid: str) -> bool:
    """Stop accepting tokens signed by `kid` (not the active one). True if a key was removed."""
    folder = os.path.join(keys_dir, TOKENS)
    if not KID.match(kid) or kid == _read_active(folder):
        return False
    removed = False
    for suffix in (PUB_SUFFIX, KEY_SUFFIX):
        path = os.path.join(folder, kid + suffix)
        if os.path.exists(path):
            os.remove(path)
            removed = True
    return removed


def rotate_data_key(keys_dir: str) -> str:
    """A new master key for reporter data; older ones stay, to unwrap what they wrapped."""
    folder = _dir(keys_dir, DATA)
    kid = new_kid("d")
    _write_private(os.path.join(folder, kid + DATA_SUFFIX), base64.b64encode(secrets.token_bytes(32)))
    _write_public(os.path.join(folder, ACTIVE), kid.encode())
    return kid


def ensure_keys(keys_dir: str) -> bool:
    """Create a token key pair and a data master key if the directory has none; True if it did."""
    created = False
    if not _read_active(os.path.join(keys_dir, TOKENS)):
        rotate_token_key(keys_dir)
        created = True
    if not _read_active(os.path.join(keys_dir, DATA)):
        rotate_data_key(keys_dir)
        created = True
    return created


def list_keys(keys_dir: str) -> dict[str, Any]:
    """What the directory holds, without any key material: for `fangfei keys list`."""
    out: dict[str, Any] = {}
    for sub, suffix in ((TOKENS, PUB_SUFFIX), (DATA, DATA_SUFFIX)):
        folder = os.path.join(keys_dir, sub)
        kids = sorted(f[: -len(suffix)] for f in os.listdir(folder) if f.endswith(suffix)) if os.path.isdir(folder) else []
        out[sub] = {"active": _read_active(folder), "kids": kids}
    return out


# -- reading keys (services) --------------------------------------------------------------------------
class TokenKeys:
    """The verification keys of a directory (reloaded so rotation needs no restart) and, for the
    issuer, the active signing key.

    A token with an unknown kid triggers a reload at most every `miss_reload_s`, so a key rotated
    in a minute ago is picked up at once; all keys are reloaded every `reload_s`, so a retired key
    stops working within that time."""

    def __init__(self, keys_dir: str, reload_s: float = 60.0, miss_reload_s: float = 5.0) -> None:
        self.keys_dir = keys_dir
        self._folder = os.path.join(keys_dir, TOKENS)
        self._reload_s = reload_s
        self._miss_reload_s = miss_reload_s
        self._lock = threading.Lock()
        self._public: dict[str, Ed25519PublicKey] = {}
        self._loaded_at = -1e9
        self.reload()

    def reload(self) -> None:
        keys: dict[str, Ed25519PublicKey] = {}
        if os.path.isdir(self._folder):
            for f in os.listdir(self._folder):
                kid = f[: -len(PUB_SUFFIX)]
                if not f.endswith(PUB_SUFFIX) or not KID.match(kid):
                    continue
                with open(os.path.join(self._folder, f), "rb") as fh:
                    key = serialization.load_pem_public_key(fh.read())
                if isinstance(key, Ed25519PublicKey):  # any other key type is ignored, never trusted
                    keys[kid] = key
        with self._lock:
            self._public = keys
            self._loaded_at = time.monotonic()

    def verification_key(self, kid: str) -> Ed25519PublicKey | None:
        age = time.monotonic() - self._loaded_at
        key = self._public.get(kid)
        if age > self._reload_s or (key is None and age > self._miss_reload_s):
            self.reload()
            key = self._public.get(kid)
        return key

    def kids(self) -> list[str]:
        return sorted(self._public)

    def signing_key(self) -> tuple[str, Ed25519PrivateKey]:
        kid = _read_active(self._folder)
        path = os.path.join(self._folder, kid + KEY_SUFFIX)
        if not kid or not os.path.exists(path):
            raise MissingKey(f"no active signing key in {self._folder} (run `fangfei keys rotate`)")
        with open(path, "rb") as fh:
            key = serialization.load_pem_private_key(fh.read(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise MissingKey(f"the active signing key {kid} is not an Ed25519 key")
        return kid, key


class DataKeys:
    """Master keys that wrap reporter data keys (envelope encryption, see sealing.py)."""

    def __init__(self, keys_dir: str) -> None:
        self._folder = os.path.join(keys_dir, DATA)
        self._keys: dict[str, bytes] = {}
        self.reload()

    def reload(self) -> None:
        keys: dict[str, bytes] = {}
        if os.path.isdir(self._folder):
            for f in os.listdir(self._folder):
                kid = f[: -len(DATA_SUFFIX)]
                if f.endswith(DATA_SUFFIX) and KID.match(kid):
                    with open(os.path.join(self._folder, f), "rb") as fh:
                        raw = base64.b64decode(fh.read().strip())
                    if len(raw) == 32:
                        keys[kid] = raw
        self._keys = keys
        self._active = _read_active(self._folder)

    @property
    def available(self) -> bool:
        return self._active in self._keys

    def active(self) -> tuple[str, bytes]:
        if self._active not in self._keys:
            self.reload()
        if self._active not in self._keys:
            raise MissingKey(f"no active data master key in {self._folder}")
        return self._active, self._keys[self._active]

    def get(self, kid: str) -> bytes | None:
        if kid not in self._keys:
            self.reload()
        return self._keys.get(kid)

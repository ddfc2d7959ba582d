"""The reporter vault (举报人身份库): reporter identities, sealed, in intake's own collections,
apart from the clue and out of every event (P2).

- `reporter_identities`: {_id: reporter_id, street_id, clue_id, created_at, erased_at, sealed}
  where `sealed` is the identity JSON under the reporter's own data key (AES-GCM);
- `reporter_keys`: {_id: reporter_id, wrapped} the data key wrapped by a master key from the key
  directory (fangfei.auth.sealing). The master key is never in the database.

Erasure deletes the wrapped key (crypto-shredding) and stamps `erased_at`: the sealed identity,
wherever a copy of it is, can no longer be opened; reads show a tombstone. The clue and its
events stay, and so does the hash chain (the identity was never in it).

No method here checks who is asking: the endpoint checks the scope and records the audit event
before it calls `open`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from nameko.extensions import DependencyProvider
from pymongo.errors import DuplicateKeyError

from fangfei.auth.config import AuthSettings
from fangfei.auth.keys import DataKeys, MissingKey
from fangfei.auth.sealing import SealError, new_data_key, seal, unseal, unwrap, wrap
from fangfei.eventstore.provider import StoreHandle

IDENTITIES = "reporter_identities"
KEYS = "reporter_keys"


class VaultUnavailable(RuntimeError):
    """No master key: identities can be neither sealed nor opened (a deployment error)."""


@dataclass(frozen=True)
class VaultEntry:
    reporter_id: str
    street_id: str
    clue_id: str
    created_at: str
    erased_at: str


@dataclass(frozen=True)
class OpenedIdentity:
    entry: VaultEntry
    identity: dict[str, str] | None  # None: erased, or sealed data that does not open
    state: str  # on_file | erased | unreadable (altered, or sealed for another record)


class ReporterVault:
    def __init__(self, db: Any, master: DataKeys) -> None:
        self._ids = db[IDENTITIES]
        self._keys = db[KEYS]
        self._master = master

    @property
    def available(self) -> bool:
        return self._master.available

    def store(self, reporter_id: str, street_id: str, clue_id: str, identity: Mapping[str, str], now: str) -> None:
        """Seal and keep an identity. Idempotent: a retried report keeps the first sealing.

        The wrapped key is written before the sealed identity, so a crash in between leaves an
        unused key, never an identity that cannot be opened."""
        if not self.available:
            raise VaultUnavailable("no active data master key")
        if self._ids.find_one({"_id": reporter_id}, {"_id": 1}) is not None:
            return
        aad = reporter_id.encode()
        data_key = new_data_key()
        try:
            self._keys.insert_one({"_id": reporter_id, "wrapped": wrap(self._master, data_key, aad)})
        except DuplicateKeyError:  # a crash after the key: keep that key, seal under it
            data_key = self._data_key(reporter_id)
            if data_key is None:
                raise VaultUnavailable("the existing data key does not open") from None
        plaintext = json.dumps(dict(identity), ensure_ascii=False, sort_keys=True).encode()
        try:
            self._ids.insert_one({"_id": reporter_id, "street_id": street_id, "clue_id": clue_id,
                                  "created_at": now, "erased_at": "", "sealed": seal(data_key, plaintext, aad)})
        except DuplicateKeyError:
            pass

    def locate(self, reporter_id: str) -> VaultEntry | None:
        """Where an identity belongs (street, clue), without opening it: for scope checks."""
        doc = self._ids.find_one({"_id": reporter_id}, {"sealed": 0})
        if doc is None:
            return None
        return VaultEntry(doc["_id"], doc["street_id"], doc["clue_id"], doc.get("created_at", ""),
                          doc.get("erased_at", ""))

    def open(self, reporter_id: str) -> OpenedIdentity | None:
        doc = self._ids.find_one({"_id": reporter_id})
        if doc is None:
            return None
        entry = VaultEntry(doc["_id"], doc["street_id"], doc["clue_id"], doc.get("created_at", ""),
                           doc.get("erased_at", ""))
        key = None if entry.erased_at else self._data_key(reporter_id)
        if key is None:
            return OpenedIdentity(entry, None, "erased")
        try:
            identity = json.loads(unseal(key, doc["sealed"], reporter_id.encode()))
        except SealError:
            return OpenedIdentity(entry, None, "unreadable")
        return OpenedIdentity(entry, identity, "on_file")

    def erase(self, reporter_id: str, now: str) -> None:
        """Destroy the identity's data key and mark it erased (idempotent)."""
        self._ids.update_one({"_id": reporter_id, "erased_at": ""}, {"$set": {"erased_at": now}})
        self._keys.delete_one({"_id": reporter_id})

    def _data_key(self, reporter_id: str) -> bytes | None:
        doc = self._keys.find_one({"_id": reporter_id})
        if doc is None:
            return None
        try:
            return unwrap(self._master, doc["wrapped"], reporter_id.encode())
        except MissingKey as exc:
            raise VaultUnavailable(str(exc)) from exc
        except SealError:
            return None


class VaultProvider(DependencyProvider):
    """One vault per process: the service's database and the master keys of FANGFEI_AUTH_KEYS_DIR."""

    handle = StoreHandle()

    def setup(self) -> None:
        master = DataKeys(AuthSettings.from_env().keys_dir)
        self.vault = ReporterVault(self.handle.open().db, master)

    def get_dependency(self, worker_ctx: Any) -> ReporterVault:
        return self.vault


def memory_vault(db: Any, keys_dir: str) -> ReporterVault:
    """A vault over a test store's database and a test key directory."""
    return ReporterVault(db, DataKeys(keys_dir))

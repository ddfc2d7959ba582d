"""Open the store a URI names: real MongoDB, the embedded durable store, or an in-memory twin.

- `mongodb://…` / `mongodb+srv://…`: pymongo against a MongoDB replica set (production).
- `embedded:<path>`: litemongo (mongomock's engine on SQLite): durable across SIGKILL, but one
  process per file and one OS thread per client (docs/adr/0002-embedded-mode.md).
- `memory:<name>`: litemongo's in-memory engine, for unit tests only.

On MongoDB each service has its own database (`fangfei_<service>`); an embedded file holds one
service only, so there the name does not matter.
"""

from __future__ import annotations

import os
from typing import Any

DEFAULT_DB = "fangfei"


class StoreUriError(ValueError):
    pass


def open_database(uri: str, db_name: str = DEFAULT_DB) -> tuple[Any, Any]:
    """Return (client, database) for `uri`; the caller closes the client."""
    if uri.startswith(("mongodb://", "mongodb+srv://")):
        import pymongo

        client: Any = pymongo.MongoClient(uri, tz_aware=False, serverSelectionTimeoutMS=10000)
        return client, client[db_name]
    if uri.startswith("embedded:"):
        import litemongo

        path = uri[len("embedded:"):]
        if not path:
            raise StoreUriError("embedded: needs a file path, e.g. embedded:var/data/intake.sqlite")
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        client = litemongo.connect(path)
        return client, client[db_name]
    if uri.startswith("memory:"):
        import litemongo

        client = litemongo.connect(f"{uri[len('memory:'):] or 'default'}?engine=memory")
        return client, client[db_name]
    raise StoreUriError(f"unsupported store URI {uri!r}: use mongodb://…, embedded:<path> or memory:<name>")

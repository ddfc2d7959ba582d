"""Shadow collections: build a new generation of some read models beside the live ones, in bulk,
then swap it in at once. The store port a rebuild writes through (docs/adr/0015-shadow-rebuild.md).

Why: a rebuild must not hold the live writers' lock while it writes a million rows, and a crash at
any point must leave either the old read models or the new ones, never a mix of the two.

Two adapters behind one interface:

- **file** (the embedded store, litemongo: one SQLite file per collection in the database's
  directory). The shadow is a sibling directory `<store>.rebuild/<tag>/<db>/` holding one new
  SQLite file per collection, written in bulk: litemongo's own key and BSON encoders, but many
  thousand rows per SQLite transaction (`executemany`) instead of one transaction per document.
  The swap replaces each live file by its shadow (`os.replace`, after closing the live handle;
  litemongo reopens it on the next access): no copy, milliseconds for any size.
- **collections** (MongoDB, and litemongo's memory engine in tests): shadow collections
  `<name>__shadow` in the same database, renamed onto the live names
  (`renameCollection(dropTarget=True)`).

Atomicity over several collections comes from a manifest, written by the caller **in one
document** before the first rename (`Shadow.manifest()`): once it is there, the swap only ever
rolls forward (`swap(db, manifest)` is idempotent and is called again by the next start, which
finishes a swap a crash interrupted); without it, the shadow is garbage (`discard`). The process
does not serve reads while it finishes a swap at start, and in-process readers never see the
swap half done (the file swap makes no call that yields to another green thread).
"""

from __future__ import annotations

import os
import pathlib
import shutil
from typing import Any, Callable, Iterable, Iterator, Mapping

SUFFIX = "__shadow"
_BATCH = 1000  # rows per SQLite transaction and per yield to the other green threads (~20 ms of work)
BULK_CACHE_KIB = 64 * 1024  # SQLite page cache per shadow file while it is written (used as it fills)


def _file_store(db: Any) -> Any:
    """litemongo's SQLite database store behind `db`, or None for any other engine."""
    store = getattr(db, "_store", None)
    try:
        from litemongo import sqlite_store
    except ImportError:  # pragma: no cover - litemongo is always installed here
        return None
    return store if isinstance(store, sqlite_store.DatabaseStore) else None


def kind_of(db: Any) -> str:
    return "file" if _file_store(db) is not None else "collections"


class Renamed:
    """A database whose `names` resolve to their shadow collections (for index creation and the
    guarded upserts of a catch-up, which take a database)."""

    def __init__(self, db: Any, names: Iterable[str], suffix: str = SUFFIX) -> None:
        self._db, self._names, self._suffix = db, frozenset(names), suffix

    def __getitem__(self, name: str) -> Any:
        return self._db[name + self._suffix if name in self._names else name]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


class Shadow:
    """A new generation of `collections`, being written. `db` reads and writes it like a database."""

    def __init__(self, live: Any, collections: Iterable[str], tag: str,
                 pause: Callable[[], None] = lambda: None, warm_indexes: bool = False,
                 directory: str | None = None) -> None:
        """A new, empty shadow of `collections` of the database `live` (earlier shadows of a file
        store are removed). `directory`: instead, open the file shadow another process wrote and
        prepared there (`Shadow.at` + `prepare` in a rebuild worker), to finish it here."""
        self.live = live
        self.warm_indexes = warm_indexes
        self.collections = tuple(sorted(collections))
        self.tag = tag
        self.pause = pause
        self.kind = kind_of(live)
        self.loaded: set[str] = set()
        self.bulk: set[str] = set()  # collections whose shadow file is in bulk-load mode
        self.warm: dict[str, Any] = {}  # collection → litemongo query index, built while writing
        if self.kind == "file" and directory is not None:
            self.dir = pathlib.Path(directory)
            import litemongo

            self._client = litemongo.connect(str(self.dir.parent))
            self.db = self._client[live.name]
            self.bulk = set(self.collections)
            self.prepare()  # opening switched the files back to litemongo's WAL: durable writes again
            return
        if self.kind == "file":
            root = _rebuild_root(live)
            shutil.rmtree(root, ignore_errors=True)  # earlier shadows that never became a manifest
            self.dir = self.directory_for(live, tag)
            import litemongo

            self._client: Any = litemongo.connect(str(self.dir.parent))
            self.db = self._client[live.name]
        else:
            self.dir = None
            self._client = None
            for name in self.collections:
                live[name + SUFFIX].drop()
            self.db = Renamed(live, self.collections)

    @staticmethod
    def directory_for(live: Any, tag: str) -> pathlib.Path:
        """Where the file shadow `tag` of the embedded database `live` lives: `<store>.rebuild/<tag>/<db>/`."""
        return _rebuild_root(live) / tag / pathlib.Path(_file_store(live)._dirpath).name

    @classmethod
    def at(cls, directory: str, db_name: str, collections: Iterable[str], tag: str,
           pause: Callable[[], None] = lambda: None) -> "Shadow":
        """A new file shadow in `directory`, written without opening the live database: for a
        rebuild worker process (the live store belongs to the service process alone, ADR 0002).
        Such a shadow can be written, read and prepared; the service seals and swaps it
        (`Shadow(live, …, directory=…)`)."""
        import litemongo

        self = cls.__new__(cls)
        self.live = None
        self.warm_indexes = False
        self.collections = tuple(sorted(collections))
        self.tag = tag
        self.pause = pause
        self.kind = "file"
        self.loaded, self.bulk, self.warm = set(), set(), {}
        self.dir = pathlib.Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._client = litemongo.connect(str(self.dir.parent))
        self.db = self._client[db_name]
        return self

    def close(self) -> None:
        """Close the files (a rebuild worker hands its prepared shadow over to the service)."""
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- writing -----------------------------------------------------------------------------------
    def put_many(self, collection: str, docs: Iterable[Mapping[str, Any]]) -> int:
        """Insert or replace `docs` (whole documents with `_id`) in the shadow of `collection`."""
        self.loaded.add(collection)
        n = 0
        if self.kind == "file":
            store = self.db._store[collection]
            table = store._documents
            conn = store._connection
            sql = (f"INSERT INTO {store.DOCUMENTS} VALUES(?, ?) "  # litemongo's own upsert statement
                   f"ON CONFLICT({store.ID}) DO UPDATE SET {store.DOC}=excluded.{store.DOC}")
            # With `warm_indexes`, litemongo's query index (its in-process hash indexes, which every
            # query needs and builds by reading the whole file when it has none) is kept up to date
            # as the rows are written and handed to the live handle at the swap, so the first live
            # write after a swap does not index the collection first; it costs about 1 KiB of
            # memory per row (measured), hence off by default. Declare indexes before writing.
            index = store._get_query_index() if self.warm_indexes else None
            if collection not in self.bulk and not self.prepared:  # after `prepare`: durable writes
                self.bulk.add(collection)
                # A shadow is thrown away on any crash before `prepare`, so while it is written it
                # needs no journal and no syncs (each page is written once, not to the WAL and then
                # again), and a page cache big enough for the id index: rows arrive in id order per
                # group, but the groups interleave, and with SQLite's 2 MiB default each insert at
                # 1M rows missed the cache (the file's pages are allocated only as they are used).
                conn.execute("PRAGMA journal_mode=OFF")
                conn.execute("PRAGMA synchronous=OFF")
                conn.execute(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
            encode_key, encode_doc = _key_encoder(table), table._encode_doc
            for chunk in _chunks(docs, _BATCH):
                keyed = [(encode_key(d["_id"]), d) for d in chunk]
                with conn:
                    conn.executemany(sql, [(k, encode_doc(d)) for k, d in keyed])
                if index is not None:
                    for k, d in keyed:
                        index.add(k, d)
                n += len(chunk)
                self.pause()
            if index is not None:
                store._data_version = _data_version(conn)  # our own writes: the index is current
                self.warm[collection] = index
            else:
                store._query_index = None  # written on its own connection: drop any stale cache
            return n
        col = self.db[collection]
        bulk = getattr(col, "bulk_write", None) if _is_pymongo(self.live) else None
        for chunk in _chunks(docs, _BATCH if bulk else 500):
            if bulk is not None:
                from pymongo import ReplaceOne

                bulk([ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in chunk], ordered=False)
            else:  # mongomock's bulk_write breaks with pymongo >= 4.11 (docs/adr/0002)
                for d in chunk:
                    col.replace_one({"_id": d["_id"]}, dict(d), upsert=True)
            n += len(chunk)
            self.pause()
        return n

    def get(self, collection: str, doc_id: Any) -> dict[str, Any] | None:
        """A document already written to the shadow (None if there is none)."""
        if collection not in self.loaded:
            return None
        if self.kind == "file":
            try:
                return self.db._store[collection]._documents[doc_id]
            except KeyError:
                return None
        return self.db[collection].find_one({"_id": doc_id})

    def touch(self, collections: Iterable[str]) -> None:
        """Make sure each collection exists in the shadow, empty if nothing was written to it
        (so the swap replaces a live collection that has no rows any more by an empty one)."""
        for name in collections:
            if name not in self.loaded:
                self.loaded.add(name)
                if self.kind == "file":
                    self.db._store[name]  # creates the file with litemongo's tables
                elif name + SUFFIX not in self.live.list_collection_names():
                    self.live.create_collection(name + SUFFIX)

    def counts(self) -> dict[str, int]:
        """Documents per collection in the shadow (an SQL count on the embedded store)."""
        if self.kind == "file":
            return {name: len(self.db._store[name]._documents) for name in self.collections}
        return {name: self.db[name].count_documents({}) for name in self.collections}

    # -- finishing ---------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Make what is written so far durable and each file self-contained (its WAL folded in,
        rollback journal from now on), so `seal` has little left to do: called before the
        writers' lock is taken, it keeps the work under the lock short."""
        self.touch(self.collections)
        if self.kind != "file":
            return
        for name in self.collections:
            conn = self.db._store[name]._connection
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("PRAGMA journal_mode=DELETE")
            conn.execute("PRAGMA synchronous=FULL")  # the catch-up's writes from here on are durable
            conn.execute("PRAGMA cache_size=-2000")
            with open(self.dir / name, "rb") as fh:
                os.fsync(fh.fileno())
        self.prepared = True

    prepared = False

    def seal(self) -> dict[str, Any]:
        """Make the shadow complete and durable; returns the manifest the caller must store, in
        one document, before calling `swap` (the commit point)."""
        self.touch(self.collections)
        if self.kind == "file":
            self._client.close()
            self._client = None
            for name in self.collections:
                path = self.dir / name
                for side in ("-wal", "-shm"):
                    if os.path.exists(str(path) + side):  # closed cleanly, so there is none
                        raise RuntimeError(f"shadow file {path.name} still has its {side} after closing")
                if not self.prepared:  # prepared files were synced then; later commits synced themselves
                    with open(path, "rb") as fh:
                        os.fsync(fh.fileno())
            _fsync_dir(self.dir)
        return self.manifest()

    def scratch_dir(self) -> str | None:
        """Where a rebuild may keep temporary files beside the shadow, removed with it by `swap`
        and `discard` (a crash leaves nothing behind once the next start discards); None where the
        shadow has no directory (MongoDB: the system's temporary directory then)."""
        return str(self.dir.parent / "scratch") if self.dir is not None else None

    def manifest(self) -> dict[str, Any]:
        return {"kind": self.kind, "tag": self.tag, "collections": list(self.collections),
                "dir": str(self.dir) if self.dir else None}

    def discard(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        discard(self.live, self.manifest())


def swap(live: Any, manifest: Mapping[str, Any], after_each: Callable[[str], None] = lambda name: None,
         warm: Mapping[str, Any] | None = None) -> None:
    """Put a sealed shadow in place of the live collections. Idempotent: a swap interrupted by a
    crash is finished by calling it again with the same manifest (it only rolls forward).
    `warm`: the query indexes built while the shadow was written (`Shadow.warm`), given to the
    reopened live handles (without them each is rebuilt by reading its file on first use)."""
    names = list(manifest["collections"])
    if manifest["kind"] == "file":
        store = _file_store(live)
        live_dir = pathlib.Path(store._dirpath)
        shadow_dir = pathlib.Path(manifest["dir"])
        for name in names:
            source = shadow_dir / name
            if not source.exists():
                continue  # moved already, before a crash
            current = store._collections.pop(name, None)
            if current is not None and current._connection is not None:
                # closing folds its WAL into the old file, which is replaced next: no need to sync it
                current._connection.execute("PRAGMA synchronous=OFF")
                current.close()  # checkpoints and removes its -wal
            target = live_dir / name
            for side in ("-wal", "-shm"):  # a killed process's sidecars belong to the old file
                try:
                    os.remove(str(target) + side)
                except FileNotFoundError:
                    pass
            os.replace(source, target)
            if warm and name in warm:
                reopened = store[name]  # litemongo opens the new file
                reopened._query_index = warm[name]
                reopened._data_version = _data_version(reopened._connection)
            after_each(name)
        _fsync_dir(live_dir)
        shutil.rmtree(shadow_dir.parent.parent, ignore_errors=True)  # <store>.rebuild/
        return
    existing = set(live.list_collection_names())
    for name in names:
        if name + SUFFIX in existing:
            live[name + SUFFIX].rename(name, dropTarget=True)
            after_each(name)


def discard(live: Any, manifest: Mapping[str, Any] | None = None) -> None:
    """Remove a shadow that was never committed (or every leftover one, without a manifest)."""
    if kind_of(live) == "file":
        shutil.rmtree(_rebuild_root(live), ignore_errors=True)
        return
    names = manifest["collections"] if manifest else [n[: -len(SUFFIX)] for n in live.list_collection_names()
                                                        if n.endswith(SUFFIX)]
    for name in names:
        live[name + SUFFIX].drop()


def _rebuild_root(live: Any) -> pathlib.Path:
    server_dir = pathlib.Path(_file_store(live)._dirpath).parent  # <store path>, one per service
    return server_dir.with_name(server_dir.name + ".rebuild")


def _data_version(conn: Any) -> int:
    return conn.execute("PRAGMA data_version").fetchone()[0]


def _key_encoder(table: Any) -> Callable[[Any], str]:
    """litemongo's key encoding, with its commonest case (a string id, typed format) inlined."""
    from litemongo.sqlite_store import KEY_FORMAT_TYPED

    slow = table.encode_key
    if table.key_format != KEY_FORMAT_TYPED:
        return slow
    return lambda key: "s:" + key if type(key) is str else slow(key)


def _is_pymongo(db: Any) -> bool:
    return type(db).__module__.startswith("pymongo")


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _fsync_dir(path: pathlib.Path) -> None:
    fd = os.open(str(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = ["Renamed", "SUFFIX", "Shadow", "discard", "kind_of", "swap"]

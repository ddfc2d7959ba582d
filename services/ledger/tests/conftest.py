"""Ledger databases for the tests: the in-memory twin, and the embedded (SQLite) store that
production's embedded mode runs on, so the update operators are proven on both."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from fangfei.eventstore.connect import open_database

from .dbs import fresh_memory_db


@pytest.fixture
def new_db(tmp_path: Path) -> Iterator[Callable[[str], Any]]:
    """new_db("memory") or new_db("embedded"): an empty ledger database of that kind."""
    clients: list[Any] = []

    def make(kind: str) -> Any:
        if kind == "memory":
            return fresh_memory_db()
        client, db = open_database(f"embedded:{tmp_path / uuid.uuid4().hex}.sqlite", "fangfei_ledger")
        clients.append(client)
        return db

    yield make
    for client in clients:
        client.close()


@pytest.fixture(params=["memory", "embedded"])
def db(request: pytest.FixtureRequest, new_db: Callable[[str], Any]) -> Any:
    return new_db(request.param)

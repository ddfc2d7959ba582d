"""The event store contract and the shadow contract (rebuilds), run against each adapter: the in-memory twin and the embedded
SQLite-backed store always; a real MongoDB when FANGFEI_TEST_MONGO_URI names one."""

from __future__ import annotations

import os
import uuid
from typing import Any, Iterator

import pytest

from fangfei.eventstore.connect import open_database
from fangfei.testing.eventstore_contract import EventStoreContract, ShadowContract


class TestMemoryStore(EventStoreContract, ShadowContract):
    @pytest.fixture
    def db(self) -> Any:
        self.name = f"memory:{uuid.uuid4().hex}"
        return open_database(self.name)[1]

    @pytest.fixture
    def reopen(self) -> Any:
        return lambda: open_database(self.name)[1]


class TestEmbeddedStore(EventStoreContract, ShadowContract):
    @pytest.fixture
    def db(self, tmp_path: Any) -> Iterator[Any]:
        self.uri = f"embedded:{tmp_path / 'store.sqlite'}"
        self.clients = []
        client, db = open_database(self.uri)
        self.clients.append(client)
        yield db
        for c in self.clients:
            c.close()

    @pytest.fixture
    def reopen(self) -> Any:
        def again() -> Any:
            self.clients[0].close()  # one client per file, as in a service process
            client, db = open_database(self.uri)
            self.clients.append(client)
            return db

        return again


@pytest.mark.mongo
@pytest.mark.skipif(not os.environ.get("FANGFEI_TEST_MONGO_URI"), reason="FANGFEI_TEST_MONGO_URI not set: no MongoDB here")
class TestMongoStore(EventStoreContract, ShadowContract):
    @pytest.fixture
    def db(self) -> Iterator[Any]:
        self.db_name = f"fangfei_test_{uuid.uuid4().hex[:8]}"
        self.client, db = open_database(os.environ["FANGFEI_TEST_MONGO_URI"], self.db_name)
        yield db
        self.client.drop_database(self.db_name)
        self.client.close()

    @pytest.fixture
    def reopen(self) -> Any:
        return lambda: open_database(os.environ["FANGFEI_TEST_MONGO_URI"], self.db_name)[1]

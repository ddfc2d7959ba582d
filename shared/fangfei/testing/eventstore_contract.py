"""The event store contract: every adapter (in-memory twin, embedded file, MongoDB) must pass it.

Use by subclassing `EventStoreContract` and providing an `open_store` fixture that returns a
fresh (client, db) pair, and a `reopen` fixture that opens the same data again.

The tamper tests (A1) change what an adapter stored behind the store's back, the way someone with
database access would, and expect `verify_chains` to name the stream and version."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable

import pytest

from ..eventstore.store import ConcurrencyConflict, EventStore, POSITION_COUNTER, commit_hash, verify_chains
from ..events import EventError, new_event

NOW = datetime(2026, 3, 14, 1, 0, tzinfo=timezone.utc)


def street_event(stream: str, name: str, pad: int = 0) -> Any:
    return new_event(
        "roster.street_registered", stream, "longgang", {"street_id": "longgang", "name": name + "x" * pad},
        actor="test", occurred_at=NOW,
    )


class EventStoreContract:
    open_db: Callable[[], Any]

    @pytest.fixture
    def store(self, db: Any) -> EventStore:
        return EventStore(db)

    def test_append_then_read_gives_the_events_in_order(self, store: EventStore) -> None:
        commit = store.append("street-a", 0, [street_event("street-a", "一"), street_event("street-a", "二")])
        assert (commit.first_version, commit.last_version) == (1, 2)
        events = store.read_stream("street-a")
        assert [(e.stream_version, e.payload["name"]) for e in events] == [(1, "一"), (2, "二")]
        assert all(e.recorded_at for e in events)

    def test_stale_expected_version_is_a_conflict_and_writes_nothing(self, store: EventStore) -> None:
        store.append("street-a", 0, [street_event("street-a", "一")])
        with pytest.raises(ConcurrencyConflict) as err:
            store.append("street-a", 0, [street_event("street-a", "二")])
        assert (err.value.expected, err.value.actual) == (0, 1)
        assert len(store.read_stream("street-a")) == 1

    def test_two_writers_racing_on_one_stream_cannot_both_win(self, db: Any) -> None:
        a, b = EventStore(db), EventStore(db)
        a.append("street-a", 0, [street_event("street-a", "一")])
        b._head = lambda stream_id: None  # type: ignore[method-assign]  # b read before a wrote
        with pytest.raises(ConcurrencyConflict):
            b.append("street-a", 0, [street_event("street-a", "乙")])
        assert [e.payload["name"] for e in a.read_stream("street-a")] == ["一"]

    def test_oversize_event_is_refused_and_nothing_is_written(self, db: Any) -> None:
        store = EventStore(db, max_event_bytes=450)
        with pytest.raises(EventError):  # the second event of the commit is too large: none is kept
            store.append("street-a", 0, [street_event("street-a", "一"), street_event("street-a", "二", pad=95)])
        assert store.read_stream("street-a") == [] and store.head_position() == 0

    def test_positions_grow_and_holes_are_tolerated(self, store: EventStore, db: Any) -> None:
        store.append("street-a", 0, [street_event("street-a", "一")])
        db["counters"].update_one({"_id": POSITION_COUNTER}, {"$inc": {"value": 1}})  # a burned position
        store.append("street-b", 0, [street_event("street-b", "二")])
        assert store.head_position() == 3
        assert [c.position for c in store.read_positions(range(1, 4))] == [1, 3]
        assert [c.stream_id for c in store.iter_all(batch=2)] == ["street-a", "street-b"]

    def test_data_survives_reopening(self, store: EventStore, reopen: Callable[[], Any]) -> None:
        store.append("street-a", 0, [street_event("street-a", "一")])
        again = EventStore(reopen())
        assert [e.payload["name"] for e in again.read_stream("street-a")] == ["一"]
        again.append("street-a", 1, [street_event("street-a", "二")])
        assert again.head_position() == 2

    # -- tamper evidence (A1) ---------------------------------------------------------------------
    @pytest.fixture
    def filled(self, store: EventStore) -> EventStore:
        """street-a: versions 1 | 2,3 | 4 (three commits); street-b: version 1."""
        store.append("street-a", 0, [street_event("street-a", "一")])
        store.append("street-a", 1, [street_event("street-a", "二"), street_event("street-a", "三")])
        store.append("street-a", 3, [street_event("street-a", "四")])
        store.append("street-b", 0, [street_event("street-b", "乙")])
        return store

    @staticmethod
    def _commit(db: Any, stream: str, seq: int) -> dict[str, Any]:
        doc = db["commits"].find_one({"stream_id": stream, "commit_seq": seq})
        assert doc is not None
        return dict(doc)

    @staticmethod
    def _names(report: Any) -> set[tuple[str, int]]:
        return {(p.stream_id, p.version) for p in report.problems}

    def test_an_untouched_store_verifies(self, filled: EventStore, db: Any) -> None:
        report = verify_chains(db)
        assert report.ok, report.problems
        assert (report.streams, report.commits) == (2, 4)
        assert report.heads["street-a"]["version"] == 4

    def test_altering_one_stored_event_names_its_stream_and_version(self, filled: EventStore, db: Any) -> None:
        doc = self._commit(db, "street-a", 2)
        doc["events"][1]["payload"]["name"] = "篡改"
        db["commits"].replace_one({"_id": doc["_id"]}, doc)
        report = verify_chains(db)
        assert not report.ok
        assert self._names(report) == {("street-a", 2)}
        assert "altered" in str(report.problems[0])

    def test_altering_and_rehashing_a_commit_is_caught_by_the_next_one(self, filled: EventStore, db: Any) -> None:
        doc = self._commit(db, "street-a", 1)
        doc["events"][0]["actor"] = "someone-else"
        doc["hash"] = commit_hash(doc)
        db["commits"].replace_one({"_id": doc["_id"]}, doc)
        assert self._names(verify_chains(db)) == {("street-a", 1)}

    def test_deleting_a_commit_names_the_missing_versions(self, filled: EventStore, db: Any) -> None:
        db["commits"].delete_one({"stream_id": "street-a", "commit_seq": 2})
        report = verify_chains(db)
        assert self._names(report) == {("street-a", 2)}
        assert "missing" in str(report.problems[0])

    def test_reordering_events_is_caught(self, filled: EventStore, db: Any) -> None:
        doc = self._commit(db, "street-a", 2)
        doc["events"].reverse()
        db["commits"].replace_one({"_id": doc["_id"]}, doc)
        assert ("street-a", 2) in self._names(verify_chains(db))

    def test_swapping_two_commits_is_caught(self, filled: EventStore, db: Any) -> None:
        one, four = self._commit(db, "street-a", 1), self._commit(db, "street-a", 3)
        for a, b in ((one, four), (four, one)):
            swapped = dict(b, _id=a["_id"], commit_seq=a["commit_seq"])
            db["commits"].replace_one({"_id": a["_id"]}, swapped)
        assert not verify_chains(db).ok

    def test_stripping_the_hash_is_not_a_way_out(self, filled: EventStore, db: Any) -> None:
        doc = self._commit(db, "street-a", 3)
        doc["events"][0]["payload"]["name"] = "篡改"
        del doc["hash"]
        db["commits"].replace_one({"_id": doc["_id"]}, doc)
        assert ("street-a", 4) in self._names(verify_chains(db))
        assert ("street-a", 4) in self._names(verify_chains(db, allow_unchained=True))

    def test_truncation_is_caught_against_exported_heads(self, filled: EventStore, db: Any) -> None:
        heads = verify_chains(db).heads
        db["commits"].delete_one({"stream_id": "street-a", "commit_seq": 3})
        assert verify_chains(db).ok  # a shorter chain is still a valid chain on its own …
        report = verify_chains(db, heads)  # … but not against what was exported
        assert self._names(report) == {("street-a", 4)}
        assert "truncated" in str(report.problems[0])

    def test_a_deleted_stream_is_caught_against_exported_heads(self, filled: EventStore, db: Any) -> None:
        heads = verify_chains(db).heads
        db["commits"].delete_many({"stream_id": "street-b"})
        assert self._names(verify_chains(db, heads)) == {("street-b", 1)}

    def test_a_rewritten_and_rehashed_tail_is_caught_against_exported_heads(self, filled: EventStore, db: Any) -> None:
        heads = verify_chains(db).heads
        doc = self._commit(db, "street-a", 3)
        doc["events"][0]["payload"]["name"] = "篡改"
        doc["hash"] = commit_hash(doc)
        db["commits"].replace_one({"_id": doc["_id"]}, doc)
        assert verify_chains(db).ok  # the last link has nothing after it to contradict it
        assert self._names(verify_chains(db, heads)) == {("street-a", 4)}

    def test_new_appends_after_an_export_still_verify(self, filled: EventStore, db: Any) -> None:
        heads = verify_chains(db).heads
        filled.append("street-a", 4, [street_event("street-a", "五")])
        filled.append("street-c", 0, [street_event("street-c", "丙")])
        assert verify_chains(db, heads).ok



class ShadowContract:
    """The shadow port (`fangfei.eventstore.shadow`), held to the same behaviour on every adapter:
    a shadow replaces exactly the collections it names, in one step as far as anyone reading
    can tell, a swap interrupted anywhere finishes when called again, and an uncommitted shadow
    leaves the live collections as they were. Subclasses give `db` and `reopen` fixtures."""

    NAMES = ("rm_a", "rm_b", "rm_c")

    def _live(self, db: Any) -> None:
        db["rm_a"].insert_many([{"_id": f"a{i}", "v": "old"} for i in range(5)])
        db["rm_b"].insert_one({"_id": "b0", "v": "old"})
        db["rm_c"].insert_one({"_id": "c0", "v": "old"})  # the new generation has no rows here
        db["other"].insert_one({"_id": "o", "v": "kept"})

    def _shadow(self, db: Any) -> Any:
        from ..eventstore.shadow import Shadow

        shadow = Shadow(db, self.NAMES, "t1")
        shadow.db["rm_a"].create_index("v")
        assert shadow.put_many("rm_a", ({"_id": f"a{i}", "v": "new", "n": i} for i in range(12_000))) == 12_000
        shadow.put_many("rm_a", [{"_id": "a3", "v": "new", "n": -3}])  # replaces, as a spill does
        shadow.put_many("rm_b", [{"_id": "b9", "v": "new"}])
        return shadow

    def _assert_new(self, db: Any) -> None:
        assert db["rm_a"].count_documents({}) == 12_000
        assert db["rm_a"].find_one({"_id": "a3"}) == {"_id": "a3", "v": "new", "n": -3}
        assert db["rm_a"].find_one({"_id": "a11999"})["v"] == "new"
        assert db["rm_a"].count_documents({"v": "old"}) == 0
        assert [d["_id"] for d in db["rm_b"].find({})] == ["b9"]
        assert db["rm_c"].count_documents({}) == 0
        assert db["other"].find_one({"_id": "o"})["v"] == "kept"
        assert "v_1" in db["rm_a"].index_information()

    def _assert_old(self, db: Any) -> None:
        assert sorted(d["_id"] for d in db["rm_a"].find({})) == [f"a{i}" for i in range(5)]
        assert db["rm_b"].find_one({"_id": "b0"})["v"] == "old"
        assert db["rm_c"].find_one({"_id": "c0"})["v"] == "old"

    def test_a_sealed_shadow_replaces_exactly_its_collections(self, db: Any, reopen: Any) -> None:
        from ..eventstore.shadow import swap

        self._live(db)
        shadow = self._shadow(db)
        assert shadow.get("rm_a", "a3")["n"] == -3 and shadow.get("rm_a", "zz") is None
        self._assert_old(db)  # nothing live changes while the shadow is written
        assert shadow.counts() == {"rm_a": 12_000, "rm_b": 1, "rm_c": 0}
        swap(db, shadow.seal())
        self._assert_new(db)
        db["rm_a"].update_one({"_id": "a1"}, {"$set": {"v": "live"}})  # the live handle writes on
        db = reopen()
        self._assert_new_after_write(db)

    def _assert_new_after_write(self, db: Any) -> None:
        assert db["rm_a"].find_one({"_id": "a1"})["v"] == "live"
        assert db["rm_a"].count_documents({}) == 12_000

    def test_a_swap_interrupted_midway_finishes_when_called_again(self, db: Any, reopen: Any) -> None:
        from ..eventstore.shadow import swap

        self._live(db)
        manifest = self._shadow(db).seal()

        class Crash(Exception):
            pass

        def crash_after_first(name: str) -> None:
            raise Crash(name)

        with pytest.raises(Crash):
            swap(db, manifest, after_each=crash_after_first)
        db = reopen()  # a new process, as after a SIGKILL
        swap(db, manifest)
        self._assert_new(db)
        swap(db, manifest)  # and once more: nothing left to do, nothing changes
        self._assert_new(db)

    def test_an_uncommitted_shadow_is_thrown_away_and_the_live_collections_stay(self, db: Any, reopen: Any) -> None:
        from ..eventstore.shadow import discard

        self._live(db)
        shadow = self._shadow(db)
        shadow.discard()
        self._assert_old(db)
        self._shadow(db)  # killed while writing: the next start throws it away without a manifest
        db = reopen()
        discard(db)
        self._assert_old(db)
        assert not [n for n in db.list_collection_names() if n.endswith("__shadow")]

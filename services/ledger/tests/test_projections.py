"""线索核查台账 rows: whatever order and however often the events arrive, a clue's row says the
same thing, on the in-memory and on the embedded store alike."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo.errors import DuplicateKeyError

from services.ledger.projections import COLLECTION, apply_case_opened, apply_clue_reported, get_row
from services.ledger.upserts import Upsert, write

from .factories import case_opened, clue_reported


def stored(db: Any, clue_id: str = "c001") -> dict[str, Any]:
    return db[COLLECTION].find_one({"_id": clue_id})


def test_reported_clue_appears_with_its_facts_and_chinese_labels(db) -> None:
    assert apply_clue_reported(db, clue_reported()) is True
    row = get_row(db, "c001")
    assert row["status"] == "reported" and row["status_label"] == "已上报"
    assert row["category_label"] == "非法金融活动" and row["source_label"] == "12345热线"
    assert row["street_id"] == "longgang" and row["community_id"] == "magang"
    assert row["found_at"] == "2026-03-14T01:30:00.000Z"  # stored in UTC whatever offset was typed
    assert row["reported_at"] == "2026-03-14T01:00:00.000Z"
    assert row["case_id"] is None and row["level_label"] == ""
    assert "_applied" not in row


def test_clue_then_case_routes_the_row(db) -> None:
    apply_clue_reported(db, clue_reported())
    assert apply_case_opened(db, case_opened(routing_note="一级网格网格长空缺")) is True
    row = get_row(db, "c001")
    assert row["status"] == "routed" and row["status_label"] == "已分派"
    assert row["case_id"] == "k-c001" and row["level"] == 3 and row["level_label"] == "三级网格"
    assert row["assignee_person_id"] == "p-zhangwangge01"
    assert row["register_deadline"] == "2026-03-14T05:30:00.000Z"
    assert row["routing_note"] == "一级网格网格长空缺"
    assert row["title"] == "某理财工作室承诺保本高息"


def test_case_before_clue_builds_the_same_row(new_db) -> None:
    in_order, reversed_ = new_db("memory"), new_db("memory")
    apply_clue_reported(in_order, clue_reported())
    apply_case_opened(in_order, case_opened())
    apply_case_opened(reversed_, case_opened())
    apply_clue_reported(reversed_, clue_reported())
    assert stored(reversed_) == stored(in_order)


def test_case_alone_already_shows_under_its_street_and_community(db) -> None:
    apply_case_opened(db, case_opened(level=4, assignee_person_id="", routing_note="转区处非办"))
    row = get_row(db, "c001")
    assert (row["street_id"], row["community_id"], row["status"]) == ("longgang", "magang", "routed")
    assert row["level_label"] == "区处非办" and row["title"] is None


def test_status_does_not_go_back_when_the_report_arrives_last(db) -> None:
    apply_case_opened(db, case_opened())
    apply_clue_reported(db, clue_reported())
    assert get_row(db, "c001")["status"] == "routed"


@pytest.mark.parametrize("case_first", [True, False], ids=["case-first", "clue-first"])
def test_the_clues_own_facts_win_over_what_the_case_copied(db, case_first: bool) -> None:
    case = case_opened(street_id="stale-street", community_id="stale-copy", found_at="2026-03-13T00:00:00Z")
    if case_first:
        apply_case_opened(db, case)
    apply_clue_reported(db, clue_reported(community_id="magang"))
    if not case_first:
        apply_case_opened(db, case)
    row = get_row(db, "c001")
    assert (row["street_id"], row["community_id"]) == ("longgang", "magang")
    assert row["found_at"] == "2026-03-14T01:30:00.000Z"


def test_duplicate_delivery_is_applied_once(db) -> None:
    clue, case = clue_reported(), case_opened()
    assert apply_clue_reported(db, clue) is True
    assert apply_case_opened(db, case) is True
    before = stored(db)
    assert apply_clue_reported(db, clue) is False
    assert apply_case_opened(db, case) is False
    assert stored(db) == before
    assert db[COLLECTION].count_documents({}) == 1


def test_a_redelivered_old_version_does_not_overwrite_a_newer_one(db) -> None:
    apply_clue_reported(db, clue_reported(version=2, title="更正后的标题"))
    assert apply_clue_reported(db, clue_reported(version=1, title="最初的标题")) is False
    assert get_row(db, "c001")["title"] == "更正后的标题"


def test_stream_ids_with_dots_are_guarded_like_any_other(db) -> None:
    event = clue_reported("c.2026.001")
    assert apply_clue_reported(db, event) is True
    assert apply_clue_reported(db, event) is False
    assert get_row(db, "c.2026.001")["status"] == "reported"


class _RacingCollection:
    """A collection where another writer creates the row just before our first upsert lands,
    as two consumer processes can (MongoDB then answers the loser with a DuplicateKeyError)."""

    def __init__(self, real: Any, rival: Upsert, db: Any) -> None:
        self._real, self._rival, self._db, self._raced = real, rival, db, False

    def update_one(self, *args: Any, **kwargs: Any) -> Any:
        if not self._raced:
            self._raced = True
            write(self._db, self._rival)
            raise DuplicateKeyError("E11000 duplicate key error")
        return self._real.update_one(*args, **kwargs)

    def find_one(self, *args: Any, **kwargs: Any) -> Any:
        return self._real.find_one(*args, **kwargs)


def test_losing_an_insert_race_still_applies_the_event(db) -> None:
    from services.ledger.projections import plan_case_opened, plan_clue_reported

    racing = _RacingCollection(db[COLLECTION], plan_case_opened(case_opened()), db)
    view = {COLLECTION: racing}
    assert write(view, plan_clue_reported(clue_reported())) is True
    row = get_row(db, "c001")
    assert row["status"] == "routed" and row["title"] == "某理财工作室承诺保本高息"

"""End to end through all five services as real `nameko run` processes over a real broker:
a clue POSTed to intake becomes a case routed to the level-3 grid chief, a row in the
clue-verification ledger and one delivery to that chief; crashes and restarts lose nothing and
apply nothing twice; bad input is refused with nothing recorded."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Iterator

import pytest

from fangfei.clock import SHANGHAI
from fangfei.cli import seed_demo
from fangfei.devstack.stack import Stack
from fangfei.testing.client import call
from fangfei.testing.kafka import wait_until

pytestmark = pytest.mark.integration

STREET = "longgang"
DEADLINE_S = 60.0  # generous: a consumer-group rejoin on Tansu takes seconds (not a latency claim)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = Stack(str(tmp_path_factory.mktemp("stack")), extra_env={
        "FANGFEI_BLOCKING_DETECTION_S": "2",
        "FANGFEI_CONSUMER_SESSION_TIMEOUT_MS": "6000",
    })
    s.start(timeout_s=120)
    seed_demo(s.services["roster"].url)
    yield s
    s.stop()


def url(stack: Stack, service: str, path: str) -> str:
    return stack.services[service].url + path


def clue(community: str = "magang", **over: Any) -> dict[str, Any]:
    body = {
        "street_id": STREET, "community_id": community, "category": "illegal_finance", "source": "grid_patrol",
        "title": "门店宣传保本高息理财", "description": "网格员巡查发现某门店宣传年化18%保本理财产品",
        "found_at": (datetime.now(SHANGHAI) - timedelta(minutes=5)).replace(microsecond=0).isoformat(),
    }
    body.update(over)
    return body


def post_clue(stack: Stack, **over: Any) -> str:
    status, body = call("POST", url(stack, "intake", "/api/clues"), clue(**over),
                        headers={"Idempotency-Key": uuid.uuid4().hex})
    assert status == 201, body
    return str(body["clue_id"])


def chief_of(stack: Stack, community: str) -> str:
    status, body = call("GET", url(stack, "roster", f"/api/roster/route?street_id={STREET}&community_id={community}"))
    assert status == 200, body
    assert body["level"] == 3, body
    return str(body["person_id"])


def ledger_row(stack: Stack, clue_id: str) -> dict[str, Any] | None:
    status, body = call("GET", url(stack, "ledger", f"/api/ledgers/clue-verification/{clue_id}"))
    return body if status == 200 else None


def ledger_rows(stack: Stack) -> list[dict[str, Any]]:
    status, body = call("GET", url(stack, "ledger", f"/api/ledgers/clue-verification?street_id={STREET}&page_size=200"))
    assert status == 200, body
    return list(body["rows"])


def deliveries(stack: Stack, recipient: str | None = None) -> list[dict[str, Any]]:
    query = f"?recipient_id={recipient}" if recipient else ""
    status, body = call("GET", url(stack, "notification", "/api/deliveries" + query))
    assert status == 200, body
    return list(body["deliveries"] if isinstance(body, dict) else body)


def routed(stack: Stack, clue_id: str) -> dict[str, Any] | None:
    row = ledger_row(stack, clue_id)
    return row if row and row.get("case_id") else None


def test_a_clue_reaches_the_ledger_and_its_grid_chief(stack: Stack) -> None:
    chief = chief_of(stack, "magang")
    clue_id = post_clue(stack)
    row = wait_until(lambda: routed(stack, clue_id), DEADLINE_S, "ledger row with its case")
    assert row["assignee_person_id"] == chief
    assert row["community_id"] == "magang"
    mine = wait_until(lambda: [d for d in deliveries(stack, chief) if row["case_id"] in d["body"] + d.get("source_event_id", "")
                               or d.get("case_id") == row["case_id"]] or None, DEADLINE_S, "delivery to the chief")
    assert len(mine) == 1


@pytest.mark.parametrize(
    "body, raw",
    [
        ({k: v for k, v in clue().items() if k != "title"}, None),
        (clue(category=5), None),
        (clue(street="x"), None),
        (None, b'{"title": "' + b"x" * (10 * 1024 * 1024) + b'"}'),
    ],
    ids=["missing-field", "wrong-type", "unknown-field", "10MB-body"],
)
def test_bad_input_gets_a_clear_4xx_and_nothing_is_recorded(stack: Stack, body: Any, raw: bytes | None) -> None:
    before = call("GET", url(stack, "intake", "/health"))[1]["store"]["head_position"]
    status, answer = call("POST", url(stack, "intake", "/api/clues"), body, raw=raw)
    assert 400 <= status < 500
    assert answer["error"]["message"]
    assert call("GET", url(stack, "intake", "/health"))[1]["store"]["head_position"] == before


def _exactly_once(stack: Stack, clue_ids: list[str]) -> bool:
    rows = ledger_rows(stack)
    ids = [r["clue_id"] for r in rows]
    return all(ids.count(c) == 1 for c in clue_ids) and all(routed(stack, c) for c in clue_ids)


def test_ledger_killed_with_sigkill_catches_up_exactly_once(stack: Stack) -> None:
    first = post_clue(stack)
    wait_until(lambda: routed(stack, first), DEADLINE_S, "first clue in the ledger")
    stack.kill_service("ledger")
    later = [post_clue(stack, community="luogang"), post_clue(stack, community="hupo")]
    stack.start_service("ledger", timeout_s=120)
    wait_until(lambda: _exactly_once(stack, [first, *later]), DEADLINE_S, "all clues once in the ledger")
    rows = ledger_rows(stack)
    assert len(rows) == len({r["clue_id"] for r in rows})


def test_notification_killed_with_sigkill_loses_and_repeats_nothing(stack: Stack) -> None:
    stack.kill_service("notification")
    clue_ids = [post_clue(stack, community="wanggang"), post_clue(stack, community="haizhou")]
    cases = [wait_until(lambda c=c: routed(stack, c), DEADLINE_S, "case opened")["case_id"] for c in clue_ids]
    stack.start_service("notification", timeout_s=120)

    def per_case() -> dict[str, int] | None:
        all_d = deliveries(stack)
        counts = {case: sum(1 for d in all_d if case in (d.get("case_id", "") + d["body"])) for case in cases}
        return counts if all(counts.values()) else None

    counts = wait_until(per_case, DEADLINE_S, "deliveries after restart")
    assert counts == {case: 1 for case in cases}
    ids = [d["delivery_id"] for d in deliveries(stack)]
    assert len(ids) == len(set(ids))


def test_whole_platform_restart_keeps_every_clue_exactly_once(stack: Stack) -> None:
    clue_id = post_clue(stack, community="youfang")
    wait_until(lambda: routed(stack, clue_id), DEADLINE_S, "clue routed before the restart")
    before_rows = {r["clue_id"] for r in ledger_rows(stack)}
    before_deliveries = sorted(d["delivery_id"] for d in deliveries(stack))
    stack.stop()  # services and the in-memory broker: everything not in the stores is gone
    stack.start(timeout_s=120)
    seed_demo(stack.services["roster"].url)  # `make run` seeds again on every start: must change nothing
    stack.wait_quiet(DEADLINE_S)  # every event republished to the new broker and consumed again
    assert {r["clue_id"] for r in ledger_rows(stack)} == before_rows and len(ledger_rows(stack)) == len(before_rows)
    assert sorted(d["delivery_id"] for d in deliveries(stack)) == before_deliveries
    status, body = call("GET", url(stack, "intake", f"/api/clues/{clue_id}"))
    assert status == 200 and body["version"] == 1
    after = post_clue(stack, community="xinzhan")  # and the platform still works after the restart
    wait_until(lambda: routed(stack, after), DEADLINE_S, "a new clue after the restart")

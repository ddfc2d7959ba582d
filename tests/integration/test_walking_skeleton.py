"""End to end through all five services as real `nameko run` processes over a real broker:
a clue POSTed to intake becomes a case routed to the level-3 grid chief, a row in the
clue-verification ledger and one delivery to that chief; crashes and restarts lose nothing and
apply nothing twice; bad input is refused with nothing recorded. Every request carries a token
minted from the stack's key directory; every clue names a (synthetic) reporter, and at the end
nothing published to Kafka holds that reporter's name, phone or ID number in clear."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Iterator

import pytest

from fangfei.clock import SHANGHAI
from fangfei.cli import seed_demo
from fangfei.auth.formats import id_check_char
from fangfei.devstack.stack import Stack
from fangfei.testing.auth import TokenMinter
from fangfei.testing.client import call
from fangfei.testing.kafka import wait_until
from fangfei.testing.leaks import find, read_everything

pytestmark = pytest.mark.integration

STREET = "longgang"
DEADLINE_S = 60.0  # generous: a consumer-group rejoin on Tansu takes seconds (not a latency claim)
# A synthetic reporter: region code 99 does not exist, the phone is an obvious placeholder (137-0000-9xxx:
# apart from the roster demo's 139-0000-00xx work phones, so a hit can only be the reporter).
REPORTER = {"name": "测试举报人丙", "phone": "137-0000-9002",
            "id_number": "99010119850202003" + id_check_char("99010119850202003")}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = Stack(str(tmp_path_factory.mktemp("stack")), extra_env={
        "FANGFEI_BLOCKING_DETECTION_S": "2",
        "FANGFEI_CONSUMER_SESSION_TIMEOUT_MS": "6000",
    })
    s.start(timeout_s=120)
    seed_demo(s.services["roster"].url, token=TokenMinter(s.keys_dir).token("district_office"))
    s.wait_quiet(60)  # escalation routes from its roster replica: let the demo roster reach it first
    yield s
    s.stop()


def auth(stack: Stack, role: str = "street_office", **kw: Any) -> dict[str, str]:
    """A token from the stack's own key directory (TokenMinter defaults: street longgang)."""
    return TokenMinter(stack.keys_dir).headers(role, **kw)


def url(stack: Stack, service: str, path: str) -> str:
    return stack.services[service].url + path


def clue(community: str = "magang", **over: Any) -> dict[str, Any]:
    body = {
        "community_id": community, "category": "illegal_finance", "source": "grid_patrol",
        "title": "门店宣传保本高息理财", "description": "网格员巡查发现某门店宣传年化18%保本理财产品",
        "found_at": (datetime.now(SHANGHAI) - timedelta(minutes=5)).replace(microsecond=0).isoformat(),
    }
    body.update(over)
    return body


def post_clue(stack: Stack, community: str = "magang", **over: Any) -> str:
    """Report a clue as a grid worker of `community`, naming the synthetic reporter."""
    headers = {"Idempotency-Key": uuid.uuid4().hex, **auth(stack, "grid_staff", community=community)}
    status, body = call("POST", url(stack, "intake", "/api/clues"), clue(community, reporter=REPORTER, **over),
                        headers=headers)
    assert status == 201, body
    return str(body["clue_id"])


def chief_of(stack: Stack, community: str) -> str:
    status, body = call("GET", url(stack, "roster", f"/api/roster/route?street_id={STREET}&community_id={community}"),
                        headers=auth(stack))
    assert status == 200, body
    assert body["level"] == 3, body
    return str(body["person_id"])


def ledger_row(stack: Stack, clue_id: str) -> dict[str, Any] | None:
    status, body = call("GET", url(stack, "ledger", f"/api/ledgers/clue-verification/{clue_id}"), headers=auth(stack))
    return body if status == 200 else None


def ledger_rows(stack: Stack) -> list[dict[str, Any]]:
    status, body = call("GET", url(stack, "ledger", "/api/ledgers/clue-verification?page_size=200"),
                        headers=auth(stack))
    assert status == 200, body
    return list(body["rows"])


def deliveries(stack: Stack, recipient: str | None = None) -> list[dict[str, Any]]:
    query = f"?recipient_id={recipient}" if recipient else ""
    status, body = call("GET", url(stack, "notification", "/api/deliveries" + query), headers=auth(stack))
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
        (clue(street_id="pingshan"), None),
        (clue(reporter={"phone": "12345"}), None),
        (None, b'{"title": "' + b"x" * (10 * 1024 * 1024) + b'"}'),
    ],
    ids=["missing-field", "wrong-type", "unknown-field", "sets-street", "bad-phone", "10MB-body"],
)
def test_bad_input_gets_a_clear_4xx_and_nothing_is_recorded(stack: Stack, body: Any, raw: bytes | None) -> None:
    before = call("GET", url(stack, "intake", "/health"))[1]["store"]["head_position"]
    status, answer = call("POST", url(stack, "intake", "/api/clues"), body, raw=raw,
                          headers=auth(stack, "grid_staff"))
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
    case_id = wait_until(lambda: routed(stack, clue_id), DEADLINE_S, "clue routed before the restart")["case_id"]
    # and delivered: the snapshot below must not race the notification consumer
    wait_until(lambda: [d for d in deliveries(stack) if case_id in d.get("case_id", "") + d["body"]],
               DEADLINE_S, "the case delivered before the restart")
    before_rows = {r["clue_id"] for r in ledger_rows(stack)}
    # deliveries caused by cases (clock-driven notices, e.g. report reminders, may come with time)
    case_deliveries = lambda: sorted(d["delivery_id"] for d in deliveries(stack)  # noqa: E731
                                     if d.get("source_type") == "case.opened")
    before_deliveries = case_deliveries()
    stack.stop()  # services and the in-memory broker: everything not in the stores is gone
    stack.start(timeout_s=120)
    # `make run` seeds again on every start: must change nothing
    seed_demo(stack.services["roster"].url, token=TokenMinter(stack.keys_dir).token("district_office"))
    stack.wait_quiet(DEADLINE_S)  # every event republished to the new broker and consumed again
    assert {r["clue_id"] for r in ledger_rows(stack)} == before_rows and len(ledger_rows(stack)) == len(before_rows)
    assert case_deliveries() == before_deliveries
    status, body = call("GET", url(stack, "intake", f"/api/clues/{clue_id}"), headers=auth(stack))
    assert status == 200 and body["version"] == 1
    after = post_clue(stack, community="xinzhan")  # and the platform still works after the restart
    wait_until(lambda: routed(stack, after), DEADLINE_S, "a new clue after the restart")


def test_without_a_token_only_health_and_metrics_answer(stack: Stack) -> None:
    for name in ("intake", "ledger", "notification"):
        assert call("GET", url(stack, name, "/health"))[0] == 200
        assert call("GET", url(stack, name, "/metrics"))[0] == 200
    assert call("POST", url(stack, "intake", "/api/clues"), clue())[0] == 401
    assert call("GET", url(stack, "ledger", "/api/ledgers/clue-verification"))[0] == 401
    assert call("GET", url(stack, "notification", "/api/deliveries"))[0] == 401


def test_zz_nothing_published_during_the_suite_names_a_reporter_in_clear(stack: Stack) -> None:
    """Runs last in this module: every topic, from offset 0, after every scenario above."""
    stack.wait_quiet(DEADLINE_S)
    topics = read_everything(stack.broker.bootstrap)
    assert sum(len(records) for records in topics.values()) > 0
    published = b"\n".join(r for records in topics.values() for r in records)
    assert b"reporter_id" in published and b"rp-" in published  # the pseudonyms did travel …
    assert find(published, REPORTER.values()) == []  # … the identities did not


"""R9 on real processes: a breach is raised exactly once per deadline although the escalation
service is SIGKILLed while its deadline scanner is breaching, and again after it moved time on.

Only the broker and escalation run (`nameko run`, blocking detection on): the roster and the
clues are produced straight onto `roster.events` and `intake.events` as the roster and intake
services would publish them. Twenty clues are found 4 hours minus a few seconds ago, so their
registration deadlines fall due one after another while the scanner runs every 0.3 s; the
service is killed when some of them have breached. After a restart the rest breach, none twice.
Then the service is killed again and restarted 25 h later in simulated time: each case misses
its level-2 review day and breaches once more, one level up, while the registration breaches
recorded before the kills are not raised again. Every breach names the chief who held the case.

Time is simulated from the first start (FANGFEI_CLOCK_START = SIM_START, a fixed Monday): the clues'
found times are taken from escalation's own clock (its /health), and every restart starts the
clock where the killed process left it (plus the jump), so nothing depends on today's date. (The restarts do not wait for the consumer to rejoin its group: the scanner needs
only the store, and a rejoin after a SIGKILL waits out the dead member's session.)"""

from __future__ import annotations

import functools
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from fangfei.devstack.stack import Stack
from fangfei.events import Event, decode_event, encode_event, new_event
from fangfei.testing.auth import TokenMinter
from fangfei.testing.client import call
from fangfei.testing.kafka import producer, read_topic, wait_until

pytestmark = pytest.mark.integration

STREET = "longgang"
CASES = 20
SINCE = "2026-01-01T00:00:00+08:00"
SIM_START = datetime.fromisoformat("2026-03-16T09:00:00+08:00")  # a Monday, after SINCE


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = Stack(str(tmp_path_factory.mktemp("escalation")), services=("escalation",), extra_env={
        "FANGFEI_BLOCKING_DETECTION_S": "2",
        "FANGFEI_CONSUMER_SESSION_TIMEOUT_MS": "6000",
        "FANGFEI_SLA_SCAN_INTERVAL_S": "0.3",
        "FANGFEI_CLOCK_START": SIM_START.isoformat(),
    })
    s.start(timeout_s=120)
    yield s
    s.stop()


def _recorded(type_: str, stream_id: str, payload: dict[str, Any], version: int = 1) -> Event:
    now = datetime.now(timezone.utc)
    return new_event(type_, stream_id, STREET, payload, actor="test", occurred_at=now).stamped(version, now)


def roster() -> list[Event]:
    grids = [("g1", "示范一级网格", 1, "", ""), ("g2-magang", "马岗二级网格", 2, "g1", "magang"),
             ("g3-magang", "马岗第一网格", 3, "g2-magang", "magang")]
    chiefs = {"g1": "p-li01", "g2-magang": "p-chen01", "g3-magang": "p-zhang01"}
    out = [_recorded("roster.street_registered", f"street-{STREET}", {"street_id": STREET, "name": "示范街道"}),
           _recorded("roster.community_registered", "community-magang",
                     {"community_id": "magang", "name": "马岗社区", "kind": "community"})]
    for gid, name, level, parent, community in grids:
        out.append(_recorded("roster.grid_registered", f"grid-{gid}", {"grid_id": gid, "name": name, "level": level,
                                                                        "parent_grid_id": parent, "community_id": community}))
    for gid, person in chiefs.items():
        out.append(_recorded("roster.person_registered", f"person-{person}",
                             {"person_id": person, "name": f"网格长{person[-2:]}", "role": "grid_chief",
                              "community_id": "magang"}))
        out.append(_recorded("roster.chief_assigned", f"grid-{gid}", {"grid_id": gid, "person_id": person,
                                                                       "valid_from": SINCE}, version=2))
    return out


def clue(n: int, found_at: datetime) -> Event:
    return _recorded("clue.reported", f"clue-r9-{n:03d}", {
        "clue_id": f"r9-{n:03d}", "community_id": "magang", "category": "advertising", "source": "grid_patrol",
        "title": "小区张贴高息理财广告", "description": "网格员巡查发现楼道张贴保本高息广告", "found_at": found_at.isoformat()})


def publish(stack: Stack, topic: str, events: list[Event]) -> None:
    p = producer(stack.broker.bootstrap)
    try:
        for ev in events:
            p.send(topic, key=ev.stream_id.encode(), value=encode_event(ev))
        p.flush(timeout=30)
    finally:
        p.close()


@functools.lru_cache(maxsize=4)
def office_headers(keys_dir: str) -> dict[str, str]:
    """A street office token of the stack's own keys (escalation's routes need one)."""
    return TokenMinter(keys_dir).headers("street_office", street=STREET, person="office-longgang")


def statuses(stack: Stack) -> Counter:
    headers = office_headers(stack.keys_dir)
    status, body = call("GET", stack.services["escalation"].url + "/api/cases", timeout=10, headers=headers)
    assert status != 401 and status != 403, body
    return Counter(c["status"] for c in body["cases"]) if status == 200 else Counter()


def escalation_now(stack: Stack) -> datetime:
    """The instant escalation's clock reads (its /health says)."""
    health = stack.health("escalation") or {}
    return datetime.fromisoformat(health["clock"]["now"])


def restart(stack: Stack, jump: timedelta = timedelta(0)) -> None:
    """SIGKILL escalation and start it again with its clock where the killed one stood (plus the
    real time the restart takes, so simulated time never runs backwards), `jump` ahead."""
    left_at, t0 = escalation_now(stack), time.monotonic()
    stack.kill_service("escalation")  # SIGKILL: no shutdown hooks, exactly like a crash
    start = left_at + timedelta(seconds=time.monotonic() - t0) + jump
    stack.extra_env["FANGFEI_CLOCK_START"] = start.isoformat()
    stack.start_service("escalation", wait=False)
    wait_until(lambda: (stack.health("escalation") or {}).get("clock"), 60, "escalation answering again")


def roster_events_consumed(stack: Stack) -> float:
    """How many roster.events messages escalation's consumer has handled (its /metrics)."""
    status, text = call("GET", stack.services["escalation"].url + "/metrics", timeout=30)
    if status != 200:
        return 0.0
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "fangfei_consumer_messages_total" and sample.labels.get("topic") == "roster.events":
                total += sample.value
    return total


def relay_drained(stack: Stack) -> bool:
    relay = (stack.health("escalation") or {}).get("relay") or {}
    return relay.get("backlog") == 0 and relay.get("cluster_id") == stack.broker.cluster_id

def test_each_deadline_breaches_exactly_once_across_sigkill_and_restart(stack: Stack) -> None:
    grid = roster()
    publish(stack, "roster.events", grid)
    # the clues must find the grid: a case opened before escalation's roster copy has it is routed
    # to the district and rerouted later, which is another test (the consumer reads both topics
    # in parallel, so publishing first is not enough)
    wait_until(lambda: roster_events_consumed(stack) >= len(grid), 90, "escalation's roster copy complete")
    # the registration deadlines fall due 4 s to ~10 s from escalation's now, one every 0.3 s
    now = escalation_now(stack)
    assert now - SIM_START < timedelta(minutes=10), "escalation runs in simulated time from its start"
    base = now - timedelta(hours=4) + timedelta(seconds=4)
    publish(stack, "intake.events", [clue(n, base + timedelta(seconds=0.3 * n)) for n in range(CASES)])

    wait_until(lambda: sum(statuses(stack).values()) == CASES, 60, "every case opened")
    wait_until(lambda: statuses(stack)["level2_review"] >= 3, 60, "the first registration breaches")
    restart(stack)  # killed while the scanner is working through the deadlines
    wait_until(lambda: statuses(stack)["level2_review"] == CASES, 60, "every case breached and escalated")

    restart(stack, jump=timedelta(hours=25))  # a day later: the level-2 reviews are overdue
    wait_until(lambda: statuses(stack)["level1_review"] == CASES, 60, "every level-2 review breached")
    wait_until(lambda: relay_drained(stack), 60, "every stored event published")

    events = [decode_event(r.value) for r in read_topic(stack.broker.bootstrap, "escalation.events", expect=1)]
    breaches: dict[str, set[tuple[str, int, str, str]]] = {}
    ids: dict[tuple[str, str, int], set[str]] = {}
    for ev in events:
        if ev.type == "sla.breached":
            p = ev.payload
            breaches.setdefault(p["subject_id"], set()).add((p["rule"], p["level"], p["responsible_person_id"],
                                                             p["consequence"]))
            ids.setdefault((p["subject_id"], p["rule"], p["clock_no"]), set()).add(ev.event_id)
    assert len(breaches) == CASES
    for case_id, got in breaches.items():
        assert got == {("registration", 3, "p-zhang01", "escalated"), ("level2_review", 2, "p-chen01", "escalated")}, case_id
    assert all(len(v) == 1 for v in ids.values()), "a deadline was breached twice (two different events)"
    escalations = Counter(ev.stream_id for ev in events if ev.type == "case.escalated")
    # the relay may publish an event twice (at least once); count distinct events per case
    distinct = Counter(ev.stream_id for ev in {e.event_id: e for e in events if e.type == "case.escalated"}.values())
    assert set(distinct.values()) == {2}, distinct
    assert sum(escalations.values()) >= 2 * CASES

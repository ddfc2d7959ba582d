"""Faults under load, on real processes and a real broker (docs: ../shared/reliability.md R1–R8).

A client drives clues at intake from several threads, retrying with the same Idempotency-Key
until it gets a 2xx (as the phone app does). Meanwhile intake is SIGKILLed three times, the
ledger and notification consumers are SIGKILLed mid-stream, and the broker is SIGKILLed and comes
back empty. After the platform is quiet again:
- every acknowledged clue is in intake's store, once (R1, R2);
- every one has exactly one case, one ledger row and one delivery (R3, R4, R8);
- the ledger rebuilt from the topics from offset 0 equals the live one (R5).
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, Iterator

import pytest

from fangfei.cli import seed_demo
from fangfei.clock import SHANGHAI
from fangfei.devstack.stack import Stack
from fangfei.eventstore.connect import open_database
from fangfei.events import decode_event
from fangfei.testing.auth import TokenMinter
from fangfei.testing.client import call
from fangfei.bus.kafka import read_all
from fangfei.testing.kafka import wait_until
from services.ledger import projections
from services.ledger.exports import json_rows, local_json
from services.ledger.rebuild import rebuild

pytestmark = pytest.mark.integration

COMMUNITIES = ["magang", "luogang", "hupo", "wanggang", "haizhou", "youfang", "xinzhan", "dadian", "shicheng", "huadu"]
TOTAL = 2000
WORKERS = 4


@pytest.fixture
def stack(tmp_path: Any) -> Iterator[Stack]:
    s = Stack(str(tmp_path), extra_env={
        "FANGFEI_BLOCKING_DETECTION_S": "2",
        "FANGFEI_CONSUMER_SESSION_TIMEOUT_MS": "6000",
        "FANGFEI_RELAY_GAP_GRACE_MS": "1000",
    })
    s.start(timeout_s=120)
    seed_demo(s.services["roster"].url, token=TokenMinter(s.keys_dir).token("district_office"))
    s.wait_quiet(60)
    yield s
    s.stop()


class Driver:
    """Posts clues until told to stop; remembers every acknowledged clue id."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        # one token per community's grid worker, as ten phones would hold (rate limits are per token)
        minter = TokenMinter(stack.keys_dir)
        self.auth = {c: minter.headers("grid_staff", community=c, person=f"{c}-l3-chief", ttl_s=4 * 3600)
                     for c in COMMUNITIES}
        self.acked: dict[str, str] = {}  # idempotency key -> clue id
        self.lock = threading.Lock()
        self.sent = 0
        self.retries = 0

    def one(self, n: int) -> None:
        key = f"load-{n}-{uuid.uuid4().hex[:6]}"
        community = COMMUNITIES[n % len(COMMUNITIES)]
        body = {
            "community_id": community,
            "category": "advertising", "source": "hotline_12345", "title": f"高息理财广告 {n}",
            "description": "群众来电反映小区内张贴高息理财广告",
            "found_at": (datetime.now(SHANGHAI) - timedelta(minutes=1)).replace(microsecond=0).isoformat(),
        }
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                status, answer = call("POST", self.stack.services["intake"].url + "/api/clues", body,
                                      headers={"Idempotency-Key": key, **self.auth[community]}, timeout=5)
            except OSError:
                status, answer = 0, None
            if status in (200, 201):
                with self.lock:
                    self.acked[key] = answer["clue_id"]
                return
            with self.lock:
                self.retries += 1
            time.sleep(0.05)
        raise AssertionError(f"clue {key} never acknowledged")


def all_ledger_rows(stack: Stack) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    page = 1
    while True:
        status, body = call("GET", stack.services["ledger"].url +
                            f"/api/ledgers/clue-verification?page_size=200&page={page}", timeout=30,
                            headers=TokenMinter(stack.keys_dir).headers("street_office"))
        assert status == 200, body
        rows.extend(body["rows"])
        if len(rows) >= body["total"] or not body["rows"]:
            return rows
        page += 1


def test_nothing_acknowledged_is_lost_and_nothing_is_applied_twice(stack: Stack) -> None:
    driver = Driver(stack)
    rng = random.Random(20261123)
    kill_points = sorted(rng.sample(range(200, TOTAL - 200), 3))
    pool = ThreadPoolExecutor(WORKERS)
    futures = []
    for n in range(TOTAL):
        futures.append(pool.submit(driver.one, n))
        if n in kill_points:
            idx = kill_points.index(n)
            wait_until(lambda n=n: len(driver.acked) >= n - 50, 120, "load to progress")
            stack.kill_service("intake")  # R1: a crash with requests in flight
            if idx == 0:
                stack.kill_service("ledger")  # R4: consumers die mid-stream
            if idx == 1:
                stack.broker.kill()  # R8: total broker loss under load
                stack.broker.start()
                stack.start_service("ledger", wait=False)
            if idx == 2:
                stack.kill_service("notification")
            stack.start_service("intake", timeout_s=120)
            if idx == 2:
                stack.start_service("notification", wait=False)
    for f in futures:
        f.result()
    pool.shutdown()
    assert len(driver.acked) == TOTAL
    assert driver.retries > 0, "the faults were supposed to make some requests fail"
    stack.wait_healthy(timeout_s=120)
    stack.wait_quiet(timeout_s=300)

    clue_ids = set(driver.acked.values())
    assert len(clue_ids) == TOTAL  # one clue per key, retries included (R2)
    intake = stack.health("intake")
    assert intake is not None and intake["store"]["head_position"] >= TOTAL
    rows = all_ledger_rows(stack)
    ledger_ids = [r["clue_id"] for r in rows]
    assert len(ledger_ids) == len(set(ledger_ids)), "a clue appears twice in the ledger"
    assert clue_ids <= set(ledger_ids), f"{len(clue_ids - set(ledger_ids))} acknowledged clues missing from the ledger"
    assert all(r.get("case_id") for r in rows if r["clue_id"] in clue_ids), "a clue without its case"

    # every case was delivered exactly once: read what notification published
    # the platform is quiet, so each topic is read to its end (they hold more than one event per clue)
    deliveries = [decode_event(r.value) for r in read_all(stack.broker.bootstrap, "notification.events", 120)
                  if r.value is not None]
    deliveries = [ev for ev in deliveries if ev.type == "delivery.recorded"]
    per_case: dict[str, set[str]] = {}
    for ev in deliveries:
        per_case.setdefault(ev.payload["source_event_id"], set()).add(ev.payload["delivery_id"])
    assert all(len(ids) == 1 for ids in per_case.values())
    cases = [decode_event(r.value) for r in read_all(stack.broker.bootstrap, "escalation.events", 120)]
    opened = {ev.event_id for ev in cases if ev.type == "case.opened" and ev.payload["clue_id"] in clue_ids}
    assert len(opened) == TOTAL and opened <= set(per_case)

    # R5: the ledger rebuilt from offset 0 of its source topics (the roster's too: it names people
    # and places) equals the live one, as the API shows it
    source = [decode_event(r.value) for topic in ("roster.events", "intake.events", "escalation.events")
              for r in read_all(stack.broker.bootstrap, topic, 120)]
    _, scratch = open_database(f"memory:rebuild-{uuid.uuid4().hex}")
    rebuild(scratch, source)
    query = {"street_id": "longgang", "page": 1, "page_size": 10 ** 6}
    rebuilt, total = projections.list_rows(scratch, query)
    rebuilt = local_json(json_rows(scratch, "clue-verification", rebuilt, query))
    assert total == len(rows)
    live = {r["clue_id"]: json.dumps(r, sort_keys=True, ensure_ascii=False) for r in rows}
    again = {r["clue_id"]: json.dumps(r, sort_keys=True, ensure_ascii=False) for r in rebuilt}
    differ = sorted(k for k in live.keys() | again.keys() if live.get(k) != again.get(k))
    assert not differ, f"{len(differ)} rows differ, e.g. live {live.get(differ[0])} rebuilt {again.get(differ[0])}"

"""Issue 7 acceptance on real processes: after an end-to-end scenario with exactly one late
registration and exactly one missed weekly report, a scrape of `/metrics` on all five services
shows exactly those, and nothing else late or missed.

Time is simulated in the escalation service only (FANGFEI_CLOCK_OFFSET_S, services/escalation/
clock.py): it is restarted once so that its clock reads the next Friday 11:00 (the first scan
starts tracking the demo street's report obligations), and once more at 13:00 the same day, after
every community but one has sent its weekly report: the scanner records that one as missed. Then a
grid worker reports a clue found a minute ago (real time), which escalation, living hours later,
registers late. Counters are per process (Prometheus handles resets), so the scrape is of the
last escalation process: the one that saw the deadline pass and the registration happen."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta, timezone
from typing import Any, Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from fangfei.bus.kafka import read_all
from fangfei.cli import seed_demo
from fangfei.clock import SHANGHAI
from fangfei.devstack.stack import Stack
from fangfei.events import decode_event
from fangfei.testing.auth import TokenMinter
from fangfei.testing.client import call
from fangfei.testing.kafka import wait_until

pytestmark = pytest.mark.integration

STREET = "longgang"
SERVICES = ("intake", "roster", "escalation", "ledger", "notification")


def next_friday_11() -> datetime:
    """The next Friday 11:00 in Shanghai more than three hours away (so a clue found now is more than
    four hours old at 13:00 that day)."""
    now = datetime.now(SHANGHAI)
    day = now.date()
    while True:
        at = datetime.combine(day, time(11, 0), tzinfo=SHANGHAI)
        if day.weekday() == 4 and at - now > timedelta(hours=3):
            return at
        day += timedelta(days=1)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = Stack(str(tmp_path_factory.mktemp("sla-metrics")), services=SERVICES, extra_env={
        "FANGFEI_CONSUMER_SESSION_TIMEOUT_MS": "6000",
        "FANGFEI_SLA_SCAN_INTERVAL_S": "0.5",
    })
    s.start(timeout_s=120)
    seed_demo(s.services["roster"].url, token=TokenMinter(s.keys_dir).token("district_office"))
    s.wait_quiet(90)
    yield s
    s.stop()


def escalation_at(stack: Stack, instant: datetime) -> None:
    """SIGKILL escalation and start it again with its clock reading `instant`."""
    stack.kill_service("escalation")
    offset = (instant - datetime.now(timezone.utc)).total_seconds()
    stack.extra_env["FANGFEI_CLOCK_OFFSET_S"] = f"{offset:.3f}"
    stack.start_service("escalation", wait=False)
    wait_until(lambda: stack.health("escalation"), 90, "escalation answering again")


def api(stack: Stack, method: str, service: str, path: str, body: Any = None, **token: Any) -> tuple[int, Any]:
    role = token.pop("role", "street_office")
    headers = TokenMinter(stack.keys_dir).headers(role, **token)
    if method == "POST":
        headers["Idempotency-Key"] = uuid.uuid4().hex
    return call(method, stack.services[service].url + path, body, headers=headers, timeout=30)


def escalation_events(stack: Stack) -> list[Any]:
    return [decode_event(r.value) for r in read_all(stack.broker.bootstrap, "escalation.events", 60)
            if r.value is not None]


def scan_log(stack: Stack) -> str:
    """What escalation's processes logged about starting and scanning (to explain a failure)."""
    with open(stack.services["escalation"].log_path, encoding="utf-8", errors="replace") as fh:
        return "".join(line for line in fh if "deadline scan" in line or "clock" in line.lower()
                       or "starting" in line.lower())[-4000:]


def samples(stack: Stack, service: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, text = call("GET", stack.services[service].url + "/metrics", timeout=30)
    assert status == 200, f"{service} /metrics answered {status}"
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(found: dict, name: str, **labels: str) -> float | None:
    return found.get((name, tuple(sorted(labels.items()))))


def test_one_late_registration_and_one_missed_weekly_report_show_exactly(stack: Stack) -> None:
    friday = next_friday_11()
    week = friday.date().isocalendar()
    period = f"{week.year}-W{week.week:02d}"

    # Friday 11:00: the first scan starts tracking every community's reports
    escalation_at(stack, friday)
    status, body = api(stack, "GET", "escalation",
                       f"/api/obligations?from={friday.date()}&to={friday.date()}&kind=weekly")
    assert status == 200, body
    weekly = {row["unit_id"]: row for row in body["obligations"] if row["period"] == period}
    assert len(weekly) >= 2, body  # the demo street has several communities
    wait_until(lambda: {e.payload["unit_id"] for e in escalation_events(stack)
                        if e.type == "obligation.tracking_started"} >= set(weekly),
               90, "every community's reports tracked")

    # every community but one reports before noon
    skipped = sorted(weekly)[0]
    for community, row in weekly.items():
        if community != skipped:
            status, body = api(stack, "POST", "escalation", f"/api/obligations/{row['obligation_id']}/submission",
                               {"summary": "本周排查宣传情况已汇总"})
            assert status == 201 and body["status"] == "on_time", body

    # Friday 13:00: the skipped one is missed, once
    escalation_at(stack, friday + timedelta(hours=2))
    missed_id = weekly[skipped]["obligation_id"]
    wait_until(lambda: [e for e in escalation_events(stack) if e.type == "obligation.missed"
                        and e.payload["obligation_id"] == missed_id], 90, "the missed weekly report recorded")

    # a clue found a minute ago (real time) is registered by escalation, hours later: late
    found = (datetime.now(SHANGHAI) - timedelta(minutes=1)).replace(microsecond=0)
    status, body = api(stack, "POST", "intake", "/api/clues", {
        "community_id": skipped, "category": "illegal_finance", "source": "grid_patrol",
        "title": "门店宣传保本高息理财", "description": "网格员巡查发现某门店宣传年化18%保本理财产品",
        "found_at": found.isoformat()}, role="grid_staff", community=skipped)
    assert status == 201, body
    clue_id = body["clue_id"]
    wait_until(lambda: api(stack, "GET", "escalation", f"/api/cases/{clue_id}")[0] == 200, 90, "the case opened")
    status, body = api(stack, "POST", "escalation", f"/api/cases/{clue_id}/register", {})
    assert status == 200, body
    wait_until(lambda: (stack.health("escalation") or {}).get("relay", {}).get("backlog") == 0, 60,
               "escalation's events published")

    events = escalation_events(stack)
    # (deadlines between the stack's start and Friday 11:00, e.g. a 30th, were caught up by the
    # process before; only what fell due during the last one counts in its scrape)
    missed = {e.event_id: e.payload["obligation_id"] for e in events if e.type == "obligation.missed"
              and datetime.fromisoformat(e.payload["due_at"]) > friday}
    registered = {e.event_id for e in events if e.type == "case.registered"}
    trail = [(e.type, e.stream_id, str(e.recorded_at), e.payload.get("at", e.payload.get("due_at")))
             for e in events if e.type.startswith("obligation.") and "W" in e.payload.get("obligation_id", "W")]
    assert list(missed.values()) == [missed_id], "\n".join(map(str, trail)) + "\n" + scan_log(stack)
    assert len(registered) == 1

    scraped = {name: samples(stack, name) for name in SERVICES}
    esc = scraped["escalation"]
    assert value(esc, "fangfei_clues_registered_total", street=STREET, outcome="late") == 1.0
    assert value(esc, "fangfei_clues_registered_total", street=STREET, outcome="on_time") == 0.0
    assert value(esc, "fangfei_report_obligations_total", street=STREET, kind="weekly", outcome="missed") == 1.0
    for kind in ("weekly", "monthly", "sweep", "campaign"):
        assert value(esc, "fangfei_report_obligations_total", street=STREET, kind=kind, outcome="late") == 0.0
        if kind != "weekly":
            assert value(esc, "fangfei_report_obligations_total", street=STREET, kind=kind, outcome="missed") == 0.0
    # no other service counts registrations or obligations: the figures exist once, in escalation
    for name in SERVICES:
        if name == "escalation":
            continue
        counted = {k: v for k, v in scraped[name].items()
                   if k[0] in ("fangfei_clues_registered_total", "fangfei_report_obligations_total") and v}
        assert counted == {}, f"{name} counts {counted}"

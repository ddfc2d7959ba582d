"""Issue 7 acceptance on real processes: after an end-to-end scenario with exactly one late
registration and exactly one missed weekly report, a scrape of `/metrics` on all five services
shows exactly those, and nothing else late or missed.

Time is simulated in the escalation service only, from the stack's first start, with an absolute
instant (FANGFEI_CLOCK_START, services/escalation/clock.py) — never today's date or weekday, so the
first scan cannot catch up deadlines of the real calendar: the stack starts on SIM_START (a
Monday 09:00), escalation's first scan starts tracking the demo street's report obligations; it is
restarted so that its clock reads the next Friday 11:00, and once more at 13:00 the same day, after
every community but one has sent its weekly report: the scanner records that one as missed. Then a
grid worker reports a clue found five hours before escalation's clock (read from its /health),
which escalation registers late. Counters are per process (Prometheus handles resets), so the
scrape is of the last escalation process: the one that saw the deadline pass and the registration
happen; each restart waits until the new process has completed a scan at its new instant (its
/health `scanner.last_pass_now`), so what fell due before (last week's reports after a start late
in the week, a 15th) is counted by the process before, never by the last one.

To check the scenario from other starting weekdays, set FANGFEI_TEST_SIM_START to another instant
(e.g. a Thursday 13:00, when the first scan is already inside the weekly reminder's lead)."""

from __future__ import annotations

import os
import uuid
from datetime import datetime, time, timedelta
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


# the simulated instant escalation's clock reads at the stack's first start: a Monday 09:00
SIM_START = datetime.fromisoformat(os.environ.get("FANGFEI_TEST_SIM_START") or "2026-03-09T09:00:00+08:00")


def next_friday_11(after: datetime) -> datetime:
    """The first Friday 11:00 (Shanghai) more than three hours after `after`: a pure function of
    the simulated start, never of today's date."""
    start = after.astimezone(SHANGHAI)
    day = start.date()
    while True:
        at = datetime.combine(day, time(11, 0), tzinfo=SHANGHAI)
        if day.weekday() == 4 and at - start > timedelta(hours=3):
            return at
        day += timedelta(days=1)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = Stack(str(tmp_path_factory.mktemp("sla-metrics")), services=SERVICES, extra_env={
        "FANGFEI_CONSUMER_SESSION_TIMEOUT_MS": "6000",
        "FANGFEI_SLA_SCAN_INTERVAL_S": "0.5",
        "FANGFEI_CLOCK_START": SIM_START.isoformat(),  # from the first start: no real-date deadlines
    })
    s.start(timeout_s=120)
    seed_demo(s.services["roster"].url, token=TokenMinter(s.keys_dir).token("district_office"))
    s.wait_quiet(90)
    yield s
    s.stop()


def escalation_now(stack: Stack) -> datetime:
    """The instant escalation's clock reads (its /health says)."""
    health = stack.health("escalation") or {}
    return datetime.fromisoformat(health["clock"]["now"]).astimezone(SHANGHAI)


def scanned_until(stack: Stack) -> datetime | None:
    """The instant this escalation process's last completed deadline scan decided at."""
    last = ((stack.health("escalation") or {}).get("scanner") or {}).get("last_pass_now")
    return datetime.fromisoformat(last) if last else None


def escalation_at(stack: Stack, instant: datetime) -> None:
    """SIGKILL escalation and start it again with its clock reading `instant` at its start; return
    once the new process has completed a scan at or after `instant`, so everything due by then
    (e.g. last week's reports, after a start late in the week) is recorded — and counted — by it."""
    assert instant >= escalation_now(stack), "simulated time only moves forward"
    stack.kill_service("escalation")
    stack.extra_env["FANGFEI_CLOCK_START"] = instant.isoformat()
    stack.start_service("escalation", wait=False)
    wait_until(lambda: (scanned_until(stack) or instant - timedelta(1)) >= instant, 90,
               "escalation answering again and scanned up to its new instant")


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
    assert escalation_now(stack) - SIM_START < timedelta(minutes=10), "escalation runs in simulated time from its start"
    friday = next_friday_11(SIM_START)
    week = friday.date().isocalendar()
    period = f"{week.year}-W{week.week:02d}"

    # the demo street's communities, as the roster service has them
    status, tree = api(stack, "GET", "roster", f"/api/roster/streets/{STREET}/tree")
    assert status == 200, tree
    communities = {c["community_id"] for c in tree["communities"]}
    assert len(communities) >= 2, tree  # the demo street has several communities

    # Friday 11:00: every community's reports are tracked (escalation's roster copy may still be
    # catching up after the restart: wait until it knows every community, not only some)
    escalation_at(stack, friday)

    def weekly_rows() -> dict[str, Any]:
        status, body = api(stack, "GET", "escalation",
                           f"/api/obligations?from={friday.date()}&to={friday.date()}&kind=weekly")
        assert status == 200, body
        return {row["unit_id"]: row for row in body["obligations"] if row["period"] == period}

    wait_until(lambda: set(weekly_rows()) >= communities, 90, "escalation knows every community")
    wait_until(lambda: {e.payload["unit_id"] for e in escalation_events(stack)
                        if e.type == "obligation.tracking_started"} >= communities,
               90, "every community's reports tracked")
    weekly = weekly_rows()

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

    # a clue found five hours before escalation's clock is registered late
    found = (escalation_now(stack) - timedelta(hours=5)).replace(microsecond=0)
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

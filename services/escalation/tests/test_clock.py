"""The service clock's simulated time (clock.py): FANGFEI_CLOCK_START reads a fixed instant at
the process's start and runs at real speed from there, whatever today's date; /health says where
the clock stands."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from nameko.testing.services import worker_factory
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from fangfei.roster_view import RosterReplica
from fangfei.testing.auth import test_gate
from fangfei.testing.stores import memory_store
from services.escalation.clock import OffsetClock, StartedClock, clock_from_env
from services.escalation.service import EscalationService


def test_a_start_instant_is_read_at_start_and_runs_on_at_real_speed() -> None:
    ticks = iter([100.0, 100.0, 190.5])
    clock = StartedClock(datetime.fromisoformat("2026-03-13T11:00:00+08:00"), monotonic=lambda: next(ticks))
    assert clock.now() == datetime(2026, 3, 13, 3, 0, tzinfo=timezone.utc)
    assert clock.now() == datetime(2026, 3, 13, 3, 1, 30, 500000, tzinfo=timezone.utc)


def test_the_start_does_not_depend_on_the_real_date() -> None:
    clock = clock_from_env({"FANGFEI_CLOCK_START": "2026-03-09T09:00:00+08:00"})
    assert abs(clock.now() - datetime.fromisoformat("2026-03-09T09:00:00+08:00")) < timedelta(seconds=5)
    assert clock.describe()["simulated"] is True


@pytest.mark.parametrize("env, problem", [
    ({"FANGFEI_CLOCK_START": "2026-03-09T09:00:00"}, "offset"),
    ({"FANGFEI_CLOCK_START": "next friday"}, "ISO 8601"),
    ({"FANGFEI_CLOCK_START": "2026-03-09T09:00:00+08:00", "FANGFEI_CLOCK_OFFSET_S": "3600"}, "not both"),
    ({"FANGFEI_CLOCK_OFFSET_S": "soon"}, "number of seconds"),
])
def test_a_wrong_clock_setting_stops_the_process_with_a_reason(env: dict, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        clock_from_env(env)


def test_the_offset_and_the_real_clock_still_work() -> None:
    assert isinstance(clock_from_env({}), OffsetClock) and clock_from_env({}).simulated is False
    ahead = clock_from_env({"FANGFEI_CLOCK_OFFSET_S": "90000"})
    assert abs(ahead.now() - datetime.now(timezone.utc) - timedelta(seconds=90000)) < timedelta(seconds=5)


def test_health_says_where_the_clock_stands() -> None:
    gate, _ = test_gate()
    clock = StartedClock(datetime.fromisoformat("2026-03-13T13:00:00+08:00"))
    store = memory_store("escalation", clock)
    svc = worker_factory(EscalationService, store=store, roster=RosterReplica(store.db), auth=gate)
    svc.clock = clock
    resp = svc.health(Request(EnvironBuilder(method="GET", path="/health").get_environ()))
    body = json.loads(resp.get_data())
    assert resp.status_code == 200 and body["clock"]["simulated"] is True
    assert body["clock"]["start"] == "2026-03-13T05:00:00+00:00"
    assert abs(datetime.fromisoformat(body["clock"]["now"]) - clock.start) < timedelta(seconds=5)
    passes = body["scanner"]["passes"]
    svc.scan_deadlines()
    scanner = json.loads(svc.health(Request(EnvironBuilder(method="GET", path="/health").get_environ())).get_data())["scanner"]
    assert scanner["passes"] == passes + 1
    assert datetime.fromisoformat(scanner["last_pass_now"]) >= clock.start

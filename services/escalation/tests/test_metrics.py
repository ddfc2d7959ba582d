"""The SLA counters ops alert on (issue 7): a street's series exist at zero from the moment the
street is known (so `rate()` works from the first event), and a late registration or a missed
weekly report is counted exactly once — also when the clue is redelivered, the service restarts,
or its read models are rebuilt from the log."""

from __future__ import annotations

from datetime import datetime, timedelta

from prometheus_client import REGISTRY

from fangfei.clock import SHANGHAI
from fangfei.events import new_event

from .harness import World
from .support import NOW, clue, recorded

T0 = datetime(2026, 3, 16, 9, 0, tzinfo=SHANGHAI)  # a Monday


def sample(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def count(name: str, **labels: str) -> float:
    return sample(name, **labels) or 0.0


def test_a_new_streets_series_exist_at_zero_before_anything_happens_there() -> None:
    w = World(T0)
    assert sample("fangfei_clues_registered_total", street="tongle", outcome="late") is None
    w.svc.apply_roster_event(recorded(new_event("roster.street_registered", "street-tongle", "tongle",
                                                {"street_id": "tongle", "name": "同乐街道"}, actor="office-tongle",
                                                occurred_at=NOW)))
    for outcome in ("on_time", "late"):
        assert sample("fangfei_clues_registered_total", street="tongle", outcome=outcome) == 0.0
    for kind in ("weekly", "monthly", "sweep", "campaign"):
        for outcome in ("on_time", "late", "missed"):
            assert sample("fangfei_report_obligations_total", street="tongle", kind=kind, outcome=outcome) == 0.0
    assert sample("fangfei_sla_breaches_total", street="tongle", level="3", rule="registration") == 0.0
    assert sample("fangfei_cross_street_flags_total", street="tongle") == 0.0
    assert sample("fangfei_cases_overdue", street="tongle", level="1") == 0.0


def _rebuild_read_models(w: World) -> None:
    """What a rebuild leaves: read models and the scanner's bookkeeping gone, the log intact."""
    for name in w.store.db.list_collection_names():
        if name not in ("commits", "counters", "roster_replica"):
            w.store.db[name].delete_many({})


def test_a_late_registration_is_counted_once_across_redelivery_restart_and_rebuild() -> None:
    w = World(T0 + timedelta(hours=5))
    before = count("fangfei_clues_registered_total", street="longgang", outcome="late")
    on_time = count("fangfei_clues_registered_total", street="longgang", outcome="on_time")
    late_clue = clue("late1", found_at=T0.isoformat())
    w.svc.open_case(late_clue)
    w.ok("late1", "register")  # 5 hours after it was found: late
    w.svc.open_case(late_clue)  # redelivered
    w.restart()
    w.svc.open_case(late_clue)  # and again after a restart
    w.scan()
    _rebuild_read_models(w)
    w.scan()
    w.advance(hours=30)
    w.scan()
    assert w.act("late1", "register")[0] == 409  # registering again is refused and counts nothing
    assert count("fangfei_clues_registered_total", street="longgang", outcome="late") - before == 1
    assert count("fangfei_clues_registered_total", street="longgang", outcome="on_time") == on_time
    assert [e.type for e in w.events("late1")].count("case.registered") == 1


def test_a_missed_weekly_report_is_counted_once_per_community_across_restart_and_rebuild() -> None:
    w = World(T0)
    w.scan()  # tracking starts: reports due from now on are owed
    missed = count("fangfei_report_obligations_total", street="longgang", kind="weekly", outcome="missed")
    w.at("2026-03-20T12:00:00+08:00")
    w.scan()  # at the deadline: not missed yet
    assert count("fangfei_report_obligations_total", street="longgang", kind="weekly", outcome="missed") == missed
    w.at("2026-03-20T12:00:01+08:00")
    w.scan()
    after = count("fangfei_report_obligations_total", street="longgang", kind="weekly", outcome="missed")
    assert after - missed == 2  # 马岗 and 白花村 each owed one, neither sent it
    w.restart()
    w.scan()
    _rebuild_read_models(w)
    w.scan()
    w.advance(minutes=5)
    w.scan()
    assert count("fangfei_report_obligations_total", street="longgang", kind="weekly", outcome="missed") == after
    for unit in ("magang", "baihua"):
        rows = w.get("/api/obligations", unit_id=unit, kind="weekly", **{"from": "2026-03-16", "to": "2026-03-22"})[1]
        assert [r["status"] for r in rows["obligations"]] == ["missed"], unit

"""Report cadences as obligations, through the service: open → submitted on time / late /
missed, attributed to the person responsible at the deadline; campaigns with their own phases."""

from __future__ import annotations

from datetime import datetime

from prometheus_client import REGISTRY

from fangfei.clock import SHANGHAI

from .harness import World
from .support import chief, full_chain_roster

MONDAY = datetime(2026, 3, 16, 9, 0, tzinfo=SHANGHAI)
WEEKLY = "weekly:magang:2026-W12"  # due Friday 2026-03-20 12:00


def world(at: datetime = MONDAY, roster: list | None = None) -> World:
    w = World(at, roster)
    w.scan()  # tracking of the street and its communities starts now
    return w


def obligations(w: World, **q: str) -> dict[str, dict]:
    status, body = w.get("/api/obligations", street_id="longgang", **q)
    assert status == 200, body
    return {o["obligation_id"]: o for o in body["obligations"]}


def recorded(w: World, oid: str, type_: str = "obligation.missed") -> list:
    """The events of one type on the obligation's stream (a reminder may precede `missed`)."""
    return [e for e in w.store.events.read_stream(f"obligation-longgang:{oid}") if e.type == type_]


def submit(w: World, oid: str, by: str = "p-chen01") -> tuple[int, dict]:
    return w.post(f"/api/obligations/{oid}/submission", {"street_id": "longgang", "by": by, "summary": "本周排查3家企业"})


def test_the_schedule_of_a_month_lists_every_report_each_unit_owes() -> None:
    w = world()
    rows = obligations(w, **{"from": "2026-03-01", "to": "2026-03-31"})
    magang = sorted(o for o in rows if ":magang:" in o)
    assert magang == ["monthly:magang:2026-03", "weekly:magang:2026-W10", "weekly:magang:2026-W11",
                      "weekly:magang:2026-W12", "weekly:magang:2026-W13"]
    assert sorted(o for o in rows if o.startswith("sweep:")) == ["sweep:longgang:2026-03.15", "sweep:longgang:2026-03.30"]
    assert rows[WEEKLY]["due_at"] == "2026-03-20T12:00:00+08:00"
    assert rows[WEEKLY]["status"] == "open" and rows[WEEKLY]["status_label"] == "待报送"
    assert rows[WEEKLY]["responsible_person_id"] == "p-chen01"  # 马岗's level-2 chief
    assert rows["sweep:longgang:2026-03.30"]["responsible_person_id"] == "p-li01"  # the street's level-1 chief


def test_a_report_by_friday_noon_is_on_time_one_second_later_is_late() -> None:
    w = world()
    w.at("2026-03-20T12:00:00+08:00")
    status, row = submit(w, WEEKLY)
    assert (status, row["status"], row["status_label"]) == (201, "on_time", "按时报送")
    w.at("2026-03-20T12:00:01+08:00")
    status, row = submit(w, "weekly:baihua:2026-W12", by="p-wang01")
    assert (status, row["status"]) == (201, "late")
    status, body = submit(w, WEEKLY)
    assert status == 409 and body["error"]["message"].startswith("该报送义务已于")


def test_nothing_submitted_by_the_deadline_is_missed_once_and_blamed_on_whoever_held_the_post_then() -> None:
    roster = full_chain_roster() + [chief("g2-magang", "p-wang01", valid_from="2026-03-19T00:00:00+08:00")]
    w = world(roster=roster)
    before = REGISTRY.get_sample_value("fangfei_report_obligations_total",
                                       {"street": "longgang", "kind": "weekly", "outcome": "missed"}) or 0
    w.at("2026-03-20T11:59:00+08:00")
    w.scan()
    assert obligations(w, **{"from": "2026-03-20", "to": "2026-03-20"})[WEEKLY]["status"] == "open"
    w.at("2026-03-20T12:00:01+08:00")
    w.scan()
    w.scan()
    [missed] = recorded(w, WEEKLY)
    assert missed.payload["responsible_person_id"] == "p-wang01"  # took over 马岗 level 2 on 3/19
    after = REGISTRY.get_sample_value("fangfei_report_obligations_total",
                                      {"street": "longgang", "kind": "weekly", "outcome": "missed"})
    assert after - before == 2  # 马岗 and 白花, once each
    row = obligations(w, **{"from": "2026-03-20", "to": "2026-03-20"})[WEEKLY]
    assert (row["status"], row["status_label"]) == ("missed", "逾期未报")

    w.at("2026-03-21T09:00:00+08:00")  # the report comes in on Saturday: late, not missed
    status, row = submit(w, WEEKLY, by="p-wang01")
    assert (status, row["status"]) == (201, "late")


def test_the_february_sweep_summary_is_due_on_the_28th() -> None:
    w = world(datetime(2026, 2, 16, 9, 0, tzinfo=SHANGHAI))
    w.at("2026-02-28T23:59:59+08:00")
    w.scan()
    assert recorded(w, "sweep:longgang:2026-02.30") == []
    w.at("2026-03-01T00:00:00+08:00")
    w.scan()
    [missed] = recorded(w, "sweep:longgang:2026-02.30")
    assert (missed.payload["due_at"], missed.payload["responsible_person_id"]) == ("2026-02-28T23:59:59+08:00", "p-li01")


def test_reports_due_before_tracking_started_are_not_counted_as_missed() -> None:
    w = world()
    rows = obligations(w, **{"from": "2026-03-01", "to": "2026-03-15"})
    assert rows["weekly:magang:2026-W11"]["status"] == "missed"  # shown as overdue in the list…
    assert w.store.events.read_stream("obligation-longgang:weekly:magang:2026-W11") == []  # …never recorded


def test_monthly_progress_by_the_20th() -> None:
    w = world()
    w.at("2026-03-20T23:59:59+08:00")
    assert submit(w, "monthly:magang:2026-03")[1]["status"] == "on_time"
    w.at("2026-03-21T00:00:00+08:00")
    w.scan()
    assert len(recorded(w, "monthly:baihua:2026-03")) == 1


def test_a_campaign_sets_phase_deadlines_for_its_communities() -> None:
    w = world()
    status, body = w.post("/api/campaigns", {
        "street_id": "longgang", "by": "p-li01", "campaign_id": "zx2026", "name": "打击非法集资专项行动",
        "community_ids": ["magang"],
        "phases": [{"phase_id": "deploy", "name": "部署发动", "due_at": "2026-03-25"},
                   {"phase_id": "screen", "name": "风险排查", "due_at": "2026-04-10T17:00:00+08:00"}],
    })
    assert status == 201, body
    assert body["phases"][0]["due_at"] == "2026-03-25T23:59:59+08:00"
    rows = obligations(w, **{"from": "2026-03-01", "to": "2026-04-30"}, kind="campaign")
    assert sorted(rows) == ["campaign:magang:zx2026.deploy", "campaign:magang:zx2026.screen"]  # not 白花
    assert rows["campaign:magang:zx2026.deploy"]["title"] == "打击非法集资专项行动·部署发动"
    w.at("2026-03-26T00:00:00+08:00")
    w.scan()
    assert len(recorded(w, "campaign:magang:zx2026.deploy")) == 1
    status, row = submit(w, "campaign:magang:zx2026.screen")
    assert (status, row["status"]) == (201, "on_time")
    status, _ = w.post("/api/campaigns", {"street_id": "longgang", "by": "p-li01", "campaign_id": "zx2026",
                                          "name": "重复", "phases": [{"phase_id": "x", "name": "x", "due_at": "2026-05-01"}]})
    assert status == 409


def test_another_streets_obligation_and_a_malformed_id_are_refused() -> None:
    w = world()
    status, _ = w.post("/api/obligations/weekly:magang:2026-W12/submission", {"street_id": "xinzhan", "by": "p-x"})
    assert status == 404
    status, body = submit(w, "weekly:magang:2026-12")
    assert status == 400 and "报送周期" in body["error"]["message"]

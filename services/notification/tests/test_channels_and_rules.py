"""Outbound channels, rules and agency subscriptions, in-process (memory store, fake channels)."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any, Mapping

import eventlet
import pytest
from nameko.testing.services import worker_factory

from fangfei.clock import FrozenClock
from fangfei.events import new_event
from fangfei.roster_view import RosterReplica, RosterView
from fangfei.testing.auth import test_gate
from fangfei.testing.stores import memory_store
from fangfei.testing.wsgi import ServiceApp
from services.notification import dispatch, handlers, rules
from services.notification.channels.base import SendFailed
from services.notification.channels.signing import sign, verify
from services.notification.config import NotifyConfig
from services.notification.deliveries import DeliveryLog
from services.notification.redaction import public_envelope
from services.notification.service import NotificationService

from .support import NOW, case_opened, demo_roster, recorded, roster_event

GATE, MINT = test_gate()
CFG = NotifyConfig(max_attempts=3, backoff_s=1.0, backoff_max_s=4.0, lease_s=30.0)
PHONE, ID_NUMBER = "137-0000-9005", "990101198505050051"


class FakeChannel:
    def __init__(self, name: str, fail: list[SendFailed | None] | None = None, delay_s: float = 0.0) -> None:
        self.name, self.fail, self.delay_s = name, list(fail or []), delay_s
        self.sent: list[str] = []

    def send(self, row: Mapping[str, Any]) -> None:
        if self.delay_s:
            eventlet.sleep(self.delay_s)
        outcome = self.fail.pop(0) if self.fail else None
        if outcome is not None:
            raise outcome
        self.sent.append(row["delivery_id"])


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def svc(clock: FrozenClock) -> NotificationService:
    store = memory_store("notification", clock)
    service = worker_factory(NotificationService, store=store, roster=RosterReplica(store.db),
                             deliveries=DeliveryLog(store.db), auth=GATE)
    for ev in demo_roster():
        service.apply_roster_event(ev)
    return service


def subscribe(svc: NotificationService, **over: Any) -> dict[str, Any]:
    body = {"agency": "police_station", "name": "示范派出所", "event_types": ["clue.reported", "case.opened"],
            "mode": "webhook", "url": "https://agency.example.org/hook", **over}
    resp = ServiceApp(svc).client.post("/api/subscriptions", json=body, headers=MINT.headers("street_office"))
    return {"status": resp.status_code, **json.loads(resp.get_data())}


def clue(description: str) -> Any:
    ev = new_event("clue.reported", "clue-k1", "longgang", {
        "clue_id": "k1", "community_id": "magang", "category": "illegal_finance", "source": "grid_patrol",
        "title": "门店宣传保本高息理财", "description": description, "found_at": "2026-03-14T09:30:00+08:00",
        "reported_by": "p-zhang01", "reporter_id": "rp-0001"}, actor="p-zhang01", occurred_at=NOW)
    return recorded(ev)


def rows(svc: NotificationService, channel: str) -> list[dict[str, Any]]:
    return list(handlers.book_of(svc.store).outbox.col(channel).find({}))


# -- subscriptions and redaction --------------------------------------------------------------------
def test_an_agency_gets_the_event_without_reporter_or_personal_text(svc: NotificationService) -> None:
    sub = subscribe(svc)
    assert sub["status"] == 201 and sub["secret"] and sub["street_ids"] == ["longgang"]
    svc.handle_event(clue(f"举报人测试甲（电话{PHONE}，身份证{ID_NUMBER}）反映"))
    [row] = rows(svc, "webhook")
    sent = json.loads(row["payload"])
    assert sent["event"]["type"] == "clue.reported"
    assert set(sent["event"]["payload"]) == {"clue_id", "community_id", "category", "source", "credit_code",
                                             "found_at"}
    assert "测试甲" not in row["payload"] and "9005" not in row["payload"] and "rp-0001" not in row["payload"]


def test_personal_data_is_granted_by_the_district_only_and_numbers_are_scrubbed_anyway(
        svc: NotificationService) -> None:
    assert subscribe(svc, personal_data=True)["status"] == 403
    event = clue(f"举报人电话{PHONE}，身份证{ID_NUMBER}")
    granted = public_envelope(event, personal_data=True)["payload"]
    assert "description" in granted and PHONE not in granted["description"] and ID_NUMBER not in granted["description"]
    assert "reporter_id" not in granted and "reported_by" not in granted


def test_the_secret_is_shown_once_and_never_recorded_in_an_event(svc: NotificationService) -> None:
    sub = subscribe(svc)
    listing = json.loads(ServiceApp(svc).client.get("/api/subscriptions", headers=MINT.headers("street_office"))
                         .get_data())["subscriptions"]
    assert [s["subscription_id"] for s in listing] == [sub["subscription_id"]] and "secret" not in listing[0]
    events = [e for c in svc.store.events.iter_all() for e in c.events]
    assert [e.type for e in events] == ["subscription.created"]
    assert sub["secret"] not in json.dumps([e.as_dict() for e in events])


def test_a_street_office_subscribes_only_its_own_street(svc: NotificationService) -> None:
    assert subscribe(svc, street_ids=["pingshan"])["status"] == 403


def test_a_replayed_event_is_queued_once_even_if_the_outbox_is_lost(svc: NotificationService) -> None:
    subscribe(svc)
    event = case_opened("c0009")
    svc.handle_event(event)
    svc.handle_event(event)
    assert len(rows(svc, "webhook")) == 1
    channel = FakeChannel("webhook")
    dispatch.drain(svc.store, channel, CFG)
    handlers.book_of(svc.store).outbox.col("webhook").delete_many({})
    svc.handle_event(event)  # the event store still knows it was sent
    assert rows(svc, "webhook") == [] and len(channel.sent) == 1


# -- retries, dead letters, crashes -------------------------------------------------------------------
def test_failures_are_retried_with_backoff_then_dead_lettered_and_visible(
        svc: NotificationService, clock: FrozenClock) -> None:
    subscribe(svc)
    svc.handle_event(case_opened("c0001"))
    channel = FakeChannel("webhook", [SendFailed("ConnectionRefusedError")] * 3)
    assert dispatch.drain(svc.store, channel, CFG)["failed"] == 1
    assert dispatch.drain(svc.store, channel, CFG)["failed"] == 0  # not due before its backoff
    clock.advance(timedelta(seconds=1))
    assert dispatch.drain(svc.store, channel, CFG)["failed"] == 1
    clock.advance(timedelta(seconds=2))
    assert dispatch.drain(svc.store, channel, CFG)["dead_lettered"] == 1
    [row] = rows(svc, "webhook")
    assert (row["state"], row["attempts"], row["last_error"]) == ("dead", 3, "ConnectionRefusedError")
    dead = [e for c in svc.store.events.iter_all() for e in c.events if e.type == "delivery.dead_lettered"]
    assert [e.payload["attempts"] for e in dead] == [3]
    resp = ServiceApp(svc).client.get("/api/notification/outbox?state=dead", headers=MINT.headers("street_office"))
    [shown] = json.loads(resp.get_data())["deliveries"]
    assert (shown["channel_label"], shown["state_label"]) == ("Webhook 推送", "发送失败（待处理）")


def test_a_permanent_refusal_is_dead_lettered_at_once(svc: NotificationService) -> None:
    subscribe(svc)
    svc.handle_event(case_opened("c0001"))
    counts = dispatch.drain(svc.store, FakeChannel("webhook", [SendFailed("HTTP410", permanent=True)]), CFG)
    assert counts["dead_lettered"] == 1


def test_a_crash_after_the_record_does_not_send_again(svc: NotificationService) -> None:
    subscribe(svc)
    svc.handle_event(case_opened("c0001"))
    channel = FakeChannel("webhook")
    dispatch.drain(svc.store, channel, CFG)
    col = handlers.book_of(svc.store).outbox.col("webhook")
    col.update_many({}, {"$set": {"state": "pending", "next_at": 0}})  # as if the mark was lost
    dispatch.drain(svc.store, channel, CFG)
    assert len(channel.sent) == 1 and col.find_one({})["state"] == "sent"


def test_a_slow_channel_does_not_hold_up_another(svc: NotificationService) -> None:
    subscribe(svc)
    subscribe(svc, mode="topic", url="")
    svc.handle_event(case_opened("c0001"))
    slow, fast = FakeChannel("webhook", delay_s=2.0), FakeChannel("topic")
    started = time.monotonic()
    slow_thread = eventlet.spawn(dispatch.drain, svc.store, slow, CFG)
    fast_counts = eventlet.spawn(dispatch.drain, svc.store, fast, CFG).wait()
    assert fast_counts["delivered"] == 1 and time.monotonic() - started < 1.0 and slow.sent == []
    slow_thread.wait()
    assert len(slow.sent) == 1


def test_signature_verifies_and_a_tampered_body_or_old_timestamp_fails() -> None:
    body, ts = b'{"delivery_id":"d1"}', int(time.time())
    sig = sign("s3cret", ts, body)
    assert verify("s3cret", str(ts), body, sig, now=time.time())
    assert not verify("s3cret", str(ts), body.replace(b"d1", b"d2"), sig, now=time.time())
    assert not verify("other", str(ts), body, sig, now=time.time())
    assert not verify("s3cret", str(ts - 600), body, sign("s3cret", ts - 600, body), now=time.time())


# -- rules ------------------------------------------------------------------------------------------------
def roster_with_grids() -> RosterView:
    events = demo_roster() + [
        roster_event("roster.grid_registered", "grid-magang-l2", {"grid_id": "magang-l2", "name": "马岗二级网格",
                                                                  "level": 2, "parent_grid_id": "", "community_id": "magang"}),
        roster_event("roster.grid_registered", "grid-magang-l3", {"grid_id": "magang-l3", "name": "马岗第01网格",
                                                                  "level": 3, "parent_grid_id": "magang-l2", "community_id": "magang"}),
        roster_event("roster.chief_assigned", "grid-magang-l2", {"grid_id": "magang-l2", "person_id": "p-wang01",
                                                                 "valid_from": "2025-01-01T00:00:00+08:00"}),
        roster_event("roster.chief_assigned", "grid-magang-l2", {"grid_id": "magang-l2", "person_id": "p-li01",
                                                                 "valid_from": "2026-04-01T00:00:00+08:00"}),
        roster_event("roster.member_unit_registered", "unit-pcs", {"unit_id": "pcs", "name": "示范派出所",
                                                                   "kind": "police_station"}),
        roster_event("roster.role_assigned", "person-p-police01", {
            "person_id": "p-police01", "role": "member_unit_contact", "unit_id": "pcs",
            "valid_from": "2025-01-01T00:00:00+08:00"}),
    ]
    return RosterView.from_events(events)


def breach(deadline: str) -> Any:
    return recorded(new_event("sla.breached", "case-c0001", "longgang", {
        "subject_kind": "case", "subject_id": "c0001", "rule": "registration", "clock_no": 1, "level": 3,
        "deadline": deadline, "responsible_person_id": "p-zhang01", "grid_id": "magang-l3",
        "consequence": "escalated"}, actor="system:escalation", occurred_at=NOW))


def test_a_breach_tells_the_responsible_and_the_chief_above_as_of_the_deadline() -> None:
    view = roster_with_grids()
    march = rules.notices_for(breach("2026-03-14T13:30:00+08:00"), view)
    assert [(n.recipient_id, n.urgent) for n in march] == [("p-zhang01", True), ("p-wang01", True)]
    assert "已自动上报上一级" in march[0].message.body
    # handled in May, the deadline was in March: still the chief of March
    assert [n.recipient_id for n in rules.notices_for(breach("2026-04-02T13:30:00+08:00"), view)] == \
        ["p-zhang01", "p-li01"]


def test_an_abnormal_case_reaches_the_agency_contacts_at_once() -> None:
    ev = recorded(new_event("case.agency_notified", "case-c0001", "longgang", {
        "case_id": "c0001", "at": "2026-03-14T10:00:00+08:00", "agency": "police_station"},
        actor="system:escalation", occurred_at=NOW))
    [notice] = rules.notices_for(ev, roster_with_grids())
    assert notice.recipient_id == "p-police01" and notice.urgent and "派出所" in notice.message.body


def test_the_daily_digest_goes_to_each_level2_chief_once_a_day(svc: NotificationService) -> None:
    view = roster_with_grids()
    svc.handle_event(case_opened("c0001"))
    svc.handle_event(breach("2026-03-14T13:30:00+08:00"))
    early = NOW.replace(hour=0)  # 08:00 in Shanghai is 00:00 UTC
    assert handlers.daily_digest(svc.store, svc.deliveries, view, early - timedelta(minutes=1)) == 0
    assert handlers.daily_digest(svc.store, svc.deliveries, view, early) == 1
    assert handlers.daily_digest(svc.store, svc.deliveries, view, early + timedelta(hours=3)) == 0  # done today
    assert handlers.daily_digest(svc.store, svc.deliveries, view, early + timedelta(days=1)) == 1  # tomorrow's
    digests = [r for r in svc.deliveries.latest("p-wang01") if r["source_type"] == "digest.daily"]
    assert sorted(d["subject"] for d in digests) == ["每日待办汇总（2026-03-14）", "每日待办汇总（2026-03-15）"]
    first = next(d for d in digests if d["subject"].endswith("14）"))
    assert "在办案件 1 件，其中超时 1 件" in first["body"] and "c0001" in first["body"]

"""Reminders before a report is due: escalation's `obligation.reminder_due` becomes one message to
the person it names, in the inbox and by e-mail when they have an address, exactly once per
(event, recipient, channel) however often the event arrives."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from nameko.testing.services import worker_factory

from fangfei.clock import FrozenClock
from fangfei.events import Event, new_event
from fangfei.roster_view import RosterReplica, RosterView
from fangfei.testing.auth import test_gate
from fangfei.testing.stores import memory_store
from services.notification import handlers, rules
from services.notification.deliveries import DeliveryLog
from services.notification.service import CONSUMED, NotificationService

from .support import NOW, demo_roster, recorded, roster_event

GATE, _ = test_gate()


def reminder(oid: str = "weekly:magang:2026-W12", responsible: str = "p-wang01", **over: Any) -> Event:
    kind, unit, period = oid.split(":")
    payload = {"obligation_id": oid, "kind": kind, "unit_id": unit, "period": period, "title": "2026年第12周周报",
               "due_at": "2026-03-20T12:00:00+08:00", "at": "2026-03-19T12:00:00+08:00", "lead_hours": 24,
               "responsible_person_id": responsible, "grid_id": "g2-magang", **over}
    stream = f"obligation-longgang:{oid}"
    return recorded(new_event("obligation.reminder_due", stream, "longgang", payload,
                              actor="system:escalation", occurred_at=NOW))


@pytest.fixture
def svc() -> NotificationService:
    store = memory_store("notification", FrozenClock(NOW))
    # e-mail and SMS switched on, as a deployment would (the reminder is not urgent: no SMS)
    store.settings = dataclasses.replace(store.settings, extra={
        "FANGFEI_SMTP_HOST": "smtp.example.org", "FANGFEI_SMS_GATEWAY_URL": "https://sms.example.org/send"})
    service = worker_factory(NotificationService, store=store, roster=RosterReplica(store.db),
                             deliveries=DeliveryLog(store.db), auth=GATE)
    for ev in demo_roster() + [roster_event("roster.person_registered", "person-p-wang01", {
            "person_id": "p-wang01", "name": "王社区01", "role": "community_secretary", "community_id": "magang",
            "phone": "139-0000-0001"})]:
        service.apply_roster_event(ev)
    handlers.book_of(store).contacts.set_email("p-wang01", "longgang", "wang01@example.org", "office-longgang",
                                               "2026-03-01T09:00:00+08:00")
    return service


def outbox(svc: NotificationService, channel: str) -> list[dict[str, Any]]:
    return list(handlers.book_of(svc.store).outbox.col(channel).find({}))


def test_the_responsible_person_is_reminded_once_in_the_inbox_and_by_email(svc: NotificationService) -> None:
    assert ("escalation", "obligation.reminder_due") in CONSUMED
    event = reminder()
    svc.handle_event(event)
    svc.handle_event(event)  # redelivered
    [msg] = svc.deliveries.latest("p-wang01")
    assert (msg["channel"], msg["source_type"], msg["subject"]) == ("inbox", "obligation.reminder_due", "报送截止提醒")
    assert msg["body"] == "2026年第12周周报（马岗社区）将于3月20日12:00截止，请按时报送。"
    [mail] = outbox(svc, "email")
    assert (mail["recipient_id"], mail["address"], mail["body"]) == ("p-wang01", "wang01@example.org", msg["body"])
    assert outbox(svc, "sms") == []  # a reminder is not urgent


def test_each_report_reminded_is_its_own_message(svc: NotificationService) -> None:
    svc.handle_event(reminder())
    svc.handle_event(reminder("weekly:magang:2026-W13", due_at="2026-03-27T12:00:00+08:00", title="2026年第13周周报"))
    assert sorted(m["body"][:11] for m in svc.deliveries.latest("p-wang01")) == ["2026年第12周周报", "2026年第13周周报"]
    assert len(outbox(svc, "email")) == 2


def test_someone_without_an_address_gets_the_inbox_message_only(svc: NotificationService) -> None:
    svc.handle_event(reminder(responsible="p-zhang01"))
    assert [m["channel"] for m in svc.deliveries.latest("p-zhang01")] == ["inbox"]
    assert outbox(svc, "email") == []


def test_a_reminder_naming_nobody_tells_nobody(svc: NotificationService) -> None:
    svc.handle_event(reminder(responsible=""))
    assert [e for c in svc.store.events.iter_all() for e in c.events if e.type == "delivery.recorded"] == []


def test_a_street_duty_due_at_the_end_of_the_day_reads_24_00_with_the_street_name() -> None:
    event = reminder("sweep:longgang:2026-02.30", responsible="p-li01", title="2026年2月下半月集中清查情况汇总",
                     due_at="2026-02-28T23:59:59+08:00", at="2026-02-27T23:59:59+08:00", grid_id="g1-longgang")
    [notice] = rules.notices_for(event, RosterView.from_events(demo_roster()))
    assert (notice.recipient_id, notice.urgent) == ("p-li01", False)
    assert notice.message.body == "2026年2月下半月集中清查情况汇总（示范街道）将于2月28日24:00截止，请按时报送。"

"""Notification: the assignee of a new case gets exactly one inbox message, readable in the log."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from nameko.testing.services import worker_factory
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from fangfei.clock import FrozenClock
from fangfei.roster_view import RosterReplica
from fangfei.testing.auth import test_gate
from fangfei.testing.stores import memory_store
from services.notification.deliveries import DeliveryLog
from services.notification.service import NotificationService

from .support import NOW, case_opened, demo_roster


GATE, MINT = test_gate()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def service(clock: FrozenClock) -> NotificationService:
    store = memory_store("notification", clock)
    svc = worker_factory(
        NotificationService, store=store, roster=RosterReplica(store.db), deliveries=DeliveryLog(store.db), auth=GATE
    )
    for ev in demo_roster():
        svc.apply_roster_event(ev)
    return svc


def deliveries(service: NotificationService, query: str = "", role: str | None = "district_office",
               **token_kw: object) -> tuple[int, dict]:
    """The delivery log as `role` sees it (default: the district office, which sees everything)."""
    headers = MINT.headers(role, **token_kw) if role else {}
    request = Request(EnvironBuilder(method="GET", path="/api/deliveries", query_string=query,
                                     headers=headers).get_environ())
    resp = service.list_deliveries(request)
    return resp.status_code, json.loads(resp.get_data())


def delivery_events(service: NotificationService) -> list:
    return [e for c in service.store.events.iter_all() for e in c.events if e.type == "delivery.recorded"]


def test_new_case_gives_its_assignee_one_inbox_message(service: NotificationService) -> None:
    case = case_opened("c0001")
    service.notify_case_opened(case)

    [recorded] = delivery_events(service)
    assert recorded.stream_id == f"delivery-{recorded.payload['delivery_id']}"
    assert recorded.causation_id == case.event_id
    assert recorded.payload["recipient_person_id"] == "p-zhang01"
    assert recorded.payload["channel"] == "inbox"

    status, body = deliveries(service, "recipient_id=p-zhang01")
    assert status == 200
    [row] = body["deliveries"]
    assert row["delivery_id"] == recorded.payload["delivery_id"]
    assert (row["recipient_person_id"], row["recipient_name"]) == ("p-zhang01", "张网格01")
    assert (row["channel"], row["channel_label"]) == ("inbox", "站内消息")
    assert row["subject"] == "新线索待登记"
    assert row["body"] == "马岗社区有一条新线索已分派给您（案件编号 c0001），请于 2026年3月14日 13:30 前完成登记。"
    assert row["source_event_id"] == case.event_id
    assert row["recorded_at"] == recorded.recorded_at


def test_deadline_in_shanghai_time_and_routing_note_are_in_the_message(service: NotificationService) -> None:
    service.notify_case_opened(
        case_opened("c0002", assignee="p-wang01", level=2, register_deadline="2026-03-14T17:05:00Z",
                    routing_note="马岗第一网格（3级网格）网格长空缺")
    )
    [row] = deliveries(service, "recipient_id=p-wang01")[1]["deliveries"]
    assert "请于 2026年3月15日 01:05 前完成登记" in row["body"]
    assert row["body"].endswith("\n分派说明：马岗第一网格（3级网格）网格长空缺")


def test_the_same_case_event_handled_twice_notifies_once(service: NotificationService) -> None:
    case = case_opened("c0001")
    service.notify_case_opened(case)
    service.notify_case_opened(case)

    assert len(delivery_events(service)) == 1
    assert len(deliveries(service)[1]["deliveries"]) == 1


def test_crash_between_recording_and_log_row_heals_on_redelivery(service: NotificationService) -> None:
    case = case_opened("c0001")
    service.notify_case_opened(case)
    service.store.db["deliveries"].delete_many({})  # as if the process died right after the append

    service.notify_case_opened(case)  # the consumer redelivers the uncommitted event

    assert len(delivery_events(service)) == 1
    assert len(deliveries(service, "recipient_id=p-zhang01")[1]["deliveries"]) == 1


def test_case_without_assignee_is_not_notified(service: NotificationService) -> None:
    service.notify_case_opened(case_opened("c0003", assignee="", level=4, routing_note="转区处非办"))

    assert delivery_events(service) == []
    assert deliveries(service)[1]["deliveries"] == []


def test_log_is_newest_first_and_filters_by_recipient(
    service: NotificationService, clock: FrozenClock
) -> None:
    service.notify_case_opened(case_opened("c0001", assignee="p-zhang01"))
    clock.advance(timedelta(minutes=1))
    service.notify_case_opened(case_opened("c0002", assignee="p-wang01"))
    clock.advance(timedelta(minutes=1))
    service.notify_case_opened(case_opened("c0003", assignee="p-zhang01"))

    everyone = deliveries(service)[1]["deliveries"]
    assert [r["body"].split("案件编号 ")[1][:5] for r in everyone] == ["c0003", "c0002", "c0001"]
    zhang = deliveries(service, "recipient_id=p-zhang01")[1]["deliveries"]
    assert [r["recipient_name"] for r in zhang] == ["张网格01", "张网格01"]
    assert zhang[0]["recorded_at"] > zhang[1]["recorded_at"]


def test_log_is_capped_at_100_rows(service: NotificationService) -> None:
    for i in range(105):
        service.notify_case_opened(case_opened(f"c{i:04d}"))
    assert len(deliveries(service)[1]["deliveries"]) == 100


@pytest.mark.parametrize(
    "query, field", [("recipient_id=bad id!", "recipient_id"), ("person=p-zhang01", "person")]
)
def test_bad_query_is_refused_with_the_parameter_named(
    service: NotificationService, query: str, field: str
) -> None:
    status, body = deliveries(service, query)
    assert status == 400
    assert field in body["error"]["details"]


def test_log_can_be_rebuilt_from_the_event_store(service: NotificationService) -> None:
    service.notify_case_opened(case_opened("c0001"))
    service.notify_case_opened(case_opened("c0002", assignee="p-wang01"))
    before = deliveries(service)[1]["deliveries"]

    assert service.deliveries.rebuild(service.store.events) == 2
    assert deliveries(service)[1]["deliveries"] == before


# -- access control: who sees which deliveries (S1) ----------------------------------------------------
def cases_seen(service: NotificationService, query: str = "", role: str = "district_office", **kw: object) -> list[str]:
    status, body = deliveries(service, query, role, **kw)
    assert status == 200, body
    return sorted(r["body"].split("案件编号 ")[1][:5] for r in body["deliveries"])


@pytest.fixture
def spread(service: NotificationService) -> NotificationService:
    """c0001 to a magang chief in longgang, c0002 to a member unit's person, c0003 in another street."""
    service.notify_case_opened(case_opened("c0001", assignee="p-zhang01"))
    service.notify_case_opened(case_opened("c0002", assignee="mu-police-01"))
    service.notify_case_opened(case_opened("c0003", assignee="p-other01", street_id="pingshan"))
    return service


def test_the_district_sees_every_street_and_can_narrow_to_one(spread: NotificationService) -> None:
    assert cases_seen(spread) == ["c0001", "c0002", "c0003"]
    assert cases_seen(spread, "street_id=pingshan") == ["c0003"]


def test_a_street_office_sees_its_street_only(spread: NotificationService) -> None:
    assert cases_seen(spread, role="street_office") == ["c0001", "c0002"]
    assert cases_seen(spread, role="street_office", street="pingshan") == ["c0003"]
    status, body = deliveries(spread, "street_id=pingshan", role="street_office")
    assert (status, body["error"]["code"]) == (403, "street_out_of_scope")


def test_grid_staff_see_what_went_to_the_people_of_their_community(spread: NotificationService) -> None:
    assert cases_seen(spread, role="grid_staff", community="magang") == ["c0001"]
    assert cases_seen(spread, role="grid_staff", community="luogang") == []
    status, _ = deliveries(spread, "recipient_id=mu-police-01", role="grid_staff", community="magang")
    assert status == 403


def test_a_member_unit_sees_only_what_was_sent_to_it(spread: NotificationService) -> None:
    assert cases_seen(spread, role="member_unit", person="mu-police-01") == ["c0002"]


def test_no_token_no_deliveries(spread: NotificationService) -> None:
    assert deliveries(spread, role=None)[0] == 401
    assert deliveries(spread, role="ops")[0] == 403


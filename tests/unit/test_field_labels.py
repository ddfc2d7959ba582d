"""A refused request names every bad field, in Chinese, by its Chinese label (issue 13).

The label table (fangfei.field_labels) must cover every field of every HTTP input schema, or a
new field would be reported to people by its code name."""

from __future__ import annotations

import importlib
import re
from typing import Iterator

import pytest
from marshmallow import Schema, fields

from fangfei.field_labels import LABELS, chinese, label_of

SERVICES = ("intake", "roster", "escalation", "ledger", "notification")
_ASCII_WORD = re.compile(r"[A-Za-z]{4,}")


def _http_schemas() -> Iterator[type[Schema]]:
    for svc in SERVICES:
        module = importlib.import_module(f"services.{svc}.schemas")
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, Schema) and obj.__module__ == module.__name__:
                yield obj
    from services.intake.schemas import RECORD_REQUESTS
    from services.ledger import ledgers, statistics

    yield from (schema for _, schema in RECORD_REQUESTS.values())
    yield from (ledger.schema() for ledger in ledgers.LEDGERS.values())
    yield statistics.StatisticsQuery


def _fields(schema: Schema, path: str = "") -> Iterator[tuple[Schema, str, str]]:
    for name, f in schema.fields.items():
        key = f.data_key or name
        yield schema, key, path + key
        inner = f.inner if isinstance(f, fields.List) else f
        if isinstance(inner, fields.Nested):
            yield from _fields(inner.schema, path + key + ".")


def test_every_field_of_every_http_schema_has_a_chinese_label() -> None:
    unlabelled = set()
    schemas = list(_http_schemas())
    assert len(schemas) > 60  # all five services' request and query schemas, record bodies included
    for cls in schemas:
        for schema, key, path in _fields(cls()):
            label = label_of(key, [c.__name__ for c in type(schema).__mro__], path)
            if label == key or not re.search(r"[\u4e00-\u9fff]", label):
                unlabelled.add(f"{cls.__name__}.{path}")
    assert not unlabelled, sorted(unlabelled)


@pytest.mark.parametrize("english, expected", [
    ("Missing data for required field.", "必填"),
    ("Not a valid datetime.", "不是有效的时间（例如 2026-03-14T09:30:00+08:00）"),
    ("Not a valid integer.", "须为整数"),
    ("Unknown field.", "未知字段，不予接受"),
    ("Length must be between 1 and 100.", "长度须为 1–100 个字符"),
    ("Longer than maximum length 18.", "长度不能超过 18 个字符"),
    ("Must be greater than or equal to 1 and less than or equal to 90.", "须不小于 1 且不大于 90"),
    ("Must be one of: 1, 2, 3, 4.", "须为以下之一：1、2、3、4"),
    ("not a valid identifier", "须为 1–64 位字母、数字或 _ . : -（以字母或数字开头）"),
    ("不能为空白", "不能为空白"),
])
def test_marshmallow_messages_are_worded_in_chinese(english: str, expected: str) -> None:
    assert chinese(english) == expected


def test_a_list_is_measured_in_items_not_characters() -> None:
    assert chinese("Length must be between 1 and 20.", is_list=True) == "长度须为 1–20 项"


def test_coded_choices_are_shown_with_their_labels() -> None:
    said = chinese("must be one of: advertising, illegal_finance", name="category")
    assert said == "须为以下之一：广告咨询信息（advertising）、非法金融活动（illegal_finance）"


def test_a_clue_with_three_bad_fields_is_refused_with_all_three_in_chinese() -> None:
    from services.intake.tests.support import Intake, valid_clue

    intake = Intake()
    status, answer = intake.post("/api/clues", valid_clue(found_at="昨天上午", category="lottery", title="   "))
    assert status == 400
    error = answer["error"]
    assert error["code"] == "validation_failed"
    assert error["message"] == "输入校验未通过：线索类别、发现时间、线索标题 3 项有误"
    details = error["details"]
    assert set(details) == {"found_at", "category", "title"}
    assert details["found_at"] == ["发现时间：不是有效的时间（例如 2026-03-14T09:30:00+08:00）"]
    assert details["category"][0].startswith("线索类别：须为以下之一：广告咨询信息（advertising）")
    assert details["title"] == ["线索标题：不能为空白"]
    assert [(f["field"], f["label"]) for f in error["fields"]] == [
        ("category", "线索类别"), ("found_at", "发现时间"), ("title", "线索标题")]
    assert not any(_ASCII_WORD.search(m.split("（")[0]) for msgs in details.values() for m in msgs)


def test_both_blank_texts_are_reported_not_only_the_first() -> None:
    from services.intake.tests.support import Intake, valid_clue

    status, answer = Intake().post("/api/clues", valid_clue(title=" ", description="  "))
    assert status == 400
    assert answer["error"]["details"] == {"title": ["线索标题：不能为空白"], "description": ["情况描述：不能为空白"]}


def test_nested_and_list_fields_keep_their_shape_and_labels() -> None:
    from services.intake.tests.support import Intake, valid_clue

    status, answer = Intake().post("/api/clues", valid_clue(reporter={"phone": "abc", "nickname": "x"}))
    assert status == 400
    reporter = answer["error"]["details"]["reporter"]
    assert reporter["phone"][0].startswith("举报人电话：")
    assert reporter["nickname"] == ["nickname：未知字段，不予接受"]
    assert {f["field"] for f in answer["error"]["fields"]} == {"reporter.phone", "reporter.nickname"}


def test_every_label_is_chinese() -> None:
    assert all(re.search(r"[\u4e00-\u9fff]", label) for label in LABELS.values())


def test_list_items_are_named_by_their_position() -> None:
    from fangfei.http import HttpError, load
    from services.escalation.schemas import CampaignRequest

    body = {"campaign_id": "c1", "name": "专项行动", "community_ids": ["ok", "bad id!"],
            "phases": [{"phase_id": "p1", "name": "部署", "due_at": "2026-01-15"}, {"phase_id": "p2", "name": "排查"}]}
    with pytest.raises(HttpError) as refused:
        load(CampaignRequest(), body)
    err = refused.value
    assert err.details == {"phases": {1: {"due_at": ["阶段第 2 项的阶段截止时间：必填"]}},
                           "community_ids": {1: ["参与社区第 2 项：须为 1–64 位字母、数字或 _ . : -（以字母或数字开头）"]}}
    assert [f["field"] for f in err.fields] == ["phases[1].due_at", "community_ids[1]"]


def test_a_clue_found_in_the_future_is_named_together_with_the_other_bad_fields() -> None:
    """The future check needs the service's clock, so it ran after the schema: a clue with a bad
    category and a discovery time tomorrow was told about the category only, then, once that was
    fixed, about the time. Both at once now, each with its label."""
    from services.intake.tests.support import Intake, valid_clue

    intake = Intake()  # its clock: 2026-03-14 10:00 in Beijing
    status, answer = intake.post("/api/clues", valid_clue(found_at="2026-03-15T09:30:00+08:00", category="lottery"))
    assert status == 400
    error = answer["error"]
    assert error["message"] == "输入校验未通过：线索类别、发现时间 2 项有误"
    assert error["details"]["found_at"] == ["发现时间：不能晚于当前时间"]
    assert error["details"]["category"][0].startswith("线索类别：")
    assert [f["label"] for f in error["fields"]] == ["线索类别", "发现时间"]
    assert intake.store.events.head_position() == 0


@pytest.mark.parametrize("refused", ["enterprise", "obligations", "subscription-streets", "subscription-url"])
def test_checks_made_after_the_schema_answer_in_the_same_shape(refused: str) -> None:
    """A field refused by the service after its schema passed (a credit code's check digit, a
    date range, a subscription's streets or address) is named like any other: label, Chinese
    message, summary and the flat `fields` list a screen or the CLI prints."""
    from datetime import datetime

    from fangfei.clock import SHANGHAI

    if refused in ("enterprise", "obligations"):
        from services.escalation.tests.harness import World
        from services.escalation.tests.support import full_chain_roster

        w = World(datetime(2026, 3, 16, 9, 0, tzinfo=SHANGHAI), full_chain_roster())
        if refused == "enterprise":
            status, answer = w.post("/api/enterprises", {"street_id": "longgang", "by": "p-li01",
                                                         "credit_code": "91350100M000100Y44"})
            field, label, words = "credit_code", "统一社会信用代码", "校验位错误"
        else:
            status, answer = w.get("/api/obligations", street_id="longgang", **{"from": "2026-03-20", "to": "2026-03-01"})
            field, label, words = "to", "结束日期", "不早于开始日期"
    else:
        from nameko.testing.services import worker_factory

        from fangfei.clock import FrozenClock
        from fangfei.roster_view import RosterReplica
        from fangfei.testing.auth import test_gate
        from fangfei.testing.stores import memory_store
        from fangfei.testing.wsgi import ServiceApp
        from services.notification.deliveries import DeliveryLog
        from services.notification.service import NotificationService

        gate, mint = test_gate()
        store = memory_store("notification", FrozenClock(datetime(2026, 3, 16, 9, 0, tzinfo=SHANGHAI)))
        svc = worker_factory(NotificationService, store=store, roster=RosterReplica(store.db),
                             deliveries=DeliveryLog(store.db), auth=gate)
        body = {"agency": "police_station", "name": "示范派出所", "event_types": ["case.opened"], "mode": "webhook",
                "url": "https://agency.example.org/hook"}
        if refused == "subscription-streets":  # the district office must say which streets
            headers, field, label, words = mint.headers("district_office"), "street_ids", "街道", "至少指定一个街道"
        else:
            body = {**body, "url": ""}
            headers, field, label, words = mint.headers("street_office"), "url", "推送地址", "须填写"
        resp = ServiceApp(svc).client.post("/api/subscriptions", json=body, headers=headers)
        status, answer = resp.status_code, resp.get_json()
    assert status == 400, answer
    error = answer["error"]
    assert error["code"] == "validation_failed"
    assert error["message"] == f"输入校验未通过：{label} 1 项有误"
    [said] = error["details"][field]
    assert said.startswith(f"{label}：") and words in said
    assert error["fields"] == [{"field": field, "label": label, "messages": [said]}]

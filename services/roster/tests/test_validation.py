"""A roster request with several mistakes is refused with all of them (issue 13): a field that
fails its own check does not hide a rule over the whole body (marshmallow skips those by default),
a rule does not misfire because a field it reads was refused, and every message names the fields
by their Chinese label, never by the name a script sends."""

from __future__ import annotations

import json
import re

import pytest

from services.roster.service import RosterService

from .test_service import HANDOVER, body, get, make_service, send

UNITS = "/api/roster/streets/longgang/member-units"
ROLES = "/api/roster/streets/longgang/people/magang-v2/roles"
GROUP = "/api/roster/streets/longgang/leading-group"


@pytest.fixture
def service() -> RosterService:
    return make_service()


def refused(resp) -> dict:
    assert resp.status_code == 400, resp.get_data(as_text=True)
    error = body(resp)["error"]
    assert error["code"] == "validation_failed"
    # every message names its fields in Chinese: no raw field name (community_id, office_unit_id …);
    # a coded choice may show its code after its label, in brackets
    said = [re.sub(r"（[^）]*）", "", m) for f in error["fields"] for m in f["messages"]]
    assert not [m for m in said if re.search(r"[a-z]+_[a-z_]+", m)], said
    return error


def messages(error: dict) -> dict[str, list[str]]:
    return {f["field"]: f["messages"] for f in error["fields"]}


def register_unit(svc: RosterService, cmd: dict) -> dict:
    return refused(svc.register_unit(send("POST", UNITS, cmd), "longgang"))


def assign_role(svc: RosterService, cmd: dict) -> dict:
    return refused(svc.assign_role(send("POST", ROLES, cmd), "longgang", "magang-v2"))


def test_a_unit_with_a_bad_kind_and_sectors_without_a_date_is_told_both(service) -> None:
    error = register_unit(service, {"unit_id": "longgang-jrb", "name": "金融办", "kind": "bank",
                                    "sectors": ["consulting"]})
    said = messages(error)
    assert set(said) == {"kind", "sectors_from"}
    assert said["sectors_from"] == ["职责起始：给出负责行业时须给出职责起始"]
    assert said["kind"][0].startswith("单位类型：须为以下之一：")
    assert error["message"] == "输入校验未通过：单位类型、职责起始 2 项有误"


def test_bad_sectors_without_a_date_are_told_both_too(service) -> None:
    said = messages(register_unit(service, {"unit_id": "longgang-jrb", "name": "金融办", "kind": "other",
                                            "sectors": ["lottery"]}))
    assert set(said) == {"sectors[0]", "sectors_from"}
    assert said["sectors_from"] == ["职责起始：给出负责行业时须给出职责起始"]


def test_a_bad_sectors_date_is_reported_as_bad_not_as_missing(service) -> None:
    said = messages(register_unit(service, {"unit_id": "longgang-jrb", "name": "金融办", "kind": "other",
                                            "sectors": ["consulting"], "sectors_from": "2026-03-01"}))
    assert list(said) == ["sectors_from"]
    assert len(said["sectors_from"]) == 1 and "须给出" not in said["sectors_from"][0]


def test_a_role_with_a_bad_phone_and_an_end_before_its_start_is_told_both(service) -> None:
    said = messages(assign_role(service, {"role": "volunteer", "grid_id": "magang-l3-01", "valid_from": HANDOVER,
                                          "valid_until": "2026-02-01T00:00:00+08:00", "name": "志愿者壬99",
                                          "phone": "12345"}))
    assert set(said) == {"phone", "valid_until"}
    assert said["valid_until"] == ["任职截止：任职截止须晚于任职起始"]
    assert said["phone"][0].startswith("电话：")


def test_a_role_whose_start_is_refused_is_not_also_compared_with_its_end(service) -> None:
    said = messages(assign_role(service, {"role": "volunteer", "grid_id": "magang-l3-01", "valid_from": "昨天",
                                          "valid_until": "2026-02-01T00:00:00+08:00"}))
    assert list(said) == ["valid_from"]
    assert said["valid_from"][0].startswith("任职起始：")


def test_asking_nobody_with_a_bad_time_is_told_both(service) -> None:
    resp = service.responsible(get("/api/roster/streets/longgang/responsible", at="yesterday"), "longgang")
    said = messages(refused(resp))
    assert set(said) == {"at", "community_id"}
    assert said["community_id"] == ["社区：须给出社区、网格或行业（至少一项）"]


def test_a_bad_community_is_reported_as_bad_not_as_nothing_asked(service) -> None:
    resp = service.responsible(get("/api/roster/streets/longgang/responsible", community_id="马岗"), "longgang")
    said = messages(refused(resp))
    assert list(said) == ["community_id"] and len(said["community_id"]) == 1
    assert "须给出" not in said["community_id"][0]


def test_a_leading_group_change_with_an_unknown_field_and_nothing_to_change_is_told_both(service) -> None:
    error = refused(service.register_group(send("PUT", GROUP, {"office": "longgang-csgl"}), "longgang"))
    said = messages(error)
    assert set(said) == {"office", "name"}
    assert said["name"] == ["领导小组名称：须给出领导小组名称或办公室所在单位"]
    assert "office_unit_id" not in json.dumps(error["fields"], ensure_ascii=False)


def test_a_bad_office_is_reported_as_bad_not_as_nothing_to_change(service) -> None:
    said = messages(refused(service.register_group(send("PUT", GROUP, {"office_unit_id": "城管办"}), "longgang")))
    assert list(said) == ["office_unit_id"] and len(said["office_unit_id"]) == 1

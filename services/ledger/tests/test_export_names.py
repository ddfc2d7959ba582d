"""Issue 13: people read the exports, so the 街道, 社区, 责任人 (and every other place or person)
column shows the name the roster gave, or a Chinese placeholder, never a raw id; the JSON answers
keep the ids and carry the names beside them. A person's name is the one in force at the row's
time (a rename does not rewrite who was responsible then); a place's is its current one.

The history is tests/history.py's (clues, cases, records, communities of three streets) plus the
roster's names: longgang's street and communities named in Chinese (renamed after the generator's
placeholder names), its grid staff registered, one of them renamed mid-history, one registered
only after every row, one never. Live consumption (topic order, redeliveries, the real guarded
writes) and a rebuild give byte-identical named exports. All names are synthetic."""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import timedelta
from typing import Any

import openpyxl
import pytest
from nameko.testing.services import worker_factory
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from fangfei.clock import to_iso
from fangfei.events import Event, new_event
from fangfei.testing.auth import test_gate
from fangfei.testing.stores import memory_store
from fangfei.vocab import SLA_RULES
from services.ledger.exports import csv_bytes, export_rows
from services.ledger.ledgers import LEDGERS, apply_event
from services.ledger.rebuild import rebuild
from services.ledger.service import LedgerService
from services.ledger.statistics import TABLES

from .dbs import fresh_memory_db
from .history import COMMUNITIES, STREETS, T0, generate, topic_order

GATE, MINT = test_gate()
STREET = "longgang"
STREET_NAME = "龙岗街道"
COMMUNITY_NAMES = dict(zip(COMMUNITIES[STREET], ("马岗社区", "坂田社区", "新桥社区", "布心村")))
OWN = COMMUNITIES[STREET][0]
# the generator's grid staff of longgang: wg-<community>-0 (its rounds are those with i % 3 == 0)
PEOPLE = {f"wg-{c}-0": f"{'王李张赵'[k]}网格{k}0" for k, c in enumerate(COMMUNITIES[STREET])}
RENAMED = f"wg-{OWN}-0"  # renamed on day 60
NEW_NAME = "陈网格00"
RENAMED_AT = T0 + timedelta(days=60)
LATE = f"wg-{COMMUNITIES[STREET][2]}-0"  # first named after every row
UNNAMED = f"wg-{COMMUNITIES[STREET][1]}-0"  # the roster never names them
PLACEHOLDER_PERSON = "（人员姓名未知）"
PLACEHOLDER_STREET = "（街道名称未知）"

# export headers of the columns that hold an id of a place or a person
PLACE_HEADERS = {"街道", "社区"}
PERSON_HEADERS = {"责任网格长", "责任人", "包案领导", "化解责任人", "主管领导", "稳控责任人", "人员"}


def _roster(type_: str, stream: str, version: int, street: str, payload: dict[str, Any], at: Any) -> Event:
    return new_event(type_, stream, street, payload, actor="roster", occurred_at=at).stamped(version, at)


def roster_names() -> list[list[Event]]:
    before = T0 - timedelta(days=1)
    streams = [[_roster("roster.street_registered", f"street-{STREET}", 1, STREET,
                        {"street_id": STREET, "name": STREET_NAME}, before)]]
    for c, name in COMMUNITY_NAMES.items():  # renamed: version 2 of the generator's community streams
        streams.append([_roster("roster.community_registered", f"community-{STREET}.{c}", 2, STREET,
                                {"community_id": c, "name": name, "kind": "community"}, T0 + timedelta(days=90))])
    for pid, name in PEOPLE.items():
        if pid == UNNAMED:
            continue
        at = T0 + timedelta(days=400) if pid == LATE else before
        community = pid.split("-")[1]
        person = [_roster("roster.person_registered", f"person-{pid}", 1, STREET,
                          {"person_id": pid, "name": name, "role": "grid_staff", "community_id": community}, at)]
        if pid == RENAMED:
            person.append(_roster("roster.person_registered", f"person-{pid}", 2, STREET,
                                  {"person_id": pid, "name": NEW_NAME, "role": "grid_staff",
                                   "community_id": community}, RENAMED_AT))
        streams.append(person)
    return streams


def _history() -> tuple[list[Event], list[Event]]:
    generated = generate(2500)
    streams = generated[:12] + roster_names() + generated[12:]  # names after the communities' first version
    in_order = [e for s in streams for e in s]
    deliveries = topic_order(streams) + random.Random(13).sample(in_order, 300)
    return in_order, deliveries


@pytest.fixture(scope="module")
def world() -> dict[str, Any]:
    in_order, deliveries = _history()
    svc = worker_factory(LedgerService, store=memory_store("ledger"), auth=GATE)
    for event in deliveries:
        apply_event(svc.store.db, event)  # what the service's handlers call
    rebuilt = fresh_memory_db()
    rebuild(rebuilt, in_order)
    return {"svc": svc, "rebuilt": rebuilt, "events": in_order}


def call(svc: LedgerService, method: str, path: str, query: dict[str, Any], role: str = "district_office",
         street: str = STREET, **token: Any) -> Any:
    req = Request(EnvironBuilder(method="GET", path=path, query_string=query,
                                 headers=MINT.headers(role, street=street, **token)).get_environ())
    parts = path.split("/")
    args = parts[3:5] if method == "get_ledger_row" else parts[3:4]
    resp = getattr(svc, method)(req, *args)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp


def csv_rows(resp: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(resp.get_data().decode("utf-8-sig"))))


def raw_ids(events: list[Event]) -> set[str]:
    ids = set(STREETS) | {c for cs in COMMUNITIES.values() for c in cs} | set(PEOPLE)
    for e in events:
        for key, value in e.payload.items():
            if isinstance(value, str) and (key.endswith("person_id") or key in ("reported_by", "by")):
                ids.add(value)
    return {i for i in ids if i}


def exports(svc: LedgerService, street: str = STREET) -> dict[str, bytes]:
    out = {}
    for key in LEDGERS:
        out[key] = call(svc, "export_ledger", f"/api/ledgers/{key}/export", {"format": "csv", "street_id": street},
                        street=street).get_data()
    for key in TABLES:
        out[f"stats/{key}"] = call(svc, "export_statistics", f"/api/statistics/{key}/export",
                                   {"format": "csv", "street_id": street}, street=street).get_data()
    return out


def test_every_export_shows_names_in_its_place_and_person_columns_never_an_id(world) -> None:
    ids = raw_ids(world["events"])
    seen: dict[str, set[str]] = {"places": set(), "people": set()}
    for name, data in exports(world["svc"]).items():
        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
        assert rows, name
        for row in rows:
            for header, value in row.items():
                if header in PLACE_HEADERS | PERSON_HEADERS:
                    assert value not in ids, (name, header, value)
                    assert not any(i in value for i in ids if len(i) > 3), (name, header, value)
                    seen["places" if header in PLACE_HEADERS else "people"].add(value)
        if "街道" in rows[0]:
            assert {r["街道"] for r in rows} == {STREET_NAME}, name
        if "社区" in rows[0]:
            assert {r["社区"] for r in rows} - {"合计", ""} <= set(COMMUNITY_NAMES.values()), name
    assert set(COMMUNITY_NAMES.values()) <= seen["places"]
    assert {PEOPLE[p] for p in PEOPLE if p not in (UNNAMED,)} | {NEW_NAME, PLACEHOLDER_PERSON} <= seen["people"]


def test_a_persons_name_is_the_one_in_force_at_the_rows_time(world) -> None:
    """Cases found before the rename name the person as they were then, later ones by the new name;
    a person the roster named only after the row shows that name; one it never named, the
    placeholder."""
    expected: dict[str, str] = {}
    for e in world["events"]:
        if e.type == "case.opened" and e.street_id == STREET:
            pid = e.payload["assignee_person_id"]
            if pid == RENAMED:
                expected[e.payload["case_id"]] = NEW_NAME if e.payload["found_at"] >= RENAMED_AT.isoformat() \
                    else PEOPLE[RENAMED]
            elif pid in (LATE, UNNAMED):
                expected[e.payload["case_id"]] = PEOPLE[LATE] if pid == LATE else PLACEHOLDER_PERSON
    rows = {r["案件编号"]: r for r in csv_rows(call(world["svc"], "export_ledger", "/api/ledgers/case-progress/export",
                                                     {"format": "csv", "street_id": STREET}))}
    assert {rows[case]["责任人"] for case in expected} == {PEOPLE[RENAMED], NEW_NAME, PEOPLE[LATE], PLACEHOLDER_PERSON}
    assert {case: rows[case]["责任人"] for case in expected} == expected
    # the scorecard counts over time: one row per person, by the current name
    persons = {r["人员"] for r in csv_rows(call(world["svc"], "export_statistics",
                                               "/api/statistics/scorecard-persons/export",
                                               {"format": "csv", "street_id": STREET}))}
    assert NEW_NAME in persons and PEOPLE[RENAMED] not in persons and PLACEHOLDER_PERSON in persons


def test_the_assessment_facts_name_their_event_types_in_chinese(world) -> None:
    rows = csv_rows(call(world["svc"], "export_statistics", "/api/statistics/assessment-facts/export",
                         {"format": "csv", "street_id": STREET}))
    assert {r["事件类型"] for r in rows} >= {"线索已上报", "已登记", "已上报上级"}
    assert not [r["事件类型"] for r in rows if "." in r["事件类型"] or r["事件类型"].isascii()]
    body = json.loads(call(world["svc"], "statistics", "/api/statistics/assessment-facts",
                           {"street_id": STREET}).get_data())
    assert {(r["event_type"], r["event_type_label"]) for r in body["rows"]} >= {("case.registered", "已登记")}


def test_the_assessment_facts_explain_themselves_in_chinese(world) -> None:
    rows = csv_rows(call(world["svc"], "export_statistics", "/api/statistics/assessment-facts/export",
                         {"format": "csv", "street_id": STREET}))
    details = {r["说明"] for r in rows if r["说明"]}
    assert "4小时内登记录入" in details  # a breach of the registration deadline, by the rule's name
    assert any("三级网格→二级网格" == d for d in details)  # an escalation, by the levels' names
    assert not details & set(SLA_RULES), details  # no rule codes
    assert not [d for d in details if "→" in d and d.replace("→", "").isdigit()], details  # no bare 3→2


def test_a_street_the_roster_never_named_shows_the_placeholder(world) -> None:
    rows = csv_rows(call(world["svc"], "export_ledger", "/api/ledgers/supervision/export",
                         {"format": "csv", "street_id": "pingshan"}, street="pingshan"))
    assert rows and {r["街道"] for r in rows} == {PLACEHOLDER_STREET}
    assert {r["社区"] for r in rows} <= {f"{c}社区" for c in COMMUNITIES["pingshan"]}  # the roster's own names


def test_the_workbook_shows_the_names_too(world) -> None:
    resp = call(world["svc"], "export_ledger", "/api/ledgers/clue-verification/export",
                {"format": "xlsx", "street_id": STREET})
    ws = openpyxl.load_workbook(io.BytesIO(resp.get_data())).active
    header = [c.value for c in ws[1]]
    values = {h: {r[i] for r in ws.iter_rows(min_row=2, values_only=True)} for i, h in enumerate(header)}
    assert values["街道"] == {STREET_NAME} and values["社区"] == set(COMMUNITY_NAMES.values())
    assert NEW_NAME in values["责任网格长"] and not values["责任网格长"] & set(PEOPLE)


def test_json_keeps_the_ids_and_adds_the_names_beside_them(world) -> None:
    body = json.loads(call(world["svc"], "list_ledger", "/api/ledgers/clue-verification",
                           {"street_id": STREET, "community_id": OWN, "page_size": 200}).get_data())
    row = body["rows"][0]
    assert row["street_id"] == STREET and row["street_name"] == STREET_NAME
    assert row["community_id"] == OWN and row["community_name"] == COMMUNITY_NAMES[OWN]
    assert {(r["assignee_person_id"], r["assignee_person_name"]) for r in body["rows"]} >= {
        (RENAMED, PEOPLE[RENAMED]), (RENAMED, NEW_NAME)}
    assert [c["key"] for c in body["columns"]][:3] == ["clue_id", "street_id", "community_id"]  # unchanged
    one = json.loads(call(world["svc"], "get_ledger_row", f"/api/ledgers/clue-verification/{row['clue_id']}",
                          {}).get_data())
    assert one["community_name"] == COMMUNITY_NAMES[OWN] and one["assignee_person_name"]
    stats = json.loads(call(world["svc"], "statistics", "/api/statistics/scorecard-persons",
                            {"street_id": STREET}).get_data())
    named = {r["person_id"]: r["person_name"] for r in stats["rows"]}
    assert named[RENAMED] == NEW_NAME and named[UNNAMED] == PLACEHOLDER_PERSON


def test_named_exports_are_byte_identical_live_and_rebuilt(world) -> None:
    live = exports(world["svc"])
    q = {"street_id": STREET, "page": 1, "page_size": 10 ** 9}
    db = world["rebuilt"]
    for key, ledger in LEDGERS.items():
        rows, _ = ledger.list_rows(db, q)
        columns = ledger.table_columns()
        assert csv_bytes(columns, export_rows(db, key, columns, rows, q)) == live[key], key
    for key, table in TABLES.items():
        rows = table.compute(db, q)
        assert csv_bytes(table.columns_spec, export_rows(db, key, table.columns_spec, rows, q)) == live[
            f"stats/{key}"], key
    assert all(data.count(b"\r\n") > 1 for data in live.values())
    assert to_iso(RENAMED_AT) < to_iso(T0 + timedelta(days=120))  # the rename falls inside the history

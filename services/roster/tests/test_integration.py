"""The roster as real `nameko run` processes over a real broker: a clerk loads the demo street and
makes changes with `fangfei roster …`, and escalation — which only ever sees `roster.events` —
routes clues by the roster as it stood when each clue was found.

Only the broker, roster and escalation run (blocking detection on). Clues are produced straight
onto `intake.events` as intake would publish them, so this test does not depend on intake's API."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest

from fangfei.clients import roster_cli
from fangfei.devstack.stack import Stack
from fangfei.events import Event, decode_event, encode_event, new_event
from fangfei.roster_view import RosterView
from fangfei.testing.auth import TokenMinter
from fangfei.testing.kafka import producer, read_topic, wait_until

from .helpers import DEMO

pytestmark = pytest.mark.integration

STREET = "longgang"
T = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=2)  # the handover


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = Stack(str(tmp_path_factory.mktemp("roster")), services=("roster", "escalation"), extra_env={
        "FANGFEI_BLOCKING_DETECTION_S": "2",
        "FANGFEI_CONSUMER_SESSION_TIMEOUT_MS": "6000",
    })
    s.start(timeout_s=120)
    yield s
    s.stop()


def cli(stack: Stack, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """`fangfei roster …` as 龙岗's street office (the token the processes verify)."""
    token = TokenMinter(stack.keys_dir).token("street_office", street=STREET, person="longgang-office-07")
    code = roster_cli.main(["roster", "--url", stack.services["roster"].url, "--token", token, *argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def clue(community: str, found_at: datetime) -> Event:
    clue_id = f"it-{uuid.uuid4().hex[:12]}"
    now = datetime.now(timezone.utc)
    return new_event("clue.reported", f"clue-{clue_id}", STREET, {
        "clue_id": clue_id, "community_id": community, "category": "advertising", "source": "grid_patrol",
        "title": "小区张贴高息理财广告", "description": "网格员巡查发现楼道张贴保本高息广告",
        "found_at": found_at.isoformat()}, actor="test", occurred_at=now).stamped(1, now)


def test_changes_made_with_the_cli_route_clues_in_escalation_by_when_they_were_found(
    stack: Stack, capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    assert cli(stack, capsys, "import", str(DEMO)).startswith("已导入 87 行")
    handover = T.isoformat()
    cli(stack, capsys, "assign-chief", STREET, "magang-l3-01", "magang-l3-01-chief-b", "--from", handover,
        "--name", "网格长丙11")
    cli(stack, capsys, "vacate", STREET, "hupo-l3-01", "--from", handover)
    workbook = tmp_path / "名册.xlsx"  # an XLSX export sent back through nameko's HTTP changes nothing
    cli(stack, capsys, "export", str(workbook), "--street", STREET)
    assert cli(stack, capsys, "import", str(workbook)).endswith("没有新记录（名册已是如此）\n")
    stack.wait_quiet(timeout_s=60)  # escalation has folded every roster event into its replica

    clues = {"before": clue("magang", T - timedelta(hours=1)), "after": clue("magang", T + timedelta(hours=1)),
             "vacant": clue("hupo", T + timedelta(hours=1))}
    p = producer(stack.broker.bootstrap)
    try:
        for ev in clues.values():
            p.send("intake.events", key=ev.stream_id.encode(), value=encode_event(ev))
        p.flush(timeout=30)
    finally:
        p.close()

    def opened() -> dict[str, Event]:
        records = read_topic(stack.broker.bootstrap, "escalation.events", expect=0, timeout_s=5)
        events = [decode_event(r.value) for r in records]
        return {e.payload["clue_id"]: e for e in events if e.type == "case.opened"}

    cases = wait_until(lambda: (lambda o: o if all(c.payload["clue_id"] in o for c in clues.values()) else None)(
        opened()), 60, "a case opened for every clue")
    routed = {name: cases[c.payload["clue_id"]].payload for name, c in clues.items()}
    assert (routed["before"]["level"], routed["before"]["assignee_person_id"]) == (3, "magang-l3-01-chief")
    assert (routed["after"]["level"], routed["after"]["assignee_person_id"]) == (3, "magang-l3-01-chief-b")
    assert (routed["vacant"]["level"], routed["vacant"]["assignee_person_id"]) == (2, "hupo-l2-chief")
    assert routed["vacant"]["routing_note"] == "琥珀社区第01网格（3级网格）网格长空缺"

    # anyone folding roster.events from offset 0 gets the same answers, sector routing included
    view = RosterView.from_events(decode_event(r.value) for r in read_topic(
        stack.broker.bootstrap, "roster.events", expect=194))  # 191 imported, 3 changed
    assert view.route(STREET, "magang", T - timedelta(hours=1)).person_id == "magang-l3-01-chief"
    assert view.route(STREET, "magang", T + timedelta(hours=1)).person_id == "magang-l3-01-chief-b"
    assert view.route_sector(STREET, "real_estate", T).unit_ids == ("longgang-csgl",)

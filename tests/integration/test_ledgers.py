"""Issue 5 on real processes: the ledger service (`nameko run`, embedded store, real Tansu broker)
consumes a generated history of three streets, a district office asks it to rebuild every read
model from offset 0, the process is SIGKILLed in the middle of that rebuild, and after a restart
the rebuild runs again to the end by itself (its job state is a document in the store). The CSV
exports of all ten ledgers and all statistics tables, for every street, are then byte for byte
what they were before the rebuild, and the consistency check (`fangfei ledger check`, the CLI over
HTTP) finds no difference between the live read models and a private refold of the log.

Only the broker and the ledger run: the history is produced straight onto `intake.events`,
`escalation.events` and `roster.events`, keyed by stream, as the producers' relays publish it
(services/ledger/tests/history.py builds it; every name and id in it is synthetic)."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.parse
import urllib.request
from typing import Any, Iterator

import pytest

from fangfei.devstack.stack import REPO_ROOT, Stack
from fangfei.events import Event, encode_event
from fangfei.testing.auth import TokenMinter
from fangfei.testing.client import call
from fangfei.testing.kafka import producer, wait_until
from services.ledger.ledgers import LEDGERS, all_collections
from services.ledger.rebuild import fold_events
from services.ledger.rebuild_job import HOLD_ENV
from services.ledger.statistics import TABLES
from services.ledger.tests.history import STREETS, generate, topic_of

pytestmark = pytest.mark.integration

# Enough history that the rebuild (read from the broker, fold, write to the embedded store) takes
# a few seconds (~3 s measured), so the kill lands inside it (progress is reported every 1,000
# events), while live consumption of it (~15 s) keeps the module around 35 s.
HISTORY_EVENTS = 6_000
DEADLINE_S = 120.0  # generous: two cores shared with other work (not a latency claim)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = Stack(str(tmp_path_factory.mktemp("ledgers")), services=("ledger",), extra_env={
        "FANGFEI_BLOCKING_DETECTION_S": "2",
        "FANGFEI_CONSUMER_SESSION_TIMEOUT_MS": "6000",
    })
    s.start(timeout_s=120)
    yield s
    s.stop()


def publish(stack: Stack, streams: list[list[Event]]) -> None:
    p = producer(stack.broker.bootstrap)
    try:
        for stream in streams:  # each stream in version order, on its key's one partition
            for ev in stream:
                p.send(topic_of(ev), key=ev.stream_id.encode(), value=encode_event(ev))
        p.flush(timeout=60)
    finally:
        p.close()


def office(stack: Stack) -> dict[str, str]:
    return TokenMinter(stack.keys_dir).headers("district_office", person="district-admin-01")


def url(stack: Stack, path: str, **query: str) -> str:
    return stack.services["ledger"].url + path + ("?" + urllib.parse.urlencode(query) if query else "")


def totals(stack: Stack) -> dict[str, int]:
    """Rows per street and ledger, as the listing API counts them."""
    out = {}
    for street in STREETS:
        for key in LEDGERS:
            status, body = call("GET", url(stack, f"/api/ledgers/{key}", street_id=street, page_size="1"),
                                headers=office(stack), timeout=30)
            assert status == 200, body
            out[f"{street}/{key}"] = body["total"]
    return out


def exports(stack: Stack) -> dict[str, bytes]:
    """CSV of every ledger and every statistics table, for every street, as downloaded."""
    out: dict[str, bytes] = {}
    for street in STREETS:
        paths = [(f"{street}/{k}", f"/api/ledgers/{k}/export") for k in LEDGERS]
        paths += [(f"{street}/stats/{k}", f"/api/statistics/{k}/export") for k in TABLES]
        for name, path in paths:
            req = urllib.request.Request(url(stack, path, street_id=street, format="csv"), headers=office(stack))
            with urllib.request.urlopen(req, timeout=60) as resp:
                out[name] = resp.read()
    return out


def rebuild_state(stack: Stack) -> dict[str, Any] | None:
    try:
        status, body = call("GET", url(stack, "/api/ledger-admin/rebuild"), headers=office(stack), timeout=5)
    except OSError:  # the process is being killed or is starting
        return None
    return body if status == 200 else None


def cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.join(REPO_ROOT, "shared"), REPO_ROOT]),
           "PYTHONWARNINGS": "ignore"}
    cmd = [sys.executable, "-m", "fangfei.cli", "ledger", "--url", stack.services["ledger"].url,
           "--token", TokenMinter(stack.keys_dir).token("district_office"), *args]
    return subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=DEADLINE_S)


def test_rebuild_killed_midway_resumes_and_exports_stay_byte_identical(stack: Stack) -> None:
    streams = generate(HISTORY_EVENTS)
    history = [e for s in streams for e in s]
    rows, _, _ = fold_events(history)  # what the ledgers must hold once everything is consumed
    expected = {f"{street}/{key}": sum(1 for (collection, _), row in rows.items()
                                       if collection in LEDGERS[key].collections and row.get("street_id") == street)
                for street in STREETS for key in LEDGERS}
    assert all(expected.values()), "every ledger of every street has rows: equal exports prove something"

    publish(stack, streams)
    wait_until(lambda: totals(stack) == expected, DEADLINE_S, "the live ledgers holding the whole history")
    before = exports(stack)
    assert len(before) == len(STREETS) * (len(LEDGERS) + len(TABLES))
    assert [name for name, data in before.items() if data.count(b"\r\n") < 2] == []  # none is empty

    # The first attempt parks after its replay (the test switch of rebuild_job): killed there, it is
    # certainly midway, however fast the replay (6,000 events now take less than one progress report).
    stack.kill_service("ledger")
    stack.extra_env[HOLD_ENV] = "replaying@1"
    stack.start_service("ledger", wait=True, timeout_s=DEADLINE_S)
    status, body = call("POST", url(stack, "/api/ledger-admin/rebuild"), {}, headers=office(stack))
    assert status == 202 and body["state"] == "running", body
    midway = wait_until(lambda: (s := rebuild_state(stack)) and s.get("attempt") == 1
                        and s.get("held_at") == "replaying" and s, DEADLINE_S, "the rebuild under way")
    stack.kill_service("ledger")  # SIGKILL: no shutdown hook, the job document still says running
    assert midway["state"] == "running" and not midway.get("finished_at"), midway

    stack.extra_env.pop(HOLD_ENV, None)
    stack.start_service("ledger", wait=False)
    done = wait_until(lambda: (s := rebuild_state(stack)) and s.get("state") in ("done", "failed") and s,
                      DEADLINE_S, "the rebuild resumed after the restart and finished")
    assert done["state"] == "done", done
    assert done["attempt"] == 2, done  # run again from the beginning by the restarted process
    assert done["events_read"] >= len(history) and done["undecodable"] == 0
    assert sum(done["rows"].values()) == len(rows) and set(done["rows"]) == set(all_collections())

    after = exports(stack)
    assert [name for name in before if after[name] != before[name]] == []

    check = cli(stack, "check", "--json")
    assert check.returncode == 0, check.stderr + check.stdout
    assert '"consistent": true' in check.stdout and '"differences": 0' in check.stdout

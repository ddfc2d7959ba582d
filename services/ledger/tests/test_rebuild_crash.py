"""Issue 15 on real processes: a rebuild writes a shadow of the read models and swaps it in; a
SIGKILL at any point leaves either exactly the old read models or exactly the new ones, never a
mix, and the restarted service finishes the rebuild (after the commit point it finishes the swap;
before it, it runs the rebuild again).

Old and new must differ for that to mean anything, so the test first damages the live read
models while the service is down (a few rows of every collection deleted: what a projection bug
looks like); the rebuild repairs them. Then, for each kill point (during the fold, with the shadow
fully written but not committed, and in the middle of the swap, after the commit point), the
rebuild is parked there (`FANGFEI_TEST_REBUILD_HOLD`, a fault-injection switch of rebuild_job),
the process is SIGKILLed, and (before the commit point) the next process is parked at the end of
its own fold, before it can swap anything: its exports are compared, every ledger and statistics table of every
street, with the damaged ones (kill before the commit); a third process, not parked, then runs the
rebuild to the end. Killed after the commit point, the next start finishes the swap by itself.
Either way the exports end up the repaired ones."""

from __future__ import annotations

import os
from typing import Any, Iterator

import pytest

from fangfei.devstack.stack import Stack
from fangfei.eventstore.connect import open_database
from fangfei.testing.client import call
from fangfei.testing.kafka import wait_until
from services.ledger.ledgers import LEDGERS, all_collections
from services.ledger.rebuild import fold_events
from services.ledger.rebuild_job import HOLD_ENV
from services.ledger.tests.history import STREETS, generate
from tests.integration.test_ledgers import exports, office, publish, rebuild_state, totals, url

pytestmark = pytest.mark.integration

HISTORY_EVENTS = 3_000
DEADLINE_S = 120.0  # generous: two cores shared with other work (not a latency claim)
DAMAGED_PER_COLLECTION = 3


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = Stack(str(tmp_path_factory.mktemp("ledger-crash")), services=("ledger",), extra_env={
        "FANGFEI_BLOCKING_DETECTION_S": "2",
        "FANGFEI_CONSUMER_SESSION_TIMEOUT_MS": "6000",
    })
    s.start(timeout_s=120)
    yield s
    s.stop()


def rebuild_workers(stack: Stack) -> list[int]:
    """Rebuild worker processes (rebuild_worker.py) writing a shadow of this stack's ledger."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                argv = fh.read().split(b"\0")
        except OSError:
            continue  # gone meanwhile
        if b"services.ledger.rebuild_worker" in argv and any(stack.data_dir.encode() in a for a in argv):
            pids.append(int(entry))
    return pids


def restart(stack: Stack, hold: str = "") -> None:
    """SIGKILL the ledger (if it runs) and start it again, parked at `hold` or not."""
    if stack.services["ledger"].alive():
        stack.kill_service("ledger")
        # a worker parked in its fold dies with the service: no orphan goes on writing a shadow
        wait_until(lambda: not rebuild_workers(stack), 10, "the rebuild worker gone with the killed service")
    stack.extra_env.pop(HOLD_ENV, None)
    if hold:
        stack.extra_env[HOLD_ENV] = hold
    stack.start_service("ledger", wait=True, timeout_s=DEADLINE_S)


def damage(stack: Stack) -> None:
    """With the service down: delete the first rows (by id) of every read model."""
    assert not stack.services["ledger"].alive()
    client, db = open_database(f"embedded:{os.path.join(stack.data_dir, 'ledger.sqlite')}", "fangfei_ledger")
    try:
        for name in all_collections():
            ids = sorted(d["_id"] for d in db[name].find({}, {"_id": 1}))[:DAMAGED_PER_COLLECTION]
            for doc_id in ids:
                db[name].delete_one({"_id": doc_id})
    finally:
        client.close()


def held(stack: Stack, attempt: int, point: str) -> dict[str, Any]:
    return wait_until(lambda: (s := rebuild_state(stack)) and s.get("attempt") == attempt
                      and s.get("held_at") == point and s, DEADLINE_S, f"attempt {attempt} parked at {point}")


def done(stack: Stack) -> dict[str, Any]:
    state = wait_until(lambda: (s := rebuild_state(stack)) and s.get("state") in ("done", "failed") and s,
                       DEADLINE_S, "the rebuild finished by the restarted service")
    assert state["state"] == "done", state
    return state


def test_sigkill_anywhere_in_a_rebuild_leaves_old_or_new_read_models_never_a_mix(stack: Stack) -> None:
    streams = generate(HISTORY_EVENTS)
    history = [e for s in streams for e in s]
    rows, _, _ = fold_events(history)
    expected = {f"{street}/{key}": sum(1 for (collection, _), row in rows.items()
                                       if collection in LEDGERS[key].collections and row.get("street_id") == street)
                for street in STREETS for key in LEDGERS}
    publish(stack, streams)
    wait_until(lambda: totals(stack) == expected, DEADLINE_S, "the live ledgers holding the whole history")
    repaired = exports(stack)

    stack.kill_service("ledger")
    damage(stack)
    restart(stack)
    wait_until(lambda: totals(stack) != expected and totals(stack), DEADLINE_S, "the damaged ledger serving")
    damaged = exports(stack)
    assert damaged != repaired
    changed = [name for name in repaired if damaged[name] != repaired[name]]
    assert len(changed) > len(STREETS), changed  # several ledgers damaged: a mix would show

    for point, committed in (("replaying", False), ("writing", False), ("swap-midway", True)):
        restart(stack, hold=f"{point},replaying@2")
        old = exports(stack)  # what the rebuild starts from (a restart may have redelivered a little)
        assert len([name for name in repaired if old[name] != repaired[name]]) > len(STREETS)  # still damaged
        status, body = call("POST", url(stack, "/api/ledger-admin/rebuild"), {}, headers=office(stack))
        assert status == 202, body
        held(stack, 1, point)
        if point in ("replaying", "writing"):  # the fold and the bulk write run in a worker process
            assert rebuild_workers(stack), "the embedded store's rebuild folds in a worker process"

        if committed:  # killed after the commit point: the next start finishes the swap itself
            restart(stack)
            final = done(stack)
            assert final["attempt"] == 1, final
        else:  # killed before it: the next process serves the old rows; park it before it writes
            restart(stack, hold=f"{point},replaying@2")
            state = held(stack, 2, "replaying")
            after_kill = exports(stack)
            assert [name for name in old if after_kill[name] != old[name]] == [], (point, state)
            restart(stack)  # not parked: runs the rebuild again from the beginning, to the end
            final = done(stack)
            assert final["attempt"] == 3 and final["events_read"] >= len(history), final
            assert {"rate_per_s", "eta_s", "started_at"} <= set(final), final
        rebuilt = exports(stack)
        assert [name for name in repaired if rebuilt[name] != repaired[name]] == [], point

        if not committed:
            stack.kill_service("ledger")
            damage(stack)  # back to the damaged read models for the next kill point
            restart(stack)

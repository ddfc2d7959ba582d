"""The rebuild worker's processes (ADR 0018), against a real broker: two replay readers each read,
decode and plan their share of the partitions, the fold outgrows its memory limit into buckets,
and a bucket writer process folds and writes half of the collections. The shadow it leaves holds
exactly the rows of one fold of the whole history in memory, and nothing of its scratch remains."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

from fangfei.bus.kafka import BrokerAdmin
from fangfei.devstack.broker import Broker
from fangfei.devstack.stack import REPO_ROOT
from fangfei.events import encode_event
from fangfei.eventstore.shadow import Shadow
from fangfei.testing.kafka import producer
from services.ledger.ledgers import all_collections
from services.ledger.rebuild import fold_events

from .history import generate, topic_of

EVENTS = 3000


@pytest.fixture(scope="module")
def history_on_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[Any]]]:
    broker = Broker(log_path=str(tmp_path_factory.mktemp("broker") / "broker.log")).start()
    try:
        admin = BrokerAdmin(broker.bootstrap, "test-admin")
        admin.ensure_topics(["intake.events", "escalation.events", "roster.events"])
        admin.close()
        streams = generate(EVENTS)
        p = producer(broker.bootstrap)
        for stream in streams:  # each stream in version order, on its key's one partition
            for event in stream:
                p.send(topic_of(event), key=event.stream_id.encode(), value=encode_event(event))
        p.flush(timeout=60)
        p.close()
        yield broker.bootstrap, [e for s in streams for e in s]
    finally:
        broker.stop()


def worker_args(bootstrap: str, shadow_dir: Path, cache_rows: int, readers: int) -> argparse.Namespace:
    return argparse.Namespace(bootstrap=bootstrap, shadow_dir=str(shadow_dir), db="fangfei_ledger",
                              tag=uuid.uuid4().hex, cache_rows=cache_rows, idle_timeout=30.0, attempt=1,
                              topic=None, parallel_drain=True, readers=readers)


def run_worker(args: argparse.Namespace, frame: int | None = None) -> dict[str, Any]:
    """The worker as the service starts it: its own process (no eventlet hub), its JSON lines read.
    `frame`: records per reader frame (fewer than in production, so that the fold's switch to
    buckets comes while the readers still have most of their share to read)."""
    cmd = [sys.executable, "-m", "services.ledger.rebuild_worker", "--bootstrap", args.bootstrap,
           "--shadow-dir", args.shadow_dir, "--db", args.db, "--tag", args.tag,
           "--cache-rows", str(args.cache_rows), "--idle-timeout", str(args.idle_timeout),
           "--readers", str(args.readers)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.join(REPO_ROOT, "shared"), REPO_ROOT]),
           "PYTHONWARNINGS": "ignore"}
    if frame is not None:
        env["FANGFEI_TEST_REPLAY_FRAME"] = str(frame)
    out = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert any("progress" in line for line in lines), "progress is reported as the worker goes"
    return next(line["done"] for line in lines if "done" in line)


def shadow_rows(args: argparse.Namespace) -> dict[tuple[str, str], dict[str, Any]]:
    shadow = Shadow.at(args.shadow_dir, args.db, all_collections(), args.tag)
    try:
        return {(c, d["_id"]): d for c in all_collections() for d in shadow.db[c].find({})}
    finally:
        shadow.close()


@pytest.mark.parametrize("cache_rows,readers,writers,frame", [
    # past the limit: buckets, half of them folded by a bucket writer process; the readers learn
    # the buckets' routing early and send most changes routed and encoded
    (400, 2, 1, 50),
    (400, 3, 1, None),  # frames of 2,000 records: the readers are done before the switch
    (10 ** 6, 3, 0, None),  # all in memory, three readers
])
def test_the_worker_processes_together_write_what_one_fold_gives(
        history_on_broker: tuple[str, list[Any]], tmp_path: Path, cache_rows: int, readers: int,
        writers: int, frame: int | None) -> None:
    bootstrap, history = history_on_broker
    expected, _, applied = fold_events(history)
    args = worker_args(bootstrap, tmp_path / "rebuild" / "tag" / "fangfei_ledger", cache_rows, readers)

    done = run_worker(args, frame)

    assert (done["readers"], done["bucket_writers"]) == (readers, writers)
    assert done["events_read"] == len(history) == done["events_total"]
    assert done["undecodable"] == 0
    assert done["applied"] == applied, "every row change once: none lost between processes, none twice"
    if frame is not None:
        # a reader is at most ~a dozen frames (~550 records) ahead of the worker (pipe and queue), and
        # the switch comes within the first few hundred records: a good part of each share comes routed
        assert done["routed_by_readers"] > applied // 4, done
    else:
        assert done["routed_by_readers"] == 0
    assert sum(done["rows"].values()) == len(expected)
    ends = [offset for partitions in done["positions"].values() for offset in partitions.values()]
    assert len(ends) == 12 and sum(ends) == len(history), "the readers together reached every partition's end"
    got = shadow_rows(args)
    assert got.keys() == expected.keys()
    assert [k for k in expected if got[k] != expected[k]] == []
    if writers:
        assert done["peak_cache_rows"] <= cache_rows + 1
    scratch = tmp_path / "rebuild" / "tag" / "scratch"
    assert not scratch.exists() or [p for p in scratch.rglob("*") if p.is_file()] == [], \
        "bucket files are removed once folded"


def test_a_reader_that_fails_fails_the_worker_with_its_reason_and_leaves_no_process(tmp_path: Path) -> None:
    """No broker at the address: the readers end with an error, the worker ends with one naming the
    reader (the service then marks the job failed), and no reader is left running."""
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = worker_args(f"127.0.0.1:{port}", tmp_path / "rebuild" / "tag" / "fangfei_ledger", 1000, 2)
    cmd = [sys.executable, "-m", "services.ledger.rebuild_worker", "--bootstrap", args.bootstrap,
           "--shadow-dir", args.shadow_dir, "--db", args.db, "--tag", args.tag, "--readers", "2",
           "--idle-timeout", "5"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.join(REPO_ROOT, "shared"), REPO_ROOT]),
           "PYTHONWARNINGS": "ignore"}
    out = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert "replay reader" in out.stderr and "ended with exit code" in out.stderr, out.stderr[-2000:]
    assert not any('"done"' in line for line in out.stdout.splitlines())
    leftovers = subprocess.run(["pgrep", "-f", f"services.ledger.replay_reader --bootstrap {args.bootstrap}"],
                               capture_output=True, text=True)
    assert leftovers.stdout.strip() == "", "the readers are gone with the worker"


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(c) for c in fh.read().split()]
    except OSError:
        return []


def test_the_readers_die_with_a_killed_worker(history_on_broker: tuple[str, list[Any]], tmp_path: Path) -> None:
    """The worker SIGKILLed (as when the service is: PDEATHSIG) while its readers are mid-replay:
    no reader goes on reading for a shadow nobody will use."""
    import signal

    from fangfei.testing.kafka import wait_until

    bootstrap, _ = history_on_broker
    args = worker_args(bootstrap, tmp_path / "rebuild" / "tag" / "fangfei_ledger", 400, 2)
    cmd = [sys.executable, "-m", "services.ledger.rebuild_worker", "--bootstrap", args.bootstrap,
           "--shadow-dir", args.shadow_dir, "--db", args.db, "--tag", args.tag, "--readers", "2"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.join(REPO_ROOT, "shared"), REPO_ROOT]),
           "PYTHONWARNINGS": "ignore"}
    worker = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        readers = wait_until(lambda: len(children(worker.pid)) == 2 and children(worker.pid), 30,
                             "the worker's two readers started")
        # stopped, the worker reads nothing: its readers fill their pipes and wait there, mid-replay
        os.kill(worker.pid, signal.SIGSTOP)
        assert all(os.path.exists(f"/proc/{r}") for r in readers)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)

        def gone(pid: int) -> bool:
            try:
                with open(f"/proc/{pid}/stat") as fh:
                    return fh.read().split(")")[-1].split()[0] == "Z"  # a zombie is dead, awaiting init
            except OSError:
                return True
        wait_until(lambda: all(gone(r) for r in readers), 10, "the readers gone with the worker")
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()

"""The service's rebuild runner: a rebuild requested just as the previous one finished (the runner
still busy, so the request's kick was ignored) still runs, instead of staying queued forever."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from services.ledger import rebuild_job
from services.ledger.service import RebuildRunner

from .dbs import fresh_memory_db


def test_a_request_that_arrives_as_a_rebuild_finishes_is_run_too(monkeypatch: pytest.MonkeyPatch) -> None:
    db = fresh_memory_db()
    runs: list[int] = []
    runner = RebuildRunner.__new__(RebuildRunner)
    runner.handle = SimpleNamespace(db=db)  # type: ignore[assignment]
    runner.bootstrap = "unused"
    runner.busy = False
    runner.container = SimpleNamespace(spawn_managed_thread=lambda fn, identifier=None: fn())  # type: ignore[assignment]

    def fake_run(db_: Any, bootstrap: str) -> dict[str, Any]:
        runs.append(1)
        db_[rebuild_job.STATE].update_one({"_id": rebuild_job.JOB}, {"$set": {"state": "done"}})
        if len(runs) == 1:  # an operator asks again right now: the runner is still busy
            rebuild_job.request(db_, lambda: "2026-03-14T01:00:00.000Z")
            runner.kick()  # ignored: busy
        return rebuild_job.status(db_)

    monkeypatch.setattr(rebuild_job, "run", fake_run)
    rebuild_job.request(db, lambda: "2026-03-14T00:00:00.000Z")
    runner.kick()
    assert len(runs) == 2 and not runner.busy
    assert rebuild_job.status(db)["state"] == "done"

"""The rebuild worker reads its replay readers' frames (rebuild_worker._Readers): a reader whose
output cannot be read back fails the worker with the reader named, at once. Before, the thread
reading that pipe died with the error and the worker waited for its next frame for ever."""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
from typing import Any

import pytest

from services.ledger import rebuild_worker

GARBAGE = "import sys; sys.stdout.buffer.write(b'\\x07\\x00\\x00\\x00garbage'); sys.stdout.flush()"


def test_a_frame_that_cannot_be_read_fails_the_worker_instead_of_hanging_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real_popen = subprocess.Popen

    def reader_writing_garbage(cmd: list[str], **kwargs: Any) -> Any:
        assert "services.ledger.replay_reader" in cmd
        return real_popen([sys.executable, "-c", GARBAGE], **kwargs)

    monkeypatch.setattr(rebuild_worker.subprocess, "Popen", reader_writing_garbage)
    readers = rebuild_worker._Readers(argparse.Namespace(readers=2, bootstrap="127.0.0.1:9", idle_timeout=5.0,
                                                         topic=None))
    outcome: list[BaseException | None] = []

    def consume() -> None:
        try:
            for _ in readers.changes():
                pass
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - what the worker would see
            outcome.append(exc)

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    thread.join(timeout=60)
    readers.close()
    assert not thread.is_alive(), "the worker waits for ever on a reader whose frames it cannot read"
    assert isinstance(outcome[0], RuntimeError)
    assert "replay reader" in str(outcome[0]) and "could not be read" in str(outcome[0])

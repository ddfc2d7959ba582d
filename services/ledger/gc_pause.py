"""Pausing Python's cyclic garbage collector while a rebuild folds and writes (ADR 0018 §2).

A module of its own so that the rebuild's reader processes can use it without loading the store's
modules (pymongo, litemongo) that `rebuild.py` needs: every module a process loads is paid again
at each rebuild's start.
"""

from __future__ import annotations

import gc


class cyclic_gc_paused:  # noqa: N801 - used like a function: `with cyclic_gc_paused():`
    """Pause Python's cyclic garbage collector while a rebuild folds and writes.

    Why: a fold holds up to `CACHE_ROWS` rows (a million dicts and more) and creates millions of
    short-lived containers, so the collector kept traversing everything held: at 1M events it
    was a third of the rebuild's time (130 s with it, 83 s without, same data). Rows, events and
    upserts form no reference cycles, so there is nothing for it to find; reference counting frees
    everything as usual, and the collector runs again (and catches up) on `resume`. `resume` is
    idempotent, so a job can end the pause early (before taking the writers' lock) and again in
    its `finally`."""

    def __init__(self) -> None:
        self._paused = False

    def __enter__(self) -> "cyclic_gc_paused":
        if gc.isenabled():
            gc.disable()
            self._paused = True
        return self

    def resume(self) -> None:
        if self._paused:
            self._paused = False
            gc.enable()

    def __exit__(self, *exc: object) -> None:
        self.resume()


__all__ = ["cyclic_gc_paused"]

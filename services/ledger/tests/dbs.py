"""Empty ledger databases for tests."""

from __future__ import annotations

import uuid
from typing import Any

from fangfei.eventstore.connect import open_database


def fresh_memory_db() -> Any:
    """An isolated in-memory litemongo database (its client is not closed: litemongo's memory
    engine has nothing to close, and its close() fails)."""
    return open_database(f"memory:ledger-{uuid.uuid4().hex}", "fangfei_ledger")[1]

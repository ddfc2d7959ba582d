"""An intake service as a worker sees it (memory store, test keys), served in-process over WSGI,
and tokens for it. Identities are synthetic: the ID number's region code 99 does not exist."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from nameko.testing.services import worker_factory

from fangfei.auth.formats import id_check_char
from fangfei.clock import FrozenClock
from fangfei.testing.auth import TokenMinter, test_gate, test_keys_dir
from fangfei.testing.stores import memory_store
from fangfei.testing.wsgi import ServiceApp
from services.intake.service import IntakeService
from services.intake.vault import memory_vault

NOW = datetime(2026, 3, 14, 2, 0, tzinfo=timezone.utc)
SYNTHETIC_ID = "99010119900101001" + id_check_char("99010119900101001")
REPORTER = {"name": "测试举报人甲", "phone": "137-0000-9001", "id_number": SYNTHETIC_ID}


def valid_clue(**over: object) -> dict[str, Any]:
    body: dict[str, Any] = {
        "community_id": "magang",
        "category": "illegal_finance",
        "source": "grid_patrol",
        "title": "某公司承诺年化18%回报",
        "description": "网格员巡查发现门店宣传保本高息理财产品。",
        "found_at": "2026-03-14T09:30:00+08:00",
    }
    body.update(over)
    return body


class Intake:
    """The service, its HTTP client and a token minter."""

    def __init__(self, **gate_kw: Any) -> None:
        gate, self.mint = test_gate(**gate_kw)
        store = memory_store("intake")
        self.svc = worker_factory(IntakeService, store=store, auth=gate, vault=memory_vault(store.db, test_keys_dir()))
        self.svc.clock = FrozenClock(NOW)
        self.store = store
        self.client = ServiceApp(self.svc).client

    def headers(self, role: str = "grid_staff", **kw: Any) -> dict[str, str]:
        return self.mint.headers(role, **kw)

    def post(self, path: str, body: Any = None, role: str | None = "grid_staff", headers: dict[str, str] | None = None,
             raw: bytes | None = None, **token_kw: Any) -> tuple[int, Any]:
        hdrs = dict(self.headers(role, **token_kw) if role else {})
        hdrs.update(headers or {})
        data = raw if raw is not None else json.dumps(body).encode()
        resp = self.client.post(path, data=data, headers=hdrs, content_type="application/json")
        return resp.status_code, _json(resp.get_data())

    def get(self, path: str, role: str | None = "grid_staff", **token_kw: Any) -> tuple[int, Any]:
        resp = self.client.get(path, headers=self.headers(role, **token_kw) if role else {})
        return resp.status_code, _json(resp.get_data())

    def report(self, role: str = "grid_staff", **over: Any) -> dict[str, Any]:
        token_kw = {k: over.pop(k) for k in ("street", "community") if k in over}
        status, body = self.post("/api/clues", valid_clue(**over), role=role, **token_kw)
        assert status == 201, body
        return dict(body)


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return data.decode(errors="replace")


__all__ = ["Intake", "REPORTER", "SYNTHETIC_ID", "TokenMinter", "valid_clue", "NOW"]

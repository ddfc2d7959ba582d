"""Every call the console makes to the other services, in one place.

The console keeps no data of its own: each page is assembled from the services' HTTP APIs, called
with the signed-in person's own token as `Bearer`, so their access control decides what the person
sees and may do. When a service changes its API, this file is the one to change.

Calls answer `Reply(status, body)`; a service that cannot be reached is a `Reply(503, …)` with a
Chinese message, so pages show "暂不可用" instead of failing."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Mapping

from nameko.extensions import DependencyProvider

from fangfei.config import DEFAULT_PORTS

TIMEOUT_S = 15.0
SERVICES = ("intake", "roster", "escalation", "ledger", "notification")

# The ten work ledgers (seed 002) in the order offices keep them: ledger service key → title.
# Keys the ledger service does not serve yet answer 404 and the page says the ledger is not open yet.
LEDGERS: dict[str, str] = {
    "daily-supervision": "日常监管工作台账",
    "risk-enterprises": "风险企业管控台账",
    "clue-verification": "非法集资举报线索核查台账",
    "internet-finance": "互联网金融风险整治台账",
    "publicity": "非法集资宣传工作台账",
    "illegal-ads": "违法广告清理台账",
    "case-progress": "案件办理进展台账",
    "asset-disposal": "资产处置进展台账",
    "petitions": "信访工作台账",
    "emergency-plans": "突发事件处置预案（台账）",
}
EXPORT_PAGE_SIZE = 200  # the ledger's largest page
EXPORT_MAX_ROWS = 20_000  # an export larger than this asks the office to filter (or use the CLI)


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def message(self) -> str:
        """The service's Chinese error message, or a generic one."""
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return str(self.body["error"].get("message") or "")
        return "服务暂不可用，请稍后重试" if self.status >= 500 else "请求未成功"

    @property
    def details(self) -> dict[str, Any]:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            details = self.body["error"].get("details")
            return details if isinstance(details, dict) else {}
        return {}


def service_urls(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """FANGFEI_<SERVICE>_URL, else the embedded default port on this machine."""
    env = os.environ if env is None else env
    return {name: env.get(f"FANGFEI_{name.upper()}_URL") or f"http://127.0.0.1:{DEFAULT_PORTS[name]}"
            for name in SERVICES}


class Backend:
    """The services' HTTP APIs as the console uses them. `token` is the signed-in person's."""

    def __init__(self, urls: Mapping[str, str]) -> None:
        self.urls = dict(urls)

    # -- transport ---------------------------------------------------------------------------
    def _call(self, token: str, service: str, method: str, path: str, query: Mapping[str, Any] | None = None,
              body: Any = None, headers: Mapping[str, str] | None = None) -> Reply:
        url = self.urls[service] + path
        clean = {k: v for k, v in (query or {}).items() if v not in (None, "")}
        if clean:
            url += "?" + urllib.parse.urlencode(clean)
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Authorization", f"Bearer {token}")
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:
                return Reply(resp.status, _decode(resp.read(), resp.headers.get_content_type()))
        except urllib.error.HTTPError as exc:
            return Reply(exc.code, _decode(exc.read(), exc.headers.get_content_type() if exc.headers else ""))
        except (urllib.error.URLError, OSError, TimeoutError):
            return Reply(503, {"error": {"code": "unavailable", "message": f"{SERVICE_LABELS[service]}暂不可用，请稍后重试"}})

    # -- intake ------------------------------------------------------------------------------
    def report_clue(self, token: str, clue: dict[str, Any], idempotency_key: str) -> Reply:
        return self._call(token, "intake", "POST", "/api/clues", body=clue,
                          headers={"Idempotency-Key": idempotency_key})

    def clue(self, token: str, clue_id: str) -> Reply:
        return self._call(token, "intake", "GET", f"/api/clues/{_seg(clue_id)}")

    # -- escalation --------------------------------------------------------------------------
    def cases(self, token: str, street_id: str, open_only: bool = True) -> Reply:
        """The open cases of a street; escalation narrows them to the token's community itself."""
        return self._call(token, "escalation", "GET", "/api/cases",
                          {"street_id": street_id, "open": "true" if open_only else ""})

    def case(self, token: str, case_id: str) -> Reply:
        return self._call(token, "escalation", "GET", f"/api/cases/{_seg(case_id)}")

    def act(self, token: str, case_id: str, action: str, fields: dict[str, Any]) -> Reply:
        """A step on a case: who acts and in which street come from the token, not the body."""
        return self._call(token, "escalation", "POST", f"/api/cases/{_seg(case_id)}/{_seg(action)}", body=fields)

    def risk_preview(self, token: str, text: dict[str, str]) -> Reply:
        return self._call(token, "escalation", "POST", "/api/risk/screen", body=text)

    # -- ledger ------------------------------------------------------------------------------
    def ledger(self, token: str, key: str, filters: Mapping[str, Any]) -> Reply:
        return self._call(token, "ledger", "GET", f"/api/ledgers/{_seg(key)}", filters)

    def ledger_all(self, token: str, key: str, filters: Mapping[str, Any]) -> Reply:
        """Every row matching `filters` (page by page), as one listing: what an export writes."""
        first: Reply | None = None
        rows: list[dict[str, Any]] = []
        page = 1
        while True:
            reply = self.ledger(token, key, {**filters, "page": page, "page_size": EXPORT_PAGE_SIZE})
            if not reply.ok:
                return reply
            first = first or reply
            rows.extend(reply.body.get("rows", []))
            total = int(reply.body.get("total", 0))
            if len(rows) >= min(total, EXPORT_MAX_ROWS) or not reply.body.get("rows"):
                break
            page += 1
        assert first is not None
        return Reply(200, {**first.body, "rows": rows[:EXPORT_MAX_ROWS], "total": total})

    # -- roster ------------------------------------------------------------------------------
    def tree(self, token: str, street_id: str) -> Reply:
        return self._call(token, "roster", "GET", f"/api/roster/streets/{_seg(street_id)}/tree")

    def responsible(self, token: str, street_id: str, community_id: str = "", sector: str = "") -> Reply:
        return self._call(token, "roster", "GET", f"/api/roster/streets/{_seg(street_id)}/responsible",
                          {"community_id": community_id, "sector": sector})


SERVICE_LABELS = {"intake": "受理服务", "roster": "名册服务", "escalation": "分派督办服务",
                  "ledger": "台账服务", "notification": "通知服务"}


def _seg(value: str) -> str:
    """One path segment, whatever the person typed (an id with a slash cannot reach another route)."""
    return urllib.parse.quote(value, safe="")


def _decode(raw: bytes, content_type: str) -> Any:
    try:
        return json.loads(raw.decode("utf-8")) if raw else {}
    except (ValueError, UnicodeDecodeError):
        return {"error": {"code": "bad_answer", "message": "服务返回了无法识别的内容"}}


class BackendProvider(DependencyProvider):
    """One Backend per process, pointed at the services by FANGFEI_<SERVICE>_URL."""

    def setup(self) -> None:
        self.backend = Backend(service_urls())

    def get_dependency(self, worker_ctx: Any) -> Backend:
        return self.backend

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
from fangfei.events.intake import (
    AD_STATUSES, ASSET_STAGES, INCIDENT_STATUSES, INTERNET_FINANCE_STATUSES, PETITION_STATUSES, SUPERVISION_RESULTS,
)

TIMEOUT_S = 15.0
EXPORT_TIMEOUT_S = 120.0  # a whole street's ledger is counted and written while the person waits
SERVICES = ("intake", "roster", "escalation", "ledger", "notification")

@dataclass(frozen=True)
class LedgerKind:
    """A ledger as the ledger service serves it: route key, title, the codes its `status` filter
    takes (with labels) and whether it takes `period_from`/`period_to` (YYYY-MM-DD)."""

    key: str
    title: str
    statuses: Mapping[str, str]
    periods: bool = True


# The ledger service's codes (services/ledger: record_ledgers.py, cases.py, enterprises.py,
# labels.py); the record ledgers' codes are the event catalogue's, so they are imported from there.
_CASE_STATUSES = {"reported": "已上报", "triage": "研判中", "level2_review": "二级网格审核",
                  "level1_review": "一级网格审核", "district": "区处非办", "joint_meeting": "联席会议",
                  "disposal": "处置中", "closed": "已办结", "external": "司法办理"}
_EMERGENCY_STATUSES = {"drafted": "已制定", "drilled": "已演练", **INCIDENT_STATUSES}

# The ten work ledgers (seed 002 §三(三)) in the order offices keep them, with the ledger's keys.
LEDGERS: dict[str, LedgerKind] = {k.key: k for k in (
    LedgerKind("supervision", "日常监管工作台账", SUPERVISION_RESULTS),
    LedgerKind("risk-enterprises", "风险企业管控台账", {"red": "红牌", "yellow": "黄牌", "green": "绿牌"}),
    LedgerKind("clue-verification", "非法集资举报线索核查台账", {"reported": "已上报", "routed": "已分派"},
               periods=False),
    LedgerKind("internet-finance", "互联网金融风险整治台账", INTERNET_FINANCE_STATUSES),
    LedgerKind("publicity", "非法集资宣传工作台账", {}),
    LedgerKind("ad-cleanup", "违法广告清理台账", AD_STATUSES),
    LedgerKind("case-progress", "案件办理进展台账", _CASE_STATUSES),
    LedgerKind("asset-disposal", "资产处置进展台账", ASSET_STAGES),
    LedgerKind("petition", "信访工作台账", PETITION_STATUSES),
    LedgerKind("emergency", "突发事件处置预案（台账）", _EMERGENCY_STATUSES),
)}

# The ledger's statistics tables (`GET /api/statistics/<key>`), counted on request in the
# caller's scope; each takes street_id, community_id, period_from, period_to.
STATISTICS: dict[str, str] = {
    "campaign-work": "打击非法集资专项行动工作情况统计表",
    "clue-screening": "风险线索排查处置情况统计表",
    "cross-province": "跨省（自治区、直辖市）非法集资案件（风险）办理情况登记统计表",
    "weekly-summary": "防非工作周报（按社区、街道汇总）",
    "monthly-summary": "防非工作月报（按社区、街道汇总）",
    "ten-ones": "无非法集资社区“十个一”创建进度",
    "scorecard-persons": "量化考核计分表（网格人员）",
    "scorecard-communities": "量化考核计分表（社区）",
    "assessment-facts": "量化考核明细（每项计分对应的事件）",
}
TEN_ONES = "ten-ones"
EXPORT_FORMATS = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                  "csv": "text/csv; charset=utf-8"}


@dataclass(frozen=True)
class Download:
    """A file the ledger service built (its own export: Chinese headers, frozen header row, CSV
    with BOM), passed through to the browser unchanged."""

    content: bytes
    content_type: str
    total_rows: str = ""


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
              body: Any = None, headers: Mapping[str, str] | None = None, raw: bool = False) -> Reply:
        """One call. `raw`: a 200 answer is a `Download` of the bytes as sent (an export)."""
        url = self.urls[service] + path
        clean = {k: v for k, v in (query or {}).items() if v not in (None, "")}
        if clean:
            url += "?" + urllib.parse.urlencode(clean)
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Authorization", f"Bearer {token}")
        req.add_header("Accept", "*/*" if raw else "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT_S if not raw else EXPORT_TIMEOUT_S) as resp:
                if raw and resp.status == 200:
                    return Reply(200, Download(resp.read(), resp.headers.get("Content-Type", ""),
                                               resp.headers.get("X-Total-Rows", "")))
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

    def ledger_export(self, token: str, key: str, filters: Mapping[str, Any], fmt: str) -> Reply:
        """The ledger's own export of every row matching `filters`, in the token's scope."""
        return self._call(token, "ledger", "GET", f"/api/ledgers/{_seg(key)}/export", {**filters, "format": fmt},
                          raw=True)

    def statistics(self, token: str, table: str, filters: Mapping[str, Any]) -> Reply:
        return self._call(token, "ledger", "GET", f"/api/statistics/{_seg(table)}", filters)

    def statistics_export(self, token: str, table: str, filters: Mapping[str, Any], fmt: str) -> Reply:
        return self._call(token, "ledger", "GET", f"/api/statistics/{_seg(table)}/export",
                          {**filters, "format": fmt}, raw=True)

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

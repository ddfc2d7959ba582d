"""Console (防非工作台): server-rendered pages for grid staff and offices, on a phone or a PC.

The console stores nothing and decides nothing: every page is assembled from the other services'
HTTP APIs (backend.py), called with the signed-in person's own token, so their access control
applies. Entrypoints translate (form → call → page); pages.py renders. See README.md."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import quote

import eventlet
from nameko.extensions import DependencyProvider
from nameko.web.handlers import http
from werkzeug.wrappers import Request, Response

from fangfei.auth.tokens import AuthError
from fangfei.clock import SHANGHAI
from fangfei.eventstore.provider import EventStoreProvider
from fangfei.http import HttpError, json_response, read_json
from fangfei.service_base import PlatformService

from . import pages, reports
from .backend import EXPORT_FORMATS, LEDGERS, STATISTICS, TEN_ONES, Backend, BackendProvider, Download, Reply
from .names import NO_NAMES, Names
from .session import (
    SERVICE, access, clear_session, error_page, html, page_route, redirect, set_session, token_of,
)

_SAFE_NEXT = re.compile(r"^/(?!/)[^\s\\]*$")  # a path on this console, never another site
_CLUE_FIELDS = ("community_id", "category", "source", "title", "description", "subject_name", "credit_code",
                "address")
_PREVIEW_FIELDS = ("subject_name", "title", "description", "address", "credit_code")


def _street(request: Request) -> str:
    """The street a page shows: the token's own, or (district-wide roles) the one asked for."""
    p = access(request).principal
    if p.district_wide:
        return request.args.get("street_id", "")[:64]
    if p.street:
        return p.street
    return request.args.get("street_id", "") or (p.streets[0] if p.streets else "")


class HubWaker(DependencyProvider):
    """Wakes the eventlet hub twice a second.

    `nameko run` acts on SIGTERM by spawning a greenlet from the signal handler; a service with no
    periodic work of its own (the console has no relay and no consumer) leaves the hub asleep in
    epoll, which Python resumes after the handler, so the stop waited for the next request (or the
    launcher's SIGKILL, 10 s later). The other services' relays and consumers wake it anyway."""

    _thread: Any = None

    def start(self) -> None:
        self._thread = self.container.spawn_managed_thread(self._tick)

    @staticmethod
    def _tick() -> None:
        while True:
            eventlet.sleep(0.5)

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.kill()
            self._thread = None

    kill = stop


class ConsoleService(PlatformService):
    name = SERVICE
    store = EventStoreProvider(publishes=False)  # nothing of its own: /health still reports a store
    waker = HubWaker()
    backend: Backend = BackendProvider()

    def _names(self, request: Request, street: str, tree: Reply | None = None) -> Names:
        """The roster's names of `street` (asked with the person's token), to show instead of ids;
        none when there is no street or the roster cannot be read (pages then show placeholders)."""
        if not street:
            return NO_NAMES
        tree = tree or self.backend.tree(token_of(request), street)
        return Names.from_tree(tree.body) if tree.ok else NO_NAMES

    def _page_street(self, request: Request, filters: dict[str, str] | None = None) -> str:
        p = access(request).principal
        return (filters or {}).get("street_id") or p.street or (p.streets[0] if p.streets else "")

    # -- signing in (before a token exists: not behind the gate) ---------------------------------
    @http("GET", "/login")
    def login_form(self, request: Request) -> Response:
        return html(pages.login_page(next_url=_next(request.args.get("next", "/"))))

    @http("POST", "/login")
    def login(self, request: Request) -> Response:
        token = (request.form.get("token") or "").strip()
        target = _next(request.form.get("next", "/"))
        if not token or len(token) > 4096:
            return html(pages.login_page("请粘贴访问令牌", target), 400)
        try:  # the same check every page makes, so a bad token is refused here, on the form
            principal = self.auth.authenticate({"Authorization": f"Bearer {token}"})
        except AuthError as exc:
            return html(pages.login_page(f"令牌无效：{exc.message}", target), 401)
        max_age = int(principal.expires_at - datetime.now(SHANGHAI).timestamp())
        return set_session(redirect(target), token, secure=request.scheme == "https", max_age=max_age)

    @http("POST", "/logout")
    def logout(self, request: Request) -> Response:
        return clear_session(redirect("/login"))

    # -- home ------------------------------------------------------------------------------------
    @http("GET", "/")
    @page_route("/")
    def home(self, request: Request) -> Response:
        p, street = access(request).principal, _street(request)
        names = self._names(request, street)
        reply = self.backend.cases(token_of(request), street) if street else None
        return html(pages.home(p, street, reply, names))

    # -- clues -----------------------------------------------------------------------------------
    @http("GET", "/clues/new")
    @page_route("/clues/new")
    def clue_form(self, request: Request) -> Response:
        names = self._names(request, self._page_street(request))
        return html(pages.clue_form(access(request).principal, uuid.uuid4().hex, names=names))

    @http("POST", "/clues")
    @page_route("/clues")
    def report_clue(self, request: Request) -> Response:
        p = access(request).principal
        unknown = sorted(set(request.form) - set(_CLUE_FIELDS) - {"found_at", "idempotency_key"})
        if unknown:  # as every API here: a field the form does not have is refused, not ignored
            raise HttpError(400, "unknown_field", "表单含有未知字段：" + "、".join(unknown[:5]))
        form = {k: (request.form.get(k) or "").strip() for k in _CLUE_FIELDS + ("found_at",)}
        key = (request.form.get("idempotency_key") or uuid.uuid4().hex)[:128]
        clue: dict[str, Any] = {k: form[k] for k in _CLUE_FIELDS if form[k]}
        if form["credit_code"]:
            clue["credit_code"] = form["credit_code"].upper()
        try:
            found = datetime.fromisoformat(form["found_at"]) if form["found_at"] else None
        except ValueError:  # sent as typed, so intake names it with the other fields' errors
            found, clue["found_at"] = None, form["found_at"][:40]
        if found is not None:
            clue["found_at"] = (found if found.tzinfo else found.replace(tzinfo=SHANGHAI)).isoformat()
        reply = self.backend.report_clue(token_of(request), clue, key)
        if reply.ok:
            return html(pages.clue_sent(p, str(reply.body.get("clue_id", "")), bool(reply.body.get("created", True))),
                        201 if reply.body.get("created", True) else 200)
        names = self._names(request, self._page_street(request))
        return html(pages.clue_form(p, key, form, reply.message, reply.details, names), reply.status)

    @http("POST", "/api/risk-preview")
    @page_route("/api/risk-preview", json_errors=True)
    def risk_preview(self, request: Request) -> Response:
        """What the inline script of the report form calls as the person types."""
        body = read_json(request, 16 * 1024)
        if not isinstance(body, dict):
            raise HttpError(400, "invalid_body", "请求体须为 JSON 对象")
        text = {k: str(body[k])[:4000] for k in _PREVIEW_FIELDS if isinstance(body.get(k), str) and body[k].strip()}
        reply = self.backend.risk_preview(token_of(request), text)
        if not reply.ok:
            raise HttpError(reply.status if reply.status < 500 else 503, "risk_preview_failed", reply.message or "风险提示暂不可用")
        return json_response(reply.body)

    # -- cases -----------------------------------------------------------------------------------
    @http("GET", "/cases/<string:case_id>")
    @page_route("/cases/<id>")
    def case(self, request: Request, case_id: str) -> Response:
        done = request.args.get("done", "")
        return self._case_page(request, case_id[:128], done=done if done in pages.SEGMENT_LABELS else "")

    @http("POST", "/cases/<string:case_id>/<string:action>")
    @page_route("/cases/<id>/<action>")
    def act(self, request: Request, case_id: str, action: str) -> Response:
        if action not in pages.SEGMENT_LABELS:
            raise HttpError(404, "unknown_action", f"未知操作：{action}")
        case_id = case_id[:128]
        fields: dict[str, Any] = {}
        for name in ("reason", "stabilization", "disposal", "public_warning", "outcome"):
            value = (request.form.get(name) or "").strip()
            if value:
                fields[name] = value
        days = (request.form.get("working_days") or "").strip()
        if days:
            if not days.isdigit():
                return self._case_page(request, case_id, error="整改期限须为整数（工作日）", status=400)
            fields["working_days"] = int(days)
        reply = self.backend.act(token_of(request), case_id, action, fields)
        if reply.ok:
            return redirect(f"/cases/{quote(case_id, safe='')}?done={action}")
        return self._case_page(request, case_id, error=reply.message, status=reply.status)

    def _case_page(self, request: Request, case_id: str, done: str = "", error: str = "", status: int = 200) -> Response:
        """The case with its clue. Both must be readable with the person's token: a case whose
        clue intake refuses (another community, another street) shows nothing at all."""
        token, p = token_of(request), access(request).principal
        clue = self.backend.clue(token, case_id)
        if clue.status in (403, 404):
            return error_page(404, "未找到该案件，或您无权查看该案件。", False, access(request))
        if not clue.ok:
            return error_page(clue.status, clue.message, False, access(request))
        case = self.backend.case(token, case_id)
        if case.status in (403, 404):
            return error_page(404, "未找到该案件，或您无权查看该案件。", False, access(request))
        if not case.ok:
            return error_page(case.status, case.message, False, access(request))
        names = self._names(request, str(case.body.get("street_id") or clue.body.get("street_id") or ""))
        return html(pages.case_page(p, case.body, clue.body, done=done, error=error, names=names),
                    status if error else 200)

    # -- ledgers ---------------------------------------------------------------------------------
    @http("GET", "/ledgers")
    @page_route("/ledgers")
    def ledgers(self, request: Request) -> Response:
        return html(reports.ledger_index(access(request).principal, self._names(request, self._page_street(request))))

    @http("GET", "/ledgers/<string:ledger_key>")
    @page_route("/ledgers/<ledger>")
    def ledger(self, request: Request, ledger_key: str) -> Response:
        kind = LEDGERS.get(ledger_key)
        if kind is None:
            raise HttpError(404, "not_found", "未找到该台账")
        p = access(request).principal
        filters = _filters(request, ("status",) if kind.statuses else ())
        if not kind.periods:
            filters = {k: v for k, v in filters.items() if k not in _PERIOD}
        names = self._names(request, self._page_street(request, filters))
        reply = _needs_street(p, filters) or self.backend.ledger(token_of(request), ledger_key, filters)
        return html(reports.ledger_page(p, kind, filters, reply, names), _status(reply))

    @http("GET", "/ledgers/<string:ledger_key>/export")
    @page_route("/ledgers/<ledger>/export")
    def export(self, request: Request, ledger_key: str) -> Response:
        kind, fmt = LEDGERS.get(ledger_key), request.args.get("format", "xlsx")
        if kind is None or fmt not in EXPORT_FORMATS:
            raise HttpError(404, "not_found", "未找到该台账或导出格式")
        filters = _filters(request, ("status",) if kind.statuses else (), paged=False)
        if not kind.periods:
            filters = {k: v for k, v in filters.items() if k not in _PERIOD}
        reply = self.backend.ledger_export(token_of(request), ledger_key, filters, fmt)
        return _download(reply, ledger_key, kind.title, fmt)

    # -- statistics and 十个一 -------------------------------------------------------------------
    @http("GET", "/statistics")
    @page_route("/statistics")
    def statistics_index(self, request: Request) -> Response:
        filters = _filters(request, paged=False)
        names = self._names(request, self._page_street(request, filters))
        return html(reports.statistics_index(access(request).principal, filters, names))

    @http("GET", "/statistics/<string:table_key>")
    @page_route("/statistics/<table>")
    def statistics(self, request: Request, table_key: str) -> Response:
        if table_key not in STATISTICS:
            raise HttpError(404, "not_found", "未找到该统计表")
        p, filters = access(request).principal, _filters(request, paged=False)
        names = self._names(request, self._page_street(request, filters))
        reply = _needs_street(p, filters) or self.backend.statistics(token_of(request), table_key, filters)
        return html(reports.statistics_page(p, table_key, filters, reply, names), _status(reply))

    @http("GET", "/statistics/<string:table_key>/export")
    @page_route("/statistics/<table>/export")
    def statistics_export(self, request: Request, table_key: str) -> Response:
        fmt = request.args.get("format", "xlsx")
        if table_key not in STATISTICS or fmt not in EXPORT_FORMATS:
            raise HttpError(404, "not_found", "未找到该统计表或导出格式")
        filters = _filters(request, paged=False)
        reply = self.backend.statistics_export(token_of(request), table_key, filters, fmt)
        return _download(reply, table_key, STATISTICS[table_key], fmt)

    @http("GET", "/ten-ones")
    @page_route("/ten-ones")
    def ten_ones(self, request: Request) -> Response:
        """Each community's 十个一 progress toward 无非法集资社区 (counted by the ledger)."""
        p = access(request).principal
        filters = {k: v for k, v in _filters(request, paged=False).items() if k not in _PERIOD}  # cumulative
        names = self._names(request, self._page_street(request, filters))
        reply = _needs_street(p, filters) or self.backend.statistics(token_of(request), TEN_ONES, filters)
        return html(reports.ten_ones_page(p, filters, reply, names), _status(reply))

    # -- roster ----------------------------------------------------------------------------------
    @http("GET", "/roster")
    @page_route("/roster")
    def roster(self, request: Request) -> Response:
        p, street, token = access(request).principal, _street(request), token_of(request)
        query = {k: request.args.get(k, "")[:64] for k in ("community_id", "sector")}
        tree = self.backend.tree(token, street) if street else None
        who = None
        if street and (query["community_id"] or query["sector"]):
            who = self.backend.responsible(token, street, query["community_id"], query["sector"])
        return html(pages.roster_page(p, street, tree, who, query, self._names(request, street, tree)))


_PERIOD = ("period_from", "period_to")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _filters(request: Request, extra: tuple[str, ...] = (), paged: bool = True) -> dict[str, str]:
    """The filters of a ledger or statistics page as the ledger takes them. The street and (for
    grid staff and community offices) the community are the token's: the ledger forces them, so
    they are not sent; district roles name a street, a member unit serving several picks one."""
    p = access(request).principal
    names = ("community_id", *_PERIOD, *extra, *(("page",) if paged else ()))
    filters = {k: request.args.get(k, "").strip()[:64] for k in names}
    for k in _PERIOD:  # a date field's value, or nothing (the ledger would refuse anything else)
        if not _DAY.match(filters[k]):
            filters[k] = ""
    if p.district_wide:
        filters["street_id"] = request.args.get("street_id", "").strip()[:64]
    elif p.streets and not p.street:  # one of the member unit's own streets (the first unless it picks one)
        asked = request.args.get("street_id", "")
        filters["street_id"] = asked if asked in p.streets else p.streets[0]
    if pages.community_scoped(p):
        filters["community_id"] = ""
    return {k: v for k, v in filters.items() if v}


def _needs_street(p: Any, filters: dict[str, str]) -> Reply | None:
    """District roles keep no street of their own: the page asks which one before calling."""
    if p.district_wide and not filters.get("street_id"):
        return Reply(400, {"error": {"message": "请填写要查看的街道编号"}})
    return None


def _status(reply: Reply) -> int:
    return 200 if reply.ok or reply.status == 404 else reply.status


def _download(reply: Reply, key: str, title: str, fmt: str) -> Response:
    """The ledger's file, named for the person (title and date); a refusal is a page."""
    if not reply.ok or not isinstance(reply.body, Download):
        raise HttpError(reply.status if not reply.ok else 502, "export_failed", reply.message)
    stamp = datetime.now(SHANGHAI).strftime("%Y%m%d")
    headers = {"Content-Disposition": f"attachment; filename=\"{key}-{stamp}.{fmt}\"; "
                                      f"filename*=UTF-8''{quote(f'{title}-{stamp}.{fmt}')}",
               "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    if reply.body.total_rows:
        headers["X-Total-Rows"] = reply.body.total_rows
    return Response(reply.body.content, content_type=EXPORT_FORMATS[fmt], headers=headers)


def _next(value: str) -> str:
    return value if _SAFE_NEXT.match(value or "") and not value.startswith("/login") else "/"


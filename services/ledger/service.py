"""Ledger (台账): read models folded from other services' events, served over HTTP.

Entrypoints translate; ledgers.py, the projection modules, statistics.py and rebuild_job.py
decide. This service emits nothing. Every HTTP route is admitted by `@api` (token, policy) and
scoped with `access_of(request)`: a street sees only its own rows, grid staff and community
offices only their community's, in listings, statistics and exports alike.
See README.md for the collections, topics and API."""

from __future__ import annotations

import logging
from typing import Any, Callable, Iterable
from urllib.parse import quote

from nameko.extensions import DependencyProvider
from nameko.web.handlers import http
from werkzeug.wrappers import Request, Response

from fangfei.bus.entrypoint import event_handler
from fangfei.eventstore.provider import EventStoreProvider, StoreHandle
from fangfei.events import Event
from fangfei.http import HttpError, NotFound, access_of, api, json_response
from fangfei.service_base import PlatformService

from . import ledgers, rebuild_job
from .exports import csv_chunks, export_rows, json_rows, local_json, xlsx_bytes
from .labels import ROW, UNKNOWN_LEDGER
from .schemas import load_query
from .statistics import TABLES, StatisticsQuery, StatTable
from .tables import Column, columns_json

SERVICE = "ledger"
log = logging.getLogger(__name__)
FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
ALL_ROWS = 10 ** 9


class LedgerIndexes(DependencyProvider):
    """Creates the ledgers' indexes once per process, at start (after the store has opened)."""

    handle = StoreHandle()

    def start(self) -> None:
        ledgers.ensure_indexes(self.handle.db)

    def get_dependency(self, worker_ctx: Any) -> None:
        return None


class RebuildRunner(DependencyProvider):
    """Runs a requested rebuild in the background, and resumes one a killed process left running."""

    handle = StoreHandle()

    def setup(self) -> None:
        self.bootstrap = self.handle.open().settings.kafka_bootstrap
        self.busy = False
        rebuild_job.recover(self.handle.db)  # before any entrypoint starts: finish or drop a shadow

    def start(self) -> None:
        if rebuild_job.pending(self.handle.db):
            log.warning("a rebuild was interrupted: running it again from the beginning")
            self.kick()

    def kick(self) -> None:
        if not self.busy:
            self.busy = True
            self.container.spawn_managed_thread(self._run, identifier="ledger.rebuild")

    def _run(self) -> None:
        try:
            while True:  # a request that came in as the last run finished was not kicked: run it too
                try:
                    rebuild_job.run(self.handle.db, self.bootstrap)
                except Exception as exc:  # broker unreachable…: say so; a new request starts over
                    log.exception("rebuild failed")
                    self.handle.db[rebuild_job.STATE].update_one(
                        {"_id": rebuild_job.JOB}, {"$set": {"state": "failed", "error": type(exc).__name__}})
                if not rebuild_job.pending(self.handle.db):
                    break
        finally:
            self.busy = False

    def check(self) -> list[Any]:
        return rebuild_job.check(self.handle.db, self.bootstrap)

    def get_dependency(self, worker_ctx: Any) -> "RebuildRunner":
        return self


def _ledger(key: str) -> ledgers.Ledger:
    ledger = ledgers.LEDGERS.get(key)
    if ledger is None:
        raise NotFound(f"{UNKNOWN_LEDGER} {key}")
    return ledger


def _table(key: str) -> StatTable:
    table = TABLES.get(key)
    if table is None:
        raise NotFound(f"统计表 {key}")
    return table


def _scoped_args(request: Request, drop: tuple[str, ...] = ()) -> dict[str, str]:
    """The query parameters with the caller's street and community forced by the token."""
    access = access_of(request)
    args = {k: v for k, v in request.args.to_dict().items() if k not in drop}
    street = access.list_street(args.get("street_id", ""))
    if street:
        args["street_id"] = street
    community = access.list_community(args.get("community_id", ""))
    if community:
        args["community_id"] = community
    return args


def _format(request: Request) -> str:
    fmt = request.args.get("format", "csv")
    if fmt not in FORMATS:
        raise HttpError(400, "validation_failed", "输入校验未通过：导出格式 1 项有误",
                        {"format": ["导出格式：须为以下之一：csv、xlsx"]})
    return fmt


def _download(title: str, fmt: str, columns: tuple[Column, ...], rows: list[dict[str, Any]]) -> Response:
    """A file download; CSV is streamed in chunks, XLSX is built whole (a zip cannot stream)."""
    body: Iterable[bytes] | bytes = csv_chunks(columns, rows) if fmt == "csv" else xlsx_bytes(title, columns, rows)
    headers = {
        "Content-Disposition": f"attachment; filename=\"export.{fmt}\"; filename*=UTF-8''{quote(title)}.{fmt}",
        "X-Total-Rows": str(len(rows)),
    }
    return Response(body, status=200, headers=headers, content_type=FORMATS[fmt])


_ESCALATION_KINDS = ("case", "sla", "obligation", "campaign", "enterprise")


def _source_of(event_type: str) -> str:
    """Which producer's topic carries `event_type` (enterprise_profile.* is intake's)."""
    kind = event_type.split(".")[0]
    if kind == "roster":
        return "roster"
    return "escalation" if kind in _ESCALATION_KINDS else "intake"


def _record_types() -> list[tuple[str, str]]:
    return sorted((t, _source_of(t)) for t in ledgers.PROJECTORS)


def _apply(self: "LedgerService", event: Event) -> None:
    with rebuild_job.WRITE_LOCK:  # a rebuild's final catch-up and swap exclude live writes
        ledgers.apply_event(self.store.db, event)


def _handler(types: list[tuple[str, str]]) -> Callable[..., Any]:
    def on_event(self: "LedgerService", event: Event) -> None:
        _apply(self, event)

    for event_type, source in types:
        on_event = event_handler(source, event_type)(on_event)
    return on_event


_OTHER_TYPES = [(t, s) for t, s in _record_types() if t not in ("clue.reported", "case.opened")]


class LedgerService(PlatformService):
    name = SERVICE
    store = EventStoreProvider(publishes=False)  # read models only: nothing to relay
    indexes = LedgerIndexes()
    rebuilder = RebuildRunner()

    # -- events in ------------------------------------------------------------------------------
    @event_handler("intake", "clue.reported")
    def on_clue_reported(self, event: Event) -> None:
        _apply(self, event)

    @event_handler("escalation", "case.opened")
    def on_case_opened(self, event: Event) -> None:
        _apply(self, event)

    on_event = _handler(_OTHER_TYPES)  # every other event type any read model reads

    # -- ledgers --------------------------------------------------------------------------------
    @http("GET", "/api/ledgers/<string:ledger_key>")
    @api(SERVICE, "/api/ledgers/<ledger>")
    def list_ledger(self, request: Request, ledger_key: str) -> Response:
        ledger = _ledger(ledger_key)
        query = load_query(ledger.schema()(), _scoped_args(request))
        rows, total = ledger.list_rows(self.store.db, query)
        rows = json_rows(self.store.db, ledger.key, rows, query)  # names beside the ids
        return json_response({"ledger": ledger.title, "columns": ledger.columns(), "rows": local_json(rows),
                              "page": query["page"], "page_size": query["page_size"], "total": total})

    @http("GET", "/api/ledgers/<string:ledger_key>/export")
    @api(SERVICE, "/api/ledgers/<ledger>/export")
    def export_ledger(self, request: Request, ledger_key: str) -> Response:
        ledger = _ledger(ledger_key)
        fmt = _format(request)
        query = load_query(ledger.schema()(), _scoped_args(request, drop=("format", "page", "page_size")))
        rows, _ = ledger.list_rows(self.store.db, {**query, "page": 1, "page_size": ALL_ROWS})
        columns = ledger.table_columns()  # id columns print names (exports.export_rows)
        rows = export_rows(self.store.db, ledger.key, columns, rows, query)
        return _download(ledger.title, fmt, columns, rows)

    @http("GET", "/api/ledgers/<string:ledger_key>/<string:row_id>")
    @api(SERVICE, "/api/ledgers/<ledger>/<id>")
    def get_ledger_row(self, request: Request, ledger_key: str, row_id: str) -> Response:
        ledger = _ledger(ledger_key)
        row = ledger.get_row(self.store.db, row_id)
        if row is None or not access_of(request).allows(row.get("street_id") or "", row.get("community_id") or ""):
            raise NotFound(f"{ROW} {row_id}")  # another street's row looks exactly like a missing one
        return json_response(local_json(json_rows(self.store.db, ledger.key, [row])[0]))

    # -- statistics -----------------------------------------------------------------------------
    @http("GET", "/api/statistics/<string:table_key>")
    @api(SERVICE, "/api/statistics/<table>")
    def statistics(self, request: Request, table_key: str) -> Response:
        table = _table(table_key)
        query = load_query(StatisticsQuery(), _scoped_args(request))
        rows = json_rows(self.store.db, table.key, table.compute(self.store.db, query), query)
        return json_response({"table": table.title, "columns": columns_json(table.columns_spec),
                              "rows": local_json(rows), "total": len(rows)})

    @http("GET", "/api/statistics/<string:table_key>/export")
    @api(SERVICE, "/api/statistics/<table>/export")
    def export_statistics(self, request: Request, table_key: str) -> Response:
        table = _table(table_key)
        fmt = _format(request)
        query = load_query(StatisticsQuery(), _scoped_args(request, drop=("format",)))
        rows = export_rows(self.store.db, table.key, table.columns_spec, table.compute(self.store.db, query), query)
        return _download(table.title, fmt, table.columns_spec, rows)

    # -- rebuild and consistency check (district office) ----------------------------------------
    @http("POST", "/api/ledger-admin/rebuild")
    @api(SERVICE, "/api/ledger-admin/rebuild")
    def request_rebuild(self, request: Request) -> Response:
        state = rebuild_job.request(self.store.db, rebuild_job.to_iso_now)
        self.rebuilder.kick()
        return json_response(local_json(state), 202)

    @http("GET", "/api/ledger-admin/rebuild")
    @api(SERVICE, "/api/ledger-admin/rebuild")
    def rebuild_status(self, request: Request) -> Response:
        return json_response(local_json(rebuild_job.status(self.store.db)))

    @http("POST", "/api/ledger-admin/check")
    @api(SERVICE, "/api/ledger-admin/check")
    def check(self, request: Request) -> Response:
        diffs = self.rebuilder.check()
        return json_response({
            "consistent": not diffs, "differences": len(diffs),
            "first": [{"collection": d.collection, "id": d.doc_id, "field": d.field, "live": d.a, "rebuilt": d.b}
                      for d in diffs[:50]],
        })

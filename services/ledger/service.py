"""Ledger (台账): read models folded from other services' events, served over HTTP.

Entrypoints translate; ledgers.py and projections.py decide. This service emits nothing.
Every HTTP route is admitted by `@api` (token, policy) and scoped with `access_of(request)`: a
street sees only its own rows, grid staff and community offices only their community's.
See README.md for the collections, topics and API."""

from __future__ import annotations

from typing import Any

from nameko.extensions import DependencyProvider
from nameko.web.handlers import http
from werkzeug.wrappers import Request, Response

from fangfei.bus.entrypoint import event_handler
from fangfei.eventstore.provider import EventStoreProvider, StoreHandle
from fangfei.events import Event
from fangfei.http import NotFound, access_of, api, json_response
from fangfei.service_base import PlatformService

from . import ledgers
from .labels import ROW, UNKNOWN_LEDGER
from .schemas import load_query

SERVICE = "ledger"


class LedgerIndexes(DependencyProvider):
    """Creates the ledgers' indexes once per process, at start (after the store has opened)."""

    handle = StoreHandle()

    def start(self) -> None:
        ledgers.ensure_indexes(self.handle.db)

    def get_dependency(self, worker_ctx: Any) -> None:
        return None


def _ledger(key: str) -> ledgers.Ledger:
    ledger = ledgers.LEDGERS.get(key)
    if ledger is None:
        raise NotFound(f"{UNKNOWN_LEDGER} {key}")
    return ledger


class LedgerService(PlatformService):
    name = SERVICE
    store = EventStoreProvider(publishes=False)  # read models only: nothing to relay
    indexes = LedgerIndexes()

    # -- events in ------------------------------------------------------------------------------
    @event_handler("intake", "clue.reported")
    def on_clue_reported(self, event: Event) -> None:
        ledgers.apply_event(self.store.db, event)

    @event_handler("escalation", "case.opened")
    def on_case_opened(self, event: Event) -> None:
        ledgers.apply_event(self.store.db, event)

    # -- HTTP -----------------------------------------------------------------------------------
    @http("GET", "/api/ledgers/<string:ledger_key>")
    @api(SERVICE, "/api/ledgers/<ledger>")
    def list_ledger(self, request: Request, ledger_key: str) -> Response:
        ledger = _ledger(ledger_key)
        access = access_of(request)
        args = request.args.to_dict()
        street = access.list_street(args.get("street_id", ""))  # a street-bound caller: their own street
        if street:
            args["street_id"] = street
        community = access.list_community(args.get("community_id", ""))
        if community:
            args["community_id"] = community
        query = load_query(ledger.query_schema(), args)
        rows, total = ledger.list_rows(self.store.db, query)
        return json_response(
            {
                "ledger": ledger.title,
                "columns": ledger.columns(),
                "rows": rows,
                "page": query["page"],
                "page_size": query["page_size"],
                "total": total,
            }
        )

    @http("GET", "/api/ledgers/<string:ledger_key>/<string:row_id>")
    @api(SERVICE, "/api/ledgers/<ledger>/<id>")
    def get_ledger_row(self, request: Request, ledger_key: str, row_id: str) -> Response:
        ledger = _ledger(ledger_key)
        row = ledger.get_row(self.store.db, row_id)
        if row is None or not access_of(request).allows(row.get("street_id") or "", row.get("community_id") or ""):
            raise NotFound(f"{ROW} {row_id}")  # another street's row looks exactly like a missing one
        return json_response(row)

"""Roster (名册): streets, communities, the grid tree, people and who heads which grid.

Entrypoints translate; handlers decide. See README.md for the API and the CSV format."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from nameko.web.handlers import http
from werkzeug.wrappers import Request, Response

from fangfei.clock import SystemClock
from fangfei.http import HttpError, NotFound, api, json_response, load
from fangfei.service_base import PlatformService

from . import handlers, importer
from .facts import ImportRejected
from .projections import roster_view
from .schemas import ImportQuery, RouteQuery, TreeQuery

SERVICE = "roster"
# A district's roster is far bigger than any JSON command, so imports get their own cap.
IMPORT_MAX_BYTES = 2 * 1024 * 1024
IMPORT_ACTOR = "roster-import"


class RosterService(PlatformService):
    name = SERVICE
    clock = SystemClock()

    @http("POST", "/api/roster/import")
    @api(SERVICE, "/api/roster/import")
    def import_roster(self, request: Request) -> Response:
        query = load(ImportQuery(), dict(request.args.items()))
        data = read_csv(request, max(self.store.settings.max_body_bytes, IMPORT_MAX_BYTES))
        try:
            rows = importer.parse_csv(data, roster_view(self.store.events))
        except ImportRejected as exc:
            raise HttpError(
                400, "import_rejected", exc.message, {"rows": [e.as_dict() for e in exc.errors]}
            ) from exc
        created = handlers.import_roster(self.store, rows, query.get("actor") or IMPORT_ACTOR)
        return json_response({"rows": len(rows), "created": created})

    @http("GET", "/api/roster/streets/<string:street_id>/tree")
    @api(SERVICE, "/api/roster/streets/<id>/tree")
    def street_tree(self, request: Request, street_id: str) -> Response:
        query = load(TreeQuery(), dict(request.args.items()))
        tree = handlers.street_tree(roster_view(self.store.events), street_id, self._at(query))
        if tree is None:
            raise NotFound(f"街道 {street_id}")
        return json_response(tree)

    @http("GET", "/api/roster/route")
    @api(SERVICE, "/api/roster/route")
    def route(self, request: Request) -> Response:
        query = load(RouteQuery(), dict(request.args.items()))
        view = roster_view(self.store.events)
        found = handlers.route(
            view, query["street_id"], query["community_id"], self._at(query), query.get("grid_id", "")
        )
        return json_response(found)

    def _at(self, query: dict[str, Any]) -> datetime:
        return query.get("at") or self.clock.now()


def read_csv(request: Request, max_bytes: int) -> bytes:
    """The raw CSV body, refused (413) before reading when it is over `max_bytes`."""
    if request.mimetype != "text/csv":
        raise HttpError(415, "unsupported_media_type", "请求体须为 CSV（Content-Type: text/csv）")
    too_large = HttpError(413, "payload_too_large", f"文件过大：上限 {max_bytes} 字节", {"limit": max_bytes})
    if request.content_length is not None and request.content_length > max_bytes:
        raise too_large
    data: bytes = request.stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise too_large
    return data

"""Roster (名册): streets, communities, the grid tree, people and their roles over time, member
units and their sectors, the leading group; who is responsible for what, at every moment.

Entrypoints translate; handlers decide. See README.md for the API and the file formats. Every read
and change names its street in the path (or `street_id`), and touches only that street.

Access control (docs/security.md): `@api` admits the caller by the policy table; each endpoint then
applies the caller's street. A street outside the caller's reach reads as not found (404, without
echoing it) and a change there is refused (403); an import by a street office may hold only rows of
its own street. The actor of every event is the token's person, never a request parameter.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable
from urllib.parse import quote

from nameko.web.handlers import http
from werkzeug.wrappers import Request, Response

from fangfei.clock import SystemClock
from fangfei.auth.access import Access, Forbidden
from fangfei.auth.policy import Scope
from fangfei.http import HttpError, NotFound, access_of, api, json_response, load, read_json
from fangfei.service_base import PlatformService
from fangfei.vocab import ROSTER_LISTS

from . import handlers, importer, queries
from .facts import ImportRejected, OutOfStreet
from .projections import roster_view
from .schemas import (
    AssignChiefRequest, EndRoleRequest, ExportQuery, GroupRequest, ImportQuery, NoQuery, RegisterUnitRequest,
    ResponsibleQuery, RoleRequest, RouteQuery, SectorsRequest, TreeQuery, VacancyRequest,
)

SERVICE = "roster"
# A district's roster is far bigger than any JSON command, so imports get their own cap.
IMPORT_MAX_BYTES = 2 * 1024 * 1024
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONTENT_TYPES = {importer.CSV: "text/csv; charset=utf-8", importer.XLSX: XLSX_TYPE}


class RosterService(PlatformService):
    name = SERVICE
    clock = SystemClock()

    # -- files -------------------------------------------------------------------------------------
    @http("POST", "/api/roster/import")
    @api(SERVICE, "/api/roster/import")
    def import_roster(self, request: Request) -> Response:
        access = access_of(request)
        query = load(ImportQuery(), dict(request.args.items()))
        street_id = query.get("street_id") or None
        own_street = None
        if access.scope is not Scope.ALL:  # a street office loads its own street, and only it
            own_street = access.write_street()
            if street_id not in (None, own_street):
                raise Forbidden("street_out_of_scope", "无权导入其他街道的名册")
        fmt, data = read_file(request, max(self.store.settings.max_body_bytes, IMPORT_MAX_BYTES))
        try:
            answer = handlers.import_file(
                self.store, self._view(), data, fmt, access.actor,
                list_kind=query["list_kind"] or None, street_id=street_id, own_street=own_street,
            )
        except OutOfStreet as exc:
            raise HttpError(403, "street_out_of_scope", exc.message, {"rows": [e.as_dict() for e in exc.errors]}) from exc
        except ImportRejected as exc:
            raise HttpError(400, "import_rejected", exc.message, {"rows": [e.as_dict() for e in exc.errors]}) from exc
        return json_response(answer)

    @http("GET", "/api/roster/streets/<string:street_id>/export")
    @api(SERVICE, "/api/roster/streets/<id>/export")
    def export_roster(self, request: Request, street_id: str) -> Response:
        _readable(request, street_id)
        query = load(ExportQuery(), dict(request.args.items()))
        view = self._view()
        kind, fmt = query["list_kind"], query["format"]
        data = self._found(lambda: handlers.export_list(
            view, street_id, kind, fmt, query.get("at"), query.get("community_id") or None))
        label = f"{view.streets[street_id]['name']}{ROSTER_LISTS[kind]}.{fmt}"
        fallback = f"roster-{street_id}-{kind}.{fmt}"
        return Response(data, content_type=CONTENT_TYPES[fmt], headers={
            "Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(label)}",
        })

    # -- reads ---------------------------------------------------------------------------------------
    @http("GET", "/api/roster/streets/<string:street_id>/tree")
    @api(SERVICE, "/api/roster/streets/<id>/tree")
    def street_tree(self, request: Request, street_id: str) -> Response:
        _readable(request, street_id)
        query = load(TreeQuery(), dict(request.args.items()))
        tree = queries.street_tree(self._view(), street_id, self._at(query))
        if tree is None:
            raise NotFound(f"街道 {street_id}")
        return json_response(tree)

    @http("GET", "/api/roster/route")
    @api(SERVICE, "/api/roster/route")
    def route(self, request: Request) -> Response:
        query = load(RouteQuery(), dict(request.args.items()))
        _readable(request, query["street_id"])
        found = queries.route(
            self._view(), query["street_id"], query["community_id"], self._at(query), query.get("grid_id", "")
        )
        return json_response(found)

    @http("GET", "/api/roster/streets/<string:street_id>/responsible")
    @api(SERVICE, "/api/roster/streets/<id>/responsible")
    def responsible(self, request: Request, street_id: str) -> Response:
        """谁负责: by place (the grid chain) and/or by industry sector (the member units)."""
        _readable(request, street_id)
        query = load(ResponsibleQuery(), dict(request.args.items()))
        view, at = self._view(), self._at(query)
        if street_id not in view.streets:
            raise NotFound(f"街道 {street_id}")
        community_id, grid_id = query.get("community_id", ""), query.get("grid_id", "")
        if grid_id:
            grid = view.grids.get(grid_id)
            if grid is None or grid.street_id != street_id:
                raise NotFound(f"网格 {grid_id}")
            community_id = community_id or grid.community_id
        body: dict[str, Any] = {"street_id": street_id, "at": at.isoformat(), "grid": None, "sector": None}
        if community_id or grid_id:
            body["grid"] = queries.route(view, street_id, community_id, at, grid_id)
        if query["sector"]:
            body["sector"] = queries.sector_route(view, street_id, query["sector"], at)
        return json_response(body)

    # -- changes -------------------------------------------------------------------------------------
    @http("POST", "/api/roster/streets/<string:street_id>/grids/<string:grid_id>/chief")
    @api(SERVICE, "/api/roster/streets/<id>/grids/<id>/chief")
    def assign_chief(self, request: Request, street_id: str, grid_id: str) -> Response:
        cmd = load(AssignChiefRequest(), read_json(request, self.store.settings.max_body_bytes))
        return self._change(request, street_id, lambda view, actor: handlers.assign_chief(
            self.store, view, street_id, grid_id, cmd, actor))

    @http("POST", "/api/roster/streets/<string:street_id>/grids/<string:grid_id>/vacancy")
    @api(SERVICE, "/api/roster/streets/<id>/grids/<id>/vacancy")
    def vacate_grid(self, request: Request, street_id: str, grid_id: str) -> Response:
        cmd = load(VacancyRequest(), read_json(request, self.store.settings.max_body_bytes))
        return self._change(request, street_id, lambda view, actor: handlers.vacate_grid(
            self.store, view, street_id, grid_id, cmd["valid_from"], actor))

    @http("POST", "/api/roster/streets/<string:street_id>/member-units")
    @api(SERVICE, "/api/roster/streets/<id>/member-units")
    def register_unit(self, request: Request, street_id: str) -> Response:
        cmd = load(RegisterUnitRequest(), read_json(request, self.store.settings.max_body_bytes))
        return self._change(request, street_id, lambda view, actor: handlers.register_unit(
            self.store, view, street_id, cmd, actor))

    @http("POST", "/api/roster/streets/<string:street_id>/member-units/<string:unit_id>/sectors")
    @api(SERVICE, "/api/roster/streets/<id>/member-units/<id>/sectors")
    def assign_sectors(self, request: Request, street_id: str, unit_id: str) -> Response:
        cmd = load(SectorsRequest(), read_json(request, self.store.settings.max_body_bytes))
        return self._change(request, street_id, lambda view, actor: handlers.assign_sectors(
            self.store, view, street_id, unit_id, cmd, actor))

    @http("POST", "/api/roster/streets/<string:street_id>/people/<string:person_id>/roles")
    @api(SERVICE, "/api/roster/streets/<id>/people/<id>/roles")
    def assign_role(self, request: Request, street_id: str, person_id: str) -> Response:
        cmd = load(RoleRequest(), read_json(request, self.store.settings.max_body_bytes))
        return self._change(request, street_id, lambda view, actor: handlers.assign_role(
            self.store, view, street_id, person_id, cmd, actor))

    @http("POST", "/api/roster/streets/<string:street_id>/people/<string:person_id>/roles/end")
    @api(SERVICE, "/api/roster/streets/<id>/people/<id>/roles/end")
    def end_role(self, request: Request, street_id: str, person_id: str) -> Response:
        cmd = load(EndRoleRequest(), read_json(request, self.store.settings.max_body_bytes))
        return self._change(request, street_id, lambda view, actor: handlers.end_role(
            self.store, view, street_id, person_id, cmd, actor))

    @http("PUT", "/api/roster/streets/<string:street_id>/leading-group")
    @api(SERVICE, "/api/roster/streets/<id>/leading-group")
    def register_group(self, request: Request, street_id: str) -> Response:
        cmd = load(GroupRequest(), read_json(request, self.store.settings.max_body_bytes))
        return self._change(request, street_id, lambda view, actor: handlers.register_group(
            self.store, view, street_id, cmd, actor))

    # -- helpers -------------------------------------------------------------------------------------
    def _view(self) -> Any:
        return roster_view(self.store.events)

    def _at(self, query: dict[str, Any]) -> datetime:
        return query.get("at") or self.clock.now()

    def _found(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except handlers.NotOnRoster as exc:
            raise NotFound(exc.what) from exc

    def _change(self, request: Request, street_id: str, fn: Callable[[Any, str], dict[str, int]]) -> Response:
        """Run a change of `street_id`'s roster as it is now, by the token's person: 403 for a
        street the caller may not change, 404 for what is not on this street's roster, 400 with
        every reason for a change the rules refuse, 201 when something was recorded and 200 when
        the roster already said so."""
        access = access_of(request)
        _writable(access, street_id)
        load(NoQuery(), dict(request.args.items()))
        actor = access.actor
        try:
            created = self._found(lambda: fn(self._view(), actor))
        except ImportRejected as exc:
            raise HttpError(400, "change_rejected", exc.message, {"reasons": [e.reason for e in exc.errors]}) from exc
        return json_response({"created": created}, 201 if any(created.values()) else 200)


def _readable(request: Request, street_id: str) -> None:
    """A street's roster is read by the people of that street (and district-wide roles); any other
    street looks absent, without echoing its id."""
    if not access_of(request).in_street(street_id):
        raise NotFound("街道")


def _writable(access: Access, street_id: str) -> None:
    """A change names its street in the path; a street office may change only its own."""
    if access.scope is not Scope.ALL and access.write_street() != street_id:
        raise Forbidden("street_out_of_scope", "无权变更其他街道的名册")


def read_file(request: Request, max_bytes: int) -> tuple[str, bytes]:
    """The raw CSV or XLSX body and which it is, refused (413) before reading when over `max_bytes`."""
    if request.mimetype == "text/csv":
        fmt = importer.CSV
    elif request.mimetype == XLSX_TYPE:
        fmt = importer.XLSX
    else:
        raise HttpError(415, "unsupported_media_type",
                        f"请求体须为 CSV（Content-Type: text/csv）或 XLSX（Content-Type: {XLSX_TYPE}）")
    too_large = HttpError(413, "payload_too_large", f"文件过大：上限 {max_bytes} 字节", {"limit": max_bytes})
    if request.content_length is not None and request.content_length > max_bytes:
        raise too_large
    data: bytes = request.stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise too_large
    return fmt, data

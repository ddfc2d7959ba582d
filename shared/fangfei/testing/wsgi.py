"""Serve a `worker_factory` service instance as a WSGI app, routed the way nameko's web server
routes it (werkzeug rules from the `@http` entrypoints: unknown path 404, wrong method 405), so
tests can send thousands of real HTTP requests in-process: no sockets, no broker, no sleeps.

    app = ServiceApp(worker_factory(IntakeService, store=memory_store("intake"), auth=gate))
    resp = app.client.post("/api/clues", json=body, headers=mint.headers("grid_staff"))
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Iterable

from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
from nameko.web.handlers import HttpRequestHandler
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response


def http_routes(service_cls: type) -> list[tuple[str, str, str]]:
    """(method, url rule, attribute name) of every `@http` entrypoint of a service class."""
    routes = []
    for name, member in inspect.getmembers(service_cls):
        for ext in getattr(member, ENTRYPOINT_EXTENSIONS_ATTR, ()) or ():
            if isinstance(ext, HttpRequestHandler):
                for method in ext.method.split(","):
                    routes.append((method.strip().upper(), ext.url, name))
    return sorted(routes)


class ServiceApp:
    def __init__(self, service: Any) -> None:
        self.service = service
        self.url_map = Map([Rule(url, methods=[method], endpoint=name) for method, url, name in http_routes(type(service))])
        self.client = Client(self)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            endpoint, values = adapter.match()
            response = getattr(self.service, endpoint)(request, **values)
        except HTTPException as exc:
            return exc(environ, start_response)  # type: ignore[no-any-return]
        except Exception:  # what nameko would turn into a 500: the tests count these as failures
            response = Response("internal error", status=500)
        return response(environ, start_response)  # type: ignore[no-any-return]

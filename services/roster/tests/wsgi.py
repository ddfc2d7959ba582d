"""Serve a `worker_factory` roster service over real HTTP for client tests.

The URL map is built from the service's own `@http` entrypoints (their methods and URL rules),
so a client is tested against the routes nameko would serve, without a broker or a container."""

from __future__ import annotations

import threading
from typing import Any, Iterator
from contextlib import contextmanager

from nameko.web.handlers import HttpRequestHandler
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import make_server
from werkzeug.wrappers import Request


def wsgi_app(service: Any) -> Any:
    rules = []
    for name in dir(type(service)):
        for entrypoint in getattr(getattr(type(service), name), "nameko_entrypoints", ()):
            if isinstance(entrypoint, HttpRequestHandler):
                rules.append(Rule(entrypoint.url, methods=[entrypoint.method], endpoint=name))
    urls = Map(rules)

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            endpoint, args = urls.bind_to_environ(environ).match()
        except HTTPException as exc:
            return exc(environ, start_response)
        return getattr(service, endpoint)(request, **args)(environ, start_response)

    return app


@contextmanager
def serving(service: Any) -> Iterator[str]:
    """Yield the base URL of `service` served on a free loopback port."""
    server = make_server("127.0.0.1", 0, wsgi_app(service))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)

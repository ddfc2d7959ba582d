"""HTTP helpers for nameko `@http` entrypoints: JSON in and out, size limits, one error table.

Every error a user can cause comes back as JSON `{"error": {"code", "message", "details"}}` with
a Chinese message and a 4xx status; anything unexpected is a bare 500 with no stack trace."""

from __future__ import annotations

import functools
import json
import logging
import time
from typing import Any, Callable, Mapping

from marshmallow import Schema, ValidationError
from werkzeug.wrappers import Request, Response

from . import metrics
from .eventstore.store import ConcurrencyConflict
from .events.envelope import EventError

log = logging.getLogger(__name__)

DEFAULT_MAX_BODY = 64 * 1024
# An oversize body is read and thrown away up to this much, so the client gets its 413 instead of
# a connection reset while it is still sending; beyond it the connection is simply closed.
DRAIN_LIMIT = 32 * 1024 * 1024


class HttpError(Exception):
    def __init__(self, status: int, code: str, message: str, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = dict(details or {})


class NotFound(HttpError):
    def __init__(self, what: str) -> None:
        super().__init__(404, "not_found", f"未找到：{what}")


def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    return Response(body, status=status, headers=dict(headers or {}), content_type="application/json; charset=utf-8")


def error_response(err: HttpError) -> Response:
    return json_response({"error": {"code": err.code, "message": err.message, "details": err.details}}, err.status)


def read_json(request: Request, max_bytes: int = DEFAULT_MAX_BODY) -> Any:
    """Parse a JSON body, refusing bodies over `max_bytes` before reading them (413)."""
    if request.mimetype != "application/json":
        raise HttpError(415, "unsupported_media_type", "请求体须为 JSON（Content-Type: application/json）")
    length = request.content_length
    if length is not None and length > max_bytes:
        _drain(request, min(length, DRAIN_LIMIT))
        raise HttpError(413, "payload_too_large", f"请求体过大：上限 {max_bytes} 字节", {"limit": max_bytes})
    raw = request.stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise HttpError(413, "payload_too_large", f"请求体过大：上限 {max_bytes} 字节", {"limit": max_bytes})
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HttpError(400, "invalid_json", f"请求体不是有效的 JSON：{exc}") from exc


def _drain(request: Request, limit: int) -> None:
    remaining = limit
    while remaining > 0:
        chunk = request.stream.read(min(remaining, 256 * 1024))
        if not chunk:
            return
        remaining -= len(chunk)


def load(schema: Schema, data: Any) -> Any:
    """Validate with a marshmallow schema; field errors become a 400 that names each field."""
    if not isinstance(data, dict):
        raise HttpError(400, "invalid_body", "请求体须为 JSON 对象")
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise HttpError(400, "validation_failed", "输入校验未通过", exc.messages_dict) from exc


def api(service: str, route: str) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Wrap an `@http` method: map errors to responses and record latency per route."""

    def deco(fn: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(fn)
        def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
            started = time.perf_counter()
            try:
                response = fn(self, request, *args, **kwargs)
            except HttpError as err:
                response = error_response(err)
            except ConcurrencyConflict as exc:
                response = error_response(
                    HttpError(409, "conflict", "数据已被他人修改，请刷新后重试", {"expected": exc.expected, "actual": exc.actual})
                )
            except EventError as exc:
                response = error_response(HttpError(400, "invalid_event", "数据不符合事件约定", exc.messages))
            except Exception:
                log.exception("unhandled error on %s %s", request.method, route)
                response = error_response(HttpError(500, "internal_error", "服务内部错误，请稍后重试"))
            metrics.HTTP_REQUESTS.labels(service, route, request.method, str(response.status_code)).inc()
            metrics.HTTP_SECONDS.labels(service, route, request.method).observe(time.perf_counter() - started)
            return response

        return wrapper

    return deco

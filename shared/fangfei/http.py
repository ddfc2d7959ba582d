"""HTTP helpers for nameko `@http` entrypoints: JSON in and out, size limits, access control, one
error table.

Every error a user can cause comes back as JSON `{"error": {"code", "message", "details"}}` with
a Chinese message and a 4xx status; anything unexpected is a bare 500 with no stack trace.

`@api(service, route)` is also where access control happens, once per request and before the
endpoint runs (docs/security.md): the bearer token is verified, the token's rate limit applied and
the policy table (fangfei.auth.policy) consulted for (service, method, route, role); the endpoint
then reads its caller's scope with `access_of(request)`. Deny by default: a route without a policy
entry is refused for every role."""

from __future__ import annotations

import functools
import json
import logging
import re
import time
from typing import Any, Callable, Mapping

from marshmallow import Schema, ValidationError
from werkzeug.wrappers import Request, Response

from . import field_labels, metrics
from .auth.access import Access, Forbidden
from .auth.gate import Gate, RateLimited
from .auth.policy import enforced
from .auth.tokens import AuthError
from .eventstore.store import ConcurrencyConflict
from .events.envelope import EventError

log = logging.getLogger(__name__)

DEFAULT_MAX_BODY = 64 * 1024
# An oversize body is read and thrown away up to this much, so the client gets its 413 instead of
# a connection reset while it is still sending; beyond it the connection is simply closed.
DRAIN_LIMIT = 32 * 1024 * 1024
ACCESS_KEY = "fangfei.access"


class HttpError(Exception):
    def __init__(self, status: int, code: str, message: str, details: Mapping[str, Any] | None = None,
                 fields: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = dict(details or {})
        self.fields = fields  # validation errors only: each bad field with its label, in order


class NotFound(HttpError):
    def __init__(self, what: str) -> None:
        super().__init__(404, "not_found", f"未找到：{what}")


def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    return Response(body, status=status, headers=dict(headers or {}), content_type="application/json; charset=utf-8")


def error_response(err: HttpError) -> Response:
    error: dict[str, Any] = {"code": err.code, "message": err.message, "details": err.details}
    if err.fields is not None:
        error["fields"] = err.fields
    return json_response({"error": error}, err.status)


def read_json(request: Request, max_bytes: int = DEFAULT_MAX_BODY) -> Any:
    """Parse a JSON body, refusing bodies over `max_bytes` before reading them (413)."""
    if request.mimetype != "application/json":
        raise HttpError(415, "unsupported_media_type", "请求体须为 JSON（Content-Type: application/json）")
    length = request.content_length
    if length is not None and length > max_bytes:
        _drain(request, min(length, DRAIN_LIMIT))
        raise HttpError(413, "payload_too_large", f"请求体过大：上限 {max_bytes} 字节", {"limit": max_bytes})
    request.environ["fangfei.body_read"] = True
    raw = request.stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise HttpError(413, "payload_too_large", f"请求体过大：上限 {max_bytes} 字节", {"limit": max_bytes})
    try:
        data = json.loads(raw.decode("utf-8"))
    except json.JSONDecodeError as exc:
        raise HttpError(400, "invalid_json", f"请求体不是有效的 JSON：{exc.msg}（第 {exc.pos} 个字符）") from exc
    except (ValueError, RecursionError) as exc:  # bad UTF-8, a 5000-digit number, [[[[… nested too deep
        raise HttpError(400, "invalid_json", "请求体不是有效的 JSON") from exc
    try:
        clean = _clean_text(data)
    except RecursionError:  # nested just shallower than the parser's limit: deeper than any real body
        clean = False
    if not clean:
        raise HttpError(400, "invalid_characters", "请求体含有控制字符、无效的 Unicode 字符或嵌套过深")
    return data


# Control characters other than tab and newlines, and lone surrogates ("\ud800" is valid JSON but
# not text: it cannot be stored, hashed or published as UTF-8).
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _clean_text(value: Any) -> bool:
    if isinstance(value, str):
        return _BAD_CHARS.search(value) is None
    if isinstance(value, dict):
        return all(_clean_text(k) and _clean_text(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_clean_text(v) for v in value)
    return True


def _drain(request: Request, limit: int) -> None:
    remaining = limit
    while remaining > 0:
        chunk = request.stream.read(min(remaining, 256 * 1024))
        if not chunk:
            return
        remaining -= len(chunk)


def load(schema: Schema, data: Any) -> Any:
    """Validate with a marshmallow schema; every bad field becomes part of one 400.

    The error is `{"code": "validation_failed", "message": "输入校验未通过：发现时间、线索类别 2 项有误",
    "details": {"found_at": ["发现时间：不是有效的时间…"], …}, "fields": [{"field", "label",
    "messages"}, …]}`: details keyed by the field's name as sent (nested bodies and list items
    keep their shape), each message Chinese with the field's label (fangfei.field_labels)."""
    if not isinstance(data, dict):
        raise HttpError(400, "invalid_body", "请求体须为 JSON 对象")
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise validation_error(exc.messages_dict, schema) from exc


def validation_error(messages: Mapping[str, Any], schema: Schema | None = None) -> HttpError:
    """The 400 for marshmallow-shaped `messages` (field → messages), in Chinese, with labels."""
    details, flat = field_labels.explain(messages, schema)
    return HttpError(400, "validation_failed", field_labels.summary(flat), details, fields=flat)


def access_of(request: Request) -> Access:
    """The caller of a secured endpoint, as `@api` admitted it (principal + scope of this route)."""
    access = request.environ.get(ACCESS_KEY)
    if not isinstance(access, Access):
        raise Forbidden("no_access_context", "无权访问")  # an endpoint outside @api: fail closed
    return access


def _admit(service_obj: Any, service: str, route: str, request: Request) -> None:
    """Authenticate and authorize `request` (401/403/429 as exceptions), then remember the Access."""
    gate = getattr(service_obj, "auth", None)
    if not isinstance(gate, Gate):
        raise AuthError("auth_unavailable")
    request.environ[ACCESS_KEY] = gate.authorize(service, route, request.method, request.headers, request.args.keys())


def _refusal(exc: Exception, request: Request) -> Response:
    """The response for a request refused before the endpoint ran; an unread body is drained (up
    to a limit) so the client gets the answer instead of a connection reset."""
    if isinstance(exc, AuthError):
        response = error_response(HttpError(401, exc.code, exc.message))
        response.headers["WWW-Authenticate"] = 'Bearer realm="fangfei", error="invalid_token"'
    elif isinstance(exc, RateLimited):
        response = error_response(HttpError(429, "rate_limited", "请求过于频繁，请稍后再试"))
        response.headers["Retry-After"] = str(max(1, int(exc.retry_after_s + 0.999)))
    else:
        assert isinstance(exc, Forbidden)
        response = error_response(HttpError(403, exc.code, exc.message))
    length = request.content_length
    if length and not request.environ.get("fangfei.body_read"):
        _drain(request, min(length, DRAIN_LIMIT))
    return response


def api(service: str, route: str) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Wrap an `@http` method: admit the caller (unless the service is still pending, see
    fangfei.auth.policy.PENDING_SERVICES), map errors to responses and record latency per route."""

    def deco(fn: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(fn)
        def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
            started = time.perf_counter()
            try:
                if enforced(service):
                    _admit(self, service, route, request)
                response = fn(self, request, *args, **kwargs)
            except (AuthError, RateLimited, Forbidden) as exc:
                response = _refusal(exc, request)
            except HttpError as err:
                response = error_response(err)
            except ConcurrencyConflict as exc:
                response = error_response(
                    HttpError(409, "conflict", "数据已被他人修改，请刷新后重试", {"expected": exc.expected, "actual": exc.actual})
                )
            except EventError as exc:
                details, _ = field_labels.explain(exc.messages, None)  # in Chinese, with labels, as load's
                response = error_response(HttpError(400, "invalid_event", "数据不符合事件约定", details))
            except Exception:
                log.exception("unhandled error on %s %s", request.method, route)
                response = error_response(HttpError(500, "internal_error", "服务内部错误，请稍后重试"))
            metrics.HTTP_REQUESTS.labels(service, route, request.method, str(response.status_code)).inc()
            metrics.HTTP_SECONDS.labels(service, route, request.method).observe(time.perf_counter() - started)
            return response

        wrapper.fangfei_api = (service, route)  # type: ignore[attr-defined]  # for the policy contract test
        return wrapper

    return deco

"""Signing in: the token a person pastes is kept in an HttpOnly cookie and presented as `Bearer` on
every request, so the console's pages pass the same gate (`fangfei.http.api`) as every API, and
the console forwards the same token to the services it calls (their access control applies).

`@page(route)` wraps a page endpoint: cookie → Authorization header → `@api` → the endpoint, and
turns the gate's JSON refusals into pages (401 → back to the sign-in page, 403/404 → a page that
says so, with no data)."""

from __future__ import annotations

import functools
from typing import Any, Callable
from urllib.parse import urlsplit

from markupsafe import Markup
from werkzeug.wrappers import Request, Response

from fangfei.auth.access import Access
from fangfei.http import access_of, api

from .layout import notice, page

SERVICE = "console"
COOKIE = "fangfei_console"
MAX_TOKEN_CHARS = 4096


def token_of(request: Request) -> str:
    """The bearer token of this request (the gate has verified it by the time an endpoint runs)."""
    scheme, _, token = (request.headers.get("Authorization") or "").strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def set_session(response: Response, token: str, secure: bool, max_age: int) -> Response:
    # SameSite=Strict: a form on another site cannot post with this cookie (CSRF).
    response.set_cookie(COOKIE, token, max_age=max(60, max_age), httponly=True, samesite="Strict", secure=secure,
                        path="/")
    return response


def clear_session(response: Response) -> Response:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Strict")
    return response


def redirect(location: str, status: int = 303) -> Response:
    return Response("", status=status, headers={"Location": location})


def _same_origin(request: Request) -> bool:
    """A state-changing POST must come from a page of this console (a second line behind SameSite)."""
    origin = request.headers.get("Origin") or request.headers.get("Referer") or ""
    if not origin or origin == "null":
        return not origin  # no header (non-browser client with a Bearer header): nothing to compare
    return urlsplit(origin).netloc == request.host


def page_route(route: str, json_errors: bool = False) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """`@api(SERVICE, route)` with the session cookie as the bearer token and refusals as pages."""

    def deco(fn: Callable[..., Response]) -> Callable[..., Response]:
        gated = api(SERVICE, route)(fn)

        @functools.wraps(gated)
        def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
            cookie = request.cookies.get(COOKIE, "")
            if cookie and not request.headers.get("Authorization") and len(cookie) <= MAX_TOKEN_CHARS:
                request.environ["HTTP_AUTHORIZATION"] = f"Bearer {cookie}"
            if request.method == "POST" and not _same_origin(request):
                return error_page(403, "请求来源不符，请从本系统页面提交", json_errors)
            response = gated(self, request, *args, **kwargs)
            if response.status_code < 400 or response.mimetype != "application/json" or json_errors:
                return response
            if response.status_code == 401:  # no session, or it expired: the sign-in form, here
                from .pages import login_page

                back = request.full_path.rstrip("?") if request.method == "GET" else "/"
                message = "请先登录" if not cookie else "登录已失效，请重新粘贴令牌"
                return clear_session(html(login_page(message, back), 401))
            return error_page(response.status_code, _message(response), False)

        return wrapper

    return deco


def _message(response: Response) -> str:
    import json

    try:
        return str(json.loads(response.get_data(as_text=True))["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return "请求未成功"


def error_page(status: int, message: str, json_errors: bool, access: Access | None = None) -> Response:
    if json_errors:
        from fangfei.http import HttpError, error_response

        return error_response(HttpError(status, "refused", message))
    title = {403: "无权访问", 404: "未找到", 429: "请求过于频繁"}.get(status, "暂不可用" if status >= 500 else "请求未成功")
    body = notice(message, error=True) + Markup('<p><a href="/">返回首页</a></p>')
    return html(page(title, body, access.principal if access else None), status)


def html(text: str, status: int = 200) -> Response:
    return Response(text, status=status, content_type="text/html; charset=utf-8",
                    headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                             "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                             "script-src 'unsafe-inline'; connect-src 'self'; form-action 'self'; "
                             "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'"})


def access(request: Request) -> Access:
    return access_of(request)

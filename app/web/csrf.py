"""CSRF tokens tied to the session.

A signed-in session's token is an HMAC of the session's key: it changes at
every sign-in, and a token from another session or from before signing in is
refused. Without a session (the sign-in form, the language switch, a
customer's approval link) the token is a random cookie, `wa_csrf`, sent back
in the form (double submit); it is set on the first HTML page such a browser
gets, never changed after, and dropped at sign-in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING, Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.enums import RequestEncodingType, ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware import ASGIMiddleware
from litestar.utils.scope.state import ScopeState

from app.web.auth import SAFE_METHODS, SESSION_COOKIE

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

CSRF_COOKIE = "wa_csrf"
CSRF_HEADER = "x-csrftoken"
CSRF_FIELD = "_csrf_token"
FAILED = "CSRF token verification failed"  # app.web.errors words the answer


class CsrfMiddleware(ASGIMiddleware):
    """Refuse every unsafe request whose token (header or form field) is not this
    session's; hand the token to the templates (`csrf_input`, `csrf_token()`)."""

    scopes = (ScopeType.HTTP,)
    exclude_path_pattern = ("^/static/",)
    exclude_opt_key = "exclude_from_csrf"

    def __init__(self, secret: bytes, secure: bool) -> None:
        self.secret = secret
        self.secure = secure

    def token(self, kind: str, value: str) -> str:
        return hmac.new(self.secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
        handler = scope.get("route_handler")
        if (
            scope.get("staff_session") is None
            and handler is not None
            and not handler.opt.get("public")
        ):
            # A signed-out request to a staff route is refused by the sign-in guard
            # ("sign in first", back to this page after), not as an expired form.
            await next_app(scope, receive, send)
            return
        fresh: str | None = None
        if scope.get("staff_session") is not None:
            expected = self.token("session", connection.cookies[SESSION_COOKIE])
        else:
            anonymous = connection.cookies.get(CSRF_COOKIE)
            if not anonymous:
                anonymous = fresh = secrets.token_urlsafe(32)
            expected = anonymous
        ScopeState.from_scope(scope).csrf_token = expected
        if scope.get("method", "GET") not in SAFE_METHODS:
            sent = await _submitted(scope, receive)
            if fresh is not None or not hmac.compare_digest(sent, expected):
                raise PermissionDeniedException(FAILED)
        elif fresh is not None:
            send = self._setting_cookie(send, fresh)
        await next_app(scope, receive, send)

    def _setting_cookie(self, send: Send, value: str) -> Send:
        cookie = Cookie(
            key=CSRF_COOKIE, value=value, httponly=True, samesite="lax", secure=self.secure
        ).to_header(header="")

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                # Only a page can carry a form; scripts, JSON and images get no cookie.
                if headers.get("content-type", "").startswith("text/html"):
                    headers.add("set-cookie", cookie)
            await send(message)

        return wrapped


def forget_cookie(secure: bool) -> Cookie:
    """Clears the signed-out token at sign-in: the session brings its own."""
    return Cookie(
        key=CSRF_COOKIE, value="", max_age=0, httponly=True, samesite="lax", secure=secure
    )


async def _submitted(scope: Scope, receive: Receive) -> str:
    request = scope["litestar_app"].request_class(scope=scope, receive=receive)
    token = request.headers.get(CSRF_HEADER)
    if not token and request.content_type[0] in {
        RequestEncodingType.URL_ENCODED,
        RequestEncodingType.MULTI_PART,
    }:
        # Parsed once: the handler reads the same form from the request's cache.
        token = (await request.form()).get(CSRF_FIELD)
    return token if isinstance(token, str) else ""

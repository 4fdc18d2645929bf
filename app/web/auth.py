"""Who is asking: the signed-in staff user, their session, language and device.

The session cookie holds only a random key; its row on the server
(`app.services.staff.sessions`) says who is signed in and whether the tablet is
in customer mode, for every copy of that cookie. The cookie is set at sign-in
and cleared at sign-out, never on any other response.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware

from app.db import write_intent
from app.i18n import negotiate, normalise_locale, set_locale
from app.models import Role, StaffSession, StaffUser
from app.models.base import utcnow
from app.services.audit import Actor
from app.services.staff import sessions as staff_sessions

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Scope, Send

    from app.settings import Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_COOKIE = "wa_session"
DEVICE_COOKIE = "wa_device"
LANG_COOKIE = "wa_lang"
ROLE_DENIED = "role"


class CurrentUserMiddleware(ASGIMiddleware):
    """Load the staff session and user from the session cookie and set the request's locale."""

    # The health check answers for the server, not a user: it works when sign-in cannot.
    exclude_path_pattern = ("^/static/", "^/healthz$")

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        # The look-up below only reads: a deferred transaction, which neither takes SQLite's
        # write lock nor waits for a writer's turn (app.db.WriteTurns); the handler's does.
        write_intent.set(False)
        app = scope["litestar_app"]
        settings: Settings = app.state.settings
        user: StaffUser | None = None
        row: StaffSession | None = None
        key = ASGIConnection[Any, Any, Any, Any](scope).cookies.get(SESSION_COOKIE)
        if key:
            db = app.state.db_config.provide_session(app.state, scope)
            found = await staff_sessions.find(db, key, utcnow())
            if found is not None:
                row, user = found
            # Give the connection back to the pool now (nothing was written; the rows stay
            # loaded): held for the whole request, a handler that needs a second connection
            # waits on the pool while holding one, and enough such requests deadlock it.
            await db.commit()
        scope["user"] = user
        scope["staff_session"] = row  # type: ignore[typeddict-unknown-key]
        write_intent.set(scope.get("method", "GET") not in SAFE_METHODS)
        set_locale(resolve_locale(scope, user, settings))
        await next_app(scope, receive, send)


def resolve_locale(scope: Scope, user: StaffUser | None, settings: Settings) -> str:
    if user is not None and (chosen := normalise_locale(user.locale)):
        return chosen
    connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
    return (
        normalise_locale(connection.cookies.get(LANG_COOKIE))
        or negotiate(connection.headers.get("accept-language"))
        or settings.default_locale
    )


def lang_cookie(locale: str, secure: bool) -> Cookie:
    """Remember the language on the device too: pages served before sign-in or
    outside any route (a 404) still speak the user's language."""
    return Cookie(
        key=LANG_COOKIE,
        value=locale,
        max_age=365 * 24 * 3600,
        samesite="lax",
        httponly=True,
        secure=secure,
    )


def require_sign_in(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """App-wide guard: every route needs a signed-in user unless it opts out with public=True."""
    if handler.opt.get("public"):
        return
    if connection.scope.get("user") is None:
        raise NotAuthorizedException("sign in required")
    locked = customer_mode_order(connection)
    if locked is not None and not handler.opt.get("customer_mode"):
        raise CustomerModeLocked(locked)


class CustomerModeLocked(PermissionDeniedException):
    """The tablet is in the customer's hands: only the review screens answer,
    until the advisor's password ends customer mode."""

    def __init__(self, order_id: int) -> None:
        super().__init__("customer mode")
        self.order_id = order_id


def current_session(connection: ASGIConnection[Any, Any, Any, Any]) -> StaffSession | None:
    return connection.scope.get("staff_session")  # type: ignore[return-value]


def signed_in_session(connection: ASGIConnection[Any, Any, Any, Any]) -> StaffSession:
    row = current_session(connection)
    if row is None:
        raise NotAuthorizedException("sign in required")
    return row


def customer_mode_order(connection: ASGIConnection[Any, Any, Any, Any]) -> int | None:
    """The order this session's tablet is locked to, for every copy of its cookie."""
    row = current_session(connection)
    return row.customer_mode_order_id if row is not None else None


def enter_customer_mode(
    connection: ASGIConnection[Any, Any, Any, Any], order_id: int, locale: str | None = None
) -> None:
    """Lock this session (the tablet, whatever copy of its cookie) to one order's
    customer screens until the advisor's password ends it."""
    staff_sessions.enter_customer_mode(signed_in_session(connection), order_id, locale)


def session_cookie(key: str, secure: bool) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=key,
        max_age=staff_sessions.SESSION_HOURS * 3600,
        httponly=True,
        samesite="lax",
        secure=secure,
    )


def ended_session_cookie(secure: bool) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE, value="", max_age=0, httponly=True, samesite="lax", secure=secure
    )


def roles(*allowed: Role) -> Any:
    """A guard admitting users with any of `allowed`; admins only where listed."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
        user: StaffUser | None = connection.scope.get("user")
        if user is None:
            raise NotAuthorizedException("sign in required")
        if not user.has_any_role(*allowed):
            raise PermissionDeniedException(ROLE_DENIED)

    guard.allowed_roles = frozenset(allowed)  # type: ignore[attr-defined]  # read by the route audit test
    return guard


ALL_STAFF = tuple(Role)


def actor_for(connection: ASGIConnection[Any, Any, Any, Any]) -> Actor:
    user: StaffUser | None = connection.scope.get("user")
    client = connection.client
    return Actor(
        user_id=user.id if user else None,
        device_id=connection.cookies.get(DEVICE_COOKIE, ""),
        user_agent=connection.headers.get("user-agent", ""),
        ip=client.host if client else "",
        roles=frozenset(r.value for r in user.roles) if user else frozenset(),
    )


def device_cookie(connection: ASGIConnection[Any, Any, Any, Any], secure: bool) -> list[Cookie]:
    """A long-lived id for this tablet, so the audit log can say which device acted."""
    if connection.cookies.get(DEVICE_COOKIE):
        return []
    return [
        Cookie(
            key=DEVICE_COOKIE,
            value=secrets.token_urlsafe(12),
            max_age=5 * 365 * 24 * 3600,
            httponly=True,
            samesite="lax",
            secure=secure,
        )
    ]


def home_for(user: StaffUser | None) -> str:
    """Where a role lands after sign-in: the relations clerk on the follow-up queue."""
    if user is not None and user.has_any_role(Role.CUSTOMER_RELATIONS):
        return "/follow-ups"
    return "/lane"


def safe_next(target: str | None, default: str = "/lane") -> str:
    """Only same-site paths: never redirect to another host after sign-in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default

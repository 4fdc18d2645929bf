"""The one place that maps errors to HTTP: error pages, or toasts for htmx."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import asyncpg
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy import exc as sa_exc
from sqlalchemy import inspect

from app.errors import DomainError
from app.i18n import _, set_locale
from app.web import request_log
from app.web.auth import ROLE_DENIED, CustomerModeLocked, resolve_locale
from app.web.render import is_fragment, toast_headers

log = logging.getLogger("walkaround")
ERROR_PAGES = {400, 403, 404, 409, 422, 429, 500, 503}


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    accept = request.headers.get("accept", "")
    handler = request.scope.get("route_handler")
    if handler is not None and handler.opt.get("json_errors"):
        return True
    return request.url.path.startswith("/api/") or (
        "application/json" in accept and "text/html" not in accept
    )


def error_response(
    request: Request[Any, Any, Any], status: int, message: str, field: str | None = None
) -> Response[Any]:
    reference = request_log.for_scope(request.scope)
    if _wants_json(request):
        return Response(
            {"error": message, "status": status, "field": field, "request_id": reference},
            status_code=status,
            media_type=MediaType.JSON,
        )
    if is_fragment(request):
        return Response(
            message,
            status_code=status,
            media_type=MediaType.TEXT,
            # A conflict is only mended by reloading: that toast stays, with the button.
            headers=toast_headers(message, field=field, reload=status == 409),
        )
    page = f"errors/{status}.html" if status in ERROR_PAGES else "errors/error.html"
    return Template(
        template_name=page,
        context={"status": status, "message": message, "request_id": reference},
        status_code=status,
    )


def on_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    return error_response(request, exc.status_code, exc.message, exc.field)


def on_not_authorized(
    request: Request[Any, Any, Any], _exc: NotAuthorizedException
) -> Response[Any]:
    if _wants_json(request):
        return error_response(request, 401, _("Sign in first."))
    target = f"/sign-in?next={request.url.path}"
    if is_fragment(request):
        return ClientRedirect(target)
    return Redirect(target, status_code=303)


def on_permission_denied(
    request: Request[Any, Any, Any], exc: PermissionDeniedException
) -> Response[Any]:
    if isinstance(exc, CustomerModeLocked):
        # Back to the customer's screen; staff screens need the advisor's password.
        target = f"/review/{exc.order_id}"
        if request.method == "GET" and not _wants_json(request):
            return (
                ClientRedirect(target)
                if is_fragment(request)
                else Redirect(target, status_code=303)
            )
        message = _("The tablet is in customer mode. The advisor's password ends it.")
        return error_response(request, 403, message)
    if exc.detail == ROLE_DENIED:
        message = _("Your role does not give access to this screen.")
    elif "csrf" in exc.detail.lower():
        message = _(
            "This form has expired or did not come from this app. "
            "Reload the page and try again; nothing was changed."
        )
    else:
        message = _("You are not allowed to do this.")
    return error_response(request, 403, message)


def on_not_found(request: Request[Any, Any, Any], _exc: NotFoundException) -> Response[Any]:
    return error_response(request, 404, _("This page does not exist."))


def on_validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    return error_response(request, 400, _("Some of the information sent was not valid."))


def on_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if exc.status_code >= HTTP_500_INTERNAL_SERVER_ERROR:
        return on_server_error(request, exc)
    if exc.status_code == 413:
        return error_response(request, 413, _("The upload is too large."))
    return error_response(request, exc.status_code, _("The request could not be handled."))


_PG_UNREACHABLE = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
)


def _database_unreachable(exc: BaseException) -> bool:
    """The database server is down, restarting, or the network to it is cut (not a bug)."""
    seen: BaseException | None = exc
    for _depth in range(8):  # the driver's error is wrapped once or twice
        if seen is None:
            return False
        if isinstance(seen, (ConnectionError, TimeoutError, sa_exc.TimeoutError)):
            return True
        if isinstance(seen, sa_exc.DBAPIError) and (
            seen.connection_invalidated or isinstance(seen, sa_exc.InterfaceError)
        ):
            return True
        if isinstance(seen, _PG_UNREACHABLE):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _database_busy(exc: BaseException) -> bool:
    """SQLite's one write lock was not free in time: more writes at once than the server
    gets through (hundreds of tablets on one process), not a bug."""
    seen: BaseException | None = exc
    for _depth in range(8):
        if seen is None:
            return False
        if isinstance(seen, sqlite3.OperationalError) and (
            "locked" in str(seen) or "busy" in str(seen)
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _forget_unreadable_user(request: Request[Any, Any, Any]) -> None:
    """A write that failed mid-request rolled the session back, which expired the signed-in
    user's rows; the page would read them again from the database that just failed. The
    error page then shows without the user's menu rather than failing itself."""
    state = inspect(request.scope.get("user"), raiseerr=False)  # None: no user, or an API client
    if state is not None and state.expired_attributes:
        request.scope["user"] = None


def on_server_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    request_log.adopt(request.scope)  # raised after the middleware let go of the request
    if _database_busy(exc) or _database_unreachable(exc):
        _forget_unreadable_user(request)
    if _database_busy(exc):
        log.warning("database busy on %s %s", request.method, request.url.path)
        response = error_response(
            request,
            503,
            _(
                "The server is too busy right now, so nothing was saved. Try again in a "
                "moment; photos and answers waiting on the tablet are sent again by themselves."
            ),
        )
        response.headers["Retry-After"] = "10"
        return response
    if _database_unreachable(exc):
        log.warning(
            "database unreachable on %s %s: %s", request.method, request.url.path,
            type(exc).__name__,
        )  # fmt: skip
        response = error_response(
            request,
            503,
            _(
                "The database cannot be reached right now, so nothing was saved. Try again in a "
                "moment; photos and answers waiting on the tablet are sent again by themselves."
            ),
        )
        response.headers["Retry-After"] = "10"
        return response
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(
        request, 500, _("Something went wrong on our side. It has been logged; please try again.")
    )


def _in_the_users_language(handler: Any) -> Any:
    """Set the language before the handler words its message: when no route matched, the
    middleware that sets it never ran, and the page would speak one language, its message
    another."""

    def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        if "user" not in request.scope:
            set_locale(resolve_locale(request.scope, None, request.app.state.settings))
        return handler(request, exc)

    return handle


EXCEPTION_HANDLERS: dict[Any, Any] = {
    kind: _in_the_users_language(handler)
    for kind, handler in {
        DomainError: on_domain_error,
        NotAuthorizedException: on_not_authorized,
        PermissionDeniedException: on_permission_denied,
        NotFoundException: on_not_found,
        ValidationException: on_validation,
        HTTPException: on_http_exception,
        Exception: on_server_error,
    }.items()
}

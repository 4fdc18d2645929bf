"""The JSON API the dealer management system reads, with a bearer token.

The handlers are `public` to the staff sign-in guard (a system has no staff
session) and guarded by `require_api_token` instead.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, get
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException, ValidationException
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import write_intent
from app.models import WorkOrderStatus
from app.services.api import clients as api_clients
from app.services.api import views as api_views
from app.services.api.views import MAX_PAGE, ApiError, ApiWorkOrder, ApiWorkOrderPage
from app.settings import Settings
from app.web.errors import error_response
from app.web.limits import MAX_ID

BEARER_SCHEME = "BearerToken"  # the security scheme's name in the OpenAPI config
API_OPT = {"public": True}
# The ends of what a time in UTC can hold.
EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)
# The start of an RFC 3339 / ISO 8601 date and time; msgspec checks the rest.
ISO_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _error(description: str) -> ResponseSpec:
    # No generated examples: Litestar would invent random ones, different at each start.
    return ResponseSpec(ApiError, description=description, generate_examples=False)


ERRORS = {
    400: _error("A query parameter is not valid"),
    401: _error("No valid bearer token"),
}


def _bearer(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


async def require_api_token(
    connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler
) -> None:
    """Admit requests carrying the token of an API client that is not revoked."""
    token = _bearer(connection)
    if not token:
        raise NotAuthorizedException("missing bearer token")
    # A short transaction of its own: noting the client's last use is a write,
    # and on SQLite the request's read transaction must never turn into one.
    intent = write_intent.set(True)
    try:
        engine = connection.app.state.db_config.get_engine()
        async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
            client = await api_clients.authenticate(session, token)
    finally:
        write_intent.reset(intent)
    if client is None:
        raise NotAuthorizedException("invalid bearer token")
    # Who acts, for the records a write leaves (an appointment's history says "DMS").
    connection.state.api_client_name = client.name


def on_unauthorized(request: Request[Any, Any, Any], _exc: NotAuthorizedException) -> Response[Any]:
    response = error_response(
        request, 401, "A valid API token is required: send Authorization: Bearer <token>."
    )
    response.headers["WWW-Authenticate"] = 'Bearer realm="walkaround"'
    return response


def on_invalid(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    problems = [
        p for p in (exc.extra if isinstance(exc.extra, list) else []) if isinstance(p, dict)
    ]
    field = next((p.get("key") for p in problems), None)
    if any(p.get("source") == "body" for p in problems) or (
        not problems and request.method != "GET"
    ):
        detail = next((p.get("message") for p in problems), None) or "not JSON of that shape"
        return error_response(request, 400, f"Invalid request body: {detail}.", field)
    return error_response(request, 400, f"Invalid query parameter: {field or 'unknown'}.", field)


def _invalid(key: str, message: str) -> ValidationException:
    return ValidationException(extra=[{"key": key, "message": message}])


def query_check(*names: str) -> Callable[[Request[Any, Any, Any]], None]:
    """What the parameter types let through but the schema does not promise.

    A parameter the operation does not have is refused: a misspelt filter
    (`?update_since=`) would otherwise answer every order as if filtered. A repeated
    one is refused: which of the values was meant is a guess. A time must be an
    ISO 8601 date and time: Litestar would read a bare number as seconds since 1970,
    which no caller reading the schema means."""
    known = frozenset(names)

    def check(request: Request[Any, Any, Any]) -> None:
        keys = [key for key, _value in request.query_params.multi_items()]
        unknown = next((key for key in keys if key not in known), None)
        if unknown is not None:
            raise _invalid(unknown, "unknown")
        repeated = next((key for key, n in Counter(keys).items() if n > 1), None)
        if repeated is not None:
            raise _invalid(repeated, "repeated")
        since = request.query_params.get("updated_since")
        if since is not None and not ISO_DATE_TIME.match(since):
            raise _invalid("updated_since", "not an ISO 8601 date and time")

    return check


def _in_utc(moment: datetime | None) -> datetime | None:
    """The time in UTC (a time without an offset is taken as UTC).

    A valid time that UTC cannot hold (0001-01-01T00:00:00+01:00 falls before year 1
    in UTC) was a 500: it is before or after every order, so the earliest or latest
    time UTC holds answers the same."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return EARLIEST if moment.year == EARLIEST.year else LATEST


class ApiController(Controller):
    path = "/api/v1"
    tags = ["dealer system API"]  # noqa: RUF012
    guards = [require_api_token]  # noqa: RUF012
    security = [{BEARER_SCHEME: []}]  # noqa: RUF012
    exception_handlers = {  # noqa: RUF012
        NotAuthorizedException: on_unauthorized,
        ValidationException: on_invalid,
    }

    @get(
        "/work-orders",
        opt=API_OPT,
        media_type=MediaType.JSON,
        responses=ERRORS,
        before_request=query_check("status", "updated_since", "limit", "offset"),
    )
    async def work_orders(
        self,
        db_session: NamedDependency[AsyncSession],
        status: Annotated[
            WorkOrderStatus | None, QueryParameter(description="Only orders in this status")
        ] = None,
        updated_since: Annotated[
            datetime | None,
            QueryParameter(description="Only orders changed at or after this ISO 8601 time"),
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 50,
        # Beyond any row count; larger offsets overflow the database's integer (a 500).
        offset: Annotated[int, QueryParameter(ge=0, le=MAX_ID)] = 0,
    ) -> ApiWorkOrderPage:
        """Work orders, oldest change first."""
        return await api_views.list_orders(
            db_session,
            status=status,
            updated_since=_in_utc(updated_since),
            limit=limit,
            offset=offset,
        )

    @get(
        "/work-orders/{number:str}",
        opt=API_OPT,
        before_request=query_check(),
        media_type=MediaType.JSON,
        responses={**ERRORS, 404: _error("No such work order")},
    )
    async def work_order(
        self,
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        number: FromPath[str],
    ) -> ApiWorkOrder:
        """One work order with its jobs, lines, totals and signature."""
        return await api_views.order_detail(db_session, number, settings.currency)

"""The JSON API the dealer management system reads, with a bearer token.

The handlers are `public` to the staff sign-in guard (a system has no staff
session) and guarded by `require_api_token` instead.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
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
ERRORS = {
    400: ResponseSpec(ApiError, description="A query parameter is not valid"),
    401: ResponseSpec(ApiError, description="No valid bearer token"),
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


def on_unauthorized(request: Request[Any, Any, Any], _exc: NotAuthorizedException) -> Response[Any]:
    response = error_response(
        request, 401, "A valid API token is required: send Authorization: Bearer <token>."
    )
    response.headers["WWW-Authenticate"] = 'Bearer realm="walkaround"'
    return response


def on_invalid(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    problems = exc.extra if isinstance(exc.extra, list) else []
    field = next((p.get("key") for p in problems if isinstance(p, dict)), None)
    return error_response(request, 400, f"Invalid query parameter: {field or 'unknown'}.", field)


def one_value_each(request: Request[Any, Any, Any]) -> None:
    """A repeated query parameter is refused: which of the values was meant is a guess."""
    counts = Counter(key for key, _value in request.query_params.multi_items())
    repeated = next((key for key, n in counts.items() if n > 1), None)
    if repeated is not None:
        raise ValidationException(extra=[{"key": repeated, "message": "repeated"}])


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
        before_request=one_value_each,
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
            db_session, status=status, updated_since=updated_since, limit=limit, offset=offset
        )

    @get(
        "/work-orders/{number:str}",
        opt=API_OPT,
        before_request=one_value_each,
        media_type=MediaType.JSON,
        responses={**ERRORS, 404: ResponseSpec(ApiError, description="No such work order")},
    )
    async def work_order(
        self,
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        number: FromPath[str],
    ) -> ApiWorkOrder:
        """One work order with its jobs, lines, totals and signature."""
        return await api_views.order_detail(db_session, number, settings.currency)

"""Appointments on the dealer system's JSON API (bearer token, as the rest of /api/v1):
book, move, cancel, and a day's list. The appointments core checks everything, as for
the booking form; a taken slot answers 409 with the next two free slots."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import write_intent
from app.models.base import utcnow
from app.routes.api import (
    API_OPT,
    BEARER_SCHEME,
    ERRORS,
    _error,
    on_invalid,
    on_unauthorized,
    query_check,
    require_api_token,
)
from app.services.api import appointments as api_appointments
from app.services.api.appointments import (
    ApiAppointment,
    ApiAppointmentDay,
    ApiAppointmentIn,
    ApiCancelIn,
    ApiMoveIn,
    ApiSlotTaken,
)
from app.services.appointments import booking
from app.services.appointments.booking import AlreadyBooked, SlotTaken
from app.services.audit import Actor
from app.settings import Settings
from app.web import request_log

# No staff session, no form: the bearer token is the credential (no CSRF token), and the
# body is JSON (not the screens' form; app.web.limits).
WRITE_OPT = {**API_OPT, "exclude_from_csrf": True, "json_body": True}
WRITE_ERRORS = {
    **ERRORS,
    400: _error("The body or a parameter is not valid JSON of the documented shape"),
    404: _error("No such vehicle or appointment"),
    409: ResponseSpec(
        ApiSlotTaken,
        description="The slot is taken (offers: the next two free slots), or the booking "
        "changed meanwhile or can no longer change",
        generate_examples=False,
    ),
    422: _error("A value is refused (the field says which): past, off the slot grid, ..."),
}


def _actor(request: Request[Any, Any, Any]) -> tuple[Actor, str]:
    name = str(getattr(request.state, "api_client_name", "") or "API")
    client = request.client.host if request.client else ""
    return Actor(user_id=None, user_agent=f"api client {name}"[:300], ip=client), name


def _taken(request: Request[Any, Any, Any], exc: SlotTaken) -> Response[Any]:
    body = ApiSlotTaken(
        error=exc.message,
        status=409,
        field=exc.field,
        request_id=request_log.for_scope(request.scope),
        offers=[api_appointments.slot_out(o) for o in exc.offers],
    )
    return Response(body, status_code=409, media_type=MediaType.JSON)


class ApiAppointmentController(Controller):
    path = "/api/v1/appointments"
    tags = ["dealer system API"]  # noqa: RUF012
    guards = [require_api_token]  # noqa: RUF012
    security = [{BEARER_SCHEME: []}]  # noqa: RUF012
    exception_handlers = {  # noqa: RUF012
        NotAuthorizedException: on_unauthorized,
        ValidationException: on_invalid,
        SlotTaken: _taken,
    }

    @get(
        "/",
        opt=API_OPT,
        media_type=MediaType.JSON,
        responses=ERRORS,
        before_request=query_check("day"),
    )
    async def day(
        self,
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        day: Annotated[date, QueryParameter(description="The dealership's local day")],
    ) -> ApiAppointmentDay:
        """Every booking of a day (cancelled and no-show too), by time."""
        return await api_appointments.day_list(db_session, settings, day)

    @post(
        "/",
        opt=WRITE_OPT,
        media_type=MediaType.JSON,
        responses={**WRITE_ERRORS, 200: ResponseSpec(
            ApiAppointment, description="Booked before with this external_ref: that booking",
            generate_examples=False,
        )},
        before_request=query_check(),
        status_code=201,
    )  # fmt: skip
    async def book(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        data: ApiAppointmentIn,
    ) -> Response[ApiAppointment]:
        """Book a visit; a repeated external_ref answers the first booking (200)."""
        write_intent.set(True)  # a writer: on SQLite it waits for its turn (app.db)
        actor, name = _actor(request)
        wanted = await api_appointments.booking_input(db_session, data)
        try:
            done = await booking.book(db_session, settings, wanted, actor, utcnow(), name)
        except AlreadyBooked as exc:
            found = await api_appointments.one_out(db_session, exc.appointment)
            return Response(found, status_code=200)
        return Response(await api_appointments.one_out(db_session, done), status_code=201)

    @post(
        "/{appointment_id:int}/move",
        opt=WRITE_OPT,
        media_type=MediaType.JSON,
        responses=WRITE_ERRORS,
        before_request=query_check(),
        status_code=200,
    )
    async def move(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        appointment_id: FromPath[int],
        data: ApiMoveIn,
    ) -> ApiAppointment:
        """Move a booking to another time (and advisor); the customer is told."""
        write_intent.set(True)
        actor, name = _actor(request)
        done = await booking.move(
            db_session, settings, appointment_id, data.version, data.starts_at,
            data.advisor_id, data.reason, actor, utcnow(), name,
        )  # fmt: skip
        return await api_appointments.one_out(db_session, done)

    @post(
        "/{appointment_id:int}/cancel",
        opt=WRITE_OPT,
        media_type=MediaType.JSON,
        responses=WRITE_ERRORS,
        before_request=query_check(),
        status_code=200,
    )
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        appointment_id: FromPath[int],
        data: ApiCancelIn,
    ) -> ApiAppointment:
        """Cancel a booking; the slot is free again and the customer is told."""
        write_intent.set(True)
        actor, name = _actor(request)
        done = await booking.cancel(
            db_session, appointment_id, data.version, data.reason, actor, utcnow(), name,
            settings=settings,
        )  # fmt: skip
        return await api_appointments.one_out(db_session, done)

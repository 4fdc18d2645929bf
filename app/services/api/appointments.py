"""Appointments on the JSON API: the shapes the dealer system sends and gets back, and the
translation between them and the appointments core (which checks everything, as for the
booking form). Messages are in English: the reader is another system's log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput, NotFound
from app.models import (
    Appointment,
    AppointmentChannel,
    AppointmentJobSource,
    AppointmentStatus,
    MenuPackage,
    Vehicle,
)
from app.services import plates, vin
from app.services.api.views import ApiError, Money, Quantity
from app.services.appointments import slots
from app.services.appointments.booking import BookingInput
from app.services.appointments.estimate import JobInput
from app.services.appointments.slots import Slot
from app.settings import Settings

MAX_DAY_ITEMS = 500
LocalOrIso = Annotated[
    str,
    msgspec.Meta(
        description="Local wall time at the dealership, YYYY-MM-DDTHH:MM, or ISO 8601 with an "
        "offset; on the dealership's slot grid",
        examples=["2026-12-03T10:00"],
        max_length=40,
    ),
]


class ApiJobIn(msgspec.Struct, kw_only=True):
    title: Annotated[str, msgspec.Meta(max_length=200)] = ""
    menu_package_code: (
        Annotated[str, msgspec.Meta(description="A menu package (保养菜单) by its code")] | None
    ) = None


class ApiAppointmentIn(msgspec.Struct, kw_only=True):
    """A booking: the car by vehicle_id, VIN or plate (one of them)."""

    starts_at: LocalOrIso
    vehicle_id: int | None = None
    vin: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    plate: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    advisor_id: Annotated[
        int | None, msgspec.Meta(description="Empty: any advisor free at that time")
    ] = None
    jobs: list[ApiJobIn] = msgspec.field(default_factory=list)
    bring: Annotated[
        list[str], msgspec.Meta(description="Any of service_book, key, wheel_lock_key")
    ] = msgspec.field(default_factory=list)
    notes: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    odometer_km: int | None = None
    external_ref: (
        Annotated[
            str,
            msgspec.Meta(
                description="The dealer system's own id: a second POST with it answers the "
                "booking made by the first (200) instead of booking again",
                max_length=64,
            ),
        ]
        | None
    ) = None


class ApiMoveIn(msgspec.Struct, kw_only=True):
    starts_at: LocalOrIso
    advisor_id: Annotated[
        int | None, msgspec.Meta(description="Empty: the current advisor if free, else any")
    ] = None
    version: Annotated[
        int | None, msgspec.Meta(description="The version read; a newer one on the server: 409")
    ] = None
    reason: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class ApiCancelIn(msgspec.Struct, kw_only=True):
    version: int | None = None
    reason: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class ApiAdvisor(msgspec.Struct, kw_only=True):
    id: int
    name: str


class ApiAppointmentVehicle(msgspec.Struct, kw_only=True):
    id: int
    vin: str | None
    plate: str


class ApiAppointmentJob(msgspec.Struct, kw_only=True):
    title: str
    source: str
    menu_package_code: str | None
    labour_hours: Quantity
    amount: Money


class ApiAppointment(msgspec.Struct, kw_only=True):
    id: int
    status: AppointmentStatus
    version: int
    starts_at: Annotated[datetime, msgspec.Meta(description="UTC")]
    channel: str
    vehicle: ApiAppointmentVehicle
    customer_name: str
    advisor: ApiAdvisor | None
    jobs: list[ApiAppointmentJob]
    labour_hours: Quantity
    estimate_amount: Money
    bring: list[str]
    notes: str
    external_ref: str | None
    created_at: datetime
    cancelled_at: datetime | None
    cancel_reason: str


class ApiAppointmentDay(msgspec.Struct, kw_only=True):
    day: date
    items: list[ApiAppointment]


class ApiSlot(msgspec.Struct, kw_only=True):
    advisor_id: int
    advisor_name: str
    starts_at: Annotated[datetime, msgspec.Meta(description="UTC")]


class ApiSlotTaken(ApiError, kw_only=True):
    """409: for a slot that is taken, the next two free slots to offer instead (a stale
    version or a booking that can no longer change has none)."""

    offers: list[ApiSlot] = msgspec.field(default_factory=list)


def slot_out(slot: Slot) -> ApiSlot:
    return ApiSlot(
        advisor_id=slot.advisor_id, advisor_name=slot.advisor_name, starts_at=slot.starts_at
    )


def appointment_out(appointment: Appointment, codes: dict[int, str]) -> ApiAppointment:
    advisor = appointment.advisor
    vehicle = appointment.vehicle
    return ApiAppointment(
        id=appointment.id,
        status=appointment.status,
        version=appointment.version,
        starts_at=appointment.scheduled_at,
        channel=appointment.channel,
        vehicle=ApiAppointmentVehicle(id=vehicle.id, vin=vehicle.vin, plate=vehicle.plate),
        customer_name=appointment.customer.name,
        advisor=ApiAdvisor(id=advisor.id, name=advisor.display_name) if advisor else None,
        jobs=[
            ApiAppointmentJob(
                title=j.title,
                source=j.source,
                menu_package_code=codes.get(j.menu_package_id) if j.menu_package_id else None,
                labour_hours=str(j.labour_hours),
                amount=str(j.amount),
            )
            for j in appointment.jobs
        ],
        labour_hours=str(appointment.labour_hours),
        estimate_amount=str(appointment.estimate_amount),
        bring=[b for b in appointment.bring.split(",") if b],
        notes=appointment.notes,
        external_ref=appointment.external_ref,
        created_at=appointment.created_at,
        cancelled_at=appointment.cancelled_at,
        cancel_reason=appointment.cancel_reason,
    )


async def package_codes(session: AsyncSession, appointments: list[Appointment]) -> dict[int, str]:
    ids = {j.menu_package_id for a in appointments for j in a.jobs if j.menu_package_id}
    if not ids:
        return {}
    rows = await session.execute(
        select(MenuPackage.id, MenuPackage.code).where(MenuPackage.id.in_(ids))
    )
    return dict(rows.all())


async def one_out(session: AsyncSession, appointment: Appointment) -> ApiAppointment:
    return appointment_out(appointment, await package_codes(session, [appointment]))


async def _vehicle_id(session: AsyncSession, data: ApiAppointmentIn) -> int:
    given = [k for k in ("vehicle_id", "vin", "plate") if getattr(data, k) not in (None, "")]
    if len(given) != 1:
        raise InvalidInput("Name the car by exactly one of vehicle_id, vin or plate.", field="vin")
    if data.vehicle_id is not None:
        return data.vehicle_id
    if data.vin:
        found = list(
            await session.scalars(select(Vehicle.id).where(Vehicle.vin == vin.normalise(data.vin)))
        )
        what = "VIN"
    else:
        plate = plates.normalise(data.plate or "")
        found = list(await session.scalars(select(Vehicle.id).where(Vehicle.plate == plate)))
        what = "plate"
    if not found:
        raise NotFound(f"No vehicle with that {what}.", field=given[0])
    if len(found) > 1:
        raise InvalidInput(
            f"Several vehicles have that {what}: send vehicle_id instead.", field=given[0]
        )
    return found[0]


async def _jobs(session: AsyncSession, jobs: list[ApiJobIn]) -> list[JobInput]:
    codes = {j.menu_package_code for j in jobs if j.menu_package_code}
    packages = {
        p.code: p
        for p in (await session.scalars(select(MenuPackage).where(MenuPackage.code.in_(codes))))
    }
    out = []
    for job in jobs:
        if job.menu_package_code:
            package = packages.get(job.menu_package_code)
            if package is None:
                raise InvalidInput(
                    f"No menu package with the code {job.menu_package_code!r}.", field="jobs"
                )
            out.append(
                JobInput(
                    source=AppointmentJobSource.MENU.value,
                    title=job.title.strip() or package.name_zh,
                    menu_package_id=package.id,
                )
            )
        else:
            out.append(JobInput(source=AppointmentJobSource.MANUAL.value, title=job.title))
    return out


async def booking_input(session: AsyncSession, data: ApiAppointmentIn) -> BookingInput:
    return BookingInput(
        vehicle_id=await _vehicle_id(session, data),
        advisor_id=data.advisor_id,
        starts_at=data.starts_at,
        channel=AppointmentChannel.API.value,
        jobs=await _jobs(session, data.jobs),
        bring=list(data.bring),
        notes=data.notes,
        odometer_km=data.odometer_km,
        external_ref=data.external_ref,
    )


async def day_list(session: AsyncSession, settings: Settings, day: date) -> ApiAppointmentDay:
    """Every booking of a local day (cancelled and no-show too), by time."""
    start, end = slots.local_day_bounds(day, settings.tz)
    rows = list(
        (
            await session.scalars(
                select(Appointment)
                .where(Appointment.scheduled_at >= start, Appointment.scheduled_at < end)
                .order_by(Appointment.scheduled_at, Appointment.id)
                .limit(MAX_DAY_ITEMS)
            )
        ).unique()
    )
    codes = await package_codes(session, rows)
    return ApiAppointmentDay(day=day, items=[appointment_out(a, codes) for a in rows])

"""The lane board's search: the walk-in lookup, each car with what it offers now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    ON_SITE_STATUSES,
    Appointment,
    AppointmentStatus,
    CheckIn,
    Vehicle,
    WorkOrder,
)
from app.models.base import utcnow
from app.services import lookup
from app.services.lane_board import actions
from app.services.lane_board.actions import Action
from app.services.lane_board.board import day_bounds


@dataclass(frozen=True)
class Hit:
    vehicle: Vehicle
    order: WorkOrder | None  # the car's open order, if it is on site
    action: Action | None  # what that order's state allows
    start_url: str | None  # otherwise: start a check-in (today's booking, or a walk-in)


async def find(
    session: AsyncSession, query: str, tz: ZoneInfo, now: datetime | None = None
) -> list[Hit]:
    vehicles = await lookup.find_vehicles(session, query)
    if not vehicles:
        return []
    ids = [v.id for v in vehicles]
    open_orders = (
        await session.execute(
            select(WorkOrder, CheckIn.id)
            .outerjoin(CheckIn, CheckIn.work_order_id == WorkOrder.id)
            .where(WorkOrder.vehicle_id.in_(ids), WorkOrder.status.in_(ON_SITE_STATUSES))
            .order_by(WorkOrder.id)
        )
    ).all()
    orders = {order.vehicle_id: (order, ci) for order, ci in open_orders}
    start, end = day_bounds(now or utcnow(), tz)
    booked = (
        await session.execute(
            select(Appointment.vehicle_id, Appointment.id).where(
                Appointment.vehicle_id.in_(ids),
                Appointment.scheduled_at >= start,
                Appointment.scheduled_at < end,
                Appointment.status.in_((AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED)),
            )
        )
    ).all()
    bookings = dict(booked)
    hits = []
    for vehicle in vehicles:
        if vehicle.id in orders:
            order, check_in_id = orders[vehicle.id]
            hits.append(
                Hit(vehicle, order, actions.for_order(order.status, order.id, check_in_id), None)
            )
        elif vehicle.id in bookings:
            hits.append(
                Hit(vehicle, None, None, f"/check-ins/from-appointment/{bookings[vehicle.id]}")
            )
        else:
            hits.append(Hit(vehicle, None, None, f"/check-ins/walk-in/{vehicle.id}"))
    return hits

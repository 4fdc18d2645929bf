"""A car with a history the vehicle's file can show on `make run`: three past visits with
the odometer rising, and a health check on the last two (tread wearing down, the front
pads red at the last one, declined by the customer and waiting for the next visit)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    Appointment,
    CheckIn,
    ChecklistItem,
    HealthCheck,
    HealthCheckResult,
    Recommendation,
    Vehicle,
    WorkOrder,
    WorkOrderStatus,
)
from app.models.check_in import Step

# Days ago, odometer, and for the two checked visits each measured item's (colour, number).
VISITS = (
    (400, 21_300, None),
    (220, 29_800, {"tread_fl": ("green", "6.5"), "tread_fr": ("green", "6.4"),
                   "tread_rl": ("green", "6.8"), "tread_rr": ("green", "6.1"),
                   "pads_front": ("yellow", "4.5"), "battery": ("green", "92"),
                   "lights": ("green", None), "wipers": ("yellow", None)}),
    (40, 37_900, {"tread_fl": ("yellow", "2.9"), "tread_fr": ("green", "3.4"),
                  "tread_rl": ("green", "4.2"), "tread_rr": ("yellow", "2.6"),
                  "pads_front": ("red", "2.2"), "battery": ("yellow", "68"),
                  "lights": ("green", None), "wipers": ("green", None)}),
)  # fmt: skip


async def seed(session: AsyncSession, now: datetime) -> None:
    """Once: on a car with no visit and no booking yet (the other demo stories keep theirs)."""
    if await session.scalar(select(WorkOrder.id).where(WorkOrder.number.like("%-V001"))):
        return
    vehicle = await session.scalar(
        select(Vehicle)
        .where(
            ~exists().where(WorkOrder.vehicle_id == Vehicle.id),
            ~exists().where(Appointment.vehicle_id == Vehicle.id),
        )
        .order_by(Vehicle.id.desc())
        .limit(1)
    )
    if vehicle is None:
        return
    items = {
        i.key: i
        for i in await session.scalars(
            select(ChecklistItem).where(ChecklistItem.vehicle_type == vehicle.vehicle_type)
        )
    }
    for n, (days, km, found) in enumerate(VISITS, start=1):
        visited = now - timedelta(days=days)
        order = WorkOrder(
            number=f"WO{visited:%Y%m%d}-V{n:03d}", status=WorkOrderStatus.DELIVERED,
            customer_id=vehicle.customer_id, vehicle_id=vehicle.id, created_at=visited,
            signed_at=visited + timedelta(minutes=20), delivered_at=visited + timedelta(hours=5),
        )  # fmt: skip
        session.add(order)
        await session.flush()
        session.add(CheckIn(
            work_order_id=order.id, arrived_at=visited, started_at=visited,
            completed_at=visited + timedelta(minutes=15), step=Step.SYMPTOMS.value, odometer_km=km,
        ))  # fmt: skip
        vehicle.last_odometer_km, vehicle.last_odometer_at = km, visited
        if found is None:
            continue
        check = HealthCheck(
            work_order_id=order.id, vehicle_id=vehicle.id, vehicle_type=vehicle.vehicle_type,
            odometer_km=km, created_at=visited + timedelta(hours=1),
            completed_at=visited + timedelta(hours=1, minutes=20),
        )  # fmt: skip
        session.add(check)
        await session.flush()
        for key, item in items.items():
            colour, number = found.get(key, ("not_checked", None))
            session.add(HealthCheckResult(
                health_check_id=check.id, item_id=item.id, key=key, group=item.group,
                position=item.position, label_zh=item.label_zh, label_en=item.label_en,
                safety=item.safety, unit=item.unit, colour=colour,
                measurement=Decimal(number) if number else None,
                checked_at=check.completed_at if colour != "not_checked" else None,
            ))  # fmt: skip
        if n == len(VISITS):
            pads = items["pads_front"]
            session.add(Recommendation(
                vehicle_id=vehicle.id, work_order_id=order.id, created_at=visited,
                declined_at=visited + timedelta(hours=2), safety=True,
                text=f"{pads.label_zh} 2.2 mm — 更换前刹车片",
            ))  # fmt: skip
    await session.flush()

"""The advisor's home: today's appointments and the cars on site."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict
from app.i18n import _
from app.models import (
    ON_SITE_STATUSES,
    Appointment,
    AppointmentChange,
    AppointmentChangeKind,
    AppointmentStatus,
    CheckIn,
    WorkOrder,
)
from app.models.base import utcnow
from app.services import audit
from app.services.audit import Actor
from app.services.lane_board import actions
from app.services.lane_board.actions import Action
from app.services.lane_board.flags import Flag, Thresholds, flag
from app.services.records import get_or_404
from app.services.supplements import findings
from app.services.supplements.findings import Count as FindingCount


@dataclass(frozen=True)
class WaitingAppointment:
    appointment: Appointment
    waited_minutes: int | None  # since arrival, while not yet greeted
    overdue: bool  # past the greeting standard
    flag: Flag | None = None  # late, no-show or waiting too long
    action: Action | None = None  # once checked in: what its work order's state allows


@dataclass(frozen=True)
class LaneBoard:
    day: datetime
    appointments: list[WaitingAppointment]
    on_site: list[WorkOrder]
    # Workshop findings still without an answer, by work order.
    findings: dict[int, FindingCount] = field(default_factory=dict)
    # What each car on site offers, by work order.
    actions: dict[int, Action | None] = field(default_factory=dict)

    def count(self, kind: Flag) -> int:
        return sum(1 for a in self.appointments if a.flag == kind)

    @property
    def is_empty(self) -> bool:
        return not self.appointments and not self.on_site

    @property
    def waiting_count(self) -> int:
        return sum(1 for a in self.appointments if a.waited_minutes is not None)


def day_bounds(now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    local = now.astimezone(tz)
    start = datetime.combine(local.date(), time.min, tzinfo=tz)
    return start, start + timedelta(days=1)


async def load(
    session: AsyncSession,
    tz: ZoneInfo,
    greeting_minutes: int = 5,
    now: datetime | None = None,
    *,
    late_minutes: int = 15,
    no_show_minutes: int = 60,
) -> LaneBoard:
    now = now or utcnow()
    start, end = day_bounds(now, tz)
    appointments = (
        await session.scalars(
            select(Appointment)
            .where(Appointment.scheduled_at >= start, Appointment.scheduled_at < end)
            .where(Appointment.status != AppointmentStatus.CANCELLED)
            .order_by(Appointment.scheduled_at, Appointment.id)
        )
    ).all()
    on_site = (
        await session.scalars(
            select(WorkOrder)
            .where(WorkOrder.status.in_(ON_SITE_STATUSES))
            .order_by(WorkOrder.promised_at.is_(None), WorkOrder.promised_at, WorkOrder.id)
        )
    ).all()
    # Every order of today's bookings (a delivered one too) and of the cars on site,
    # with its check-in if one was started.
    orders = (
        await session.execute(
            select(WorkOrder.id, WorkOrder.status, WorkOrder.appointment_id, CheckIn.id)
            .outerjoin(CheckIn, CheckIn.work_order_id == WorkOrder.id)
            .where(
                (WorkOrder.appointment_id.in_([a.id for a in appointments]))
                | (WorkOrder.id.in_([o.id for o in on_site]))
            )
            .order_by(WorkOrder.id)
        )
    ).all()
    by_order = {wo: actions.for_order(status, wo, ci) for wo, status, _appt, ci in orders}
    by_appointment = {appt: by_order[wo] for wo, _st, appt, _ci in orders if appt is not None}
    limits = Thresholds(greeting_minutes, late_minutes, no_show_minutes)
    flags = await flag(session, [a.id for a in appointments], now, limits)
    rows = []
    for appt in appointments:
        waited = None
        if appt.status == AppointmentStatus.ARRIVED and appt.arrived_at:
            waited = max(0, int((now - appt.arrived_at).total_seconds() // 60))
        mark = flags.by_appointment.get(appt.id)
        rows.append(
            WaitingAppointment(
                appt, waited, mark == Flag.WAITING, mark, by_appointment.get(appt.id)
            )
        )
    return LaneBoard(
        start,
        rows,
        list(on_site),
        await findings.counts(session, [o.id for o in on_site]),
        {o.id: by_order.get(o.id) for o in on_site},
    )


async def mark_arrived(
    session: AsyncSession, appointment_id: int, actor: Actor, now: datetime | None = None
) -> Appointment:
    appt = await get_or_404(
        session, Appointment, appointment_id, _("This appointment does not exist.")
    )
    if appt.status != AppointmentStatus.BOOKED:
        raise Conflict(_("This customer is already marked as arrived."))
    appt.status = AppointmentStatus.ARRIVED
    appt.arrived_at = now or utcnow()
    appt.version += 1
    # The booking's history shows the arrival (预约 → 到店 → 接车).
    session.add(
        AppointmentChange(
            appointment_id=appt.id,
            kind=AppointmentChangeKind.ARRIVED.value,
            at=appt.arrived_at,
            by_id=actor.user_id,
        )
    )
    audit.record(session, actor, "customer_arrived", "appointment", appt.id)
    return appt

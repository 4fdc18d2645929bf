"""The reminders' response rate: of the cars reminded in a period, how many came in.

A car counts once however many reminders it was sent in the period; it came in when a
check-in (any visit, cancelled ones included) arrived after one of those reminders and
within RESPONSE_DAYS of it. Counted from the records in two batched queries.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import CheckIn, WorkOrder
from app.models.reminder import ReminderAction, ReminderContact
from app.services.reports.follow_up_report import percent
from app.services.reports.period import Period

RESPONSE_DAYS = 90


async def response_rate(session: AsyncSession, period: Period) -> tuple[int, int, float | None]:
    """(cars reminded in the period, of them came in within 90 days, per cent to one
    decimal or None when none was reminded)."""
    in_period = (
        (ReminderContact.action == ReminderAction.SENT.value)
        & (ReminderContact.at >= period.starts_at)
        & (ReminderContact.at < period.ends_at)
    )
    sent: dict[int, list[datetime]] = {}
    rows = await session.execute(
        select(ReminderContact.vehicle_id, ReminderContact.at).where(in_period)
    )
    for vehicle_id, at in rows:
        sent.setdefault(vehicle_id, []).append(at)
    if not sent:
        return 0, 0, None
    window = timedelta(days=RESPONSE_DAYS)
    visits = await session.execute(
        select(WorkOrder.vehicle_id, CheckIn.arrived_at)
        .join(WorkOrder, WorkOrder.id == CheckIn.work_order_id)
        .where(
            WorkOrder.vehicle_id.in_(
                select(ReminderContact.vehicle_id).where(in_period).scalar_subquery()
            ),
            CheckIn.arrived_at > period.starts_at,
            CheckIn.arrived_at <= period.ends_at + window,
        )
    )
    came: set[int] = set()
    for vehicle_id, arrived_at in visits:
        if any(at < arrived_at <= at + window for at in sent[vehicle_id]):
            came.add(vehicle_id)
    return len(sent), len(came), percent(len(came), len(sent))

"""The complaint's time limits (dealership.complaint_limits per severity), counted in
opening hours like the promised time; paused while waiting for the customer or parts."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, InvalidInput
from app.i18n import _
from app.models import Complaint, ComplaintStep, Dealership
from app.models.dealership import COMPLAINT_LIMITS
from app.services.audit import Actor
from app.services.complaints import history
from app.services.workshop.promised_time import (
    after_opening_seconds,
    opening_day_seconds,
    opening_seconds_between,
)

PAUSE_REASONS = ("customer", "parts")


def limits(shop: Dealership, severity: str) -> tuple[float, float]:
    """Seconds of opening hours to acknowledge and to close a complaint of `severity`."""
    table = {**COMPLAINT_LIMITS, **(shop.complaint_limits or {})}
    row = table.get(severity) or COMPLAINT_LIMITS["general"]
    ack = float(row.get("ack_hours", 2)) * 3600
    close = float(row.get("close_days", 3)) * opening_day_seconds(shop)
    return ack, close


def set_due(complaint: Complaint, shop: Dealership, tz: ZoneInfo) -> None:
    """Due times from the receipt, plus the opening hours spent paused."""
    ack, close = limits(shop, complaint.severity)
    paused = float(complaint.paused_seconds or 0)
    start = complaint.received_at
    complaint.ack_due_at = _utc(after_opening_seconds(start, ack + paused, shop, tz))
    complaint.close_due_at = _utc(after_opening_seconds(start, close + paused, shop, tz))


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo("UTC"))


def acknowledge(complaint: Complaint, now: datetime) -> None:
    if complaint.acknowledged_at is None:
        complaint.acknowledged_at = now


def is_overdue(complaint: Complaint, now: datetime) -> bool:
    if complaint.step == ComplaintStep.CLOSED or complaint.paused_since is not None:
        return False
    late_ack = complaint.acknowledged_at is None and _before(complaint.ack_due_at, now)
    return late_ack or _before(complaint.close_due_at, now)


def _before(due: datetime | None, now: datetime) -> bool:
    if due is None:
        return False
    if due.tzinfo is None:
        due = due.replace(tzinfo=ZoneInfo("UTC"))
    return due < now


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    """The same rule in SQL, for the list, the badge and the escalation run."""
    return and_(
        Complaint.step != ComplaintStep.CLOSED.value,
        Complaint.paused_since.is_(None),
        or_(
            Complaint.close_due_at < now,
            and_(Complaint.acknowledged_at.is_(None), Complaint.ack_due_at < now),
        ),
    )


def pause(
    session: AsyncSession, complaint: Complaint, reason: str | None, actor: Actor, now: datetime
) -> None:
    if complaint.paused_since is not None:
        raise Conflict(_("The clock is already paused."))
    if reason not in PAUSE_REASONS:
        raise InvalidInput(_("Say what the complaint is waiting for."), field="reason")
    complaint.paused_since = now
    complaint.paused_reason = reason
    history.log(session, complaint, now, "paused", by=actor.user_id, note=reason)


def resume(
    session: AsyncSession,
    complaint: Complaint,
    shop: Dealership,
    tz: ZoneInfo,
    actor: Actor,
    now: datetime,
) -> float:
    """Restart the clock: the opening hours spent waiting move both due times."""
    since = complaint.paused_since
    if since is None:
        raise Conflict(_("The clock is not paused."))
    if since.tzinfo is None:
        since = since.replace(tzinfo=ZoneInfo("UTC"))
    waited = opening_seconds_between(since, now, shop, tz)
    complaint.paused_seconds = int((complaint.paused_seconds or 0) + round(waited))
    complaint.paused_since = None
    complaint.paused_reason = ""
    set_due(complaint, shop, tz)
    history.log(session, complaint, now, "resumed", by=actor.user_id,
                note=str(timedelta(seconds=round(waited))))  # fmt: skip
    return waited


async def overdue(session: AsyncSession, now: datetime) -> list[Complaint]:
    rows = await session.scalars(
        select(Complaint).where(overdue_clause(now)).order_by(Complaint.close_due_at)
    )
    return list(rows.all())

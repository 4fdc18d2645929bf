"""The service manager alerted at once: a serious or escalated complaint, or an overdue one,
by e-mail and text through the outbox, the app bar's badge and the lane board's banner."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import DomainError
from app.i18n import _, locale_as
from app.models import (
    Complaint,
    ComplaintSeverity,
    ComplaintStep,
    Role,
    StaffRole,
    StaffUser,
)
from app.services import board_events
from app.services.complaints import clock, history
from app.services.outbound import mailer
from app.settings import Settings

URGENT = (ComplaintSeverity.SERIOUS.value, ComplaintSeverity.ESCALATED.value)


async def managers(session: AsyncSession) -> list[StaffUser]:
    rows = await session.scalars(
        select(StaffUser)
        .join(StaffRole, StaffRole.user_id == StaffUser.id)
        .where(StaffRole.role == Role.SERVICE_MANAGER, StaffUser.is_active.is_(True))
        .order_by(StaffUser.id)
    )
    return list(rows.unique().all())


def _message(complaint: Complaint, why: str) -> tuple[str, str]:
    reasons = {
        "serious": _("Serious complaint (safety, accident or injury)"),
        "escalated": _("Escalated complaint"),
        "overdue": _("Complaint overdue"),
    }
    subject = _("%(reason)s: %(number)s", reason=reasons.get(why, why), number=complaint.number)
    body = "\n".join(
        [
            subject,
            _("The customer said: %(words)s", words=complaint.words[:300]),
            _("Open the record: /complaints/%(id)s", id=complaint.id),
        ]
    )
    return subject, body + "\n"


async def alert_managers(
    session: AsyncSession, settings: Settings, complaint: Complaint, why: str, now: datetime
) -> int:
    """An e-mail and a text to every active service manager with an address or number.

    The outbox commits its rows (app.services.outbound.mailer): call this last, once the
    complaint's change is complete. A refused address does not undo the alert's record."""
    complaint.manager_alerted_at = complaint.manager_alerted_at or now
    history.log(session, complaint, now, "manager_alerted", note=why)
    board_events.changed(session)
    await session.flush()
    sent = 0
    for manager in await managers(session):
        with locale_as(manager.locale or settings.default_locale):
            subject, body = _message(complaint, why)
        if manager.phone:
            try:
                await mailer.send_sms(session, manager.phone, body, complaint.work_order_id)
                sent += 1
            except DomainError:
                pass  # a number the gateway cannot take: the e-mail and the badge remain
        if manager.email:
            try:
                await mailer.send_text(
                    session, settings, manager.email, subject, body, complaint.work_order_id
                )
                sent += 1
            except DomainError:
                pass  # recorded in the outbox as failed; the badge and banner remain
    return sent


def urgent_clause(now: datetime) -> ColumnElement[bool]:
    return and_(
        Complaint.step != ComplaintStep.CLOSED.value,
        or_(Complaint.severity.in_(URGENT), clock.overdue_clause(now)),
    )


async def badge_count(session: AsyncSession, now: datetime) -> int:
    """Open serious, escalated or overdue complaints: the manager's app bar badge."""
    found = await session.scalar(select(func.count(Complaint.id)).where(urgent_clause(now)))
    return int(found or 0)


async def board_banner(session: AsyncSession, now: datetime, limit: int = 3) -> list[Complaint]:
    rows = await session.scalars(
        select(Complaint)
        .where(urgent_clause(now))
        .order_by(Complaint.received_at.desc())
        .limit(limit)
    )
    return list(rows.all())


async def escalate_overdue(session: AsyncSession, now: datetime, settings: Settings) -> int:
    """Each overdue complaint not yet escalated goes to the service manager, once.
    Run by `python -m app complaints escalate`, or the manager's button: never by a GET."""
    found = [c for c in await clock.overdue(session, now) if c.escalated_at is None]
    for complaint in found:
        complaint.escalated_at = now
        history.log(session, complaint, now, "escalated", note="overdue")
    if found:
        board_events.changed(session)
        await session.flush()
        for complaint in found:
            await alert_managers(session, settings, complaint, "overdue", now)
    return len(found)

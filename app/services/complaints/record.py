"""Receiving a complaint (step 1): who, which car and order, by which channel, in the
customer's words, how severe; a repeat on the same car is proposed as escalated."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Forbidden, InvalidInput, NotFound
from app.i18n import _
from app.models import (
    Answer,
    Complaint,
    ComplaintChannel,
    ComplaintSeverity,
    ComplaintStep,
    Customer,
    FollowUpAnswer,
    FollowUpAttempt,
    FollowUpTask,
    Vehicle,
    WorkOrder,
)
from app.services import audit, board_events
from app.services.audit import Actor
from app.services.complaints import access, alerts, clock, history
from app.services.estimate import pricing
from app.services.follow_ups.questions import question_labels
from app.settings import Settings

REPEAT_DAYS = 90
MAX_WORDS = 4000
# Words that make a complaint a safety matter (serious): brakes, steering, airbags, fire,
# an accident or injury. Only proposed: the clerk decides.
SAFETY_WORDS = (
    "刹车", "制动", "转向", "方向盘", "气囊", "起火", "着火", "冒烟", "事故", "受伤", "追尾",
    "brake", "steering", "airbag", "fire", "smoke", "accident", "injur", "crash",
)  # fmt: skip


def safety_words(text: str) -> list[str]:
    """The safety words the customer used, to propose "serious" when it is not."""
    lowered = text.lower()
    return [w for w in SAFETY_WORDS if w in lowered]


async def repeats(
    session: AsyncSession, vehicle_id: int | None, now: datetime, exclude: int | None = None
) -> list[Complaint]:
    """Earlier complaints on the same car within 90 days: a repeat is escalated."""
    if vehicle_id is None:
        return []
    query = select(Complaint).where(
        Complaint.vehicle_id == vehicle_id,
        Complaint.received_at >= now - timedelta(days=REPEAT_DAYS),
    )
    if exclude is not None:
        query = query.where(Complaint.id != exclude)
    return list((await session.scalars(query.order_by(Complaint.received_at.desc()))).all())


async def _number(session: AsyncSession, now: datetime, tz: ZoneInfo) -> str:
    day = now.astimezone(tz).strftime("%Y%m%d")
    prefix = f"TS{day}-"
    taken = await session.scalar(
        select(func.count(Complaint.id)).where(Complaint.number.like(f"{prefix}%"))
    )
    return f"{prefix}{(taken or 0) + 1:03d}"


def _severity(raw: str | None, threat: bool) -> str:
    if raw not in set(ComplaintSeverity):
        raise InvalidInput(_("Choose how serious the complaint is."), field="severity")
    if threat and raw == ComplaintSeverity.GENERAL:
        return ComplaintSeverity.ESCALATED.value  # a threat of media or legal action
    return str(raw)


async def create(
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    now: datetime,
    *,
    work_order_id: int | None = None,
    vehicle_id: int | None = None,
    channel: str | None,
    words: str | None,
    severity: str | None,
    threat: bool = False,
    event_note: str = "",
) -> Complaint:
    """Received: the record opens at "listen", with its due times; serious or escalated
    alerts the service manager at once."""
    if not access.sees_all(actor):
        raise Forbidden(_("Customer relations or the service manager handle complaints."))
    order = await session.get(WorkOrder, work_order_id) if work_order_id else None
    if work_order_id and order is None:
        raise InvalidInput(_("Choose the customer's work order."), field="work_order_id")
    wanted = order.vehicle_id if order else vehicle_id
    vehicle = await session.get(Vehicle, wanted) if wanted else None
    if vehicle is None:
        raise InvalidInput(_("Find the customer's car or work order first."), field="work_order_id")
    if channel not in set(ComplaintChannel):
        raise InvalidInput(_("Choose how the complaint came in."), field="channel")
    text = (words or "").strip()
    if not text:
        raise InvalidInput(_("Write down the customer's words."), field="words")
    if len(text) > MAX_WORDS:
        raise InvalidInput(_("That is too long; keep it under 4000 characters."), field="words")
    level = _severity(severity, threat)
    shop = await pricing.dealership(session)
    complaint = Complaint(
        number=await _number(session, now, settings.tz),
        customer_id=vehicle.customer_id,
        vehicle_id=vehicle.id,
        work_order_id=order.id if order else None,
        advisor_id=order.advisor_id if order else None,
        channel=channel,
        received_at=now,
        received_by_id=actor.user_id,
        severity=level,
        step=ComplaintStep.LISTEN.value,
        words=text,
        summary={"threat": True} if threat else {},
    )
    clock.set_due(complaint, shop, settings.tz)
    session.add(complaint)
    await session.flush()
    history.log(
        session,
        complaint,
        now,
        "received",
        by=actor.user_id,
        step=ComplaintStep.RECEIVE.value,
        note=event_note or f"{channel} {level}",
    )
    audit.record(session, actor, "complaint.received", "complaint", complaint.id,
                 severity=level, channel=channel)  # fmt: skip
    board_events.changed(session)
    await session.flush()
    if level in alerts.URGENT:
        await alerts.alert_managers(session, settings, complaint, level, now)
    return complaint


async def raise_severity(
    session: AsyncSession,
    settings: Settings,
    complaint: Complaint,
    severity: str | None,
    actor: Actor,
    now: datetime,
) -> Complaint:
    """A repeat, a threat, an injury learnt later: the severity goes up (never down) and
    the time limits follow; the manager is alerted."""
    order = list(ComplaintSeverity)
    if severity not in set(ComplaintSeverity):
        raise InvalidInput(_("Choose how serious the complaint is."), field="severity")
    if order.index(ComplaintSeverity(severity)) <= order.index(
        ComplaintSeverity(complaint.severity)
    ):
        raise InvalidInput(_("Severity only goes up."), field="severity")
    complaint.severity = severity
    clock.set_due(complaint, await pricing.dealership(session), settings.tz)
    history.log(session, complaint, now, "severity", by=actor.user_id, note=severity)
    await session.flush()
    await alerts.alert_managers(session, settings, complaint, severity, now)
    return complaint


async def from_call(
    session: AsyncSession, settings: Settings, attempt_id: int, actor: Actor, now: datetime
) -> Complaint:
    """A "no" or a complaint during a follow-up call: the complaint opens pre-filled from the
    call, once (a second tap returns the same one)."""
    attempt = await session.get(FollowUpAttempt, attempt_id, with_for_update=False)
    if attempt is None:
        raise NotFound(_("That follow-up call does not exist."))
    if attempt.complaint_id is not None:
        existing = await session.get(Complaint, attempt.complaint_id)
        if existing is not None:
            return existing
    task = await session.get(FollowUpTask, attempt.task_id)
    assert task is not None  # noqa: S101 - the foreign key
    answers = (
        await session.scalars(
            select(FollowUpAnswer)
            .where(FollowUpAnswer.attempt_id == attempt.id, FollowUpAnswer.answer == Answer.NO)
            .order_by(FollowUpAnswer.id)
        )
    ).all()
    labels = question_labels()
    lines = [
        _("“%(question)s”: no. %(remark)s", question=labels.get(a.question, a.question),
          remark=a.remark).strip()
        for a in answers
    ]  # fmt: skip
    if attempt.comment.strip():
        lines.append(attempt.comment.strip())
    words = "\n".join(lines) or _("Complaint raised during the follow-up call.")
    vehicle_id = task.vehicle_id
    if vehicle_id is None and task.work_order_id:
        order = await session.get(WorkOrder, task.work_order_id)
        vehicle_id = order.vehicle_id if order else None
    complaint = await create(
        session, settings, actor, now,
        work_order_id=task.work_order_id, vehicle_id=vehicle_id,
        channel=ComplaintChannel.FOLLOW_UP_CALL.value, words=words[:MAX_WORDS],
        severity=ComplaintSeverity.GENERAL.value, event_note=f"follow_up_attempt {attempt.id}",
    )  # fmt: skip
    attempt.complaint_id = complaint.id
    await session.flush()
    return complaint


async def customer_of(session: AsyncSession, complaint: Complaint) -> Customer:
    customer = await session.get(Customer, complaint.customer_id)
    assert customer is not None  # noqa: S101 - the foreign key
    return customer

"""What the order's record says beside each standard question of the call.

Each question gets a sentence in the reader's language ("covers put on at 09:02,
8 walkaround photos from 09:04") and a fact: True when the record proves the thing
was done, False when it proves it was not, None when the record cannot tell. The
verdict compares the customer's answer with that fact: a "no" the record disproves
is a contradiction, a "yes" the record disproves is unsupported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.i18n import Formatter, _, get_locale
from app.models import (
    REQUIRED_COVERS,
    Answer,
    Appointment,
    CheckIn,
    CoverInstall,
    Delivery,
    FollowUpAnswer,
    FollowUpAttempt,
    FollowUpTask,
    Inspection,
    JobTask,
    Photo,
    PhotoStage,
    RecordVerdict,
    TimeEntry,
    WorkOrder,
)
from app.services.delivery import bill as delivery_bill
from app.services.estimate import pricing
from app.services.follow_ups.questions import short_labels


@dataclass(frozen=True)
class Evidence:
    sentence: str
    fact: bool | None


def _joined(sentences: list[str]) -> str:
    """Chinese sentences follow each other with no space; English ones with one."""
    return ("" if get_locale() == "zh_CN" else " ").join(sentences)


def verdict(answer: str, fact: bool | None) -> RecordVerdict:
    """The record against the customer's answer (the server decides, as the clerk taps)."""
    if fact is None or answer not in (Answer.YES.value, Answer.NO.value):
        return RecordVerdict.NONE
    said_yes = answer == Answer.YES.value
    if said_yes == fact:
        return RecordVerdict.SUPPORTS
    return RecordVerdict.UNSUPPORTED if said_yes else RecordVerdict.CONTRADICTS


async def _greeting(session: AsyncSession, ci: CheckIn | None, fmt: Formatter) -> Evidence:
    if ci is None:
        return Evidence(_("No check-in on record."), None)
    limit = (await pricing.dealership(session)).greeting_minutes
    waited = ci.started_at - ci.arrived_at
    minutes = max(0, round(waited.total_seconds() / 60))
    text = _(
        "Arrived %(arrived)s, greeted %(greeted)s (%(minutes)s min; the standard is %(limit)s).",
        arrived=fmt.time(ci.arrived_at), greeted=fmt.time(ci.started_at),
        minutes=minutes, limit=limit,
    )  # fmt: skip
    return Evidence(text, waited <= timedelta(minutes=limit))


async def _walkaround(session: AsyncSession, ci: CheckIn | None, fmt: Formatter) -> Evidence:
    if ci is None:
        return Evidence(_("No check-in on record."), None)
    covers = list(
        (await session.scalars(select(CoverInstall).where(CoverInstall.check_in_id == ci.id))).all()
    )
    photos = list(
        (
            await session.scalars(
                select(Photo.uploaded_at)
                .where(Photo.check_in_id == ci.id, Photo.stage == PhotoStage.CHECK_IN.value)
                .order_by(Photo.uploaded_at)
            )
        ).all()
    )
    all_covers = {str(k) for k in REQUIRED_COVERS} <= {c.kind for c in covers}
    parts = []
    if all_covers:
        first = min(c.installed_at for c in covers)
        parts.append(_("Covers put on at %(time)s.", time=fmt.time(first)))
    elif ci.covers_skip_reason:
        parts.append(_("Covers not put on: %(reason)s.", reason=ci.covers_skip_reason))
    else:
        parts.append(_("No covers recorded."))
    if photos:
        parts.append(
            _("%(n)s walkaround photos from %(time)s.", n=len(photos), time=fmt.time(photos[0]))
        )
    else:
        parts.append(_("No walkaround photos."))
    return Evidence(_joined(parts), all_covers and bool(photos))


async def _estimate(session: AsyncSession, order: WorkOrder, fmt: Formatter) -> Evidence:
    first_clock = await session.scalar(
        select(func.min(TimeEntry.started_at))
        .join(JobTask, JobTask.id == TimeEntry.task_id)
        .where(JobTask.work_order_id == order.id)
    )
    if order.signed_at is None:
        return Evidence(_("No signed estimate on record."), False)
    if first_clock is None:
        return Evidence(
            _("Estimate signed at %(time)s; no work clocked.", time=fmt.time(order.signed_at)), True
        )
    text = _(
        "Estimate signed at %(signed)s; work began at %(began)s.",
        signed=fmt.time(order.signed_at), began=fmt.time(first_clock),
    )  # fmt: skip
    return Evidence(text, order.signed_at <= first_clock)


def _ready(order: WorkOrder, passed: Inspection | None, fmt: Formatter) -> Evidence:
    if order.promised_at is None:
        return Evidence(_("No promised time on record."), None)
    ready_at = passed.created_at if passed else order.delivered_at
    if ready_at is None:
        return Evidence(_("Promised %(time)s.", time=fmt.datetime(order.promised_at)), None)
    text = _(
        "Promised %(promised)s, ready %(ready)s, delivered %(delivered)s.",
        promised=fmt.time(order.promised_at), ready=fmt.time(ready_at),
        delivered=fmt.time(order.delivered_at),
    )  # fmt: skip
    return Evidence(text, ready_at <= order.promised_at)


def _quality(order: WorkOrder, rounds: list[Inspection]) -> Evidence:
    if not rounds:
        return Evidence(_("No final check on record."), None)
    if rounds[0].passed and not order.rework_count:
        return Evidence(_("Final check passed first time."), True)
    return Evidence(
        _("Final check sent the car back for rework (rounds: %(n)s).", n=order.rework_count or 1),
        False,
    )


async def _explained(
    session: AsyncSession, order: WorkOrder, delivery: Delivery | None, fmt: Formatter
) -> Evidence:
    bill = await delivery_bill.bill(session, order)
    if bill.matches:
        text = _("Bill %(bill)s = estimate %(estimate)s.", bill=fmt.money(bill.current_total),
                 estimate=fmt.money(bill.signed_total))  # fmt: skip
    else:
        text = _("Bill %(bill)s, estimate %(estimate)s.", bill=fmt.money(bill.current_total),
                 estimate=fmt.money(bill.signed_total))  # fmt: skip
    parts = [text]
    if delivery is not None and delivery.old_parts_shown:
        parts.append(_("Old parts shown."))
    signed = delivery is not None and delivery.signature_id is not None
    if signed:
        parts.append(_("Delivery acceptance signed."))
    return Evidence(_joined(parts), bill.matches and signed)


def _clean(passed: Inspection | None) -> Evidence:
    if passed is None:
        return Evidence(_("No final check on record."), None)
    done = {"washed_clean", "covers_removed"} <= set(passed.ticked)
    if done:
        return Evidence(_("Final check ticked: washed, covers removed."), True)
    return Evidence(_("Final check did not tick the wash or the covers removed."), False)


def _advice(delivery: Delivery | None, fmt: Formatter) -> Evidence:
    if delivery is None:
        return Evidence(_("No delivery record."), None)
    on, km = delivery.next_service_on, delivery.next_service_km
    if on and km:
        text = _("Next service %(date)s or at %(km)s km, recorded at delivery.",
                 date=fmt.date(on), km=fmt.number(km))  # fmt: skip
        return Evidence(text, True)
    if on:
        return Evidence(_("Next service %(date)s, recorded at delivery.", date=fmt.date(on)), True)
    if km:
        text = _("Next service at %(km)s km, recorded at delivery.", km=fmt.number(km))
        return Evidence(text, True)
    if delivery.advice:
        return Evidence(_("Advice recorded at delivery."), True)
    return Evidence(_("No advice recorded at delivery."), False)


async def _earlier(session: AsyncSession, order: WorkOrder, fmt: Formatter) -> Evidence:
    rows = (
        await session.execute(
            select(FollowUpAnswer.question, FollowUpAttempt.called_at)
            .join(FollowUpAttempt, FollowUpAttempt.id == FollowUpAnswer.attempt_id)
            .join(FollowUpTask, FollowUpTask.id == FollowUpAttempt.task_id)
            .where(
                FollowUpTask.vehicle_id == order.vehicle_id,
                FollowUpTask.work_order_id != order.id,
                FollowUpAnswer.answer == Answer.NO.value,
            )
            .order_by(FollowUpAttempt.called_at.desc())
        )
    ).all()
    if not rows:
        return Evidence(_("No open point from an earlier call."), None)
    names = short_labels()
    points = "、".join(dict.fromkeys(names.get(q, q) for q, _at in rows))
    text = _("Earlier call %(date)s: no to %(points)s.", date=fmt.date(rows[0][1]), points=points)
    return Evidence(text, None)


async def _appointment(session: AsyncSession, order: WorkOrder, fmt: Formatter) -> Evidence:
    if order.appointment_id is None:
        return Evidence(_("Came without an appointment."), None)
    booked = await session.get(Appointment, order.appointment_id)
    if booked is None:
        return Evidence(_("Came without an appointment."), None)
    return Evidence(_("Booked for %(time)s.", time=fmt.datetime(booked.scheduled_at)), True)


async def for_order(session: AsyncSession, order: WorkOrder, fmt: Formatter) -> dict[str, Evidence]:
    """Question code -> what the record of `order` says, in the reader's language."""
    ci = await session.scalar(select(CheckIn).where(CheckIn.work_order_id == order.id))
    rounds = list(
        (
            await session.scalars(
                select(Inspection)
                .where(Inspection.work_order_id == order.id)
                .order_by(Inspection.round, Inspection.id)
            )
        ).all()
    )
    passed = next((i for i in reversed(rounds) if i.passed), None)
    delivery = await session.scalar(select(Delivery).where(Delivery.work_order_id == order.id))
    quality = _quality(order, rounds)
    return {
        "greeted_promptly": await _greeting(session, ci, fmt),
        "walkaround": await _walkaround(session, ci, fmt),
        "estimate_before_work": await _estimate(session, order, fmt),
        "ready_on_time": _ready(order, passed, fmt),
        "work_as_agreed": quality,
        "explained_at_delivery": await _explained(session, order, delivery, fmt),
        "car_clean": _clean(passed),
        "advice_given": _advice(delivery, fmt),
        "earlier_issues_resolved": await _earlier(session, order, fmt),
        "appointment_ready": await _appointment(session, order, fmt),
    }

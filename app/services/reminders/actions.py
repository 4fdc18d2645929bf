"""What staff do from the reminder list, each after checking again that the car is still
due and may be reminded: send the reminder (SMS or e-mail, through the outbox) or record
the customer's answer (done elsewhere, sold, not now, opt out); booking.py books a visit.

The car's row is locked first, so two taps (or two tablets) on one car act one at a time:
the second sees what the first did (one message, one booking).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, InvalidInput, NotFound
from app.i18n import Formatter, _
from app.models import (
    Appointment,
    Customer,
    OutboundMessage,
    Recommendation,
    Vehicle,
)
from app.models.reminder import ReminderAction, ReminderContact, ReminderKind
from app.services import audit
from app.services import dealership as dealership_service
from app.services.audit import Actor
from app.services.outbound import mailer
from app.services.reminders import due as due_list
from app.services.reminders.due import ACTION_DAYS, Due
from app.services.reminders.messages import text
from app.settings import Settings

CHANNELS = ("sms", "email")
ANSWERS = (
    ReminderAction.DONE_ELSEWHERE.value,
    ReminderAction.SOLD.value,
    ReminderAction.NOT_NOW.value,
    ReminderAction.OPT_OUT.value,
)
# A second send of the same reminder within this time is the same tap twice.
RESEND_AFTER = timedelta(hours=24)
SNOOZE_DAYS = 30
MAX_SNOOZE_DAYS = 366
MAX_REASON = 500


@dataclass(frozen=True)
class Outcome:
    row: Due  # the due as it was when acted on
    contact: ReminderContact
    message: OutboundMessage | None = None
    appointment: Appointment | None = None
    already: bool = False  # a double tap: nothing new was sent


def check_kind(kind: str) -> str:
    if kind not in due_list.KINDS:
        raise InvalidInput(_("Choose what the reminder is about."), field="kind")
    return kind


async def _locked_car(session: AsyncSession, vehicle_id: int) -> tuple[Vehicle, Customer]:
    vehicle = await session.scalar(
        select(Vehicle).where(Vehicle.id == vehicle_id).with_for_update(of=Vehicle)
    )
    if vehicle is None:
        raise NotFound(_("No such vehicle."))
    customer = vehicle.customer
    if vehicle.sold_at is not None:
        raise Conflict(_("%(plate)s was sold: it gets no more reminders.", plate=vehicle.plate))
    if customer.reminders_opt_out_at is not None:
        raise Conflict(
            _("%(name)s asked for no more reminders.", name=customer.name), field="channel"
        )
    return vehicle, customer


async def still_due(
    session: AsyncSession, settings: Settings, vehicle_id: int, kind: str, now: datetime
) -> tuple[Vehicle, Customer, Due]:
    """The car locked and its due of this kind, or a refusal saying why not."""
    check_kind(kind)
    vehicle, customer = await _locked_car(session, vehicle_id)
    today = now.astimezone(settings.tz).date()
    h = await due_list.horizon(session, today, ACTION_DAYS)
    row = await due_list.one(session, settings.tz, h, vehicle_id, kind)
    if row is None:
        raise Conflict(
            _("This reminder is no longer due (handled, snoozed or the car came in). "
              "Reload the list.")
        )  # fmt: skip
    return vehicle, customer, row


def contact_for(
    row: Due, action: str, actor: Actor, now: datetime, **extra: object
) -> ReminderContact:
    return ReminderContact(
        vehicle_id=row.vehicle_id, customer_id=row.customer_id, kind=row.kind,
        due_on=row.due_on, action=action, at=now, by_id=actor.user_id, **extra,
    )  # fmt: skip


async def _last_sent(session: AsyncSession, row: Due, now: datetime) -> ReminderContact | None:
    query = select(ReminderContact).where(
        ReminderContact.vehicle_id == row.vehicle_id,
        ReminderContact.kind == row.kind,
        ReminderContact.action == ReminderAction.SENT.value,
        ReminderContact.at > now - RESEND_AFTER,
    )
    if row.kind == ReminderKind.SERVICE.value and row.set_at is not None:
        query = query.where(ReminderContact.at >= row.set_at)
    else:
        query = query.where(ReminderContact.due_on == row.due_on)
    return await session.scalar(query.order_by(ReminderContact.at.desc()).limit(1))


async def declined_last_time(session: AsyncSession, vehicle_id: int) -> list[str]:
    """What the customer declined at the car's last visit that declined anything."""
    last = (
        select(Recommendation.work_order_id)
        .where(Recommendation.vehicle_id == vehicle_id, Recommendation.declined_at.is_not(None))
        .order_by(Recommendation.declined_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    found = await session.scalars(
        select(Recommendation.text)
        .where(Recommendation.work_order_id == last, Recommendation.declined_at.is_not(None))
        .order_by(Recommendation.id)
    )
    return list(found)


async def send(
    session: AsyncSession,
    settings: Settings,
    vehicle_id: int,
    kind: str,
    channel: str,
    actor: Actor,
    now: datetime,
) -> Outcome:
    """Send the reminder in the customer's language and record it (action sent)."""
    if channel not in CHANNELS:
        raise InvalidInput(_("Choose text message or e-mail."), field="channel")
    _vehicle, customer, row = await still_due(session, settings, vehicle_id, kind, now)
    earlier = await _last_sent(session, row, now)
    if earlier is not None:
        message = await session.get(OutboundMessage, earlier.message_id or 0)
        return Outcome(row, earlier, message, already=True)
    if channel == "sms":
        try:
            mailer.check_phone(customer.phone)
        except InvalidInput:
            raise InvalidInput(
                _("%(name)s has no mobile number on file: send an e-mail instead.",
                  name=customer.name),
                field="channel",
            ) from None  # fmt: skip
    elif not customer.email:
        raise InvalidInput(
            _("%(name)s has no e-mail address on file: send a text instead.", name=customer.name),
            field="channel",
        )
    shop = await dealership_service.current(session)
    declined = await declined_last_time(session, vehicle_id)
    words = text(
        row, shop.name if shop else "", shop.phone if shop else "",
        Formatter(settings.timezone, settings.currency), declined,
    )  # fmt: skip
    contact = contact_for(row, ReminderAction.SENT.value, actor, now, channel=channel)
    session.add(contact)
    await session.flush()
    if channel == "sms":
        adapter = mailer.OutboxSmsAdapter(session)
        await mailer.send_sms(session, customer.phone, words.body, None, adapter)
        if adapter.row is None:
            raise RuntimeError("the outbox adapter wrote no message")
        message = adapter.row
    else:
        try:
            message = await mailer.send_text(
                session, settings, customer.email, words.subject, words.body, None
            )
        except mailer.MailNotSent:
            # The outbox keeps the failed e-mail; the reminder was not sent.
            await session.delete(contact)
            await session.commit()
            raise
    contact.message_id = message.id
    audit.record(
        session, actor, "reminder.sent", "vehicle", row.vehicle_id,
        kind=row.kind, channel=channel, message=message.id,
    )  # fmt: skip
    await session.flush()
    return Outcome(row, contact, message)


def kind_label(kind: str) -> str:
    return {
        ReminderKind.SERVICE.value: _("Service"),
        ReminderKind.INSPECTION.value: _("Annual inspection"),
        ReminderKind.INSURANCE.value: _("Insurance renewal"),
    }.get(kind, kind)


def _snooze(raw: str, today: date) -> date:
    if not raw.strip():
        return today + timedelta(days=SNOOZE_DAYS)
    try:
        until = date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(
            _("Give the date as year, month and day, e.g. 2026-11-03."), field="snooze_until"
        ) from None
    if until <= today:
        raise InvalidInput(_("Snooze until a day after today."), field="snooze_until")
    if until > today + timedelta(days=MAX_SNOOZE_DAYS):
        raise InvalidInput(_("Snooze for at most a year."), field="snooze_until")
    return until


async def answer(
    session: AsyncSession,
    settings: Settings,
    vehicle_id: int,
    kind: str,
    reply: str,
    actor: Actor,
    now: datetime,
    *,
    snooze_until: str = "",
    reason: str = "",
) -> Outcome:
    """The customer's answer: done elsewhere (this due is closed), sold (the car gets no
    more reminders), not now (this kind snoozed), opt out (the customer gets none)."""
    if reply not in ANSWERS:
        raise InvalidInput(_("Choose the customer's answer."), field="answer")
    today = now.astimezone(settings.tz).date()
    until = _snooze(snooze_until, today) if reply == ReminderAction.NOT_NOW.value else None
    why = reason.strip()[:MAX_REASON]
    if reply == ReminderAction.OPT_OUT.value and not why:
        raise InvalidInput(_("Write why the customer wants no more reminders."), field="reason")
    vehicle, customer, row = await still_due(session, settings, vehicle_id, kind, now)
    if reply == ReminderAction.SOLD.value:
        vehicle.sold_at = now
    elif reply == ReminderAction.OPT_OUT.value:
        customer.reminders_opt_out_at = now
        customer.reminders_opt_out_reason = why
    contact = contact_for(row, reply, actor, now, snooze_until=until, reason=why)
    session.add(contact)
    audit.record(
        session, actor, f"reminder.{reply}", "vehicle", row.vehicle_id,
        kind=row.kind, snooze_until=until.isoformat() if until else "",
    )  # fmt: skip
    await session.flush()
    return Outcome(row, contact)

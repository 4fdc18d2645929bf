"""What the customer is told of a booking, in the customer's own language, by text message
(or e-mail when there is no mobile number) through the outbox: the confirmation when it is
booked or moved, a notice when it is cancelled, and the reminder the day before."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.i18n import Formatter, _, locale_as
from app.models import (
    BRING_ITEMS,
    Appointment,
    AppointmentChange,
    AppointmentChangeKind,
    AppointmentStatus,
    Dealership,
    OutboundMessage,
)
from app.services import dealership as dealership_service
from app.services.outbound import mailer
from app.settings import Settings

log = logging.getLogger("walkaround.appointments")


@dataclass(frozen=True)
class Text:
    subject: str
    body: str


def bring_label(key: str) -> str:
    """What to bring, as the customer reads it (current language)."""
    return {
        "service_book": _("the service book"),
        "key": _("the car key"),
        "wheel_lock_key": _("the wheel-lock key"),
    }.get(key, key)


def bring_keys(appointment: Appointment) -> list[str]:
    chosen = set(appointment.bring.split(",")) if appointment.bring else set()
    return [k for k in BRING_ITEMS if k in chosen]


def _names(appointment: Appointment, shop: Dealership | None, fmt: Formatter) -> dict[str, str]:
    vehicle = appointment.vehicle
    at = appointment.scheduled_at
    return {
        "name": appointment.customer.name,
        "dealer": shop.name if shop else "",
        "car": f"{vehicle.make} {vehicle.model}".strip(),
        "plate": vehicle.plate,
        # The weekday too: "Friday, December 4, 2026 10:00" / "2026年12月4日星期五 10:00".
        "when": f"{fmt.date(at, 'full')} {fmt.time(at)}",
        "advisor": appointment.advisor.display_name if appointment.advisor else "",
    }


def _footer(appointment: Appointment, shop: Dealership | None) -> list[str]:
    lines = []
    items = bring_keys(appointment)
    if items:
        lines.append(
            _("Please bring %(items)s.", items=_(", ").join(bring_label(k) for k in items))
        )
    if shop and shop.address:
        lines.append(_("Address: %(address)s", address=shop.address))
    if shop and shop.phone:
        lines.append(_("To change or cancel, call %(phone)s.", phone=shop.phone))
    return lines


def confirmation(
    appointment: Appointment, shop: Dealership | None, fmt: Formatter, *, moved: bool = False
) -> Text:
    """The confirmation in the customer's language."""
    with locale_as(appointment.customer.locale):
        names = _names(appointment, shop, fmt)
        if moved:
            subject = _("Your visit to %(dealer)s has moved", **names)
            head = _("Dear %(name)s, your visit to %(dealer)s with your %(car)s (%(plate)s) "
                     "has moved to %(when)s.", **names)  # fmt: skip
        else:
            subject = _("Your visit to %(dealer)s is booked", **names)
            head = _("Dear %(name)s, your visit to %(dealer)s with your %(car)s (%(plate)s) "
                     "is booked for %(when)s.", **names)  # fmt: skip
        lines = [head]
        if names["advisor"]:
            lines.append(_("Your service advisor: %(advisor)s.", **names))
        return Text(subject, "\n".join(lines + _footer(appointment, shop)))


def reminder(appointment: Appointment, shop: Dealership | None, fmt: Formatter) -> Text:
    """The day-before reminder in the customer's language."""
    with locale_as(appointment.customer.locale):
        names = _names(appointment, shop, fmt)
        lines = [
            _("Dear %(name)s, a reminder of your visit to %(dealer)s tomorrow, %(when)s, "
              "with your %(car)s (%(plate)s).", **names)
        ]  # fmt: skip
        if names["advisor"]:
            lines.append(_("Your service advisor: %(advisor)s.", **names))
        return Text(
            _("Reminder: your visit to %(dealer)s tomorrow", **names),
            "\n".join(lines + _footer(appointment, shop)),
        )


def cancellation(appointment: Appointment, shop: Dealership | None, fmt: Formatter) -> Text:
    """The cancellation notice in the customer's language."""
    with locale_as(appointment.customer.locale):
        names = _names(appointment, shop, fmt)
        lines = [
            _("Dear %(name)s, your visit to %(dealer)s on %(when)s with your %(car)s "
              "(%(plate)s) is cancelled.", **names)
        ]  # fmt: skip
        if shop and shop.phone:
            lines.append(_("To book another time, call %(phone)s.", phone=shop.phone))
        return Text(_("Your visit to %(dealer)s is cancelled", **names), "\n".join(lines))


# -- sending ---------------------------------------------------------------------


def channel_for(appointment: Appointment) -> str | None:
    """ "sms" to a mobile number, else "email" to an address, else None (nobody to tell)."""
    customer = appointment.customer
    try:
        mailer.check_phone(customer.phone)
        return "sms"
    except InvalidInput:
        pass
    try:
        mailer.check_address(customer.email)
        return "email"
    except InvalidInput:
        return None


async def _send(
    session: AsyncSession, settings: Settings, appointment: Appointment, text: Text
) -> OutboundMessage | None:
    """The message in the outbox (a failed e-mail stays there as failed: None here)."""
    channel = channel_for(appointment)
    customer = appointment.customer
    if channel == "sms":
        adapter = mailer.OutboxSmsAdapter(session)
        await mailer.send_sms(session, customer.phone, text.body, None, adapter)
        return adapter.row
    if channel == "email":
        try:
            return await mailer.send_text(
                session, settings, customer.email, text.subject, text.body + "\n", None
            )
        except mailer.MailNotSent as exc:
            log.warning("appointment %s: e-mail not sent: %s", appointment.id, exc.message)
            return None
    return None


def _formatter(settings: Settings) -> Formatter:
    return Formatter(settings.timezone, settings.currency)


async def confirm(
    session: AsyncSession,
    settings: Settings,
    appointment: Appointment,
    now: datetime,
    *,
    by_label: str = "",
) -> OutboundMessage | None:
    """Send the confirmation (booked, or moved when the booking has moved before)."""
    shop = await dealership_service.current(session)
    moved = appointment.version > 1
    message = await _send(
        session, settings, appointment, confirmation(appointment, shop, _formatter(settings),
                                                     moved=moved)
    )  # fmt: skip
    if message is not None:
        appointment.confirmed_at = now
        session.add(
            AppointmentChange(
                appointment_id=appointment.id, kind=AppointmentChangeKind.CONFIRMATION_SENT.value,
                at=now, by_label=by_label[:80], to_at=appointment.scheduled_at,
                reason=message.channel,
            )
        )  # fmt: skip
        await session.flush()
    return message


async def cancelled(
    session: AsyncSession,
    settings: Settings,
    appointment: Appointment,
    now: datetime,
    *,
    by_label: str = "",
) -> OutboundMessage | None:
    """Tell the customer the visit is cancelled (a visit still ahead only)."""
    if appointment.scheduled_at <= now:
        return None
    shop = await dealership_service.current(session)
    return await _send(
        session, settings, appointment, cancellation(appointment, shop, _formatter(settings))
    )


def _reminder_time(shop: Dealership | None) -> time:
    try:
        return time.fromisoformat(shop.appointment_reminder_at if shop else "17:00")
    except ValueError:
        return time(17, 0)


async def send_day_before(session: AsyncSession, settings: Settings, now: datetime) -> int:
    """Remind tomorrow's standing bookings not yet reminded, once the dealership's local
    time has reached `appointment_reminder_at`; returns how many went to the outbox. Safe to
    run again (and from two places at once): each booking is reminded once."""
    shop = await dealership_service.current(session)
    tz = settings.tz
    local = now.astimezone(tz)
    if local.time() < _reminder_time(shop):
        return 0
    tomorrow = local.date() + timedelta(days=1)
    start = datetime.combine(tomorrow, time(0), tzinfo=tz)
    end = start + timedelta(days=1)
    ids = list(
        (
            await session.scalars(
                select(Appointment.id)
                .where(
                    Appointment.status == AppointmentStatus.BOOKED,
                    Appointment.reminded_at.is_(None),
                    Appointment.scheduled_at >= start,
                    Appointment.scheduled_at < end,
                )
                .order_by(Appointment.scheduled_at, Appointment.id)
            )
        ).all()
    )
    await session.commit()
    fmt = _formatter(settings)
    sent = 0
    for appointment_id in ids:
        try:
            sent += await _remind_one(session, settings, appointment_id, shop, fmt, now)
        except Exception:
            # One customer's bad record must not stop the others' reminders.
            log.exception("day-before reminder for appointment %s failed", appointment_id)
            await session.rollback()
    return sent


async def _remind_one(
    session: AsyncSession,
    settings: Settings,
    appointment_id: int,
    shop: Dealership | None,
    fmt: Formatter,
    now: datetime,
) -> int:
    appointment = await session.scalar(
        select(Appointment)
        .where(
            Appointment.id == appointment_id,
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.reminded_at.is_(None),
        )
        .with_for_update(of=Appointment, skip_locked=True)
        .execution_options(populate_existing=True)
    )
    if appointment is None or channel_for(appointment) is None:
        await session.commit()
        return 0
    # Marked before the send: a second run waiting for this row then finds it reminded.
    appointment.reminded_at = now
    change = AppointmentChange(
        appointment_id=appointment.id, kind=AppointmentChangeKind.REMINDER_SENT.value,
        at=now, by_label="system", to_at=appointment.scheduled_at,
    )  # fmt: skip
    session.add(change)
    await session.flush()
    message = await _send(session, settings, appointment, reminder(appointment, shop, fmt))
    if message is None:  # the e-mail failed: in the outbox as failed; try again next run
        appointment.reminded_at = None
        await session.delete(change)
        await session.commit()
        return 0
    change.reason = message.channel
    await session.commit()
    return 1

"""The evening summary by e-mail to every active service manager with an address, each in
their own language, through the outbox. One message per manager and day: sent again the
same day (the button pressed twice, cron and the button), it goes only to those who have
not had it yet, and is refused when everyone has."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict
from app.i18n import SUPPORTED_LOCALES, Formatter, _, locale_as
from app.models import Dealership, OutboundMessage, StaffUser
from app.services.complaints.alerts import managers
from app.services.daily_summary import summary as day_summary
from app.services.final_check.inspection import reason_labels
from app.services.outbound import mailer
from app.settings import Settings


class AlreadySent(Conflict):
    pass


class NoRecipient(Conflict):
    pass


@dataclass(frozen=True)
class Sent:
    to: list[str]  # the addresses queued now
    before: list[str]  # those that already had the day's summary
    failed: list[str]  # the mail server refused: in the outbox as failed, may go again


def subject(day: date) -> str:
    return _("Daily summary %(day)s", day=day.isoformat())


def body(found: day_summary.Summary, shop: Dealership, fmt: Formatter, url: str) -> str:
    """The summary as plain text, in the current language."""
    lines = [f"{subject(found.day)} · {shop.name}", ""]
    missed_rows = found.missed_targets
    lines.append(_("Off target (%(n)s):", n=len(missed_rows)))
    lines += [
        "- "
        + _("%(name)s: %(value)s (target %(target)s)", name=r.label, value=r.value, target=r.target)
        for r in missed_rows
    ] or ["- " + _("None.")]
    lines += ["", _("The day's figures:")]
    lines += [
        f"- {r.label}: {r.value}" + (f" ({r.counts})" if r.counts else "") for r in found.rows
    ]
    lines += ["", _("Not ready at the promised time (%(n)s):", n=len(found.late))]
    for car in found.late:
        ready = fmt.time(car.ready_at) if car.ready_at else _("not ready")
        reasons = "; ".join(car.reasons) or _("no reason recorded")
        lines.append(
            "- "
            + _(
                "%(number)s %(plate)s: promised %(promised)s, ready %(ready)s. Why: %(why)s",
                number=car.number,
                plate=car.plate,
                promised=fmt.datetime(car.promised_at),
                ready=ready,
                why=reasons,
            )
        )
    lines += ["", _("Reworks (%(n)s):", n=len(found.reworks))]
    reasons_named = reason_names()
    for rework in found.reworks:
        why = reasons_named.get(rework.reason_category, rework.reason_category)
        note = f" · {rework.note}" if rework.note else ""
        lines.append(f"- {rework.number} {rework.plate}: {why}{note}")
    lines += ["", _("Complaints received (%(n)s):", n=len(found.complaints))]
    severities = severity_names()
    for complaint in found.complaints:
        lines.append(
            f"- {complaint.number} {severities.get(complaint.severity, complaint.severity)}"
            f" {complaint.plate}: {complaint.words[:200]}"
        )
    lines += ["", _("Appointments tomorrow (%(n)s):", n=len(found.bookings))]
    for booking in found.bookings:
        work = booking.requested_work or _("no work noted")
        parts = f" · {', '.join(booking.parts)}" if booking.parts else ""
        lines.append(
            f"- {fmt.time(booking.scheduled_at)} {booking.plate} {booking.customer}: {work}{parts}"
        )
    lines += ["", _("Parts to reserve (%(n)s):", n=len(found.parts))]
    for part in found.parts:
        stock = "" if part.stock is None else " " + _("(in stock: %(n)s)", n=part.stock)
        short = " " + _("SHORT") if part.short else ""
        lines.append(f"- {part.code} {part.name} ×{part.quantity.normalize():f}{stock}{short}")
    lines += ["", _("Open the summary: %(url)s", url=url)]
    return "\n".join(lines) + "\n"


def reason_names() -> dict[str, str]:
    return reason_labels()


def severity_names() -> dict[str, str]:
    return {
        "general": _("General"), "escalated": _("Escalated"), "serious": _("Serious"),
    }  # fmt: skip


def _subjects(day: date) -> list[str]:
    subjects = []
    for locale in SUPPORTED_LOCALES:
        with locale_as(locale):
            subjects.append(subject(day))
    return subjects


async def sent_before(session: AsyncSession, day: date) -> list[OutboundMessage]:
    """The day's summary in the outbox, oldest first: what the page says of its sending."""
    rows = await session.scalars(
        select(OutboundMessage)
        .where(OutboundMessage.channel == "email", OutboundMessage.subject.in_(_subjects(day)))
        .order_by(OutboundMessage.created_at, OutboundMessage.id)
    )
    return list(rows.all())


async def _already(session: AsyncSession, day: date) -> set[str]:
    """The addresses the day's summary was queued or sent to (a failed one may go again)."""
    return {m.recipient for m in await sent_before(session, day) if m.status != "failed"}


async def send(
    session: AsyncSession, settings: Settings, shop: Dealership, day: date, now: datetime
) -> Sent:
    """Queue the day's summary for each manager who has not had it (the outbox commits)."""
    recipients: list[StaffUser] = [m for m in await managers(session) if m.email.strip()]
    if not recipients:
        raise NoRecipient(
            _("No active service manager has an e-mail address: add one in the staff settings.")
        )
    before = await _already(session, day)
    todo = [m for m in recipients if m.email.strip() not in before]
    if not todo:
        raise AlreadySent(
            _("The summary of %(day)s has already gone to every service manager.",
              day=day.isoformat())
        )  # fmt: skip
    url = f"{settings.public_url}/board/summary?day={day.isoformat()}"
    texts: dict[str, tuple[str, str]] = {}
    sent, failed = [], []
    for manager in todo:
        locale = manager.locale if manager.locale in SUPPORTED_LOCALES else "zh_CN"
        if locale not in texts:
            with locale_as(locale):
                fmt = Formatter(settings.timezone, settings.currency)
                found = await day_summary.build(session, shop, day, settings.tz, now, fmt)
                texts[locale] = (subject(day), body(found, shop, fmt, url))
        title, text = texts[locale]
        try:
            await mailer.send_text(session, settings, manager.email.strip(), title, text, None)
        except mailer.MailNotSent:
            failed.append(manager.email.strip())
            continue
        sent.append(manager.email.strip())
    return Sent(sent, sorted(before & {m.email.strip() for m in recipients}), failed)

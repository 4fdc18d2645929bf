"""What the reminder page shows: the filters read from the query, the labels, the
advisors to book with, and the row after an action."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.i18n import Formatter, _
from app.models import Role, StaffRole, StaffUser
from app.services import dealership as dealership_service
from app.services.reminders.actions import SNOOZE_DAYS, Outcome, kind_label
from app.services.reminders.due import ACTION_DAYS, BANDS, KINDS, WEEK_DAYS, Filters

QUERY = ("kind", "band", "advisor", "days", "page")


@dataclass(frozen=True)
class Query:
    filters: Filters
    days: int | None  # None: the dealership's look-ahead


def parse(raw: Mapping[str, str]) -> Query:
    """The list's filters from the query string; a wrong one is refused, naming it."""
    kind, band = raw.get("kind", "").strip(), raw.get("band", "").strip()
    if kind and kind not in KINDS:
        raise InvalidInput(_("Choose what the reminders are about."), field="kind")
    if band and band not in BANDS:
        raise InvalidInput(_("Choose how soon the reminders are due."), field="band")
    advisor: int | None = None
    if value := raw.get("advisor", "").strip():
        advisor = int(value) if value.isdigit() and len(value) <= 9 else 0
        if not advisor:
            raise InvalidInput(_("Choose an advisor from the list."), field="advisor")
    days: int | None = None
    if value := raw.get("days", "").strip():
        if not value.isdigit() or not 1 <= int(value) <= ACTION_DAYS:
            raise InvalidInput(
                _("Look ahead between 1 and %(n)s days.", n=ACTION_DAYS), field="days"
            )
        days = int(value)
    page = raw.get("page", "").strip()
    number = int(page) if page.isdigit() and len(page) < 6 else 1
    return Query(Filters(kind, band, advisor, number), days)


async def advisors(session: AsyncSession) -> list[tuple[int, str]]:
    rows = await session.execute(
        select(StaffUser.id, StaffUser.display_name)
        .join(StaffRole, StaffRole.user_id == StaffUser.id)
        .where(StaffUser.is_active, StaffRole.role == Role.ADVISOR)
        .order_by(StaffUser.display_name, StaffUser.id)
    )
    return [(i, name) for i, name in rows]


def kind_labels() -> dict[str, str]:
    return {kind: kind_label(kind) for kind in KINDS}


def band_labels(days: int) -> dict[str, str]:
    return {
        "overdue": _("Past due"),
        "week": _("Within %(n)s days", n=WEEK_DAYS),
        "soon": _("Within %(n)s days", n=days),
    }


def answer_labels() -> dict[str, str]:
    return {
        "done_elsewhere": _("Done elsewhere"),
        "sold": _("Sold the car"),
        "not_now": _("Not now"),
        "opt_out": _("No more reminders"),
    }


def channel_labels() -> dict[str, str]:
    return {"sms": _("Text message"), "email": _("E-mail")}


async def common(session: AsyncSession, today: date) -> dict[str, object]:
    """What every rendering of a row needs."""
    shop = await dealership_service.current(session)
    opens = shop.workshop_opens if shop else "08:30"
    return {
        "kind_labels": kind_labels(),
        "answer_labels": answer_labels(),
        "channel_labels": channel_labels(),
        "advisors": await advisors(session),
        "today": today,
        "snooze_default": (today + timedelta(days=SNOOZE_DAYS)).isoformat(),
        "book_default": f"{(today + timedelta(days=1)).isoformat()}T{opens}",
        "book_min": f"{today.isoformat()}T00:00",
    }


def outcome_note(done: Outcome, fmt: Formatter) -> str:
    """One line saying what became of the row, for the staff member."""
    contact = done.contact
    if contact.action == "sent":
        channel = channel_labels().get(contact.channel, contact.channel)
        if done.already:
            return _("Already sent by %(channel)s: nothing was sent again.", channel=channel)
        return _("Sent by %(channel)s: it is in the outbox.", channel=channel)
    if contact.action == "booked":
        at = done.appointment.scheduled_at if done.appointment else None
        return _("Booked for %(when)s: the visit is on the appointment list.",
                 when=fmt.datetime(at))  # fmt: skip
    notes = {
        "not_now": _("Not now: back on the list after %(day)s.",
                     day=fmt.date(contact.snooze_until)),
        "sold": _("Marked as sold: no more reminders for this car."),
        "opt_out": _("The customer gets no more reminders."),
    }  # fmt: skip
    return notes.get(contact.action, _("Done elsewhere: off the list."))

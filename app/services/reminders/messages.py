"""The reminder texts, one per kind, in the customer's own language."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.i18n import Formatter, _, locale_as
from app.models.reminder import ReminderKind
from app.services.reminders.due import Due


@dataclass(frozen=True)
class Text:
    subject: str
    body: str


def text(row: Due, dealer: str, phone: str, fmt: Formatter, declined: Sequence[str] = ()) -> Text:
    """Subject (for an e-mail) and body, in `row.locale` whatever the staff member reads.
    `declined`: the work the customer declined at the last visit, asked about again with
    the service (the health check's yellow and red items the customer said no to)."""
    with locale_as(row.locale):
        names = {"name": row.customer_name, "car": row.car, "plate": row.plate,
                 "date": fmt.date(row.due_on, "long")}  # fmt: skip
        if row.kind == ReminderKind.SERVICE.value and row.next_service_km:
            subject = _("Service reminder")
            due = _(
                "Dear %(name)s, your %(car)s (%(plate)s) is due for its next service on "
                "%(date)s or at %(km)s km, whichever comes first.",
                km=fmt.number(row.next_service_km), **names,
            )  # fmt: skip
        elif row.kind == ReminderKind.SERVICE.value:
            subject = _("Service reminder")
            due = _(
                "Dear %(name)s, your %(car)s (%(plate)s) is due for its next service on "
                "%(date)s.",
                **names,
            )  # fmt: skip
        elif row.kind == ReminderKind.INSPECTION.value:
            subject = _("Annual inspection reminder")
            due = _(
                "Dear %(name)s, the annual inspection of your %(car)s (%(plate)s) is due on "
                "%(date)s.",
                **names,
            )  # fmt: skip
        else:
            subject = _("Insurance renewal reminder")
            due = _(
                "Dear %(name)s, the insurance of your %(car)s (%(plate)s) expires on %(date)s.",
                **names,
            )  # fmt: skip
        book = (
            _("To book a visit, call %(dealer)s on %(phone)s or reply to this message.",
              dealer=dealer, phone=phone)
            if phone
            else _("To book a visit with %(dealer)s, reply to this message.", dealer=dealer)
        )  # fmt: skip
        if declined and row.kind == ReminderKind.SERVICE.value:
            due += "\n" + _("Last time we also advised: %(items)s.",
                             items=_(", ").join(declined))  # fmt: skip
        return Text(subject, f"{due}\n{book}")

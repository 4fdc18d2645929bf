"""The reminders' response rate: of the cars reminded in a month, the share that came in
within 90 days of a reminder, counted exactly on both databases."""

from __future__ import annotations

from app.services.reminders.response import response_rate
from app.services.reports import period as report_period
from tests.reminders_helpers import BEIJING, a_car, a_contact, a_visit, at

NOVEMBER = report_period.month_period(2026, 11, BEIJING)


async def test_a_month_without_reminders_has_no_rate(db) -> None:
    assert await response_rate(db, NOVEMBER) == (0, 0, None)


async def test_the_share_of_cars_reminded_in_the_month_that_came_in_within_90_days(db) -> None:
    came = await a_car(db, 1)
    await a_contact(db, came, "sent", at(11, 3))
    await a_visit(db, came, at(11, 20))
    # Reminded twice in the month: one car, came in 89 days after the second reminder.
    twice = await a_car(db, 2)
    await a_contact(db, twice, "sent", at(11, 1, 0, 30))  # 1 November, 00:30 Beijing
    await a_contact(db, twice, "sent", at(11, 10))
    await a_visit(db, twice, at(2, 7, 10, 0, 2027))  # 7 February 2027
    # Came in 91 days later: too late.
    late = await a_car(db, 3)
    await a_contact(db, late, "sent", at(11, 5))
    await a_visit(db, late, at(2, 4, 10, 0, 2027))
    # Came in before the reminder only.
    before = await a_car(db, 4)
    await a_visit(db, before, at(11, 2))
    await a_contact(db, before, "sent", at(11, 4))
    # Not counted at all: reminded in October (31 October, 23:59 Beijing) or only snoozed.
    october = await a_car(db, 5)
    await a_contact(db, october, "sent", at(10, 31, 23, 59))
    await a_visit(db, october, at(11, 6))
    snoozed = await a_car(db, 6)
    await a_contact(db, snoozed, "not_now", at(11, 6))
    await a_visit(db, snoozed, at(11, 8))
    await db.commit()

    assert await response_rate(db, NOVEMBER) == (4, 2, 50.0)

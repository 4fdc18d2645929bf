"""The reminder list: each car's pace from its own readings, what is due (service by date
or km, annual inspection, insurance), the bands, and every reason a car is left out,
counted from cars built from the models, on both databases."""

from __future__ import annotations

from datetime import date

from app.models import Appointment, AppointmentStatus
from app.models.base import utcnow
from app.services.reminders import due as due_list
from app.services.reminders import projection
from app.services.reminders.due import Filters, Horizon
from tests.reminders_helpers import BEIJING, TODAY, a_car, a_contact, a_visit, at

H30 = Horizon(TODAY, 30, 1000, 15000)


async def _serviced(db, n, next_on=None, next_km=None, **car):  # type: ignore[no-untyped-def]
    """A car read at 10,000 km on 5 June and 13,600 km on 3 September (40 km a day),
    delivered on 3 September with its next service date and km."""
    vehicle = await a_car(db, n, km=13_600, km_at=at(9, 3, 17), **car)
    await a_visit(db, vehicle, at(6, 5), 10_000)
    await a_visit(db, vehicle, at(9, 3), 13_600, next_service_on=next_on, next_service_km=next_km)
    return vehicle


async def _due(db, h: Horizon = H30):  # type: ignore[no-untyped-def]
    await db.commit()
    return [(r.plate, r.kind, r.due_on, r.band) for r in await due_list.due(db, BEIJING, h)]


async def test_a_cars_pace_comes_from_its_first_and_last_readings(db) -> None:
    car = await _serviced(db, 1)
    await db.commit()
    found = await projection.for_vehicle(db, BEIJING, car.id)
    assert (found.km_per_day, found.from_history) == (40.0, True)
    assert found.last == projection.Reading(date(2026, 9, 3), 13_600)
    assert found.km_on(TODAY) == 17_200  # 90 days on
    assert found.reaches(20_000) == date(2027, 2, 10)  # 6,400 km at 40 a day: 160 days
    assert found.reaches(13_000) == date(2026, 8, 19)  # already past: a day behind


async def test_a_car_that_barely_moves_never_reaches_a_far_km(db) -> None:
    still = await a_car(db, 1, km=10_001, km_at=at(9, 3))
    await a_visit(db, still, at(3, 1), 10_000)
    await db.commit()
    found = await projection.for_vehicle(db, BEIJING, still.id)
    assert found.from_history is True
    assert found.reaches(10_002) == date(2027, 3, 8)  # 186 days a km
    assert found.reaches(999_999) is None  # thousands of years away: no date at all


async def test_readings_weeks_apart_are_needed_else_the_dealerships_km_a_year(db) -> None:
    close = await a_car(db, 1, km=10_500, km_at=at(9, 20))
    await a_visit(db, close, at(9, 1), 10_000)  # 19 days before the last reading
    none = await a_car(db, 2)
    await db.commit()
    found = await projection.projections(db, BEIJING, 36_500, vehicle_ids=[close.id, none.id])
    assert (found[close.id].km_per_day, found[close.id].from_history) == (100.0, False)
    assert found[close.id].km_on(TODAY) == 10_500 + 100 * 73
    assert (found[none.id].last, found[none.id].km_on(TODAY)) == (None, None)


async def test_service_is_due_at_the_date_or_the_km_whichever_comes_first(db) -> None:
    await _serviced(db, 1, next_on=date(2026, 12, 20))  # by date
    await _serviced(db, 2, next_on=date(2027, 6, 1), next_km=18_000)  # 110 days: 22 Dec
    await _serviced(db, 3, next_on=date(2026, 12, 5), next_km=30_000)  # the date first
    await _serviced(db, 4, next_on=date(2027, 1, 15))  # beyond 30 days
    await _serviced(db, 5, next_km=25_000)  # 285 days
    rows = await _due(db)
    assert rows == [
        ("粤B00003", "service", date(2026, 12, 5), "week"),
        ("粤B00001", "service", date(2026, 12, 20), "soon"),
        ("粤B00002", "service", date(2026, 12, 22), "soon"),
    ]
    by_plate = {r.plate: r for r in await due_list.due(db, BEIJING, H30)}
    assert (by_plate["粤B00002"].by_km, by_plate["粤B00002"].projected_km) == (True, 17_200)
    assert by_plate["粤B00003"].by_km is False


async def test_a_car_within_the_km_margin_is_due_even_beyond_the_days(db) -> None:
    await _serviced(db, 1, next_km=18_000)  # 800 km ahead of its projected 17,200
    await _serviced(db, 2, next_km=18_300)  # 1,100 km ahead
    await _serviced(db, 3, next_on=date(2026, 12, 20))
    rows = await _due(db, Horizon(TODAY, 7, 1000, 15000))
    assert rows == [("粤B00001", "service", date(2026, 12, 22), "soon")]


async def test_bands_overdue_this_week_and_later(db) -> None:
    await _serviced(db, 1, next_on=date(2026, 12, 1))
    await _serviced(db, 2, next_on=date(2026, 12, 2))
    await _serviced(db, 3, next_on=date(2026, 12, 9))
    await _serviced(db, 4, next_on=date(2026, 12, 10))
    await _serviced(db, 5, next_on=date(2027, 1, 1))
    assert [r[3] for r in await _due(db)] == ["overdue", "week", "week", "soon", "soon"]


async def test_inspection_and_insurance_where_recorded(db) -> None:
    await a_car(db, 1, inspection_due_on=date(2026, 12, 10), insurance_due_on=date(2026, 11, 30))
    await a_car(db, 2, inspection_due_on=date(2027, 3, 1), insurance_due_on=date(2027, 1, 2))
    await a_car(db, 3)
    assert await _due(db) == [
        ("粤B00001", "insurance", date(2026, 11, 30), "overdue"),
        ("粤B00001", "inspection", date(2026, 12, 10), "soon"),
    ]


async def test_sold_cars_and_opted_out_customers_are_left_out(db) -> None:
    sold = await _serviced(db, 1, next_on=date(2026, 12, 10))
    sold.sold_at = utcnow()
    out = await a_car(db, 2, inspection_due_on=date(2026, 12, 10))
    out.customer.reminders_opt_out_at = utcnow()
    await a_car(db, 3, inspection_due_on=date(2026, 12, 10))
    assert [r[0] for r in await _due(db)] == ["粤B00003"]


async def test_a_snooze_holds_its_kind_until_its_day(db) -> None:
    snoozed = await a_car(db, 1, inspection_due_on=date(2026, 12, 10),
                          insurance_due_on=date(2026, 12, 10))  # fmt: skip
    await a_contact(db, snoozed, "not_now", at(11, 30), kind="inspection",
                    snooze_until=date(2026, 12, 3))  # fmt: skip
    woke = await a_car(db, 2, inspection_due_on=date(2026, 12, 10))
    await a_contact(db, woke, "not_now", at(11, 1), kind="inspection",
                    snooze_until=date(2026, 12, 1))  # fmt: skip
    assert [(r[0], r[1]) for r in await _due(db)] == [
        ("粤B00002", "inspection"), ("粤B00001", "insurance"),
    ]  # fmt: skip


async def test_done_elsewhere_closes_only_the_due_it_was_about(db) -> None:
    done = await _serviced(db, 1, next_on=date(2026, 12, 10))
    await a_contact(db, done, "done_elsewhere", at(11, 20))
    before = await _serviced(db, 2, next_on=date(2026, 12, 10))
    await a_contact(db, before, "done_elsewhere", at(6, 20))  # about the service before
    last_year = await a_car(db, 3, inspection_due_on=date(2026, 12, 10))
    await a_contact(db, last_year, "done_elsewhere", at(11, 20), kind="inspection",
                    due_on=date(2025, 12, 10))  # fmt: skip
    this_year = await a_car(db, 4, inspection_due_on=date(2026, 12, 10))
    await a_contact(db, this_year, "done_elsewhere", at(11, 20), kind="inspection",
                    due_on=date(2026, 12, 10))  # fmt: skip
    assert [r[0] for r in await _due(db)] == ["粤B00002", "粤B00003"]


async def test_a_standing_booking_takes_the_car_off_a_cancelled_one_brings_it_back(db) -> None:
    for n, status in ((1, AppointmentStatus.BOOKED), (2, AppointmentStatus.CANCELLED)):
        car = await _serviced(db, n, next_on=date(2026, 12, 10))
        appointment = Appointment(
            customer_id=car.customer_id, vehicle_id=car.id, scheduled_at=at(12, 8), status=status
        )
        db.add(appointment)
        await db.flush()
        contact = await a_contact(db, car, "booked", at(11, 25))
        contact.appointment_id = appointment.id
    assert [r[0] for r in await _due(db)] == ["粤B00002"]


async def test_a_car_that_came_in_since_the_delivery_is_not_due_for_service(db) -> None:
    back = await _serviced(db, 1, next_on=date(2026, 12, 10), inspection_due_on=date(2026, 12, 8))
    await a_visit(db, back, at(11, 28), 16_800, delivered=False)  # on site now
    await _serviced(db, 2, next_on=date(2026, 12, 10))
    # The inspection is not a service visit's business: it stays.
    assert [(r[0], r[1]) for r in await _due(db)] == [
        ("粤B00001", "inspection"), ("粤B00002", "service"),
    ]  # fmt: skip


async def test_a_sent_reminder_keeps_the_car_on_the_list_with_when_and_how(db) -> None:
    car = await _serviced(db, 1, next_on=date(2026, 12, 10))
    await a_contact(db, car, "sent", at(11, 30))
    await a_contact(db, car, "sent", at(6, 30))  # about the service before: not this one
    await db.commit()
    (row,) = await due_list.due(db, BEIJING, H30)
    assert row.sent == due_list.Sent(at(11, 30), "sms")


async def test_filters_by_kind_band_and_the_last_visits_advisor_with_counts(db, users) -> None:
    advisor = next(iter(users.values()))
    a = await a_car(db, 1, inspection_due_on=date(2026, 11, 30))
    await a_visit(db, a, at(3, 1), advisor_id=advisor)
    await a_car(db, 2, inspection_due_on=date(2026, 12, 20), insurance_due_on=date(2026, 12, 5))
    await _serviced(db, 3, next_on=date(2026, 12, 4))
    await db.commit()
    rows = await due_list.due(db, BEIJING, H30)
    page = due_list.select_page(rows, Filters(kind="inspection"))
    assert ([r.plate for r in page.rows], page.total) == (["粤B00001", "粤B00002"], 2)
    assert page.bands == {"overdue": 1, "week": 0, "soon": 1}
    page = due_list.select_page(rows, Filters(band="week"))
    assert [(r.plate, r.kind) for r in page.rows] == [("粤B00003", "service"),
                                                      ("粤B00002", "insurance")]  # fmt: skip
    page = due_list.select_page(rows, Filters(advisor_id=advisor))
    assert [(r.plate, r.advisor_name) for r in page.rows] == [("粤B00001", "Advisor")]


async def test_the_list_is_paged_with_its_count(db) -> None:
    for n in range(1, 6):
        await a_car(db, n, inspection_due_on=date(2026, 12, n + 2))
    await db.commit()
    rows = await due_list.due(db, BEIJING, H30)
    first = due_list.select_page(rows, Filters(), page_size=2)
    last = due_list.select_page(rows, Filters(page=9), page_size=2)
    assert (first.total, first.pages, [r.plate for r in first.rows]) == (
        5, 3, ["粤B00001", "粤B00002"],
    )  # fmt: skip
    assert (last.page, [r.plate for r in last.rows]) == (3, ["粤B00005"])

"""The board's figures, each asserted exactly from a small day built from the models
(tests/board_helpers.py), on both databases: the whole dealership, one advisor, one
technician, the local day's edges; the targets and their fallbacks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select

from app.errors import InvalidInput
from app.models import BoardTarget, JobTask, PromiseChange, Role, StaffUser, TimeEntry
from app.services.board import figures, targets
from app.services.board.figures import Figure, Scope
from app.services.reports.period import Period, days, month_period
from tests.board_helpers import BEIJING, NOW, Day, at, third_of_november

THIRD = days(date(2026, 11, 3), date(2026, 11, 3), BEIJING)


async def _figures(db, users, **scope: int) -> tuple[Day, dict[str, Figure]]:  # type: ignore[no-untyped-def]
    day = await third_of_november(db, users)
    which = {k: getattr(day, v) for k, v in scope.items()}  # e.g. advisor_id="advisor_a"
    return day, await figures.compute(db, Scope(THIRD, **which), day.shop, NOW)


def values(found: dict[str, Figure]) -> dict[str, object]:
    return {code: f.value for code, f in found.items()}


def ids(day: Day, *names: str) -> tuple[int, ...]:
    return tuple(day.orders[n] for n in names)


async def test_the_day_of_the_whole_dealership_counts_every_figure_exactly(db, users) -> None:
    _day, found = await _figures(db, users)
    assert list(found) == list(figures.CODES)
    assert values(found) == {
        "arrivals": 3,  # o1, o2 and o3 at 23:30; not the evening before nor 00:05 on the 4th
        "booked": 2,
        "walk_in": 1,
        "appointment_rate": 66.7,
        "greeting_minutes": 3.0,  # median of 3, 7 and 2
        "greeted_in_time": 66.7,
        "check_in_minutes": 23.5,  # median of 17 and 30; o3's is not finished
        "signed": 2,
        "finished": 2,
        "delivered": 3,
        "promise_kept": 50.0,  # o1 ready 15:00 for 16:00; o2 ready 14:30 for 14:00
        "bill_matches": 66.7,  # o2's bill is 220 for an estimate of 150
        "rework_rate": 50.0,  # o2's first final check failed, o1's passed
        "first_time_fix": 33.3,  # o1 only: o2 failed a check, o5 has a complaint
        "follow_ups_due": 2,
        "follow_ups_on_time": 50.0,
        "complaints_general": 1,
        "complaints_escalated": 0,  # closed on the day
        "complaints_serious": 1,  # closed only on the 4th
        "hours_sold": Decimal("5.00"),  # 2 + 1.5 + 0.5 approved + 1; declined, draft out
        "hours_clocked": Decimal("5.50"),  # 2 + 1.5 + 1 running till 20:00 + 1 after midnight
        "hours_available": Decimal("14.00"),  # 2 active technicians × 7 h × 1 day
        "utilisation": 39.3,
        "productivity": 90.9,
        "labour_revenue": Decimal("500.00"),
        "parts_revenue": Decimal("70.00"),
    }


async def test_shares_give_their_counts_and_list_the_orders_against_them_first(db, users) -> None:
    day, found = await _figures(db, users)
    parts = {code: (f.part, f.whole) for code, f in found.items() if f.unit == "percent"}
    assert parts["greeted_in_time"] == (2, 3)
    assert parts["promise_kept"] == (1, 2)
    assert parts["bill_matches"] == (2, 3)
    assert parts["rework_rate"] == (1, 2)
    assert parts["first_time_fix"] == (1, 3)
    assert parts["follow_ups_on_time"] == (1, 2)
    assert found["greeted_in_time"].order_ids == ids(day, "o2", "o1", "o3")
    assert found["greeting_minutes"].order_ids == ids(day, "o2", "o1", "o3")  # longest first
    assert found["promise_kept"].order_ids == ids(day, "o2", "o1")
    assert found["bill_matches"].order_ids == ids(day, "o2", "o5", "o1")
    assert found["rework_rate"].order_ids == ids(day, "o2", "o1")  # the reworked one first
    assert found["first_time_fix"].order_ids == ids(day, "o5", "o2", "o1")
    assert found["follow_ups_on_time"].order_ids == ids(day, "o7", "o6")
    assert found["arrivals"].order_ids == ids(day, "o1", "o2", "o3")
    assert found["delivered"].order_ids == ids(day, "o5", "o2", "o1")
    assert found["finished"].order_ids == ids(day, "o2", "o1")
    assert found["complaints_serious"].order_ids == ids(day, "o5")


async def test_directions_say_which_figures_are_better_low(db, users) -> None:
    _day, found = await _figures(db, users)
    assert {c for c, f in found.items() if f.lower_is_better} == {
        "greeting_minutes", "check_in_minutes", "rework_rate",
        "complaints_general", "complaints_escalated", "complaints_serious",
    }  # fmt: skip


async def test_an_advisors_figures_count_their_own_orders(db, users) -> None:
    _day, found = await _figures(db, users, advisor_id="advisor_a")
    got = values(found)
    assert {k: got[k] for k in (
        "arrivals", "booked", "appointment_rate", "greeting_minutes", "greeted_in_time",
        "signed", "finished", "delivered", "promise_kept", "bill_matches", "rework_rate",
        "first_time_fix", "follow_ups_due", "follow_ups_on_time", "complaints_general",
        "complaints_serious", "hours_sold", "hours_clocked", "hours_available",
        "utilisation", "productivity", "labour_revenue", "parts_revenue",
    )} == {
        "arrivals": 2, "booked": 1, "appointment_rate": 50.0, "greeting_minutes": 5.0,
        "greeted_in_time": 50.0, "signed": 2, "finished": 2, "delivered": 2,
        "promise_kept": 50.0, "bill_matches": 50.0, "rework_rate": 50.0,
        "first_time_fix": 50.0, "follow_ups_due": 0, "follow_ups_on_time": None,
        "complaints_general": 0, "complaints_serious": 0,
        "hours_sold": Decimal("4.00"), "hours_clocked": Decimal("4.50"),
        "hours_available": None, "utilisation": None, "productivity": 88.9,
        "labour_revenue": Decimal("400.00"), "parts_revenue": Decimal("70.00"),
    }  # fmt: skip


async def test_a_technicians_figures_count_their_jobs_and_their_clock_only(db, users) -> None:
    day, found = await _figures(db, users, technician_id="technician_2")
    got = values(found)
    assert {k: got[k] for k in (
        "arrivals", "delivered", "bill_matches", "hours_sold", "hours_clocked",
        "hours_available", "utilisation", "productivity", "labour_revenue", "parts_revenue",
        "complaints_general",
    )} == {
        "arrivals": 1, "delivered": 1, "bill_matches": 0.0,
        "hours_sold": Decimal("2.00"), "hours_clocked": Decimal("2.50"),
        "hours_available": Decimal("7.00"), "utilisation": 35.7, "productivity": 80.0,
        "labour_revenue": Decimal("200.00"), "parts_revenue": Decimal("20.00"),
        "complaints_general": 0,
    }  # fmt: skip
    assert found["delivered"].order_ids == ids(day, "o2")


async def test_the_other_technician_answers_for_the_complaints_on_their_orders(db, users) -> None:
    day, found = await _figures(db, users, technician_id="technician")
    assert (found["complaints_general"].value, found["complaints_serious"].value) == (1, 1)
    assert found["delivered"].order_ids == ids(day, "o5", "o1")
    assert found["hours_sold"].value == Decimal("3.00")
    assert found["hours_clocked"].value == Decimal("3.00")  # 2 h + the hour after midnight


async def test_each_day_is_the_dealerships_local_day(db, users) -> None:
    day = await third_of_november(db, users)
    november = month_period(2026, 11, BEIJING)
    by_day = await figures.per_day(db, november, day.shop, NOW, tz=BEIJING)
    assert list(by_day) == [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)]
    assert [by_day[d]["arrivals"].value for d in by_day] == [1, 1, 3]
    assert by_day[date(2026, 11, 2)]["arrivals"].order_ids == ids(day, "o4")
    assert by_day[date(2026, 11, 2)]["hours_clocked"].value == Decimal("2.00")  # 22:00-24:00


async def test_an_empty_day_has_no_rates_rather_than_zero(db, users) -> None:
    day = await third_of_november(db, users)
    empty = days(date(2026, 10, 1), date(2026, 10, 1), BEIJING)
    found = await figures.compute(db, Scope(empty), day.shop, NOW)
    assert found["arrivals"].value == 0
    assert found["greeted_in_time"].value is None
    assert found["greeting_minutes"].value is None
    assert found["hours_available"].value == Decimal("14.00")
    assert found["utilisation"].value == 0.0


async def test_a_future_day_has_no_hours_available(db, users) -> None:
    day = await third_of_november(db, users)
    later = days(date(2026, 11, 5), date(2026, 11, 5), BEIJING)
    found = await figures.compute(db, Scope(later), day.shop, NOW)
    assert found["hours_available"].value == Decimal("0.00")
    assert found["utilisation"].value is None


async def test_targets_fall_back_from_the_month_to_the_standing_ones_to_the_defaults(
    db, users
) -> None:
    manager = await db.get(StaffUser, users[Role.SERVICE_MANAGER])
    assert manager is not None
    await targets.save(db, "", {"greeted_in_time": "80", "arrivals": "30"}, manager)
    await targets.save(db, "2026-11", {"greeted_in_time": "95.5"}, manager)
    await db.commit()
    november = await targets.for_month(db, "2026-11")
    december = await targets.for_month(db, "2026-12")
    assert november["greeted_in_time"] == Decimal("95.50")
    assert december["greeted_in_time"] == Decimal("80.00")
    assert november["arrivals"] == december["arrivals"] == Decimal("30.00")
    assert november["rework_rate"] == targets.DEFAULTS["rework_rate"]
    assert "delivered" not in november  # no built-in target for a count
    # A blank value removes the month's own target: the standing one applies again.
    await targets.save(db, "2026-11", {"greeted_in_time": " "}, manager)
    await db.commit()
    assert (await targets.for_month(db, "2026-11"))["greeted_in_time"] == Decimal("80.00")


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"greeted_in_time": "101"}, "greeted_in_time"),
        ({"rework_rate": "-1"}, "rework_rate"),
        ({"arrivals": "abc"}, "arrivals"),
        ({"labour_revenue": "1.005"}, "labour_revenue"),
    ],
)
async def test_a_bad_target_is_refused_with_its_field_and_nothing_is_saved(
    db, users, values: dict[str, str], field: str
) -> None:
    manager = await db.get(StaffUser, users[Role.SERVICE_MANAGER])
    assert manager is not None
    with pytest.raises(InvalidInput) as refused:
        await targets.save(db, "2026-11", {"arrivals": "30", **values}, manager)
    assert refused.value.field == field
    await db.rollback()
    assert await db.scalar(select(func.count(BoardTarget.id))) == 0


async def test_a_bad_month_is_refused(db, users) -> None:
    manager = await db.get(StaffUser, users[Role.SERVICE_MANAGER])
    assert manager is not None
    with pytest.raises(InvalidInput) as refused:
        await targets.save(db, "2026-13", {"arrivals": "3"}, manager)
    assert refused.value.field == "month"


def test_a_figure_meets_its_target_in_its_own_direction() -> None:
    def figure(value: object, lower: bool) -> Figure:
        return Figure("x", value, None, None, "percent", lower, ())  # type: ignore[arg-type]

    assert targets.meets(figure(66.7, False), Decimal("66.7")) is True
    assert targets.meets(figure(66.6, False), Decimal("66.7")) is False
    assert targets.meets(figure(3.0, True), Decimal("5")) is True
    assert targets.meets(figure(7.5, True), Decimal("5")) is False
    assert targets.meets(figure(None, False), Decimal("5")) is None
    assert targets.meets(figure(5, False), None) is None


async def test_the_figures_take_a_handful_of_queries_however_many_orders(db, users) -> None:
    day = await third_of_november(db, users)
    engine = db.bind.sync_engine  # type: ignore[union-attr]

    async def queries(period: Period) -> int:
        statements: list[str] = []

        def count_it(*args: object) -> None:
            if str(args[2]).lstrip().upper().startswith("SELECT"):
                statements.append(str(args[2]))

        event.listen(engine, "before_cursor_execute", count_it)
        try:
            await figures.compute(db, Scope(period), day.shop, NOW)
        finally:
            event.remove(engine, "before_cursor_execute", count_it)
        return len(statements)

    busy = await queries(THIRD)
    assert busy <= 20
    assert await queries(days(date(2026, 10, 1), date(2026, 10, 1), BEIJING)) == busy


async def test_each_figure_comes_in_the_unit_the_targets_form_expects(db, users) -> None:
    _day, found = await _figures(db, users)
    assert {code: f.unit for code, f in found.items()} == figures.UNITS


async def test_a_clock_left_running_for_days_still_counts_within_the_day(db, users) -> None:
    day = await third_of_november(db, users)
    task = await db.scalar(select(JobTask).where(JobTask.work_order_id == day.orders["o1"]))
    assert task is not None
    db.add(TimeEntry(task_id=task.id, technician_id=day.technician, started_at=at(10, 30, 8)))
    await db.commit()
    scope = Scope(THIRD, technician_id=day.technician)
    found = await figures.compute(db, scope, day.shop, NOW)
    # 3 h as before, and the running clock from midnight to 20:00 on the 3rd.
    assert found["hours_clocked"].value == Decimal("23.00")


async def test_a_promise_moved_by_a_call_is_kept_by_the_time_agreed(db, users) -> None:
    # o2 was promised for 14:00 at signing and ready at 14:30 (late); o1 promised 16:00,
    # ready 15:00 (kept). A call moved o2 to 15:00 and then 14:45: ready by the last time
    # agreed, it is kept. A call moved o1 to 14:00: ready after both, it is not.
    day = await third_of_november(db, users)
    db.add_all([
        PromiseChange(work_order_id=day.orders["o2"], old_at=at(11, 3, 14),
                      new_at=at(11, 3, 15), created_at=at(11, 3, 12)),
        PromiseChange(work_order_id=day.orders["o2"], old_at=at(11, 3, 15),
                      new_at=at(11, 3, 14, 45), created_at=at(11, 3, 13)),
        PromiseChange(work_order_id=day.orders["o1"], old_at=at(11, 3, 16),
                      new_at=at(11, 3, 14), created_at=at(11, 3, 11)),
    ])  # fmt: skip
    await db.commit()
    found = await figures.compute(db, Scope(THIRD), day.shop, NOW)
    kept = found["promise_kept"]
    assert (kept.value, kept.part, kept.whole) == (50.0, 1, 2)
    assert kept.order_ids == ids(day, "o1", "o2")  # o1 against it now, o2 for it


async def test_a_car_ready_after_the_time_agreed_by_a_call_is_not_kept(db, users) -> None:
    # o2 was promised for 14:00 and moved to 14:15 by a call; ready at 14:30, after both.
    day = await third_of_november(db, users)
    db.add(PromiseChange(work_order_id=day.orders["o2"], old_at=at(11, 3, 14),
                         new_at=at(11, 3, 14, 15), created_at=at(11, 3, 12)))  # fmt: skip
    await db.commit()
    found = await figures.compute(db, Scope(THIRD), day.shop, NOW)
    kept = found["promise_kept"]
    assert (kept.value, kept.part, kept.whole) == (50.0, 1, 2)
    assert kept.order_ids == ids(day, "o2", "o1")


@pytest.mark.parametrize("by", ["advisor", "technician"])
async def test_each_persons_figures_read_at_once_are_those_of_their_own_scope(
    db, users, by: str
) -> None:
    day = await third_of_november(db, users)
    # A promise moved by a call, and a clock left running for days, on the day too.
    db.add(PromiseChange(work_order_id=day.orders["o2"], old_at=at(11, 3, 14),
                         new_at=at(11, 3, 15), created_at=at(11, 3, 12)))  # fmt: skip
    task = await db.scalar(select(JobTask).where(JobTask.work_order_id == day.orders["o1"]))
    assert task is not None
    db.add(TimeEntry(task_id=task.id, technician_id=day.technician, started_at=at(10, 30, 8)))
    await db.commit()
    people = (
        [day.advisor_a, day.advisor_b] if by == "advisor" else [day.technician, day.technician_2]
    )
    idle = await db.scalar(select(StaffUser.id).where(StaffUser.username == "gone"))
    assert idle is not None
    found = await figures.compute_by(db, THIRD, day.shop, NOW, by, people=[idle])
    assert sorted(found) == sorted([*people, idle])
    for person in [*people, idle]:
        alone = await figures.compute(db, Scope(THIRD, **{f"{by}_id": person}), day.shop, NOW)
        assert found[person] == alone
    assert found[people[0]]["delivered"].value == 2  # not all the same figures
    assert found[idle]["delivered"].value == 0


async def test_each_persons_figures_take_a_handful_of_queries_however_many_people(
    db, users
) -> None:
    day = await third_of_november(db, users)
    engine = db.bind.sync_engine  # type: ignore[union-attr]
    statements: list[str] = []

    def count_it(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count_it)
    try:
        found = await figures.compute_by(db, THIRD, day.shop, NOW, "technician")
    finally:
        event.remove(engine, "before_cursor_execute", count_it)
    assert sorted(found) == sorted([day.technician, day.technician_2])
    assert len(statements) <= 22


@pytest.mark.parametrize(
    "who", [{}, {"advisor_id": "advisor_a"}, {"technician_id": "technician_2"}]
)
async def test_each_day_and_week_from_the_months_rows_is_what_compute_gives(
    db, users, who: dict[str, str]
) -> None:
    day = await third_of_november(db, users)
    task = await db.scalar(select(JobTask).where(JobTask.work_order_id == day.orders["o2"]))
    assert task is not None
    db.add_all([
        PromiseChange(work_order_id=day.orders["o2"], old_at=at(11, 3, 14),
                      new_at=at(11, 3, 15), created_at=at(11, 3, 12)),
        # Closed after days (not read for a day long after its start), running for days.
        TimeEntry(task_id=task.id, technician_id=day.technician_2, started_at=at(10, 29, 8),
                  finished_at=at(11, 3, 9)),
        TimeEntry(task_id=task.id, technician_id=day.technician, started_at=at(10, 30, 8)),
    ])  # fmt: skip
    await db.commit()
    which = {k: getattr(day, v) for k, v in who.items()}
    november = month_period(2026, 11, BEIJING)
    parts = [days(date(2026, 11, d), date(2026, 11, d), BEIJING) for d in range(1, 6)]
    parts.append(days(date(2026, 11, 2), date(2026, 11, 8), BEIJING))  # a week
    found = await figures.compute_parts(db, november, parts, day.shop, NOW, **which)
    for part, got in zip(parts, found, strict=True):
        assert got == await figures.compute(db, Scope(part, **which), day.shop, NOW), part
    if not who:
        assert [f["arrivals"].value for f in found] == [1, 1, 3, 1, 0, 5]

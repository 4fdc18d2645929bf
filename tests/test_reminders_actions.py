"""Acting from the reminder list: a send lands in the outbox in the customer's language
and is recorded; a double tap sends once; an opted-out customer or a sold car gets
nothing; a booking is refused in the past, outside opening hours or over an advisor's
day; the customer's answers take the car off the list as they should. Both databases."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.errors import Conflict, InvalidInput
from app.models import Appointment, Dealership, OutboundMessage, Recommendation, Role
from app.models.base import utcnow
from app.models.reminder import ReminderContact
from app.services.audit import Actor
from app.services.reminders import actions, booking
from app.services.reminders import due as due_list
from app.services.reminders.due import Horizon
from tests.reminders_helpers import BEIJING, NOW, TODAY, a_car, a_visit, at

H30 = Horizon(TODAY, 30, 1000, 15000)


async def _shop(db, capacity: int = 15) -> None:  # type: ignore[no-untyped-def]
    db.add(Dealership(code="D1", name="星辰丰田", phone="020-88886666",
                      advisor_daily_capacity=capacity))  # fmt: skip


async def _plates(db) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    await db.commit()
    return [(r.plate, r.kind) for r in await due_list.due(db, BEIJING, H30)]


async def _messages(db) -> list[OutboundMessage]:  # type: ignore[no-untyped-def]
    return list((await db.scalars(select(OutboundMessage).order_by(OutboundMessage.id))).all())


async def test_a_text_goes_to_the_outbox_in_chinese_and_is_recorded(db, settings, users) -> None:
    await _shop(db)
    car = await a_car(db, 1, km=13_600, km_at=at(9, 3))
    await a_visit(db, car, at(9, 3), 13_600, next_service_on=date(2026, 12, 10),
                  next_service_km=20_000)  # fmt: skip
    await db.commit()
    done = await actions.send(
        db, settings, car.id, "service", "sms", Actor(users[Role.ADVISOR]), NOW
    )
    await db.commit()
    (message,) = await _messages(db)
    assert (message.channel, message.recipient, message.status) == ("sms", "13900000001", "queued")
    assert message.body == (
        "尊敬的车主1：您的爱车Toyota RAV4（粤B00001）下次保养日期为2026年12月10日，"
        "或行驶至20,000公里，以先到者为准。\n"
        "如需预约，请致电星辰丰田（020-88886666），或直接回复本短信。"
    )
    contact = await db.scalar(select(ReminderContact))
    assert contact is not None
    assert done.contact.id == contact.id
    assert (contact.action, contact.channel, contact.message_id, contact.due_on) == (
        "sent", "sms", message.id, date(2026, 12, 10),
    )  # fmt: skip
    assert contact.by_id == users[Role.ADVISOR]
    # Still listed, with the reminder beside it.
    (row,) = await due_list.due(db, BEIJING, H30)
    assert row.sent == due_list.Sent(NOW, "sms")


async def test_an_english_customer_gets_an_english_email(db, settings, users) -> None:
    await _shop(db)
    car = await a_car(db, 1, locale="en", email="li@example.com",
                      insurance_due_on=date(2026, 12, 20))  # fmt: skip
    await db.commit()
    await actions.send(db, settings, car.id, "insurance", "email", Actor(users[Role.ADVISOR]), NOW)
    await db.commit()
    (message,) = await _messages(db)
    assert (message.channel, message.recipient) == ("email", "li@example.com")
    assert message.subject == "Insurance renewal reminder"
    assert message.body == (
        "Dear 车主1, the insurance of your Toyota RAV4 (粤B00001) expires on December 20, 2026.\n"
        "To book a visit, call 星辰丰田 on 020-88886666 or reply to this message."
    )


async def test_an_email_needs_an_address_on_file(db, settings, users) -> None:
    car = await a_car(db, 1, inspection_due_on=date(2026, 12, 20))
    await db.commit()
    with pytest.raises(InvalidInput) as refused:
        await actions.send(
            db, settings, car.id, "inspection", "email", Actor(users[Role.ADVISOR]), NOW
        )
    assert refused.value.field == "channel"
    await db.rollback()
    assert await _messages(db) == []


async def test_a_double_tap_sends_one_message(db, settings, users) -> None:
    car = await a_car(db, 1, inspection_due_on=date(2026, 12, 20))
    await db.commit()
    actor = Actor(users[Role.ADVISOR])
    first = await actions.send(db, settings, car.id, "inspection", "sms", actor, NOW)
    await db.commit()
    again = await actions.send(db, settings, car.id, "inspection", "sms", actor, at(12, 2, 10, 1))
    await db.commit()
    assert (again.already, again.contact.id) == (True, first.contact.id)
    assert len(await _messages(db)) == 1
    assert await db.scalar(select(func.count(ReminderContact.id))) == 1
    # A day later it is a second reminder, not a double tap.
    later = await actions.send(db, settings, car.id, "inspection", "sms", actor, at(12, 3, 11))
    assert later.already is False
    await db.commit()
    assert len(await _messages(db)) == 2


async def test_an_opted_out_customer_gets_nothing_and_leaves_the_list(db, settings, users) -> None:
    car = await a_car(db, 1, inspection_due_on=date(2026, 12, 20))
    await a_car(db, 2, inspection_due_on=date(2026, 12, 21))
    await db.commit()
    actor = Actor(users[Role.ADVISOR])
    with pytest.raises(InvalidInput) as refused:
        await actions.answer(db, settings, car.id, "inspection", "opt_out", actor, NOW)
    assert refused.value.field == "reason"
    await db.rollback()
    await actions.answer(db, settings, car.id, "inspection", "opt_out", actor, NOW,
                         reason="不想再收到短信")  # fmt: skip
    await db.commit()
    await db.refresh(car.customer)
    assert car.customer.reminders_opt_out_at == NOW
    assert car.customer.reminders_opt_out_reason == "不想再收到短信"
    assert await _plates(db) == [("粤B00002", "inspection")]
    with pytest.raises(Conflict):
        await actions.send(db, settings, car.id, "inspection", "sms", actor, NOW)
    await db.rollback()
    assert await _messages(db) == []


async def test_a_sold_car_is_marked_and_gets_nothing(db, settings, users) -> None:
    car = await a_car(db, 1, inspection_due_on=date(2026, 12, 20))
    await db.commit()
    actor = Actor(users[Role.ADVISOR])
    await actions.answer(db, settings, car.id, "inspection", "sold", actor, NOW)
    await db.commit()
    await db.refresh(car)
    assert car.sold_at == NOW
    assert await _plates(db) == []
    with pytest.raises(Conflict):
        await actions.send(db, settings, car.id, "inspection", "sms", actor, NOW)


async def test_not_now_snoozes_thirty_days_or_to_the_day_given(db, settings, users) -> None:
    car = await a_car(
        db, 1, inspection_due_on=date(2026, 12, 20), insurance_due_on=date(2026, 12, 21)
    )
    await db.commit()
    actor = Actor(users[Role.ADVISOR])
    done = await actions.answer(db, settings, car.id, "inspection", "not_now", actor, NOW)
    assert done.contact.snooze_until == date(2027, 1, 1)
    for wrong in ("2026-12-02", "2026-13-01", "2028-01-01"):
        with pytest.raises(InvalidInput) as refused:
            await actions.answer(db, settings, car.id, "insurance", "not_now", actor, NOW,
                                 snooze_until=wrong)  # fmt: skip
        assert refused.value.field == "snooze_until"
    done = await actions.answer(db, settings, car.id, "insurance", "not_now", actor, NOW,
                                snooze_until="2026-12-15")  # fmt: skip
    assert done.contact.snooze_until == date(2026, 12, 15)
    assert await _plates(db) == []
    await db.commit()
    later = Horizon(date(2026, 12, 16), 30, 1000, 15000)
    assert [r.kind for r in await due_list.due(db, BEIJING, later)] == ["insurance"]


async def test_done_elsewhere_closes_the_due_a_second_answer_is_refused(
    db, settings, users
) -> None:
    car = await a_car(db, 1, inspection_due_on=date(2026, 12, 20))
    await db.commit()
    actor = Actor(users[Role.ADVISOR])
    await actions.answer(db, settings, car.id, "inspection", "done_elsewhere", actor, NOW)
    await db.commit()
    assert await _plates(db) == []
    with pytest.raises(Conflict):
        await actions.answer(db, settings, car.id, "inspection", "done_elsewhere", actor, NOW)


@pytest.mark.parametrize(
    ("when", "field"),
    [
        ("2026-12-01T10:00", "scheduled_at"),  # yesterday
        ("2026-12-02T09:30", "scheduled_at"),  # half an hour ago
        ("2026-12-04T08:00", "scheduled_at"),  # before opening (08:30)
        ("2026-12-04T18:00", "scheduled_at"),  # at closing
        ("12/04/2026", "scheduled_at"),
        ("2026-12-04T10:00", "advisor_id"),  # the advisor's day is full
    ],
)
async def test_a_booking_that_cannot_be_kept_is_refused(db, settings, users, when, field) -> None:
    await _shop(db, capacity=1)
    car = await a_car(db, 1, inspection_due_on=date(2026, 12, 20))
    other = await a_car(db, 2)
    db.add(Appointment(customer_id=other.customer_id, vehicle_id=other.id,
                       advisor_id=users[Role.ADVISOR], scheduled_at=at(12, 4, 15)))  # fmt: skip
    await db.commit()
    with pytest.raises(InvalidInput) as refused:
        await booking.book(db, settings, car.id, "inspection", when, users[Role.ADVISOR],
                           Actor(users[Role.ADVISOR]), NOW)  # fmt: skip
    assert refused.value.field == field
    await db.rollback()
    assert await db.scalar(select(func.count(Appointment.id))) == 1


async def test_only_an_active_advisor_takes_a_booking(db, settings, users) -> None:
    car = await a_car(db, 1, inspection_due_on=date(2026, 12, 20))
    await db.commit()
    with pytest.raises(InvalidInput) as refused:
        await booking.book(db, settings, car.id, "inspection", "2026-12-04T10:00",
                           users[Role.TECHNICIAN], Actor(users[Role.ADVISOR]), NOW)  # fmt: skip
    assert refused.value.field == "advisor_id"


async def test_a_booking_makes_an_active_appointment(db, settings, users) -> None:
    await _shop(db, capacity=1)
    car = await a_car(db, 1, inspection_due_on=date(2026, 12, 20))
    await db.commit()
    done = await booking.book(db, settings, car.id, "inspection", "2026-12-05T09:00",
                              users[Role.ADVISOR], Actor(users[Role.ADVISOR]), NOW)  # fmt: skip
    await db.commit()
    appointment = await db.get(Appointment, done.contact.appointment_id)
    assert appointment is not None
    assert (appointment.scheduled_at, appointment.source, appointment.status) == (
        at(12, 5, 9), "active", "booked",
    )  # fmt: skip
    assert (appointment.vehicle_id, appointment.advisor_id) == (car.id, users[Role.ADVISOR])
    assert (done.contact.action, done.contact.kind) == ("booked", "inspection")
    assert await _plates(db) == []
    assert utcnow() > NOW


async def test_an_email_the_server_refuses_is_not_recorded_as_sent(db, settings, users) -> None:
    import socket
    from dataclasses import replace

    from app.services.outbound.mailer import MailNotSent

    with socket.socket() as closed:  # a port nobody listens on: the connection is refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    car = await a_car(db, 1, email="wu@example.com", inspection_due_on=date(2026, 12, 20))
    await db.commit()
    mailing = replace(settings, smtp_host="127.0.0.1", smtp_port=port)
    with pytest.raises(MailNotSent):
        await actions.send(
            db, mailing, car.id, "inspection", "email", Actor(users[Role.ADVISOR]), NOW
        )
    await db.rollback()
    (message,) = await _messages(db)
    assert (message.status, message.recipient) == ("failed", "wu@example.com")
    assert await db.scalar(select(func.count(ReminderContact.id))) == 0
    assert [r.sent for r in await due_list.due(db, BEIJING, H30)] == [None]


async def test_the_service_reminder_asks_again_about_what_was_declined(db, settings, users) -> None:
    await _shop(db)
    car = await a_car(db, 1, km=13_600, km_at=at(9, 3))
    visit = await a_visit(db, car, at(9, 3), 13_600, next_service_on=date(2026, 12, 10),
                          next_service_km=20_000)  # fmt: skip
    # The health check found the front pads red; the customer declined them then.
    db.add(Recommendation(vehicle_id=car.id, work_order_id=visit.id, declined_at=at(9, 3),
                          safety=True, text="前制动片厚度 2.2 mm"))  # fmt: skip
    await db.commit()
    await actions.send(db, settings, car.id, "service", "sms", Actor(users[Role.ADVISOR]), NOW)
    await db.commit()
    (message,) = await _messages(db)
    assert "上次我们还建议：前制动片厚度 2.2 mm。" in message.body

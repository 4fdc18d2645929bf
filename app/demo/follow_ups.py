"""A month of follow-up calls for the demo, through the real services: cars delivered
over the last 30 days (made as the demo makes its past visits), their calls scheduled
by `schedule_follow_up`, and calls logged with `log_attempt` at the time they were
made, so the queue holds a call in every state: due today (one a rework), overdue,
moved by "not convenient", retried, unreachable, declined, and reached with answers
(a few "no", one the record contradicts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.i18n import Formatter, locale_as
from app.models import CheckIn, Delivery, Role, Vehicle, WorkOrder, WorkOrderStatus
from app.services.audit import Actor
from app.services.delivery.follow_up import schedule_follow_up
from app.services.follow_ups import calls, dormant
from app.services.follow_ups.questions import QUESTIONS
from app.services.staff import sign_in as auth

MARK = "-F"  # in the order number: this module's orders (and whether it ran)


@dataclass(frozen=True)
class Visit:
    """One delivered car and what its calls were."""

    delivered_days_ago: float
    when: str = "any"  # the customer's preferred window
    accepted: bool = True
    rework: int = 0
    # (hours after the due time the call was made, outcome, answers that were "no")
    calls: tuple[tuple[float, str, dict[str, str]], ...] = ()
    greeted_minutes: int = 2
    late: bool = False  # ready after the promised time
    extra: dict[str, str] = field(default_factory=dict)


NO_CLEAN = {"car_clean": "后座脚垫没有清理干净"}
NO_READY = {"ready_on_time": "比约定时间晚了四十分钟"}
# The customer says they waited, but the record shows a greeting within two minutes.
NO_GREETED = {"greeted_promptly": "到店后等了很久才有人接待"}

VISITS = (
    Visit(2.9, "morning", rework=1),  # due today, a rework car: first
    Visit(2.8, "afternoon"),  # due today
    Visit(1, "evening"),  # upcoming
    Visit(5, "morning"),  # overdue
    Visit(4, "afternoon", calls=((-20, "not_convenient", {}),)),  # moved
    Visit(3.5, "morning", calls=((-12, "no_answer", {}),)),  # retried
    Visit(12, calls=((0, "no_answer", {}), (24, "no_answer", {}), (48, "wrong_number", {}))),
    Visit(6, accepted=False),  # declined: counted, never called
    Visit(8, "morning", calls=((-30, "reached", {}),)),
    Visit(14, calls=((-40, "reached", NO_CLEAN),)),
    Visit(20, "afternoon", late=True, calls=((-20, "no_answer", {}), (-2, "reached", NO_READY))),
    Visit(25, "evening", calls=((-30, "reached", NO_GREETED),)),
    Visit(28, calls=((-50, "reached", {}),)),
    Visit(210, "morning", calls=((-30, "reached", {}),)),  # not seen since: a dormant call
)


async def _relations(session: AsyncSession) -> Actor | None:
    user = await auth.find_by_username(session, "relations")
    if user is None or Role.CUSTOMER_RELATIONS not in user.roles:
        return None
    return Actor(user.id, device_id="demo-desk", roles=frozenset(r.value for r in user.roles))


async def _deliver(
    session: AsyncSession, vehicle: Vehicle, n: int, visit: Visit, now: datetime
) -> tuple[WorkOrder, CheckIn]:
    delivered = now - timedelta(days=visit.delivered_days_ago)
    arrived = delivered - timedelta(hours=6)
    promised = delivered + timedelta(minutes=-40 if visit.late else 20)
    order = WorkOrder(
        number=f"WO{arrived:%Y%m%d}{MARK}{n:03d}", status=WorkOrderStatus.DELIVERED,
        customer_id=vehicle.customer_id, vehicle_id=vehicle.id, created_at=arrived,
        signed_at=arrived + timedelta(minutes=25), promised_at=promised, delivered_at=delivered,
        rework_count=visit.rework, consent_follow_up=visit.accepted,
    )  # fmt: skip
    session.add(order)
    await session.flush()
    check_in = CheckIn(
        work_order_id=order.id, arrived_at=arrived,
        started_at=arrived + timedelta(minutes=visit.greeted_minutes),
        completed_at=arrived + timedelta(minutes=20), step="symptoms",
        follow_up_accepted=visit.accepted, follow_up_phone=vehicle.customer.phone,
        follow_up_when=visit.when,
    )  # fmt: skip
    session.add(check_in)
    session.add(
        Delivery(
            work_order_id=order.id, advice="下次保养时检查刹车片", delivered_at=delivered,
            next_service_on=(delivered + timedelta(days=180)).date(), old_parts_shown=True,
        )
    )  # fmt: skip
    await session.flush()
    await session.refresh(order)
    return order, check_in


async def month(session: AsyncSession, tz: ZoneInfo, now: datetime, currency: str) -> int:
    """The month of calls, once (safe to run again); returns the visits added."""
    done = await session.scalar(select(WorkOrder.id).where(WorkOrder.number.contains(MARK)))
    clerk = await _relations(session)
    if done or clerk is None:
        return 0
    vehicles = list((await session.scalars(select(Vehicle).order_by(Vehicle.id.desc()))).all())
    fmt = Formatter(tz.key, currency)
    for n, (visit, vehicle) in enumerate(zip(VISITS, vehicles, strict=False), start=1):
        order, check_in = await _deliver(session, vehicle, n, visit, now)
        task = await schedule_follow_up(session, order, check_in, order.delivered_at or now)
        await session.flush()
        due = task.due_at
        for hours, outcome, noes in visit.calls:
            at = due + timedelta(hours=hours)
            form = calls.CallForm(outcome=outcome, spoke_with="user", satisfaction="5")
            if outcome == "reached":
                form.answers = dict.fromkeys(QUESTIONS, "yes") | dict.fromkeys(noes, "no")
                form.answers["appointment_ready"] = "not_asked"
                form.remarks = dict(noes)
                form.satisfaction = "3" if noes else "5"
                form.comment = "服务顾问很耐心" if not noes else ""
            if outcome == "not_convenient":
                local = (now + timedelta(days=1)).astimezone(tz).replace(hour=10, minute=0)
                form.next_call_at = local.strftime("%Y-%m-%dT%H:%M")
            with locale_as("zh_CN"):
                await calls.log_attempt(
                    session, task.id, form, actor=clerk, now=at, fmt=fmt, version=None
                )
    await session.flush()
    # The customers of the older visits not seen since: a call each (reason dormant).
    await dormant.create_dormant_tasks(session, now, clerk)
    return len(VISITS)

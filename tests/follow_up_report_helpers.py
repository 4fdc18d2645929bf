"""A small November 2026 of follow-up calls and complaints, built from the models directly,
for the report's tests. Times are Beijing time (the test settings' timezone)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    Complaint,
    CorrectiveAction,
    Customer,
    Dealership,
    FollowUpAnswer,
    FollowUpAttempt,
    FollowUpTask,
    Role,
    Vehicle,
    WorkOrder,
    WorkOrderStatus,
)

BEIJING = ZoneInfo("Asia/Shanghai")
# What the order's record said beside each question at the call.
NOTES = {
    "walkaround": "09:02 当面铺设防护套并拍照",
    "ready_on_time": "承诺 17:00，16:40 交车",
    "car_clean": "交车照片未显示洗车",
}
# The report is read on 2 December: an action due on 25 November is overdue.
TODAY = date(2026, 12, 2)


def at(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BEIJING).astimezone(UTC)


async def an_order(db: AsyncSession, prefix: str, n: int) -> WorkOrder:
    customer = Customer(name=f"客户{prefix}{n}", phone=f"139{prefix}{n:04d}")
    vehicle = Vehicle(
        customer=customer, plate=f"粤B{prefix[:2]}{n:03d}", make="Toyota", model="RAV4"
    )
    order = WorkOrder(
        number=f"WO-{prefix}-{n:03d}",
        customer=customer,
        vehicle=vehicle,
        status=WorkOrderStatus.DELIVERED,
    )
    db.add(order)
    await db.flush()
    return order


async def a_call(
    db: AsyncSession,
    prefix: str,
    n: int,
    due: datetime,
    status: str = "reached",
    reason: str = "delivery",
) -> FollowUpTask:
    order = await an_order(db, prefix, n)
    task = FollowUpTask(
        work_order_id=order.id,
        customer_id=order.customer_id,
        vehicle_id=order.vehicle_id,
        contact_name=order.customer.name,
        due_at=due,
        phone="13900000000",
        reason=reason,
        status=status,
        call_allowed=status != "declined",
    )
    db.add(task)
    await db.flush()
    return task


async def an_attempt(
    db: AsyncSession,
    task: FollowUpTask,
    called_at: datetime,
    outcome: str,
    satisfaction: int | None = None,
    answers: tuple[tuple[str, str, str, str], ...] = (),
) -> FollowUpAttempt:
    """answers: (question, answer, record_verdict, remark)."""
    attempt = FollowUpAttempt(
        task_id=task.id, called_at=called_at, outcome=outcome, satisfaction=satisfaction,
        scale=5 if satisfaction is not None else None,
    )  # fmt: skip
    db.add(attempt)
    await db.flush()
    for question, answer, verdict, remark in answers:
        db.add(
            FollowUpAnswer(
                attempt_id=attempt.id,
                question=question,
                answer=answer,
                remark=remark,
                record_verdict=verdict,
                record_note=NOTES.get(question, ""),
            )
        )
    await db.flush()
    return attempt


async def november(
    db: AsyncSession, users: dict[Role, int], year: int = 2026, *, live: bool = False
) -> None:
    """4 delivery calls due (3 on time, 3 reached, 1 unreachable), 1 declined; 3 complaints
    received (one of each severity), 3 closed in November (48 h, 6 h and 192 h); two open
    actions (one overdue on TODAY) and one done.

    `live`: added to the e2e server's demo data (its dealership, another year), with
    nothing left open for the other screens' queues: the third complaint closed on the
    28th, every action done."""

    def when(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
        return at(month, day, hour, minute, year)

    if not live:
        db.add(Dealership(code="D1", name="Test", follow_up_scale=5))
    number = f"{year % 100:02d}11"
    t1 = await a_call(db, number, 1, when(11, 5, 18))
    await an_attempt(db, t1, when(11, 4, 15), "reached", 5, (
        ("walkaround", "yes", "supports", ""),
        ("ready_on_time", "no", "contradicts", "=cmd|' /C calc'!A0"),
        ("car_clean", "yes", "unsupported", "很干净"),
        ("estimate_before_work", "not_asked", "", ""),
    ))  # fmt: skip
    t2 = await a_call(db, number, 2, when(11, 10, 18))
    await an_attempt(db, t2, when(11, 10, 9), "no_answer")
    await an_attempt(db, t2, when(11, 11, 9), "reached", 4, (
        ("walkaround", "yes", "supports", ""),
        ("ready_on_time", "yes", "supports", ""),
        ("car_clean", "no", "", "车内有灰"),
    ))  # fmt: skip
    t3 = await a_call(db, number, 3, when(11, 15, 18))
    await an_attempt(db, t3, when(11, 16, 9), "reached", 3, (
        ("walkaround", "no", "", "没有一起看车"),
        ("ready_on_time", "yes", "supports", ""),
    ))  # fmt: skip
    t4 = await a_call(db, number, 4, when(11, 20, 18), status="unreachable")
    await an_attempt(db, t4, when(11, 19, 9), "no_answer")
    await an_attempt(db, t4, when(11, 21, 9), "wrong_number")
    await a_call(db, number, 5, when(11, 12, 18), status="declined")
    # Not November's delivery calls: due in October, and a complaint's check call.
    october = await a_call(db, number, 6, when(10, 31, 18))
    await an_attempt(db, october, when(10, 31, 9), "reached", 1, (("walkaround", "no", "", ""),))
    check = await a_call(db, number, 7, when(11, 22, 18), reason="complaint")
    await an_attempt(db, check, when(11, 22, 9), "reached", 1, (("car_clean", "no", "", ""),))

    order = await an_order(db, number, 8)
    manager = users[Role.SERVICE_MANAGER]
    complaints = [
        ("C-1", when(11, 3), when(11, 5), "general", "repair_quality", "dealer"),
        ("C-2", when(11, 8, 9), when(11, 8, 15), "serious", "repair_quality", "manufacturer"),
        ("C-3", when(11, 20), when(11, 28) if live else None, "escalated", "price", ""),
        ("C-4", when(10, 25), when(11, 2), "general", "time", "dealer"),  # October's, closed in Nov
    ]
    made = []
    for code, received, closed, severity, cause, responsibility in complaints:
        made.append(
            Complaint(
                number=code if year == 2026 else f"C{year}{code[1:]}",
                customer_id=order.customer_id,
                vehicle_id=order.vehicle_id,
                work_order_id=order.id,
                channel="phone",
                received_at=received,
                closed_at=closed,
                severity=severity,
                cause=cause,
                responsibility=responsibility,
                step="closed" if closed else "facts",
            )
        )
    db.add_all(made)
    await db.flush()
    db.add_all([
        CorrectiveAction(kind="corrective", description="=HYPERLINK(\"x\") 交车前复核清洁",
                         owner_id=manager, due_on=date(year, 11, 25), complaint_id=made[0].id,
                         done_at=when(11, 26) if live else None),
        CorrectiveAction(kind="preventive", description="服务顾问培训：交车说明",
                         owner_id=manager, due_on=date(year, 12, 10),
                         done_at=when(11, 27) if live else None),
        CorrectiveAction(kind="corrective", description="已完成的措施", owner_id=manager,
                         due_on=date(year, 11, 1), done_at=when(11, 2)),
    ])  # fmt: skip
    await db.commit()

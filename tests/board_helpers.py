"""A small day for the board's tests, 3 November 2026 (Beijing time), built from the
models with every timestamp stated, so each figure can be asserted exactly.

Three cars arrive on the 3rd (two booked; greeted after 3, 7 and 2 minutes; one at
23:30), one the evening before and one just after midnight on the 4th. Three are
delivered on the 3rd: o1 on time with the bill as signed, o2 late after a failed final
check with approved added work that makes the bill 70 more than the estimate, o5 (from
the 1st, a discount, a complaint). Two delivery calls are due on the 3rd, one made on
time, and a third the customer declined."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    Appointment,
    CheckIn,
    Complaint,
    Customer,
    Dealership,
    FollowUpAttempt,
    FollowUpTask,
    Inspection,
    Job,
    JobLine,
    JobTask,
    Role,
    Signature,
    StaffRole,
    StaffUser,
    Supplement,
    TimeEntry,
    Vehicle,
    WorkOrder,
    WorkOrderStatus,
)
from tests.follow_up_report_helpers import BEIJING, at

__all__ = ["BEIJING", "Day", "at", "third_of_november"]

# The board is read at 20:00 on the 3rd.
NOW = at(11, 3, 20)


@dataclass
class Day:
    advisor_a: int
    advisor_b: int
    technician: int  # users[Role.TECHNICIAN]
    technician_2: int
    orders: dict[str, int]  # "o1" … -> work order id
    shop: Dealership


async def _staff(db: AsyncSession, username: str, role: Role, *, active: bool = True) -> int:
    user = StaffUser(
        username=username, display_name=username.title(), password_hash="x",
        is_active=active, role_rows=[StaffRole(role=role)],
    )  # fmt: skip
    db.add(user)
    await db.flush()
    return user.id


async def _order(
    db: AsyncSession, name: str, advisor: int, *, booked: bool = False, **fields: object
) -> WorkOrder:
    customer = Customer(name=f"客户{name}", phone=f"1390000{len(name):04d}")
    vehicle = Vehicle(customer=customer, plate=f"粤B{name.upper()}88", make="Toyota", model="RAV4")
    db.add_all([customer, vehicle])
    await db.flush()
    appointment_id = None
    if booked:
        appointment = Appointment(
            customer_id=customer.id, vehicle_id=vehicle.id, advisor_id=advisor,
            scheduled_at=at(11, 3, 9),
        )  # fmt: skip
        db.add(appointment)
        await db.flush()
        appointment_id = appointment.id
    order = WorkOrder(
        number=f"WO-B-{name}", customer=customer, vehicle=vehicle, advisor_id=advisor,
        appointment_id=appointment_id, **{"status": WorkOrderStatus.DELIVERED, **fields},
    )  # fmt: skip
    db.add(order)
    await db.flush()
    return order


async def _arrive(
    db: AsyncSession,
    order: WorkOrder,
    arrived: datetime,
    started: datetime,
    completed: datetime | None = None,
) -> None:
    db.add(
        CheckIn(
            work_order_id=order.id, advisor_id=order.advisor_id, arrived_at=arrived,
            started_at=started, completed_at=completed,
        )
    )  # fmt: skip


async def _job(
    db: AsyncSession,
    order: WorkOrder,
    lines: list[tuple[str, str, str]],
    technician: int | None = None,
    *,
    supplement: int | None = None,
    declined: datetime | None = None,
) -> JobTask:
    """lines: (kind, quantity, unit price)."""
    job = Job(
        work_order_id=order.id, supplement_id=supplement, title="job", declined_at=declined,
        lines=[
            JobLine(kind=kind, code=f"{kind}-1", name_zh="项目", name_en="item",
                    quantity=Decimal(q), list_price=Decimal(p), unit_price=Decimal(p))
            for kind, q, p in lines
        ],
    )  # fmt: skip
    db.add(job)
    await db.flush()
    task = JobTask(job_id=job.id, work_order_id=order.id, technician_id=technician)
    db.add(task)
    await db.flush()
    return task


async def _sign(db: AsyncSession, order: WorkOrder, total: str, signed: datetime) -> None:
    """Signed after its jobs were priced (signed content is locked after)."""
    order.signed_at = signed
    db.add(_signature(order, total, signed))
    await db.flush()


def _signature(order: WorkOrder, total: str, signed: datetime) -> Signature:
    content = json.dumps({"totals": {"total": total}})
    digest = hashlib.sha256(content.encode()).hexdigest()
    return Signature(
        work_order_id=order.id, kind="work_order", signer_name="客户", signed_at=signed,
        locale="zh_CN", strokes=[], image_png=b"png", image_sha256=digest, content=content,
        content_hash=digest, seal_hash=digest,
    )  # fmt: skip


async def third_of_november(db: AsyncSession, users: dict[Role, int]) -> Day:  # noqa: PLR0915
    shop = Dealership(
        code="D1", name="Test", greeting_minutes=5, technician_hours_per_day=Decimal("7"),
        bill_tolerance_percent=Decimal("5"), tax_rate=Decimal("0"),
    )  # fmt: skip
    db.add(shop)
    a, b = users[Role.ADVISOR], await _staff(db, "advisor2", Role.ADVISOR)
    t, t2 = users[Role.TECHNICIAN], await _staff(db, "tech2", Role.TECHNICIAN)
    await _staff(db, "gone", Role.TECHNICIAN, active=False)  # not on the staff: no hours
    qc = users[Role.QC_INSPECTOR]

    o1 = await _order(
        db, "o1", a, booked=True, promised_at=at(11, 3, 16),
        delivered_at=at(11, 3, 16, 30),
    )  # fmt: skip
    await _arrive(db, o1, at(11, 3, 9), at(11, 3, 9, 3), at(11, 3, 9, 20))
    task1 = await _job(db, o1, [("labour", "2", "100"), ("part", "1", "50")], t)
    await _sign(db, o1, "250.00", at(11, 3, 9, 25))
    db.add(TimeEntry(task_id=task1.id, technician_id=t, started_at=at(11, 3, 10),
                     finished_at=at(11, 3, 12)))  # fmt: skip
    db.add(Inspection(work_order_id=o1.id, inspector_id=qc, round=1, passed=True,
                      created_at=at(11, 3, 15)))  # fmt: skip

    o2 = await _order(
        db, "o2", a, promised_at=at(11, 3, 14),
        delivered_at=at(11, 3, 15),
    )  # fmt: skip
    await _arrive(db, o2, at(11, 3, 10), at(11, 3, 10, 7), at(11, 3, 10, 37))
    task2 = await _job(db, o2, [("labour", "1.5", "100")], t2)
    await _job(db, o2, [("labour", "1", "100")], t2, declined=at(11, 3, 10, 30))
    await _sign(db, o2, "150.00", at(11, 3, 10, 40))
    approved = Supplement(work_order_id=o2.id, number=1, status="draft")
    draft = Supplement(work_order_id=o2.id, number=2, status="draft")
    db.add_all([approved, draft])
    await db.flush()
    await _job(db, o2, [("labour", "0.5", "100"), ("part", "1", "20")], t2, supplement=approved.id)
    await _job(db, o2, [("labour", "3", "100")], t2, supplement=draft.id)
    approved.status = "approved"  # priced as a draft, then approved by the customer
    db.add_all([
        TimeEntry(task_id=task2.id, technician_id=t2, started_at=at(11, 3, 11),
                  finished_at=at(11, 3, 12, 30)),
        TimeEntry(task_id=task2.id, technician_id=t2, started_at=at(11, 3, 19)),  # running
        Inspection(work_order_id=o2.id, inspector_id=qc, round=1, passed=False,
                   created_at=at(11, 3, 13)),
        Inspection(work_order_id=o2.id, inspector_id=qc, round=2, passed=True,
                   created_at=at(11, 3, 14, 30)),
    ])  # fmt: skip

    o3 = await _order(db, "o3", b, booked=True, status=WorkOrderStatus.CHECK_IN)
    await _arrive(db, o3, at(11, 3, 23, 30), at(11, 3, 23, 32))  # 15:30 UTC, still the 3rd
    o4 = await _order(db, "o4", b, status=WorkOrderStatus.CHECK_IN)
    await _arrive(db, o4, at(11, 2, 23, 50), at(11, 2, 23, 51))  # the evening before
    o9 = await _order(db, "o9", b, status=WorkOrderStatus.CHECK_IN)
    await _arrive(db, o9, at(11, 4, 0, 5), at(11, 4, 0, 6))  # the 4th, same UTC date

    o5 = await _order(
        db, "o5", b, delivered_at=at(11, 3, 11), discount_amount=Decimal("10"),
    )  # fmt: skip
    await _arrive(db, o5, at(11, 1, 9), at(11, 1, 9, 1), at(11, 1, 9, 30))
    task5 = await _job(db, o5, [("labour", "1", "100")], t)
    await _sign(db, o5, "90.00", at(11, 1, 10))
    db.add(TimeEntry(task_id=task5.id, technician_id=t, started_at=at(11, 2, 22),
                     finished_at=at(11, 3, 1)))  # fmt: skip

    # Delivery calls due at 18:00 on the 3rd: made at 10:00, made at 19:00, declined.
    calls = {}
    for name in ("o6", "o7", "o8"):
        order = await _order(db, name, b, delivered_at=at(10, 31, 17))
        declined = name == "o8"
        task = FollowUpTask(
            work_order_id=order.id, customer_id=order.customer_id, due_at=at(11, 3, 18),
            call_allowed=not declined, status="declined" if declined else "open",
        )  # fmt: skip
        db.add(task)
        await db.flush()
        calls[name] = order.id
        if name != "o8":
            called = at(11, 3, 10) if name == "o6" else at(11, 3, 19)
            db.add(FollowUpAttempt(task_id=task.id, called_at=called, outcome="no_answer"))

    def complaint(n: int, severity: str, received: datetime, closed: datetime | None) -> None:
        db.add(
            Complaint(
                number=f"C-B{n}", customer_id=o5.customer_id, work_order_id=o5.id,
                advisor_id=b, channel="phone", severity=severity, received_at=received,
                closed_at=closed,
            )
        )  # fmt: skip

    complaint(1, "general", at(11, 3, 12), None)  # open
    complaint(2, "escalated", at(10, 30), at(11, 3, 10))  # closed on the day
    complaint(3, "serious", at(11, 2), at(11, 4, 10))  # still open at the day's end
    complaint(4, "general", at(11, 4, 9), None)  # received the day after
    await db.commit()
    return Day(
        a, b, t, t2,
        {"o1": o1.id, "o2": o2.id, "o3": o3.id, "o4": o4.id, "o5": o5.id, "o9": o9.id, **calls},
        shop,
    )  # fmt: skip

"""A small November 2026 of delivered orders, built from the models, for the monthly
report's and the evening summary's tests. Times are Beijing time (the test timezone)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    REQUIRED_COVERS,
    CheckIn,
    CoverInstall,
    Customer,
    FollowUpAttempt,
    FollowUpTask,
    Inspection,
    Job,
    JobLine,
    JobTask,
    Photo,
    Role,
    Signature,
    SignatureKind,
    Supplement,
    SupplementStatus,
    TimeEntry,
    Vehicle,
    WorkOrder,
    WorkOrderStatus,
)

BEIJING = ZoneInfo("Asia/Shanghai")


def at(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BEIJING).astimezone(UTC)


def line(kind: str, code: str, quantity: str, price: str) -> JobLine:
    return JobLine(
        kind=kind, code=code, name_zh=code, name_en=code, quantity=Decimal(quantity),
        list_price=Decimal(price), unit_price=Decimal(price),
    )  # fmt: skip


@dataclass
class Visit:
    """What one delivered order's record holds; None/False where it holds nothing."""

    n: int
    delivered_at: datetime
    covers: int = 4
    photo: bool = True
    signed_at: datetime | None = None
    first_clock: datetime | None = None
    promised_at: datetime | None = None
    passed_at: datetime | None = None
    estimate: str | None = "100.00"
    labour: str = "100.00"  # the order's own job, priced now
    approved_extra: str | None = None  # an approved supplement's job, priced now
    deadline_at: datetime | None = None  # the delivery call's deadline
    first_call: datetime | None = None
    arrived_at: datetime | None = None  # 08:00 on 1 November without it


async def a_visit(db: AsyncSession, users: dict[Role, int], visit: Visit) -> WorkOrder:
    customer = Customer(name=f"客户{visit.n}", phone=f"1390000{visit.n:04d}")
    vehicle = Vehicle(customer=customer, plate=f"粤B{visit.n:05d}", make="Toyota", model="RAV4")
    order = WorkOrder(
        number=f"WO-M-{visit.n:03d}", customer=customer, vehicle=vehicle,
        status=WorkOrderStatus.DELIVERED, advisor_id=users[Role.ADVISOR],
        promised_at=visit.promised_at, delivered_at=visit.delivered_at,
    )  # fmt: skip
    db.add(order)
    await db.flush()
    arrived = visit.arrived_at or at(11, 1, 8)
    check_in = CheckIn(work_order_id=order.id, arrived_at=arrived, started_at=arrived)
    db.add(check_in)
    await db.flush()
    for kind in REQUIRED_COVERS[: visit.covers]:
        db.add(CoverInstall(check_in_id=check_in.id, kind=str(kind), installed_at=at(11, 1, 8)))
    if visit.photo:
        db.add(
            Photo(
                client_id=f"m-{visit.n}", check_in_id=check_in.id, sha256="0" * 64, width=1,
                height=1, bytes_received=1, source_format="jpeg",
            )
        )  # fmt: skip
    job = Job(work_order_id=order.id, title="保养", lines=[line("labour", "L1", "1", visit.labour)])
    db.add(job)
    if visit.approved_extra is not None:
        supplement = Supplement(work_order_id=order.id, number=1)  # a draft takes jobs
        db.add(supplement)
        await db.flush()
        db.add(
            Job(
                work_order_id=order.id, supplement_id=supplement.id, title="加项",
                source="finding", lines=[line("part", "P1", "1", visit.approved_extra)],
            )
        )  # fmt: skip
        await db.flush()
        supplement.status = SupplementStatus.APPROVED.value
    await db.flush()
    if visit.first_clock is not None:
        task = JobTask(job_id=job.id, work_order_id=order.id, technician_id=users[Role.TECHNICIAN])
        db.add(task)
        await db.flush()
        db.add(
            TimeEntry(
                task_id=task.id, technician_id=users[Role.TECHNICIAN],
                started_at=visit.first_clock, finished_at=visit.first_clock,
            )
        )  # fmt: skip
    if visit.passed_at is not None:
        db.add(
            Inspection(
                work_order_id=order.id, inspector_id=users[Role.QC_INSPECTOR], round=1,
                passed=True, created_at=visit.passed_at,
            )
        )  # fmt: skip
    if visit.estimate is not None:
        await db.refresh(order)
        order.signed_at = visit.signed_at or at(11, 1, 8, 30)
        content = json.dumps({"totals": {"total": visit.estimate}})
        db.add(
            Signature(
                work_order_id=order.id, kind=SignatureKind.WORK_ORDER.value, signer_name="王",
                signed_at=order.signed_at, locale="zh_CN", strokes=[], image_png=b"png",
                image_sha256="0" * 64, content=content, content_hash="c" * 64,
                seal_hash="s" * 64,
            )
        )  # fmt: skip
    if visit.deadline_at is not None:
        task_row = FollowUpTask(
            work_order_id=order.id, customer_id=order.customer_id, vehicle_id=order.vehicle_id,
            contact_name=customer.name, due_at=visit.deadline_at, deadline_at=visit.deadline_at,
            phone="13900000000",
        )  # fmt: skip
        db.add(task_row)
        await db.flush()
        if visit.first_call is not None:
            attempt = FollowUpAttempt(
                task_id=task_row.id, called_at=visit.first_call, outcome="reached"
            )
            db.add(attempt)
    await db.flush()
    return order

"""What the JSON API shows of work orders: typed shapes and the queries behind them.

The shapes are msgspec Structs so the OpenAPI schema documents them exactly.
Amounts are decimal strings ("180.00"): a JSON number would invite the
receiving system to read money as a binary float.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from app.models import CheckIn, Job, JobLine, Signature, SignatureKind, WorkOrder, WorkOrderStatus
from app.services.estimate import pricing
from app.services.estimate.pricing import Totals

MAX_PAGE = 200

Money = Annotated[
    str, msgspec.Meta(description="A decimal amount as a string", examples=["1234.50"])
]
Quantity = Annotated[
    str, msgspec.Meta(description="A decimal quantity as a string (hours for labour)")
]


class ApiError(msgspec.Struct, kw_only=True):
    """Every error the API answers, as the app's one error mapping writes it."""

    error: str
    status: int
    field: Annotated[str | None, msgspec.Meta(description="The query parameter at fault")]
    request_id: Annotated[
        str, msgspec.Meta(description="This request in the server's log: quote it with a problem")
    ]


class ApiCustomer(msgspec.Struct, kw_only=True):
    name: str
    phone: str


class ApiVehicle(msgspec.Struct, kw_only=True):
    vin: str | None
    plate: str
    make: str
    model: str
    year: int | None


class ApiWorkOrderSummary(msgspec.Struct, kw_only=True):
    number: str
    status: WorkOrderStatus
    created_at: datetime
    updated_at: datetime
    signed_at: datetime | None
    promised_at: datetime | None
    delivered_at: datetime | None
    customer: ApiCustomer
    vehicle: ApiVehicle


class ApiWorkOrderPage(msgspec.Struct, kw_only=True):
    items: list[ApiWorkOrderSummary]
    total: int
    limit: int
    offset: int
    next_offset: int | None


class ApiJobLine(msgspec.Struct, kw_only=True):
    code: str
    name_zh: str
    name_en: str
    kind: Annotated[str, msgspec.Meta(description='"labour" or "part"')]
    quantity: Quantity
    list_price: Money
    unit_price: Money
    amount: Money


class ApiJob(msgspec.Struct, kw_only=True):
    id: int
    title: str
    source: str
    warranty: bool
    declined: bool
    added_after_signing: bool
    amount: Money
    lines: list[ApiJobLine]


class ApiTotals(msgspec.Struct, kw_only=True):
    labour: Money
    parts: Money
    warranty: Money
    subtotal: Money
    discount: Money
    tax_rate: Annotated[str, msgspec.Meta(description="e.g. 0.1300 for 13 %")]
    tax: Money
    total: Money
    hours: Quantity


class ApiSignature(msgspec.Struct, kw_only=True):
    signed_at: datetime
    signer_name: str
    content_hash: Annotated[str, msgspec.Meta(description="SHA-256 of what the customer signed")]


class ApiWorkOrder(msgspec.Struct, kw_only=True):
    number: str
    status: WorkOrderStatus
    created_at: datetime
    updated_at: datetime
    signed_at: datetime | None
    promised_at: datetime | None
    delivered_at: datetime | None
    customer: ApiCustomer
    vehicle: ApiVehicle
    odometer_km: int | None
    fuel_eighths: int | None
    currency: str
    jobs: list[ApiJob]
    totals: Annotated[
        ApiTotals, msgspec.Meta(description="Everything to do, approved added work included")
    ]
    estimate_totals: Annotated[
        ApiTotals,
        msgspec.Meta(description="The estimate without added work: what the customer signed"),
    ]
    signature: ApiSignature | None


def _dec(value: Decimal, places: int = 2) -> str:
    return f"{value:.{places}f}"


def _summary(order: WorkOrder) -> ApiWorkOrderSummary:
    vehicle = order.vehicle
    return ApiWorkOrderSummary(
        number=order.number,
        status=order.status,
        created_at=order.created_at,
        updated_at=order.updated_at,
        signed_at=order.signed_at,
        promised_at=order.promised_at,
        delivered_at=order.delivered_at,
        customer=ApiCustomer(name=order.customer.name, phone=order.customer.phone),
        vehicle=ApiVehicle(
            vin=vehicle.vin,
            plate=vehicle.plate,
            make=vehicle.make,
            model=vehicle.model,
            year=vehicle.year,
        ),
    )


def _totals(totals: Totals) -> ApiTotals:
    return ApiTotals(
        labour=_dec(totals.labour),
        parts=_dec(totals.parts),
        warranty=_dec(totals.warranty),
        subtotal=_dec(totals.subtotal),
        discount=_dec(totals.discount),
        tax_rate=_dec(totals.tax_rate, 4),
        tax=_dec(totals.tax),
        total=_dec(totals.total),
        hours=_dec(totals.hours),
    )


def _line(line: JobLine) -> ApiJobLine:
    return ApiJobLine(
        code=line.code,
        name_zh=line.name_zh,
        name_en=line.name_en,
        kind=line.kind,
        quantity=_dec(line.quantity),
        list_price=_dec(line.list_price),
        unit_price=_dec(line.unit_price),
        amount=_dec(pricing.line_amount(line)),
    )


def _job(job: Job) -> ApiJob:
    return ApiJob(
        id=job.id,
        title=job.title,
        source=job.source,
        warranty=job.warranty,
        declined=job.declined_at is not None,
        added_after_signing=job.supplement_id is not None,
        amount=_dec(pricing.job_amount(job)),
        lines=[_line(line) for line in job.lines],
    )


async def list_orders(
    session: AsyncSession,
    *,
    status: WorkOrderStatus | None = None,
    updated_since: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> ApiWorkOrderPage:
    """Oldest change first, so a poller can page forward with `updated_since`."""
    limit = max(1, min(limit, MAX_PAGE))
    offset = max(0, offset)
    where = []
    if status is not None:
        where.append(WorkOrder.status == status)
    if updated_since is not None:
        if updated_since.tzinfo is None:
            updated_since = updated_since.replace(tzinfo=UTC)
        where.append(WorkOrder.updated_at >= updated_since)
    total = await session.scalar(select(func.count(WorkOrder.id)).where(*where)) or 0
    orders = (
        await session.scalars(
            select(WorkOrder)
            .where(*where)
            .order_by(WorkOrder.updated_at, WorkOrder.id)
            .limit(limit)
            .offset(offset)
        )
    ).all()
    return ApiWorkOrderPage(
        items=[_summary(order) for order in orders],
        total=total,
        limit=limit,
        offset=offset,
        next_offset=offset + limit if offset + limit < total else None,
    )


async def order_detail(session: AsyncSession, number: str, currency: str) -> ApiWorkOrder:
    order = await session.scalar(select(WorkOrder).where(WorkOrder.number == number))
    if order is None:
        # The API speaks to machines: its messages are plain English.
        raise NotFound(f"There is no work order with number {number!r}.")
    check_in = (
        await session.execute(
            select(CheckIn.odometer_km, CheckIn.fuel_eighths).where(
                CheckIn.work_order_id == order.id
            )
        )
    ).first()
    signature = None
    if order.signed_at is not None:
        # Only the columns shown: the signature image and strokes stay in the database.
        signed = (
            await session.execute(
                select(Signature.signed_at, Signature.signer_name, Signature.content_hash)
                .where(
                    Signature.work_order_id == order.id,
                    Signature.kind == SignatureKind.WORK_ORDER.value,
                )
                .order_by(Signature.signed_at.desc(), Signature.id.desc())
                .limit(1)
            )
        ).first()
        if signed is not None:
            signature = ApiSignature(
                signed_at=signed.signed_at,
                signer_name=signed.signer_name,
                content_hash=signed.content_hash,
            )
    jobs = await pricing.order_jobs(session, order, with_supplements=True)
    summary = _summary(order)
    return ApiWorkOrder(
        number=summary.number,
        status=summary.status,
        created_at=summary.created_at,
        updated_at=summary.updated_at,
        signed_at=summary.signed_at,
        promised_at=summary.promised_at,
        delivered_at=summary.delivered_at,
        customer=summary.customer,
        vehicle=summary.vehicle,
        odometer_km=check_in.odometer_km if check_in else None,
        fuel_eighths=check_in.fuel_eighths if check_in else None,
        currency=currency,
        jobs=[_job(job) for job in jobs],
        totals=_totals(await pricing.order_totals(session, order, with_supplements=True)),
        estimate_totals=_totals(await pricing.order_totals(session, order)),
        signature=signature,
    )

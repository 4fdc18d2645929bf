"""The signed records of a `bench.year` order, built from its rows before they are written.

Asking the app's own builders (`signing.content.work_order_content`,
`delivery.acceptance.content`) after the insert costs about forty statements an order,
25 minutes for a year; here the same records come from the rows in memory, through the
app's pure pieces (`job_record`, `compute_totals`, `symptoms.summary`, `_final_check`,
`applicable`) on unsaved model objects. `tests/test_year_of_data.py` verifies every
signature of a generated year with the app's verification, so a drift fails there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.i18n import locale_as
from app.models import (
    CheckIn,
    Concern,
    Dealership,
    Inspection,
    Job,
    JobLine,
    LineKind,
    PhotoStage,
    StaffUser,
    WorkOrder,
)
from app.services.check_in import symptoms
from app.services.delivery import acceptance
from app.services.delivery.handover import EXTERIOR
from app.services.estimate import pricing
from app.services.final_check import inspection as final_check
from app.services.signing.content import (
    WORK_ORDER_SCHEMA,
    amount,
    iso,
    job_record,
    quantity,
    totals_record,
)
from app.services.supplements.signed import SUPPLEMENT_SCHEMA

Row = dict[str, Any]


@dataclass(frozen=True)
class Shop:
    """What every record names: the dealership, the staff's names, the currency."""

    name: str
    address: str
    phone: str
    tax_rate: Decimal
    staff: dict[int, str]
    currency: str

    @classmethod
    async def load(cls, session: AsyncSession, currency: str) -> Shop:
        shop = await session.scalar(select(Dealership).order_by(Dealership.id).limit(1))
        if shop is None:
            raise RuntimeError("no dealership: load the demo first")
        staff = {u.id: u.display_name for u in await session.scalars(select(StaffUser))}
        return cls(shop.name, shop.address, shop.phone, shop.tax_rate, staff, currency)


@dataclass
class OrderRows:
    """One order's rows as they will be inserted."""

    order: Row
    customer: Row
    vehicle: Row
    check_in: Row
    covers: list[Row]
    belongings: list[Row]
    marks: list[Row]
    concerns: list[Row]
    photos: list[Row]
    jobs: list[tuple[Row, list[Row]]]
    inspections: list[Row]
    delivery: Row | None = None
    # Approved added work: each supplement with its jobs, and its signature's hash.
    added: list[tuple[Row, list[tuple[Row, list[Row]]]]] = field(default_factory=list)
    added_hashes: list[str] = field(default_factory=list)


def _jobs(jobs: list[tuple[Row, list[Row]]]) -> list[Job]:
    return [Job(**job, lines=[JobLine(**line) for line in lines]) for job, lines in jobs]


def _header(rows: OrderRows, shop: Shop) -> Row:
    """As `signing.content.header`: the dealership, the order, the customer, the car."""
    order, vehicle = rows.order, rows.vehicle
    return {
        "dealership": {"name": shop.name, "address": shop.address, "phone": shop.phone},
        "order": {
            "number": order["number"],
            "opened_at": iso(order["created_at"]),
            "advisor": shop.staff.get(order["advisor_id"], ""),
            "currency": shop.currency,
        },
        "customer": {"name": rows.customer["name"], "phone": rows.customer["phone"]},
        "vehicle": {
            key: vehicle[key] for key in ("vin", "plate", "make", "model", "year", "colour")
        },
    }


def _check_in(rows: OrderRows, locale: str) -> Row:
    ci = rows.check_in
    unsaved = CheckIn(
        concerns=[Concern(**c) for c in rows.concerns], road_test_consent=ci["road_test_consent"]
    )
    marks = {m["id"]: n for n, m in enumerate(rows.marks)}
    shown = [p for p in rows.photos if p["stage"] == PhotoStage.CHECK_IN.value]
    with locale_as(locale):
        read_back = symptoms.summary(unsaved, rows.customer["name"])
    return {
        "arrived_at": iso(ci["arrived_at"]),
        "odometer_km": ci["odometer_km"],
        "fuel_eighths": ci["fuel_eighths"],
        "warning_lights": sorted(ci["warning_lights"]),
        "checklist": {key: ci[key] for key in (
            "exterior_accessories_ok", "glass_ok", "onboard_tools_present",
            "spare_tyre_present", "warning_triangle_present", "valuables_advised")},
        "covers": sorted(c["kind"] for c in rows.covers),
        "covers_skip_reason": ci["covers_skip_reason"],
        "belongings": [{"kind": b["kind"], "count": b["count"]} for b in rows.belongings],
        "damage_marks": [
            {"x": round(m["x"], 4), "y": round(m["y"], 4), "kind": m["kind"],
             "severity": m["severity"], "note": m["note"]}
            for m in rows.marks
        ],
        "photos": [
            {"position": p["position"],
             "damage_mark": marks.get(p["damage_mark_id"]) if p["damage_mark_id"] else None,
             "sha256": p["sha256"]}
            for p in shown
        ],
        "concerns": [
            {"customer_words": c["customer_words"], **{f: c[f] for f in symptoms.W2H_FIELDS}}
            for c in rows.concerns
        ],
        "read_back": read_back,
        "road_test_consent": ci["road_test_consent"],
    }  # fmt: skip


def work_order(rows: OrderRows, shop: Shop, locale: str) -> Row:
    """As `signing.content.work_order_content` builds it from the database."""
    order = rows.order
    jobs = _jobs(rows.jobs)
    totals = pricing.compute_totals(jobs, order["discount_amount"], shop.tax_rate)
    unsaved = WorkOrder(discount_reason=order["discount_reason"])
    return {
        "schema": WORK_ORDER_SCHEMA,
        "locale": locale,
        **_header(rows, shop),
        "check_in": _check_in(rows, locale),
        "jobs": [job_record(job) for job in jobs],
        "totals": totals_record(totals, unsaved),
        "promised_at": iso(order["promised_at"]),
        "consents": {
            "authorise_up_to": amount(totals.total),
            "road_test": order["consent_road_test"],
            "keep_old_parts": order["consent_keep_old_parts"],
            "follow_up": order["consent_follow_up"],
        },
    }  # fmt: skip


def supplement(rows: OrderRows, added: Row, shop: Shop, locale: str, work_order_hash: str) -> Row:
    """As `supplements.signed.content` builds it: the added work, priced, bound to the
    signed work order, and the customer's decision."""
    [(_added, jobs)] = [pair for pair in rows.added if pair[0]["id"] == added["id"]]
    extra = pricing.compute_totals(_jobs(jobs), Decimal("0"), shop.tax_rate)
    unsaved = WorkOrder(discount_reason=rows.order["discount_reason"])
    return {
        "schema": SUPPLEMENT_SCHEMA,
        "locale": locale,
        **_header(rows, shop),
        "work_order_hash": work_order_hash,
        "supplement": {
            "number": added["number"],
            "note": added["note"],
            "promised_at": iso(added["promised_at"]),
        },
        "jobs": [job_record(job) for job in _jobs(jobs)],
        "totals": totals_record(extra, unsaved) | {"discount_reason": ""},
        "decision": added["status"],
    }


def _newest(rows: OrderRows, stage: PhotoStage) -> dict[str, Row]:
    photos = sorted(
        (p for p in rows.photos if p["stage"] == stage.value and p["position"]),
        key=lambda p: (p["uploaded_at"], p["id"]),
    )
    return {p["position"]: p for p in photos}


def delivery(rows: OrderRows, shop: Shop, locale: str, work_order_hash: str) -> Row:
    """As `delivery.acceptance.content` builds it (schema /2), with the approved added work
    (signed before) and without new damage (history has none)."""
    order, handed = rows.order, rows.delivery
    if handed is None:
        raise ValueError("an order's delivery record needs its delivery row")
    jobs = _jobs(rows.jobs)
    # The bill as `delivery.bill` prices it: the order, then each approved supplement alone.
    billed = pricing.compute_totals(jobs, order["discount_amount"], shop.tax_rate).total
    for _added, added_jobs in rows.added:
        billed += pricing.compute_totals(_jobs(added_jobs), Decimal("0"), shop.tax_rate).total
        jobs += _jobs(added_jobs)
    jobs.sort(key=lambda job: job.id)
    total = amount(billed)
    last = rows.inspections[-1] if rows.inspections else None
    passed = Inspection(**last) if last and last["passed"] else None
    inspector = StaffUser(display_name=shop.staff.get(last["inspector_id"], "")) if last else None
    unsaved_order = WorkOrder(
        consent_road_test=order["consent_road_test"],
        consent_keep_old_parts=order["consent_keep_old_parts"],
    )
    unsaved_check_in = CheckIn(road_test_consent=rows.check_in["road_test_consent"])
    applicable = final_check.applicable(unsaved_order, unsaved_check_in)
    before, after = _newest(rows, PhotoStage.CHECK_IN), _newest(rows, PhotoStage.DELIVERY)
    return {
        "schema": acceptance.DELIVERY_SCHEMA,
        "locale": locale,
        "currency": shop.currency,
        "order": {"number": order["number"], "rework_count": order["rework_count"]},
        "work_order_hash": work_order_hash,
        "supplements": [
            {"number": added["number"], "decision": added["status"], "hash": content_hash}
            for (added, _jobs_of), content_hash in zip(rows.added, rows.added_hashes, strict=True)
        ],
        "bill": {"signed_total": total, "total": total},
        "final_check": acceptance._final_check(
            passed, inspector if passed else None, applicable, acceptance.DELIVERY_SCHEMA
        ),
        "comparison": [
            {
                "position": p.value,
                "check_in": before[p.value]["sha256"],
                "delivery": after[p.value]["sha256"] if p.value in after else None,
            }
            for p in EXTERIOR
            if p.value in before
        ],
        "new_damage": [],
        "replaced_parts": [
            {
                "code": ln.code,
                "name_zh": ln.name_zh,
                "name_en": ln.name_en,
                "quantity": quantity(ln.quantity),
            }
            for job in jobs
            if job.declined_at is None
            for ln in job.lines
            if ln.kind == LineKind.PART
        ],
        "old_parts_returned": bool(order["consent_keep_old_parts"]),
        "old_parts_shown": bool(handed["old_parts_shown"]),
        "advice": handed["advice"],
        "next_service": {"on": iso(handed["next_service_on"]), "km": handed["next_service_km"]},
    }

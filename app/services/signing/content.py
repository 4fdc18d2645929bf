"""The canonical record of what the customer is shown and signs.

One function builds it from the database, both when the customer signs and
whenever the signature is verified, so a verification compares exactly the
same fields. The serialisation is canonical JSON (sorted keys, no spaces,
UTF-8, amounts as strings, times as UTC ISO 8601), hashed with SHA-256.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.i18n import locale_as
from app.models import (
    CheckIn,
    Dealership,
    Job,
    Photo,
    PhotoStage,
    StaffUser,
    WorkOrder,
)
from app.services.check_in import symptoms
from app.services.estimate import pricing

WORK_ORDER_SCHEMA = "walkaround.work_order/1"


def canonical_json(content: dict[str, Any]) -> bytes:
    return json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def iso(moment: datetime | date | None) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, datetime):
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.isoformat()


def amount(value: Decimal) -> str:
    return str(pricing.money(value))


def quantity(value: Decimal) -> str:
    """At the column's two places: a line just typed ("1") and read back ("1.00") sign alike."""
    return str(value.quantize(Decimal("0.01")))


def job_record(job: Job) -> dict[str, Any]:
    return {
        "title": job.title,
        "source": job.source,
        "warranty": job.warranty,
        "declined": job.declined_at is not None,
        "amount": amount(pricing.job_amount(job)),
        "lines": [
            {
                "kind": line.kind,
                "code": line.code,
                "name_zh": line.name_zh,
                "name_en": line.name_en,
                "quantity": quantity(line.quantity),
                "list_price": amount(line.list_price),
                "unit_price": amount(line.unit_price),
                "override_reason": line.override_reason,
                "amount": amount(pricing.line_amount(line)),
                "expected_on": iso(line.expected_on),
            }
            for line in job.lines
        ],
    }


def totals_record(totals: pricing.Totals, order: WorkOrder) -> dict[str, Any]:
    return {
        "labour": amount(totals.labour),
        "parts": amount(totals.parts),
        "warranty": amount(totals.warranty),
        "subtotal": amount(totals.subtotal),
        "discount": amount(totals.discount),
        "discount_reason": order.discount_reason,
        "tax_rate": str(totals.tax_rate),
        "tax": amount(totals.tax),
        "total": amount(totals.total),
    }


async def _check_in(session: AsyncSession, order: WorkOrder) -> dict[str, Any]:
    check_in = await session.scalar(select(CheckIn).where(CheckIn.work_order_id == order.id))
    if check_in is None:
        return {}
    photos = (
        await session.scalars(
            select(Photo)
            .where(Photo.check_in_id == check_in.id, Photo.stage == PhotoStage.CHECK_IN.value)
            .order_by(Photo.id)
        )
    ).all()
    marks = {m.id: n for n, m in enumerate(check_in.damage_marks)}
    return {
        "arrived_at": iso(check_in.arrived_at),
        "odometer_km": check_in.odometer_km,
        "fuel_eighths": check_in.fuel_eighths,
        "warning_lights": sorted(check_in.warning_lights or []),
        "checklist": {
            "exterior_accessories_ok": check_in.exterior_accessories_ok,
            "glass_ok": check_in.glass_ok,
            "onboard_tools_present": check_in.onboard_tools_present,
            "spare_tyre_present": check_in.spare_tyre_present,
            "warning_triangle_present": check_in.warning_triangle_present,
            "valuables_advised": check_in.valuables_advised,
        },
        "covers": sorted(c.kind for c in check_in.covers),
        "covers_skip_reason": check_in.covers_skip_reason,
        "belongings": [{"kind": b.kind, "count": b.count} for b in check_in.belongings],
        "damage_marks": [
            {
                "x": round(m.x, 4),
                "y": round(m.y, 4),
                "kind": m.kind,
                "severity": m.severity,
                "note": m.note,
            }
            for m in check_in.damage_marks
        ],
        "photos": [
            {
                "position": p.position,
                "damage_mark": marks.get(p.damage_mark_id) if p.damage_mark_id else None,
                "sha256": p.sha256,
            }
            for p in photos
        ],
        "concerns": [
            {
                "customer_words": c.customer_words,
                **{f: getattr(c, f) for f in symptoms.W2H_FIELDS},
            }
            for c in check_in.concerns
        ],
        "read_back": symptoms.summary(check_in, order.customer.name),
        "road_test_consent": check_in.road_test_consent,
    }


async def header(session: AsyncSession, order: WorkOrder, currency: str) -> dict[str, Any]:
    shop = await session.scalar(select(Dealership).order_by(Dealership.id).limit(1))
    advisor = await session.get(StaffUser, order.advisor_id) if order.advisor_id else None
    vehicle = order.vehicle
    return {
        "dealership": {
            "name": shop.name if shop else "",
            "address": shop.address if shop else "",
            "phone": shop.phone if shop else "",
        },
        "order": {
            "number": order.number,
            "opened_at": iso(order.created_at),
            "advisor": advisor.display_name if advisor else "",
            "currency": currency,
        },
        "customer": {"name": order.customer.name, "phone": order.customer.phone},
        "vehicle": {
            "vin": vehicle.vin,
            "plate": vehicle.plate,
            "make": vehicle.make,
            "model": vehicle.model,
            "year": vehicle.year,
            "colour": vehicle.colour,
        },
    }


async def work_order_content(
    session: AsyncSession, order: WorkOrder, locale: str, currency: str
) -> dict[str, Any]:
    """Everything the customer sees in review and signs (维修委托书)."""
    jobs = await pricing.order_jobs(session, order)
    shop = await pricing.dealership(session)
    totals = pricing.compute_totals(jobs, order.discount_amount, shop.tax_rate)
    with locale_as(locale):
        check_in = await _check_in(session, order)
    return {
        "schema": WORK_ORDER_SCHEMA,
        "locale": locale,
        **await header(session, order, currency),
        "check_in": check_in,
        "jobs": [job_record(j) for j in jobs],
        "totals": totals_record(totals, order),
        "promised_at": iso(order.promised_at),
        "consents": {
            "authorise_up_to": amount(totals.total),
            "road_test": order.consent_road_test,
            "keep_old_parts": order.consent_keep_old_parts,
            "follow_up": order.consent_follow_up,
        },
    }


@dataclass(frozen=True)
class Difference:
    path: str
    signed: Any
    now: Any


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out |= _flatten(item, f"{prefix}.{key}" if prefix else key)
        return out
    if isinstance(value, list):
        out = {}
        for index, item in enumerate(value):
            out |= _flatten(item, f"{prefix}[{index}]")
        if not value:
            out[prefix] = []
        return out
    return {prefix: value}


def differences(signed: dict[str, Any], now: dict[str, Any]) -> list[Difference]:
    """Field-by-field what changed between the signed record and the database."""
    before, after = _flatten(signed), _flatten(now)
    missing = object()
    found = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path, missing), after.get(path, missing)
        if old != new:
            found.append(
                Difference(path, None if old is missing else old, None if new is missing else new)
            )
    return found

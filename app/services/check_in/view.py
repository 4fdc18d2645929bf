"""What the check-in screens show: one context builder for every step page and fragment."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.i18n import _
from app.models import (
    REQUIRED_COVERS,
    STEPS,
    CheckIn,
    CoverKind,
    DamageKind,
    DiagramView,
    Photo,
    PhotoPosition,
    Recommendation,
    Step,
    WorkOrder,
)
from app.services.check_in import greeting, quick, symptoms
from app.services.check_in import steps as check_ins
from app.services.check_in.fields import FOLLOW_UP_TIMES, WARNING_LIGHTS
from app.services.check_in.walkaround import BELONGING_KINDS, MAX_PHOTOS_PER_MARK
from app.services.photos import receive as check_in_photos
from app.settings import Settings

GUIDED_POSITIONS = tuple(p for p in PhotoPosition if p != PhotoPosition.EXTRA)


def step_labels() -> dict[str, str]:
    return {Step.GREETING: _("Greeting"), Step.COVERS: _("Covers"),
            Step.WALKAROUND: _("Walkaround"), Step.SYMPTOMS: _("Symptoms")}  # fmt: skip


def labels() -> dict[str, dict[str, str]]:
    return {
        "covers": {
            CoverKind.SEAT: _("Seat cover"), CoverKind.STEERING_WHEEL: _("Steering-wheel cover"),
            CoverKind.GEAR_LEVER: _("Gear-lever cover"), CoverKind.FLOOR_MAT: _("Floor mat"),
            CoverKind.FENDER: _("Fender covers (optional)"),
        },
        "positions": {
            PhotoPosition.FRONT: _("Front"), PhotoPosition.FRONT_RIGHT: _("Front right"),
            PhotoPosition.RIGHT: _("Right side"), PhotoPosition.REAR_RIGHT: _("Rear right"),
            PhotoPosition.REAR: _("Rear"), PhotoPosition.REAR_LEFT: _("Rear left"),
            PhotoPosition.LEFT: _("Left side"), PhotoPosition.FRONT_LEFT: _("Front left"),
            PhotoPosition.INTERIOR: _("Interior"),
            PhotoPosition.DASHBOARD: _("Dashboard: odometer and warning lights"),
            PhotoPosition.BOOT: _("Boot and spare tyre"), PhotoPosition.EXTRA: _("Extra photos"),
        },
        "damage": {
            DamageKind.SCRATCH: _("Scratch"), DamageKind.DENT: _("Dent"),
            DamageKind.CHIP: _("Chip"), DamageKind.CRACK: _("Crack"),
            DamageKind.MISSING: _("Missing part"), DamageKind.OTHER: _("Other"),
        },
        "severity": {"1": _("Light"), "2": _("Medium"), "3": _("Severe")},
        "views": {
            DiagramView.TOP: _("Top"), DiagramView.FRONT: _("Front"),
            DiagramView.REAR: _("Rear"), DiagramView.LEFT: _("Left side"),
            DiagramView.RIGHT: _("Right side"),
        },
        "lights": {
            "engine": _("Engine"), "abs": _("ABS"), "airbag": _("Airbag"), "oil": _("Oil pressure"),
            "battery": _("Battery"), "brake": _("Brake"), "tyre_pressure": _("Tyre pressure"),
            "coolant": _("Coolant temperature"), "other": _("Other light"),
        },
        "belongings": {
            "phone": _("Phone"), "wallet": _("Wallet"), "bag": _("Bag"),
            "documents": _("Documents"), "child_seat": _("Child seat"),
            "umbrella": _("Umbrella"), "charger": _("Charger"), "sunglasses": _("Sunglasses"),
            "other": _("Other item"),
        },
        "follow_up": {"morning": _("Morning"), "afternoon": _("Afternoon"),
                      "evening": _("Evening"), "any": _("Any time")},
        "steps": step_labels(),
    }  # fmt: skip


async def step_context(
    session: AsyncSession, check_in: CheckIn, step: Step, settings: Settings
) -> dict[str, Any]:
    order = check_in.work_order
    vehicle = order.vehicle
    photos = await check_in_photos.of_check_in(session, check_in.id)
    by_position: dict[str, list[Photo]] = {}
    by_mark: dict[int, list[Photo]] = {}
    for photo in photos:
        if photo.damage_mark_id is not None:
            by_mark.setdefault(photo.damage_mark_id, []).append(photo)
        elif photo.position:
            by_position.setdefault(photo.position, []).append(photo)
    context: dict[str, Any] = {
        "check_in": check_in, "order": order, "vehicle": vehicle, "customer": order.customer,
        "step": step, "steps": [(s.value, step_labels()[s]) for s in STEPS],
        "step_index": STEPS.index(step),
        "steps_done": {t.step for t in check_in.timings if t.ended_at},
        "problems": check_ins.step_problems(check_in, step),
        "labels": labels(), "positions": GUIDED_POSITIONS, "photos_by_position": by_position,
        "photos_by_mark": by_mark, "max_mark_photos": MAX_PHOTOS_PER_MARK,
        "required_covers": REQUIRED_COVERS, "installed": {c.kind: c for c in check_in.covers},
        "cover_kinds": list(CoverKind), "damage_kinds": list(DamageKind),
        "warning_lights": WARNING_LIGHTS, "belonging_kinds": BELONGING_KINDS,
        "follow_up_times": FOLLOW_UP_TIMES, "w2h_labels": symptoms.w2h_labels(),
        "w2h_fields": symptoms.W2H_FIELDS, "quick_answers": symptoms.quick_answers(),
        "summary": symptoms.summary(check_in, order.customer.name),
        "region": settings.region,
    }  # fmt: skip
    if step == Step.GREETING:
        context["greeting"] = await greeting.load(session, check_in)
        context["usual_follow_up"] = await quick.usual_follow_up_time(session, check_in)
        context["history"] = (
            await session.scalars(
                select(WorkOrder)
                .where(WorkOrder.vehicle_id == vehicle.id, WorkOrder.id != order.id)
                .order_by(WorkOrder.created_at.desc())
                .limit(10)
            )
        ).all()
        context["declined"] = (
            await session.scalars(
                select(Recommendation)
                .where(
                    Recommendation.vehicle_id == vehicle.id, Recommendation.declined_at.is_not(None)
                )
                .order_by(Recommendation.declined_at.desc())
                .limit(10)
            )
        ).all()
    return context

"""The service manager's checklist per vehicle type: items, groups, units and limits.
An item is retired, never deleted (the checks that used it keep their copy)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from itertools import pairwise
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, Forbidden, InvalidInput
from app.i18n import _
from app.models import ChecklistItem, HealthGroup, Role, VehicleType
from app.services import audit
from app.services.audit import Actor
from app.services.health_check import rules
from app.services.records import get_or_404

LIMITS = ("physical_min", "red_below", "yellow_below", "yellow_above", "red_above",
          "physical_max")  # fmt: skip
MAX_LABEL = 120


def vehicle_type_labels() -> dict[str, str]:
    return {VehicleType.CAR: _("Car"), VehicleType.SUV: _("SUV"),
            VehicleType.EV: _("Electric car")}  # fmt: skip


def parse_vehicle_type(raw: str | None) -> str:
    if raw not in {t.value for t in VehicleType}:
        raise InvalidInput(_("Choose a type of vehicle."), field="vehicle_type")
    return str(raw)


async def items(session: AsyncSession, vehicle_type: str) -> list[ChecklistItem]:
    found = await session.scalars(
        select(ChecklistItem)
        .where(ChecklistItem.vehicle_type == vehicle_type)
        .order_by(ChecklistItem.active.desc(), ChecklistItem.position, ChecklistItem.id)
    )
    return list(found)


def _limits(form: Mapping[str, Any], unit: str | None) -> dict[str, Decimal | None]:
    """Read and check the limits: low to high as LIMITS lists them; none without a unit."""
    found: dict[str, Decimal | None] = {}
    for name in LIMITS:
        try:
            found[name] = rules.parse_measurement(form.get(name))
        except InvalidInput as exc:
            raise InvalidInput(exc.message, field=name) from exc
    given = [(name, value) for name, value in found.items() if value is not None]
    if given and not unit:
        raise InvalidInput(_("An item with limits needs its unit (mm, kPa, %…)."), field="unit")
    for (_low_name, low), (high_name, high) in pairwise(given):
        if low > high:
            raise InvalidInput(
                _("The limits must rise in this order: physical minimum, red below, yellow "
                  "below, yellow above, red above, physical maximum."),
                field=high_name,
            )  # fmt: skip
    return found


def _apply(item: ChecklistItem, form: Mapping[str, Any]) -> None:
    label_zh = " ".join(str(form.get("label_zh", "")).split())[:MAX_LABEL]
    label_en = " ".join(str(form.get("label_en", "")).split())[:MAX_LABEL]
    if not label_zh:
        raise InvalidInput(_("Name the item in Chinese."), field="label_zh")
    if not label_en:
        raise InvalidInput(_("Name the item in English."), field="label_en")
    group = str(form.get("group", ""))
    if group not in {g.value for g in HealthGroup}:
        raise InvalidInput(_("Choose the item's group."), field="group")
    unit = " ".join(str(form.get("unit", "")).split())[:16] or None
    for name, value in _limits(form, unit).items():
        setattr(item, name, value)
    item.label_zh, item.label_en, item.group, item.unit = label_zh, label_en, group, unit
    item.safety = form.get("safety") == "1"
    item.labour_code = str(form.get("labour_code", "")).strip()[:40] or None
    item.part_code = str(form.get("part_code", "")).strip()[:40] or None


def _manager(actor: Actor) -> None:
    if not actor.has_role(Role.SERVICE_MANAGER.value):
        raise Forbidden(_("Only the service manager changes the checklist."))


async def update(
    session: AsyncSession, item_id: int, form: Mapping[str, Any], actor: Actor
) -> ChecklistItem:
    _manager(actor)
    item = await get_or_404(session, ChecklistItem, item_id, _("That item does not exist."))
    _apply(item, form)
    item.active = form.get("active") == "1"
    audit.record(session, actor, "health_checklist.updated", "health_checklist_item", item.id)
    return item


async def add(
    session: AsyncSession, vehicle_type: str, form: Mapping[str, Any], actor: Actor
) -> ChecklistItem:
    _manager(actor)
    vehicle_type = parse_vehicle_type(vehicle_type)
    label_en = " ".join(str(form.get("label_en", "")).split()).lower()
    key = "".join(c if c.isalnum() else "_" for c in label_en)[:40].strip("_")
    if not key:
        raise InvalidInput(_("Name the item in English."), field="label_en")
    taken = await session.scalar(
        select(ChecklistItem.id).where(
            ChecklistItem.vehicle_type == vehicle_type, ChecklistItem.key == key
        )
    )
    if taken:
        raise Conflict(_("This type of vehicle already has an item of that name."))
    last = await session.scalar(
        select(func.max(ChecklistItem.position)).where(ChecklistItem.vehicle_type == vehicle_type)
    )
    item = ChecklistItem(vehicle_type=vehicle_type, key=key, position=(last or 0) + 1)
    _apply(item, form)
    session.add(item)
    await session.flush()
    audit.record(session, actor, "health_checklist.added", "health_checklist_item", item.id)
    return item

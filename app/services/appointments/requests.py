"""What to offer for a vehicle when booking (menu packages due at the projected mileage,
declined work offered again, catalogue items), and reading the booking form into the
core's BookingInput."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.i18n import _, get_locale
from app.models import LabourOperation, MenuPackage, Part, Recommendation, Vehicle
from app.models.appointment import (
    BRING_ITEMS,
    Appointment,
    AppointmentChannel,
    AppointmentJob,
    AppointmentJobSource,
    AppointmentStatus,
)
from app.services.appointments.estimate import JobInput
from app.services.catalogue.packages import package_price
from app.services.check_in.symptoms import W2H_FIELDS, quick_answers
from app.services.estimate.menus import due_packages
from app.services.reminders import projection
from app.settings import Settings

# The channels a person books through on these screens (the API and reminders have theirs).
FORM_CHANNELS = (AppointmentChannel.PHONE.value, AppointmentChannel.DESK.value)
DEFAULT_BRING = ("service_book", "key")
MAX_WORDS = 1000
MAX_NOTES = 500
MAX_ITEMS = 20


def values(form: Mapping[str, Any], name: str) -> list[str]:
    raw = form.get(name, [])
    return [str(v) for v in (raw if isinstance(raw, list) else [raw]) if str(v) != ""]


def one(form: Mapping[str, Any], name: str) -> str:
    found = values(form, name)
    return found[-1].strip() if found else ""


def ident(raw: str, name: str) -> int:
    """An id from the form; one no table can hold is refused."""
    if not (raw.isdigit() and 0 < len(raw) <= 9):
        raise InvalidInput(_("Some of the information sent was not valid."), field=name)
    return int(raw)


def _ids(form: Mapping[str, Any], name: str) -> list[int]:
    ids: list[int] = []
    for raw in values(form, name):
        if not (raw.isdigit() and len(raw) <= 9):
            raise InvalidInput(_("Some of the information sent was not valid."), field=name)
        if int(raw) not in ids:
            ids.append(int(raw))
    return ids


def _name(row: Any) -> str:
    return str(row.name_zh if get_locale().startswith("zh") else row.name_en)


@dataclass(frozen=True)
class Item:
    """A catalogue item picked for the booking: "labour:12" or "part:5"."""

    key: str
    kind: str
    id: int
    code: str
    name: str
    price: Decimal


@dataclass
class Offers:
    """What the booking form offers for one vehicle."""

    vehicle: Vehicle
    projected_km: int | None
    projected_on: date
    packages: list[tuple[MenuPackage, Decimal]] = field(default_factory=list)
    others: list[tuple[MenuPackage, Decimal]] = field(default_factory=list)  # not due now
    declined: list[Recommendation] = field(default_factory=list)


async def offers(session: AsyncSession, settings: Settings, vehicle: Vehicle, on: date) -> Offers:
    """Menu packages due at the mileage the car is projected to show on `on`, and the
    work declined before that is not booked or done since."""
    found = await projection.for_vehicle(session, settings.tz, vehicle.id)
    km = found.km_on(on)
    packages = list((await session.scalars(select(MenuPackage).order_by(MenuPackage.id))).all())
    due = due_packages(packages, km)
    others = sorted((p for p in packages if p not in due), key=lambda p: p.interval_km)
    return Offers(
        vehicle, km, on,
        [(p, package_price(p)) for p in due],
        [(p, package_price(p)) for p in others],
        await declined(session, vehicle.id),
    )  # fmt: skip


async def declined(session: AsyncSession, vehicle_id: int) -> list[Recommendation]:
    """Declined work on the car, newest first, unless a live booking already carries it."""
    booked = (
        select(AppointmentJob.recommendation_id)
        .join(Appointment, Appointment.id == AppointmentJob.appointment_id)
        .where(
            AppointmentJob.recommendation_id.is_not(None),
            Appointment.status.in_(
                (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED, AppointmentStatus.CHECKED_IN)
            ),
        )
    )
    rows = await session.scalars(
        select(Recommendation)
        .where(
            Recommendation.vehicle_id == vehicle_id,
            Recommendation.declined_at.is_not(None),
            Recommendation.id.not_in(booked),
        )
        .order_by(Recommendation.declined_at.desc(), Recommendation.id.desc())
        .limit(10)
    )
    return list(rows.all())


def _item_key(raw: str) -> tuple[str, int]:
    kind, _sep, ident = raw.partition(":")
    if kind not in ("labour", "part") or not (ident.isdigit() and len(ident) <= 9):
        raise InvalidInput(_("Some of the information sent was not valid."), field="item")
    return kind, int(ident)


async def items(session: AsyncSession, keys: list[str]) -> list[Item]:
    """The picked catalogue items, in the order picked; an unknown one is refused."""
    if len(keys) > MAX_ITEMS:
        raise InvalidInput(_("At most %(n)s catalogue items.", n=MAX_ITEMS), field="item")
    found: list[Item] = []
    for raw in dict.fromkeys(keys):
        kind, ident = _item_key(raw)
        if kind == "labour":
            op = await session.get(LabourOperation, ident)
            if op is not None:
                amount = op.labour_rate * op.flat_rate_hours
                found.append(Item(raw, kind, ident, op.code, _name(op), amount))
                continue
        else:
            part = await session.get(Part, ident)
            if part is not None:
                found.append(Item(raw, kind, ident, part.number, _name(part), part.price))
                continue
        raise InvalidInput(_("This catalogue item no longer exists."), field="item")
    return found


def chips(form: Mapping[str, Any]) -> list[str]:
    """The 5W2H tap choices picked, only those the form offered."""
    offered = {a for answers in quick_answers().values() for a in answers}
    return [c for c in dict.fromkeys(values(form, "chip")) if c in offered]


def chip_groups() -> list[tuple[str, list[str]]]:
    answers = quick_answers()
    return [(name, answers[name]) for name in W2H_FIELDS if name in answers]


async def jobs(session: AsyncSession, vehicle_id: int, form: Mapping[str, Any]) -> list[JobInput]:
    """The requested work the form asks for, each checked against the catalogue and the
    car's own declined work."""
    result: list[JobInput] = []
    for package_id in _ids(form, "menu"):
        package = await session.get(MenuPackage, package_id)
        if package is None:
            raise InvalidInput(_("This menu package no longer exists."), field="menu")
        result.append(
            JobInput(AppointmentJobSource.MENU.value, _name(package), menu_package_id=package.id)
        )
    offered = {r.id: r for r in await declined(session, vehicle_id)}
    for rec_id in _ids(form, "declined"):
        if rec_id not in offered:
            raise InvalidInput(
                _("This declined work is no longer open for this vehicle."), field="declined"
            )
        result.append(
            JobInput(
                AppointmentJobSource.DECLINED.value, offered[rec_id].text, recommendation_id=rec_id
            )
        )
    words = one(form, "words")
    if len(words) > MAX_WORDS:
        raise InvalidInput(_("At most %(n)s characters.", n=MAX_WORDS), field="words")
    picked = chips(form)
    if words or picked:
        sep = "、" if get_locale().startswith("zh") else ", "
        title = words or sep.join(picked)
        result.append(
            JobInput(
                AppointmentJobSource.CONCERN.value,
                title[:200],
                customer_words=json.dumps({"words": words, "chips": picked}, ensure_ascii=False),
            )
        )
    for item in await items(session, values(form, "item")):
        result.append(
            JobInput(
                AppointmentJobSource.MANUAL.value,
                f"{item.code} {item.name}",
                lines=[(item.kind, item.id, Decimal("1"))],
            )
        )
    return result


def bring(form: Mapping[str, Any], *, sent: bool) -> list[str]:
    """What to bring: the defaults until the form was sent once (then as ticked)."""
    if not sent:
        return list(DEFAULT_BRING)
    return [b for b in BRING_ITEMS if b in values(form, "bring")]


def odometer(form: Mapping[str, Any]) -> int | None:
    raw = one(form, "odometer_km").replace(",", "").replace(" ", "")
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 7:
        raise InvalidInput(_("Type the odometer in whole km."), field="odometer_km")
    return int(raw)


def advisor(form: Mapping[str, Any], name: str = "advisor_id") -> int | None:
    raw = one(form, name)
    if not raw:
        return None
    if not (raw.isdigit() and len(raw) <= 9):
        raise InvalidInput(_("Choose the advisor for the visit."), field=name)
    return int(raw)


def channel(form: Mapping[str, Any]) -> str:
    raw = one(form, "channel") or AppointmentChannel.PHONE.value
    if raw not in FORM_CHANNELS:
        raise InvalidInput(_("Choose how the customer is booking."), field="channel")
    return raw


def notes(form: Mapping[str, Any]) -> str:
    text = one(form, "notes")
    if len(text) > MAX_NOTES:
        raise InvalidInput(_("At most %(n)s characters.", n=MAX_NOTES), field="notes")
    return text

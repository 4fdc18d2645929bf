"""New customers and vehicles at the counter (walk-ins)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.i18n import _
from app.models import Customer, Vehicle
from app.services import audit, phones, plates, vin
from app.services.audit import Actor


@dataclass(frozen=True)
class NewVehicle:
    name: str
    phone: str
    plate: str
    vin: str
    make: str
    model: str
    year: str = ""
    colour: str = ""
    vin_override: bool = False


def check_vin(raw: str, region_requires_check_digit: bool, override: bool) -> str:
    """Normalised VIN, or InvalidInput. A wrong check digit is an error where the
    region requires it and a warning the advisor may override elsewhere."""
    result = vin.check(raw)
    if result.problem == "length":
        raise InvalidInput(_("A VIN has 17 characters."), field="vin")
    if result.problem == "characters":
        raise InvalidInput(_("A VIN has only digits and letters, never I, O or Q."), field="vin")
    if result.problem == "check_digit" and (region_requires_check_digit or not override):
        message = _(
            "The VIN's check digit (9th character) should be %(digit)s: "
            "check for a mistyped character.",
            digit=result.expected_check_digit,
        )
        if not region_requires_check_digit:
            message += " " + _("If the VIN is right as typed, tick “VIN checked” to keep it.")
        raise InvalidInput(message, field="vin")
    return result.vin


_WIDTHS = {"name": 120, "phone": 40, "make": 60, "model": 60, "colour": 40}


async def create_with_vehicle(
    session: AsyncSession, data: NewVehicle, region: str, actor: Actor
) -> Vehicle:
    # The columns' widths: longer text is refused, never cut short without a word.
    for field, limit in _WIDTHS.items():
        if len(getattr(data, field).strip()) > limit:
            raise InvalidInput(_("At most %(n)s characters.", n=limit), field=field)
    name = data.name.strip()
    if not name:
        raise InvalidInput(_("Enter the customer's name."), field="name")
    if not data.phone.strip():
        raise InvalidInput(_("Enter a phone number."), field="phone")
    phone = phones.check(data.phone, region)
    plate = plates.normalise(data.plate)
    if not plates.is_valid(plate, region):
        raise InvalidInput(
            _("%(plate)s is not a valid plate here.", plate=plate or "—"), field="plate"
        )
    vin_value = (
        check_vin(data.vin, vin.requires_check_digit(region), data.vin_override)
        if data.vin.strip()
        else None
    )
    if vin_value and await session.scalar(select(Vehicle.id).where(Vehicle.vin == vin_value)):
        raise InvalidInput(
            _("A vehicle with this VIN is already on file: search for it."), field="vin"
        )
    if not data.make.strip() or not data.model.strip():
        raise InvalidInput(_("Enter the make and model."), field="make")
    year = None
    if data.year.strip():
        if not data.year.strip().isdigit() or not 1950 <= int(data.year) <= 2100:
            raise InvalidInput(_("Enter the model year, e.g. 2021."), field="year")
        year = int(data.year)
    customer = Customer(name=name, phone=phone)
    vehicle = Vehicle(
        customer=customer,
        vin=vin_value,
        plate=plate,
        make=data.make.strip(),
        model=data.model.strip(),
        year=year,
        colour=data.colour.strip(),
    )
    session.add_all([customer, vehicle])
    await session.flush()
    audit.record(session, actor, "vehicle_created", "vehicle", vehicle.id, plate=plate)
    return vehicle

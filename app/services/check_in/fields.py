"""Autosave: the fields each step's form sends, parsed and checked all at once.

A form posts all of its fields on every change; either every field is valid
and saved, or nothing is saved and the first problem names its field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app import parsing
from app.errors import InvalidInput
from app.i18n import _
from app.models import CheckIn, Step, Vehicle
from app.models.base import utcnow
from app.services import audit, phones
from app.services.audit import Actor
from app.services.check_in.steps import bump_version
from app.services.reminders import projection as odometer_projection

MAX_ODOMETER_KM = 2_000_000
# More than this per day since the last reading (or 100,000 km at once) needs a second look.
PLAUSIBLE_KM_PER_DAY = 1_000
PLAUSIBLE_JUMP_KM = 100_000
# A reading this far from what the car's own readings project for today (or half the km
# projected since its last reading, if more) asks for a second look: one typo would put
# every service reminder for the car on the wrong day.
PROJECTION_MARGIN_KM = 5_000
PROJECTION_MARGIN_SHARE = 0.5
FOLLOW_UP_TIMES = ("morning", "afternoon", "evening", "any")
WARNING_LIGHTS = ("engine", "abs", "airbag", "oil", "battery", "brake", "tyre_pressure",
                  "coolant", "other")  # fmt: skip

Form = Mapping[str, Any]


class FieldError(ValueError):
    """A field's value is wrong; the message is for the user."""


def _text(limit: int) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = str(value or "").strip()
        if len(text) > limit:
            raise FieldError(_("At most %(n)s characters.", n=limit))
        return text

    return parse


def _optional_bool(value: Any) -> bool | None:
    if value in (None, ""):
        return None
    return parsing.flag(value)


def _choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if value in (None, ""):
            return ""
        if value not in options:
            raise FieldError(_("Choose one of the options."))
        return str(value)

    return parse


def _lights(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    chosen = [v for v in values if v]
    if any(v not in WARNING_LIGHTS for v in chosen):
        raise FieldError(_("Choose one of the options."))
    return sorted(set(chosen))


def _fuel(value: Any) -> int | None:
    if value in (None, ""):
        return None
    eighths = int(value)
    if not 0 <= eighths <= 8:
        raise FieldError(_("Fuel is between empty and full."))
    return eighths


def _odometer(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        km = int(str(value).replace(",", "").replace(" ", ""))
    except ValueError as exc:
        raise FieldError(_("Enter the odometer in whole kilometres.")) from exc
    if km < 0 or km > MAX_ODOMETER_KM:
        raise FieldError(_("%(km)s km is not a possible odometer reading.", km=km))
    return km


STEP_FIELDS: dict[Step, dict[str, Callable[[Any], Any]]] = {
    Step.GREETING: {
        "contact_phone": _text(40),
        "contact_confirmed": parsing.flag,
        "follow_up_accepted": _optional_bool,
        "follow_up_phone": _text(40),
        "follow_up_when": _choice(FOLLOW_UP_TIMES),
    },
    Step.COVERS: {"covers_skip_reason": _text(500)},
    Step.WALKAROUND: {
        "exterior_accessories_ok": _optional_bool,
        "glass_ok": _optional_bool,
        "onboard_tools_present": _optional_bool,
        "spare_tyre_present": _optional_bool,
        "warning_triangle_present": _optional_bool,
        "valuables_advised": parsing.flag,
        "warning_lights": _lights,
        "odometer_km": _odometer,
        "odometer_jump_confirmed": parsing.flag,
        "fuel_eighths": _fuel,
    },
    Step.SYMPTOMS: {"road_test_consent": _optional_bool},
}


def _check_odometer(values: dict[str, Any], vehicle: Vehicle) -> None:
    km = values.get("odometer_km")
    last = vehicle.last_odometer_km
    if km is None or last is None:
        return
    if km < last:
        raise InvalidInput(
            _(
                "%(km)s km is lower than the %(last)s km recorded at the last visit. "
                "Check the reading.",
                km=f"{km:,}",
                last=f"{last:,}",
            ),
            field="odometer_km",
        )
    days = max((utcnow() - vehicle.last_odometer_at).days, 1) if vehicle.last_odometer_at else 365
    allowed = min(PLAUSIBLE_JUMP_KM, days * PLAUSIBLE_KM_PER_DAY)
    if km - last > allowed and not values.get("odometer_jump_confirmed"):
        raise InvalidInput(
            _(
                "%(km)s km is %(jump)s km more than at the last visit. "
                "Tick the confirmation if the reading is right.",
                km=f"{km:,}",
                jump=f"{km - last:,}",
            ),
            field="odometer_km",
        )


async def _check_projection(
    session: AsyncSession, values: dict[str, Any], vehicle: Vehicle
) -> None:
    """After the checks above: a reading far off the car's own projection needs the same
    confirmation as a jump. Only a pace from the car's own readings is trusted here (the
    dealership's km a year says nothing about one car); the day is counted in UTC, a day's
    driving being nothing against the margin."""
    km = values.get("odometer_km")
    if km is None or vehicle.last_odometer_km is None or values.get("odometer_jump_confirmed"):
        return
    found = await odometer_projection.for_vehicle(session, ZoneInfo("UTC"), vehicle.id)
    projected = found.km_on(utcnow().date())
    if not found.from_history or found.last is None or projected is None:
        return
    margin = max(PROJECTION_MARGIN_KM, PROJECTION_MARGIN_SHARE * (projected - found.last.km))
    if abs(km - projected) > margin:
        raise InvalidInput(
            _(
                "%(km)s km is far from the about %(projected)s km this car's own readings "
                "project for today. Tick the confirmation if the reading is right.",
                km=f"{km:,}",
                projected=f"{projected:,}",
            ),
            field="odometer_km",
        )


PHONE_FIELDS = frozenset({"contact_phone", "follow_up_phone"})


def parse(step: Step, form: Form) -> dict[str, Any]:
    """All of this step's fields from the form, or InvalidInput naming the field."""
    values: dict[str, Any] = {}
    for name, parser in STEP_FIELDS[step].items():
        raw = form.get(name)
        try:
            values[name] = parser(raw)
        except FieldError as exc:
            raise InvalidInput(str(exc), field=name) from exc
        except (ValueError, TypeError) as exc:
            raise InvalidInput(_("This value is not valid."), field=name) from exc
    return values


async def save(
    session: AsyncSession,
    check_in: CheckIn,
    step: Step,
    form: Form,
    version: int | None,
    vehicle: Vehicle,
    actor: Actor,
    *,
    region: str = "CN",  # the dealership's (settings.region): how phone numbers are checked
) -> dict[str, Any]:
    values = parse(step, form)
    if step == Step.WALKAROUND:
        _check_odometer(values, vehicle)
        if values.get("odometer_km") != check_in.odometer_km:
            await _check_projection(session, values, vehicle)
    changed = {k: v for k, v in values.items() if getattr(check_in, k) != v}
    if not changed:
        return {}
    for name in PHONE_FIELDS.intersection(changed):
        # Only a number entered now: one already on file is not refused on every save.
        if changed[name]:
            changed[name] = phones.check(changed[name], region, field=name)
    await bump_version(session, check_in, version)
    for name, value in changed.items():
        setattr(check_in, name, value)
    if step == Step.SYMPTOMS:
        check_in.summary_confirmed_at = None  # the read-back no longer matches
    audit.record(
        session,
        actor,
        "check_in_saved",
        "check_in",
        check_in.id,
        step=step.value,
        fields=sorted(changed),
    )
    await session.flush()
    return changed

"""The colour rule of a health-check item: what a measurement may be, the colour its
limits propose, and when a milder colour than the limits' needs the technician's word."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from app.errors import InvalidInput
from app.i18n import _
from app.models import ChecklistItem, HealthColour

COLOURS = (HealthColour.GREEN, HealthColour.YELLOW, HealthColour.RED, HealthColour.NOT_CHECKED)
# Worst first: how a colour ranks against the one the limits propose.
_LARGEST = Decimal(1_000_000)
_RANK = {HealthColour.GREEN: 0, HealthColour.YELLOW: 1, HealthColour.RED: 2}


@dataclass(frozen=True)
class Limits:
    """An item's limits (the checklist line's), any of them absent."""

    physical_min: Decimal | None = None
    physical_max: Decimal | None = None
    red_below: Decimal | None = None
    yellow_below: Decimal | None = None
    yellow_above: Decimal | None = None
    red_above: Decimal | None = None

    @classmethod
    def of(cls, item: ChecklistItem | None) -> Limits:
        if item is None:
            return cls()
        return cls(item.physical_min, item.physical_max, item.red_below, item.yellow_below,
                   item.yellow_above, item.red_above)  # fmt: skip


def parse_measurement(raw: str | None) -> Decimal | None:
    """A number as typed on the tablet (a decimal comma too); empty is no number."""
    text = (raw or "").strip().replace(",", ".").replace("，", ".")
    if not text:
        return None
    try:
        value = Decimal(text)
        if value.is_finite() and abs(value) < _LARGEST:  # the column's eight digits
            return value.quantize(Decimal("0.01"))
    except InvalidOperation:
        pass
    raise InvalidInput(_("Type the measurement as a number."), field="measurement")


def parse_colour(raw: str | None) -> HealthColour:
    try:
        return HealthColour(raw or "")
    except ValueError:
        raise InvalidInput(_("Choose green, yellow or red."), field="colour") from None


def proposed(limits: Limits, measurement: Decimal | None) -> HealthColour | None:
    """The colour the limits give a measurement; None without a number or limits."""
    if measurement is None:
        return None
    if not any((limits.red_below, limits.yellow_below, limits.yellow_above, limits.red_above)):
        return None
    if (limits.red_below is not None and measurement < limits.red_below) or (
        limits.red_above is not None and measurement > limits.red_above
    ):
        return HealthColour.RED
    if (limits.yellow_below is not None and measurement < limits.yellow_below) or (
        limits.yellow_above is not None and measurement > limits.yellow_above
    ):
        return HealthColour.YELLOW
    return HealthColour.GREEN


def judge(
    limits: Limits, unit: str | None, colour: HealthColour, measurement: Decimal | None, note: str
) -> HealthColour | None:
    """Refuse what cannot be (a number out of physical range, a number for an item without
    one, a milder colour than the hard limit with no note); returns the proposed colour."""
    if measurement is not None and unit is None:
        raise InvalidInput(_("This item takes no measurement."), field="measurement")
    if measurement is not None and (
        (limits.physical_min is not None and measurement < limits.physical_min)
        or (limits.physical_max is not None and measurement > limits.physical_max)
    ):
        raise InvalidInput(
            _("%(value)s %(unit)s cannot be measured on this item: it must be between %(low)s "
              "and %(high)s %(unit)s.", value=plain(measurement), unit=unit or "",
              low=plain(limits.physical_min), high=plain(limits.physical_max)),
            field="measurement",
        )  # fmt: skip
    found = proposed(limits, measurement)
    if (
        found == HealthColour.RED
        and colour in _RANK
        and _RANK[colour] < _RANK[found]
        and not note.strip()
    ):
        raise InvalidInput(
            _("The measurement is past the red limit: say in the note why it is not red."),
            field="note",
        )
    return found


def plain(value: Decimal | None) -> str:
    """12.50 → 12.5; None (no limit) → “—”."""
    if value is None:
        return "—"
    return format(value.normalize(), "f")

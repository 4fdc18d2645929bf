"""Numbers and yes/no answers as people type them, read the same way on every form and CSV.

An advisor may type "¥45.50" (the sign is dropped), "１２３" from a Chinese input
method (read as 123) or "1,234.50" as a spreadsheet writes it. "45,50" is refused
with the field marked, not read as 4550: in China the comma groups thousands, and
a price a hundred times too high is worse than being asked again.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from typing import Any

from app.errors import InvalidInput
from app.i18n import _

_NUMBER = re.compile(r"^-?(\d+\.?\d*|\.\d+)$")
_GROUPED = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")  # 1,234.50 as spreadsheets format it
CURRENCY_SIGN = "¥"  # NFKC makes the full-width ￥ this one
MAX_QUANTITY = Decimal("999")
CENT = Decimal("0.01")
_YES = frozenset({"1", "true", "on", "yes"})


def plain(raw: Any) -> str:
    """Chinese input methods type full-width digits and letters (１２３, ＡＢＣ)."""
    return unicodedata.normalize("NFKC", str(raw or "")).strip()


# No price or count in a dealership reaches a thousand billion.
_MAX_DIGITS = 12
_LARGEST = Decimal("999999999999")


def decimal(
    raw: Any,
    field: str | None = None,
    *,
    below: str | None = None,
    positive: bool = False,
    cents: bool = False,
    maximum: Decimal | None = None,
) -> Decimal:
    """A number of zero or more (more than zero if `positive`); `below` is the message for
    one too small. With `cents` it has at most two decimals and comes back with exactly
    two; with `maximum` it is at most that."""
    text = plain(raw).removeprefix(CURRENCY_SIGN).strip()
    if _GROUPED.match(text):
        text = text.replace(",", "")
    if not text:
        raise InvalidInput(_("Enter a number, e.g. 45.50."), field=field)
    if not _NUMBER.match(text):
        raise InvalidInput(
            _("“%(value)s” is not a number; write it like 45.50.", value=text), field=field
        )
    value = Decimal(text)  # the pattern admits only finite numbers
    if value < 0 or (positive and value == 0):
        raise InvalidInput(below or _("This cannot be negative."), field=field)
    # Bounds before rounding: quantizing 10^30 to cents exceeds Decimal's precision.
    if maximum is not None and value > maximum:
        raise InvalidInput(_("At most %(max)s.", max=maximum), field=field)
    if value.adjusted() >= _MAX_DIGITS:
        raise InvalidInput(_("At most %(max)s.", max=_LARGEST), field=field)
    if cents:
        if value != value.quantize(CENT):
            raise InvalidInput(_("Use at most 2 decimal places."), field=field)
        value = value.quantize(CENT)
    return value


def quantity(raw: Any, field: str = "quantity") -> Decimal:
    """A quantity on an estimate line: hours or pieces, more than zero, up to 999, in cents."""
    value = decimal(raw, field, below=_("The quantity must be more than zero."), positive=True)
    if value > MAX_QUANTITY or value != value.quantize(CENT):
        raise InvalidInput(_("Enter a quantity up to 999 with at most 2 decimals."), field=field)
    return value


def flag(value: Any) -> bool:
    """A checkbox or yes/no button: "1", "true", "on" or "yes" is yes; anything else no."""
    return str(value).lower() in _YES

"""Phone numbers per region, checked with Google's libphonenumber (the `phonenumbers` port):
the numbering plans change (new mobile prefixes), and a kept library follows them."""

from __future__ import annotations

import phonenumbers

from app.errors import InvalidInput
from app.i18n import _


def clean(raw: str) -> str:
    """As typed, without spaces: how the number is kept, and found by its first digits."""
    return "".join(raw.split())


def check(raw: str, region: str, field: str = "phone") -> str:
    """The number, cleaned, if it can be called in `region`; else InvalidInput at `field`.
    In China: an 11-digit mobile, or a landline with its area code (a bare 7- or 8-digit
    landline number cannot be called back from another city's line, nor texted)."""
    number = clean(raw)
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        if region == "CN":
            message = _("Enter an 11-digit mobile number, or a landline with its area code.")
        else:
            message = _("This is not a phone number that can be called here.")
        raise InvalidInput(message, field=field)
    return number

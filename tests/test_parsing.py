"""One way to read a number, a quantity and a yes/no (app.parsing), on every form and CSV."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app import parsing
from app.errors import InvalidInput
from app.i18n import set_locale


@pytest.fixture(autouse=True)
def _english() -> None:
    set_locale("en")


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("45.50", Decimal("45.50")),
        ("¥45.50", Decimal("45.50")),  # the advisor types the price as it is printed
        ("￥45.50", Decimal("45.50")),  # the full-width sign of a Chinese input method
        ("¥ 45.50", Decimal("45.50")),
        ("４５.５", Decimal("45.5")),
        ("1,234.50", Decimal("1234.50")),
        (" 7 ", Decimal("7")),
        (".5", Decimal("0.5")),
    ],
)
def test_a_number_is_read_as_typed(typed: str, read: Decimal) -> None:
    assert parsing.decimal(typed, "price") == read


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("45,50", "“45,50” is not a number; write it like 45.50."),  # not 4550
        ("abc", "“abc” is not a number; write it like 45.50."),
        ("1e9", "“1e9” is not a number; write it like 45.50."),
        ("NaN", "“NaN” is not a number; write it like 45.50."),
        ("¥¥5", "“¥5” is not a number; write it like 45.50."),
        ("", "Enter a number, e.g. 45.50."),
        (None, "Enter a number, e.g. 45.50."),
        ("-1", "This cannot be negative."),
    ],
)
def test_garbage_is_refused_with_the_field_marked(typed: str | None, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parsing.decimal(typed, "price")
    assert (refused.value.message, refused.value.field) == (message, "price")


def test_bounds_and_cents_are_the_callers_choice() -> None:
    assert parsing.decimal("4.5", cents=True) == Decimal("4.50")
    with pytest.raises(InvalidInput, match="at most 2 decimal places"):
        parsing.decimal("4.999", cents=True)
    with pytest.raises(InvalidInput, match="At most 10"):
        parsing.decimal("10.01", maximum=Decimal("10"))
    with pytest.raises(InvalidInput, match="more than 0"):
        parsing.decimal("0", positive=True, below="Must be more than 0.")
    assert parsing.decimal("0") == Decimal("0")


def test_a_quantity_is_more_than_zero_up_to_999_in_hundredths() -> None:
    assert parsing.quantity("1.25") == Decimal("1.25")
    assert parsing.quantity("¥2") == Decimal("2")
    for bad in ("0", "-1", "1000", "0.001", "1,5"):
        with pytest.raises(InvalidInput) as refused:
            parsing.quantity(bad)
        assert refused.value.field == "quantity"


@pytest.mark.parametrize("value", ["1", "true", "on", "yes", "TRUE", "On"])
def test_yes(value: str) -> None:
    assert parsing.flag(value) is True


@pytest.mark.parametrize("value", ["0", "false", "off", "no", "", None, "y"])
def test_no(value: str | None) -> None:
    assert parsing.flag(value) is False

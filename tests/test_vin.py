from __future__ import annotations

import pytest

from app.services.vin import check, check_digit, with_check_digit


@pytest.mark.parametrize(
    "vin",
    ["1M8GDM9AXKP042788", "11111111111111111", "1HGCM82633A004352", "LVGBE46K0PA000001"],
)
def test_valid_vins_pass(vin: str) -> None:
    vin = with_check_digit(vin) if vin.startswith("LVG") else vin
    assert check(vin).problem is None


def test_the_check_digit_can_be_x() -> None:
    assert check_digit("1M8GDM9AXKP042788") == "X"


def test_a_wrong_check_digit_is_reported_with_the_expected_one() -> None:
    result = check("1M8GDM9A1KP042788")
    assert result.problem == "check_digit"
    assert result.expected_check_digit == "X"


@pytest.mark.parametrize(
    ("raw", "problem"),
    [("1M8GDM9AXKP04278", "length"), ("1M8GDM9AXKP0427880", "length"),
     ("IM8GDM9AXKP042788", "characters"), ("1M8GDM9AXKP04278O", "characters"),
     ("1M8GDM9AXKQ042788", "characters")],
)  # fmt: skip
def test_wrong_length_and_forbidden_letters_are_reported(raw: str, problem: str) -> None:
    assert check(raw).problem == problem


def test_vins_are_normalised_to_upper_case_without_spaces() -> None:
    assert check(" 1m8gdm9axkp 042788 ").vin == "1M8GDM9AXKP042788"

"""VIN normalisation and the position-9 check digit (49 CFR 565.15, GB 16735)."""

from __future__ import annotations

from dataclasses import dataclass

_TRANSLITERATION = {
    **{str(d): d for d in range(10)},
    "A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6, "G": 7, "H": 8,
    "J": 1, "K": 2, "L": 3, "M": 4, "N": 5, "P": 7, "R": 9,
    "S": 2, "T": 3, "U": 4, "V": 5, "W": 6, "X": 7, "Y": 8, "Z": 9,
}  # fmt: skip
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
VIN_LENGTH = 17
# Regions whose VIN rules require the position-9 check digit (GB 16735, 49 CFR 565).
CHECK_DIGIT_REGIONS = frozenset({"CN", "US", "CA", "MX"})


@dataclass(frozen=True)
class VinCheck:
    vin: str
    problem: str | None  # "length", "characters" or "check_digit"; None when valid
    expected_check_digit: str | None = None


def requires_check_digit(region: str) -> bool:
    """Whether a wrong check digit is an error here, or a warning the advisor may override."""
    return region.upper() in CHECK_DIGIT_REGIONS


def normalise(raw: str) -> str:
    return "".join(raw.split()).upper()


def check_digit(vin: str) -> str:
    total = sum(_TRANSLITERATION[ch] * w for ch, w in zip(vin, _WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def check(raw: str) -> VinCheck:
    vin = normalise(raw)
    if len(vin) != VIN_LENGTH:
        return VinCheck(vin, "length")
    if any(ch not in _TRANSLITERATION for ch in vin):  # I, O, Q and anything else
        return VinCheck(vin, "characters")
    expected = check_digit(vin)
    if vin[8] != expected:
        return VinCheck(vin, "check_digit", expected)
    return VinCheck(vin, None)


def with_check_digit(vin17: str) -> str:
    """Return the VIN with position 9 set to its correct check digit."""
    vin = normalise(vin17)
    return vin[:8] + check_digit(vin[:8] + "0" + vin[9:]) + vin[9:]

"""Licence plates per region."""

from __future__ import annotations

import re

CN_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# Province + city letter + 5 characters (6 for new-energy plates); no I or O.
_CN_PLATE = re.compile(rf"^[{CN_PROVINCES}][A-HJ-NP-Z][A-HJ-NP-Z0-9]{{5,6}}$")
_GENERIC_PLATE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,9}$")


def normalise(raw: str) -> str:
    return "".join(ch for ch in raw.upper() if ch.isalnum() or ch == "-")


def is_valid(plate: str, region: str) -> bool:
    if region == "CN":
        return bool(_CN_PLATE.match(plate))
    return bool(_GENERIC_PLATE.match(plate))

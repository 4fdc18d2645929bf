"""The service manager's targets (看板目标): a month's own, else the standing ones (month
""), else the built-in defaults below. A count, hours or money target is per day, as
the board shows a day; a share or a time is the same whatever the period."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.i18n import _
from app.models import BoardTarget, StaffUser
from app.parsing import decimal
from app.services.board.figures import CODES
from app.services.board.scope import Figure

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

# The seeds' standards where they give one (greeting within 5 minutes, every customer
# called back, bill = estimate), the trade's usual goals elsewhere; none for a count.
DEFAULTS: dict[str, Decimal] = {
    "appointment_rate": Decimal("40"),
    "greeting_minutes": Decimal("5"),
    "greeted_in_time": Decimal("90"),
    "check_in_minutes": Decimal("20"),
    "promise_kept": Decimal("90"),
    "bill_matches": Decimal("95"),
    "rework_rate": Decimal("5"),
    "first_time_fix": Decimal("95"),
    "follow_ups_on_time": Decimal("100"),
    "complaints_general": Decimal("0"),
    "complaints_escalated": Decimal("0"),
    "complaints_serious": Decimal("0"),
    "utilisation": Decimal("85"),
    "productivity": Decimal("100"),
}
# Shares that cannot pass 100 % (productivity can: more hours sold than clocked).
CAPPED = frozenset(
    {
        "appointment_rate",
        "greeted_in_time",
        "promise_kept",
        "bill_matches",
        "rework_rate",
        "first_time_fix",
        "follow_ups_on_time",
        "utilisation",
    }
)


def check_month(month: str) -> str:
    """ "2026-11", or "" for the standing targets."""
    month = month.strip()
    if month and not _MONTH.match(month):
        raise InvalidInput(_("Give the month as year and month, e.g. 2026-11."), field="month")
    return month


async def _rows(session: AsyncSession, month: str) -> dict[str, Decimal]:
    rows = await session.execute(
        select(BoardTarget.code, BoardTarget.value).where(BoardTarget.month == month)
    )
    return {code: value for code, value in rows.all() if code in CODES}


async def for_month(session: AsyncSession, month: str) -> dict[str, Decimal]:
    """Code -> target for `month` ("2026-11"); codes with no target are absent."""
    return {**DEFAULTS, **await _rows(session, ""), **await _rows(session, month)}


async def own(session: AsyncSession, month: str) -> dict[str, Decimal]:
    """The targets set for exactly this month ("" for the standing ones): the form's values."""
    return await _rows(session, check_month(month))


def _value(code: str, raw: str) -> Decimal | None:
    if not str(raw).strip():
        return None
    value = decimal(raw, code, cents=True)
    if code in CAPPED and value > 100:
        raise InvalidInput(_("A share is at most 100 %."), field=code)
    return value


async def save(
    session: AsyncSession, month: str, values: Mapping[str, str], by: StaffUser
) -> dict[str, Decimal]:
    """Sets the month's targets from the form (code -> typed value); a blank one falls back
    to the standing target. Every value is checked before anything changes."""
    month = check_month(month)
    parsed = {code: _value(code, values[code]) for code in CODES if code in values}
    await session.execute(
        delete(BoardTarget).where(BoardTarget.month == month, BoardTarget.code.in_(parsed))
    )
    for code, value in parsed.items():
        if value is not None:
            session.add(BoardTarget(month=month, code=code, value=value, set_by_id=by.id))
    await session.flush()
    return {code: value for code, value in parsed.items() if value is not None}


def meets(figure: Figure, target: Decimal | None) -> bool | None:
    """Whether the figure reaches its target (None: no value or no target to compare)."""
    if figure.value is None or target is None:
        return None
    value = Decimal(str(figure.value))
    return value <= target if figure.lower_is_better else value >= target

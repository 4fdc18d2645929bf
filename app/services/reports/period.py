"""The period a report covers: a calendar month or a range of days, counted in the
dealership's timezone, not UTC (a call at 07:30 on 1 December, Beijing time, is still
30 November in UTC, and belongs to December's report)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.errors import InvalidInput
from app.i18n import _

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A longer range is a question for the database, not for a page.
MAX_DAYS = 366
# Years a date type can hold with a day to spare on either side.
YEARS = range(1900, 9999)


@dataclass(frozen=True)
class Period:
    first: date  # the first day, inclusive
    last: date  # the last day, inclusive
    starts_at: datetime  # UTC: the first day's midnight in the dealership's timezone
    ends_at: datetime  # UTC: the midnight after the last day (exclusive)
    month: str | None  # "2026-11" for a calendar month, None for a custom range

    @property
    def slug(self) -> str:
        """For file names: 2026-11, or 2026-11-03_2026-11-17."""
        return self.month or f"{self.first.isoformat()}_{self.last.isoformat()}"

    def contains(self, moment: datetime) -> bool:
        return self.starts_at <= moment < self.ends_at


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def days(first: date, last: date, tz: ZoneInfo, month: str | None = None) -> Period:
    return Period(first, last, _midnight(first, tz), _midnight(last + timedelta(days=1), tz), month)


def month_period(year: int, month: int, tz: ZoneInfo) -> Period:
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return days(first, following - timedelta(days=1), tz, f"{year:04d}-{month:02d}")


def _month(raw: str, tz: ZoneInfo) -> Period:
    found = _MONTH.match(raw.strip())
    if found is None or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) not in YEARS:
        raise InvalidInput(_("Give the month as year and month, e.g. 2026-11."), field="month")
    return month_period(int(found.group(1)), int(found.group(2)), tz)


def _day(raw: str, field: str) -> date:
    try:
        if not _DAY.match(raw.strip()):
            raise ValueError(raw)
        day = date.fromisoformat(raw.strip())
        if day.year not in YEARS:
            raise ValueError(raw)
        return day
    except ValueError:
        raise InvalidInput(
            _("Give the date as year, month and day, e.g. 2026-11-03."), field=field
        ) from None


def day_or_today(raw: str | None, tz: ZoneInfo, now: datetime, field: str = "day") -> date:
    """`?day=2026-11-03`; today where the dealership is without it."""
    text = (raw or "").strip()
    return _day(text, field) if text else now.astimezone(tz).date()


def parse(
    tz: ZoneInfo,
    now: datetime,
    month: str | None = None,
    first: str | None = None,
    last: str | None = None,
) -> Period:
    """The period from the query: `from` and `to` (both days included) for a custom range,
    else `month`, else the current month where the dealership is."""
    if first or last:
        if not first:
            raise InvalidInput(_("Give the first day of the range too."), field="from")
        if not last:
            raise InvalidInput(_("Give the last day of the range too."), field="to")
        start, end = _day(first, "from"), _day(last, "to")
        if end < start:
            raise InvalidInput(
                _("The range ends before it starts: the last day must be on or after the first."),
                field="to",
            )
        if (end - start).days >= MAX_DAYS:
            raise InvalidInput(_("A report covers at most %(n)s days.", n=MAX_DAYS), field="to")
        return days(start, end, tz)
    if month:
        return _month(month, tz)
    today = now.astimezone(tz).date()
    return month_period(today.year, today.month, tz)


def shift_month(period: Period, months: int, tz: ZoneInfo) -> Period:
    """The month before (-1) or after (+1) the one the period starts in."""
    index = period.first.year * 12 + period.first.month - 1 + months
    return month_period(index // 12, index % 12 + 1, tz)

"""The monthly management report (月度管理报告): the board's figures for the month against
the month before and the targets, per day and per week, per advisor and per technician,
the CSI evidence per seed question and the service reminders' response rate.

Every figure comes from app/services/board/figures.py (the same definitions as the board
and the evening summary); the evidence from monthly_evidence; nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Dealership, Role, StaffRole, StaffUser
from app.services.board import figures as board_figures
from app.services.board import targets as board_targets
from app.services.board.scope import Figure, Scope
from app.services.reminders.response import response_rate
from app.services.reports import monthly_evidence
from app.services.reports import period as report_period
from app.services.reports.period import Period

# The columns of the per-day and per-week tables, and the trend charts' subjects.
TREND_CODES = (
    "arrivals", "delivered", "appointment_rate", "greeted_in_time", "promise_kept",
    "bill_matches", "rework_rate", "hours_clocked", "labour_revenue", "parts_revenue",
)  # fmt: skip
ADVISOR_CODES = (
    "arrivals", "appointment_rate", "greeted_in_time", "delivered", "promise_kept",
    "bill_matches", "first_time_fix", "follow_ups_on_time", "labour_revenue", "parts_revenue",
)  # fmt: skip
TECHNICIAN_CODES = (
    "finished", "rework_rate", "first_time_fix", "hours_sold", "hours_clocked", "utilisation",
    "productivity", "labour_revenue",
)  # fmt: skip
# A count, hours or money target is per day (board.targets): the month's total is not
# compared with it; shares and times are.
COMPARED_UNITS = ("percent", "minutes")


@dataclass(frozen=True)
class Compared:
    figure: Figure
    previous: Figure
    target: Decimal | None
    met: bool | None

    @property
    def code(self) -> str:
        return self.figure.code

    @property
    def change(self) -> Decimal | None:
        if self.figure.value is None or self.previous.value is None:
            return None
        return Decimal(str(self.figure.value)) - Decimal(str(self.previous.value))

    @property
    def better(self) -> bool | None:
        """Whether the change is for the better (None: no change or nothing to compare)."""
        change = self.change
        if not change:
            return None
        return (change < 0) if self.figure.lower_is_better else (change > 0)


@dataclass(frozen=True)
class Person:
    staff_id: int
    name: str
    figures: dict[str, Figure]


@dataclass(frozen=True)
class Reminders:
    reminded: int
    came_in: int
    per_cent: float | None


@dataclass(frozen=True)
class MonthlyReport:
    period: Period
    previous_period: Period
    totals: list[Compared]
    days: list[tuple[date, dict[str, Figure]]]
    weeks: list[tuple[Period, dict[str, Figure]]]
    advisors: list[Person]
    technicians: list[Person]
    evidence: list[tuple[monthly_evidence.EvidenceFigure, monthly_evidence.EvidenceFigure]]
    reminders: Reminders
    previous_reminders: Reminders


def weeks(period: Period, tz: ZoneInfo, last: date) -> list[Period]:
    """Monday-to-Sunday weeks, cut to the month and to `last` (today)."""
    found = []
    start = period.first
    end_of_month = min(period.last, last)
    while start <= end_of_month:
        sunday = start + timedelta(days=6 - start.weekday())
        found.append(report_period.days(start, min(sunday, end_of_month), tz))
        start = sunday + timedelta(days=1)
    return found


async def staff_with(session: AsyncSession, role: Role) -> list[StaffUser]:
    rows = await session.scalars(
        select(StaffUser)
        .join(StaffRole, StaffRole.user_id == StaffUser.id)
        .where(StaffRole.role == role, StaffUser.is_active.is_(True))
        .order_by(StaffUser.display_name, StaffUser.id)
    )
    return list(rows.unique().all())


async def _people(
    session: AsyncSession,
    shop: Dealership,
    period: Period,
    now: datetime,
    role: Role,
    by: str,
    rows: board_figures.Rows,
) -> list[Person]:
    """Each active member of staff with the role, with their figures for the period (all
    read at once: a month's rows shared out, not the figures counted once a person)."""
    staff = await staff_with(session, role)
    found = await board_figures.compute_by(
        session, period, shop, now, by, people=[u.id for u in staff], rows=rows
    )
    return [Person(u.id, u.display_name, found[u.id]) for u in staff]


async def build(
    session: AsyncSession, shop: Dealership, period: Period, tz: ZoneInfo, now: datetime
) -> MonthlyReport:
    previous = report_period.shift_month(period, -1, tz)
    today = now.astimezone(tz).date()
    # The month's rows read once: its totals, days, weeks and people are counted from them.
    rows = await board_figures.read(session, Scope(period), shop, now)
    month = board_figures.of(rows, Scope(period), shop, now)
    before = await board_figures.compute(session, Scope(previous), shop, now)
    targets = await board_targets.for_month(session, period.month or "")
    totals = []
    for code, figure in month.items():
        target = targets.get(code) if figure.unit in COMPARED_UNITS else None
        totals.append(Compared(figure, before[code], target, board_targets.meets(figure, target)))
    per_day = await board_figures.per_day(session, period, shop, now, tz=tz, rows=rows)
    the_weeks = weeks(period, tz, today)
    per_week = list(
        zip(
            the_weeks,
            await board_figures.compute_parts(session, period, the_weeks, shop, now, rows=rows),
            strict=True,
        )
    )
    advisors = await _people(session, shop, period, now, Role.ADVISOR, "advisor", rows)
    technicians = await _people(session, shop, period, now, Role.TECHNICIAN, "technician", rows)
    evidence = list(
        zip(
            await monthly_evidence.for_period(session, period, shop),
            await monthly_evidence.for_period(session, previous, shop),
            strict=True,
        )
    )
    return MonthlyReport(
        period=period,
        previous_period=previous,
        totals=totals,
        days=sorted(per_day.items()),
        weeks=per_week,
        advisors=advisors,
        technicians=technicians,
        evidence=evidence,
        reminders=Reminders(*await response_rate(session, period)),
        previous_reminders=Reminders(*await response_rate(session, previous)),
    )

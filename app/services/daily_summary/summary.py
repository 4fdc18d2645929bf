"""The evening summary of one local day: the board's figures against the month's targets,
what was missed and why, and tomorrow's preparation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.i18n import Formatter
from app.models import Dealership
from app.services.board import figures as board_figures
from app.services.board import labels as board_labels
from app.services.board import targets as board_targets
from app.services.board.scope import Figure, Scope
from app.services.daily_summary import missed
from app.services.daily_summary import tomorrow as preparation
from app.services.reports import period as report_period
from app.services.reports.monthly_view import shown, value_text


def parse_day(raw: str | None, tz: ZoneInfo, now: datetime) -> date:
    """`?day=2026-11-03`; today where the dealership is without it."""
    return report_period.day_or_today(raw, tz, now)


@dataclass(frozen=True)
class FigureRow:
    code: str
    label: str
    value: str
    counts: str  # "2 / 3" for a share, "" otherwise
    target: str  # "" without a target
    met: bool | None
    figure: Figure


@dataclass(frozen=True)
class Summary:
    day: date
    tomorrow: date
    rows: list[FigureRow]
    late: list[missed.LateCar]
    reworks: list[missed.Rework]
    complaints: list[missed.ComplaintReceived]
    bookings: list[preparation.Booking]
    parts: list[preparation.PartToReserve]

    @property
    def missed_targets(self) -> list[FigureRow]:
        return [row for row in self.rows if row.met is False]


def figure_rows(
    found: dict[str, Figure], targets: dict[str, Decimal], shop: Dealership, fmt: Formatter
) -> list[FigureRow]:
    names = board_labels.names(shop.greeting_minutes)
    rows = []
    for code, figure in found.items():
        target = targets.get(code)
        share = figure.unit == "percent" and figure.whole
        counts = f"{figure.part} / {figure.whole}" if share else ""
        rows.append(
            FigureRow(
                code=code,
                label=names.get(code, code),
                value=shown(figure, fmt),
                counts=counts,
                target=value_text(figure.unit, target, fmt) if target is not None else "",
                met=board_targets.meets(figure, target),
                figure=figure,
            )
        )
    return rows


async def build(
    session: AsyncSession, shop: Dealership, day: date, tz: ZoneInfo, now: datetime, fmt: Formatter
) -> Summary:
    period = report_period.days(day, day, tz)
    following = day + timedelta(days=1)
    found = await board_figures.compute(session, Scope(period), shop, now)
    targets = await board_targets.for_month(session, f"{day.year:04d}-{day.month:02d}")
    next_day = report_period.days(following, following, tz)
    bookings, parts = await preparation.bookings(session, next_day)
    return Summary(
        day=day,
        tomorrow=following,
        rows=figure_rows(found, targets, shop, fmt),
        late=await missed.late_cars(session, period, now),
        reworks=await missed.reworks(session, period),
        complaints=await missed.complaints(session, period),
        bookings=bookings,
        parts=parts,
    )

"""What the /board page shows: whose figures (the scope the reader may see), each figure
as a tile against its target, and the pickers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Forbidden, InvalidInput
from app.i18n import _
from app.models import Dealership, Role, StaffRole, StaffUser
from app.services.board import figures, labels, targets
from app.services.board.scope import Figure, Scope
from app.services.reports import period as report_period

MAX_ID = 2**31 - 1  # an INTEGER id column holds no more
MANAGERS = (Role.SERVICE_MANAGER,)
# A person's day is not the dealership's: counts, hours and money targets are the
# dealership's per day, so only shares and times are judged for one advisor or technician.
PERSONAL_TARGET_UNITS = ("percent", "minutes")


@dataclass(frozen=True)
class Person:
    id: int
    name: str


@dataclass(frozen=True)
class Chosen:
    day: date
    scope: Scope
    advisor: Person | None
    technician: Person | None
    may_choose: bool  # a manager picks whose figures; an advisor sees their own


@dataclass(frozen=True)
class Tile:
    figure: Figure
    name: str
    value: str  # "66.7", "—" with no value
    unit: str
    parts: str  # "2 / 3", or ""
    target: str  # "≥ 90 %", or ""
    meets: bool | None
    verdict: str
    direction: str

    @property
    def state(self) -> str:
        return {True: "good", False: "bad", None: "none"}[self.meets]


def _id(raw: str, field: str) -> int | None:
    text = raw.strip()
    if not text:
        return None
    if not text.isdigit() or not 0 < int(text) <= MAX_ID:
        raise InvalidInput(_("Choose someone from the list."), field=field)
    return int(text)


async def people(session: AsyncSession, role: Role) -> list[Person]:
    """The active staff with this role, by name (the pickers)."""
    rows = await session.execute(
        select(StaffUser.id, StaffUser.display_name)
        .join(StaffRole, StaffRole.user_id == StaffUser.id)
        .where(StaffRole.role == role, StaffUser.is_active.is_(True))
        .order_by(StaffUser.display_name, StaffUser.id)
    )
    return [Person(i, name) for i, name in rows.all()]


async def _person(
    session: AsyncSession, person_id: int | None, role: Role, field: str
) -> Person | None:
    if person_id is None:
        return None
    row = (
        await session.execute(
            select(StaffUser.id, StaffUser.display_name)
            .join(StaffRole, StaffRole.user_id == StaffUser.id)
            .where(StaffUser.id == person_id, StaffRole.role == role)
        )
    ).first()
    if row is None:
        raise InvalidInput(_("Choose someone from the list."), field=field)
    return Person(row[0], row[1])


async def choose(
    session: AsyncSession,
    user: StaffUser,
    query: dict[str, str],
    tz: ZoneInfo,
    now: datetime,
) -> Chosen:
    """The day and whose figures, from `?day=&advisor=&technician=`: a manager may pick
    one advisor or one technician; an advisor always sees their own (asking for another
    person's is refused)."""
    day = report_period.day_or_today(query.get("day", ""), tz, now)
    advisor_id = _id(query.get("advisor", ""), "advisor")
    technician_id = _id(query.get("technician", ""), "technician")
    may_choose = user.has_any_role(*MANAGERS)
    if not may_choose:
        if technician_id is not None or advisor_id not in (None, user.id):
            raise Forbidden(_("An advisor sees their own figures only."))
        advisor_id = user.id
    if advisor_id is not None and technician_id is not None:
        raise InvalidInput(_("Choose an advisor or a technician, not both."), field="technician")
    advisor = await _person(session, advisor_id, Role.ADVISOR, "advisor")
    technician = await _person(session, technician_id, Role.TECHNICIAN, "technician")
    scope = Scope(report_period.days(day, day, tz), advisor_id, technician_id)
    return Chosen(day, scope, advisor, technician, may_choose)


def _number(value: Decimal | float | int | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "count":
        return str(int(value))
    return f"{Decimal(str(value)):.1f}" if unit != "money" else f"{Decimal(str(value)):.2f}"


def _target(target: Decimal | None, figure: Figure, unit: str) -> str:
    if target is None:
        return ""
    sign = "≤" if figure.lower_is_better else "≥"
    shown = (
        str(int(target)) if target == target.to_integral_value() else f"{target:.2f}".rstrip("0")
    )
    return f"{sign} {shown}{(' ' + unit) if unit else ''}".strip()


async def tiles(
    session: AsyncSession, chosen: Chosen, shop: Dealership, now: datetime
) -> list[Tile]:
    found = await figures.compute(session, chosen.scope, shop, now)
    goals = await targets.for_month(session, chosen.day.strftime("%Y-%m"))
    personal = chosen.scope.advisor_id is not None or chosen.scope.technician_id is not None
    names, units = labels.names(shop.greeting_minutes), labels.units()
    directions, verdicts = labels.directions(), labels.verdicts()
    no_data = _("Nothing to count yet")
    result = []
    for code, figure in found.items():
        goal = goals.get(code)
        if personal and figure.unit not in PERSONAL_TARGET_UNITS:
            goal = None
        meets = targets.meets(figure, goal)
        unit = units[figure.unit]
        result.append(
            Tile(
                figure=figure,
                name=names[code],
                value=_number(figure.value, figure.unit),
                unit=unit,
                parts=f"{figure.part} / {figure.whole}" if figure.part is not None else "",
                target=_target(goal, figure, unit),
                meets=meets,
                verdict=verdicts[meets] if meets is not None or goal is None else no_data,
                direction=directions[figure.lower_is_better],
            )
        )
    return result


def neighbours(day: date) -> tuple[date, date]:
    return day - timedelta(days=1), day + timedelta(days=1)

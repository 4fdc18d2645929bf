"""The walkaround record: damage marks on the diagram and the customer's belongings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput, NotFound
from app.i18n import _
from app.models import Belonging, CheckIn, DamageKind, DamageMark, DiagramView
from app.services import audit
from app.services.audit import Actor
from app.services.check_in.steps import bump_version

MAX_PHOTOS_PER_MARK = 6
BELONGING_KINDS = ("phone", "wallet", "bag", "documents", "child_seat", "umbrella", "charger",
                   "sunglasses", "other")  # fmt: skip


def _fraction(value: Any, field: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(_("Tap on the car to place the mark."), field=field) from exc
    if not 0.0 <= number <= 1.0:
        raise InvalidInput(_("Tap on the car to place the mark."), field=field)
    return round(number, 4)


def _mark(check_in: CheckIn, mark_id: int) -> DamageMark:
    mark = next((m for m in check_in.damage_marks if m.id == mark_id), None)
    if mark is None:
        raise NotFound(_("This damage mark does not exist."))
    return mark


def _view(value: Any) -> str:
    """The diagram view a mark is placed on; none sent is the top view (older tablets)."""
    view = str(value or DiagramView.TOP.value)
    if view not in set(DiagramView):
        raise InvalidInput(_("Choose one of the options."), field="view")
    return view


async def add_mark(
    session: AsyncSession,
    check_in: CheckIn,
    x: Any,
    y: Any,
    version: int | None,
    actor: Actor,
    view: Any = None,
) -> DamageMark:
    mark = DamageMark(
        view=_view(view), x=_fraction(x, "x"), y=_fraction(y, "y"), created_by_id=actor.user_id
    )
    await bump_version(session, check_in, version)
    check_in.damage_marks.append(mark)
    await session.flush()
    audit.record(session, actor, "damage_marked", "check_in", check_in.id, mark=mark.id)
    return mark


async def save_mark(
    session: AsyncSession,
    check_in: CheckIn,
    mark_id: int,
    form: Mapping[str, Any],
    version: int | None,
    actor: Actor,
) -> None:
    mark = _mark(check_in, mark_id)
    kind = str(form.get("kind") or mark.kind)
    if kind not in set(DamageKind):
        raise InvalidInput(_("Choose one of the options."), field="kind")
    try:
        severity = int(form.get("severity") or mark.severity)
    except ValueError as exc:
        raise InvalidInput(_("Choose one of the options."), field="severity") from exc
    if severity not in (1, 2, 3):
        raise InvalidInput(_("Choose one of the options."), field="severity")
    note = str(form.get("note") or "").strip()[:1000]
    if (mark.kind, mark.severity, mark.note) == (kind, severity, note):
        return
    await bump_version(session, check_in, version)
    mark.kind, mark.severity, mark.note = kind, severity, note
    audit.record(session, actor, "damage_saved", "check_in", check_in.id, mark=mark.id)
    await session.flush()


async def remove_mark(
    session: AsyncSession, check_in: CheckIn, mark_id: int, version: int | None, actor: Actor
) -> None:
    mark = _mark(check_in, mark_id)
    await bump_version(session, check_in, version)
    check_in.damage_marks.remove(mark)
    audit.record(session, actor, "damage_removed", "check_in", check_in.id, mark=mark_id)
    await session.flush()


async def add_belonging(
    session: AsyncSession,
    check_in: CheckIn,
    kind: str,
    count: Any,
    version: int | None,
    actor: Actor,
) -> Belonging:
    kind = kind.strip()
    if not kind:
        raise InvalidInput(_("Say what the item is."), field="kind")
    try:
        number = int(count or 1)
    except ValueError as exc:
        raise InvalidInput(_("Enter how many."), field="count") from exc
    if not 1 <= number <= 99:
        raise InvalidInput(_("Enter how many."), field="count")
    await bump_version(session, check_in, version)
    item = Belonging(kind=kind[:80], count=number)
    check_in.belongings.append(item)
    await session.flush()
    audit.record(
        session, actor, "belonging_added", "check_in", check_in.id, kind=item.kind, count=number
    )
    return item


async def remove_belonging(
    session: AsyncSession,
    check_in: CheckIn,
    belonging_id: int,
    version: int | None,
    actor: Actor,
) -> None:
    item = next((b for b in check_in.belongings if b.id == belonging_id), None)
    if item is None:
        raise NotFound(_("This item does not exist."))
    await bump_version(session, check_in, version)
    check_in.belongings.remove(item)
    audit.record(session, actor, "belonging_removed", "check_in", check_in.id, kind=item.kind)
    await session.flush()

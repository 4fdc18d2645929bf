"""Waiting (the clock paused for the customer or parts) and the corrective and preventive
actions (整改措施) a complaint leads to, with owner and due date."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, InvalidInput, NotFound
from app.i18n import _
from app.models import Complaint, CorrectiveAction, StaffUser
from app.services import board_events
from app.services.audit import Actor
from app.services.complaints import access, clock, history
from app.services.estimate import pricing
from app.settings import Settings

ACTION_KINDS = ("corrective", "preventive")


async def pause(
    session: AsyncSession, complaint_id: int, actor: Actor, version: int | None, now: datetime,
    reason: str | None,
) -> Complaint:  # fmt: skip
    complaint = await access.for_change(session, complaint_id, actor, version)
    clock.pause(session, complaint, reason, actor, now)
    board_events.changed(session)
    await session.flush()
    return complaint


async def resume(
    session: AsyncSession, settings: Settings, complaint_id: int, actor: Actor,
    version: int | None, now: datetime,
) -> Complaint:  # fmt: skip
    complaint = await access.for_change(session, complaint_id, actor, version)
    clock.resume(session, complaint, await pricing.dealership(session), settings.tz, actor, now)
    board_events.changed(session)
    await session.flush()
    return complaint


async def add_action(
    session: AsyncSession, complaint_id: int, actor: Actor, version: int | None, now: datetime,
    *, kind: str | None, description: str | None, owner_id: str | None, due_on: str | None,
    today: date,
) -> CorrectiveAction:  # fmt: skip
    complaint = await access.readable(session, complaint_id, actor)
    access.require_handler(actor)
    if version is not None and version != complaint.version:
        raise Conflict(
            _("Someone else changed this complaint meanwhile. Reload it to see what changed.")
        )
    if kind not in ACTION_KINDS:
        raise InvalidInput(_("Choose corrective or preventive."), field="action_kind")
    text = (description or "").strip()
    if not text:
        raise InvalidInput(_("Describe the action."), field="description")
    owner = None
    if (owner_id or "").strip().isdigit():
        owner = await session.get(StaffUser, int(str(owner_id)))
    if owner is None or not owner.is_active:
        raise InvalidInput(_("Choose who owns the action."), field="owner_id")
    try:
        due = date.fromisoformat((due_on or "").strip())
    except ValueError:
        raise InvalidInput(_("Enter the due date."), field="due_on") from None
    if due < today:
        raise InvalidInput(_("The due date cannot be in the past."), field="due_on")
    row = CorrectiveAction(
        complaint_id=complaint.id, kind=kind, description=text[:2000], owner_id=owner.id,
        due_on=due, created_by_id=actor.user_id,
    )  # fmt: skip
    session.add(row)
    history.log(session, complaint, now, "action_added", by=actor.user_id, note=kind)
    await session.flush()
    return row


async def action_done(
    session: AsyncSession, complaint_id: int, action_id: int, actor: Actor, now: datetime
) -> CorrectiveAction:
    complaint = await access.readable(session, complaint_id, actor)
    access.require_handler(actor)
    row = await session.get(CorrectiveAction, action_id)
    if row is None or row.complaint_id != complaint.id:
        raise NotFound(_("That action does not exist."))
    if row.done_at is None:
        row.done_at = now
        history.log(session, complaint, now, "action_done", by=actor.user_id, note=str(row.id))
        await session.flush()
    return row


async def actions(session: AsyncSession, complaint_id: int) -> list[CorrectiveAction]:
    rows = await session.scalars(
        select(CorrectiveAction)
        .where(CorrectiveAction.complaint_id == complaint_id)
        .order_by(CorrectiveAction.due_on, CorrectiveAction.id)
    )
    return list(rows.all())


async def overdue_actions(session: AsyncSession, today: date) -> list[CorrectiveAction]:
    rows = await session.scalars(
        select(CorrectiveAction)
        .where(CorrectiveAction.done_at.is_(None), CorrectiveAction.due_on < today)
        .order_by(CorrectiveAction.due_on)
    )
    return list(rows.all())

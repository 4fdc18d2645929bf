"""Who may see and handle a complaint: relations and the manager all of them, an advisor
(read only) the complaints of their own customers."""

from __future__ import annotations

from sqlalchemy import ColumnElement, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, Forbidden, NotFound
from app.i18n import _
from app.models import Complaint, ComplaintStep, Role
from app.services.audit import Actor

HANDLERS = (Role.CUSTOMER_RELATIONS.value, Role.SERVICE_MANAGER.value)
READERS = (*HANDLERS, Role.ADVISOR.value)


def sees_all(actor: Actor) -> bool:
    return actor.has_role(*HANDLERS)


def visible(actor: Actor) -> ColumnElement[bool]:
    """The list's filter: everything for relations and the manager, own customers for advisors."""
    if sees_all(actor):
        return true()
    return Complaint.advisor_id == (actor.user_id or -1)


async def readable(session: AsyncSession, complaint_id: int, actor: Actor) -> Complaint:
    complaint = await session.get(Complaint, complaint_id)
    # Another advisor's customer is as if it did not exist.
    if complaint is None or not (
        sees_all(actor)
        or (actor.has_role(Role.ADVISOR.value) and complaint.advisor_id == actor.user_id)
    ):
        raise NotFound(_("That complaint does not exist."))
    return complaint


async def for_change(
    session: AsyncSession, complaint_id: int, actor: Actor, version: int | None
) -> Complaint:
    """The complaint to change: handlers only, the form's version current, not closed."""
    complaint = await readable(session, complaint_id, actor)
    require_handler(actor)
    if version is not None and version != complaint.version:
        raise Conflict(
            _("Someone else changed this complaint meanwhile. Reload it to see what changed.")
        )
    if complaint.step == ComplaintStep.CLOSED:
        raise Conflict(_("This complaint is closed."))
    return complaint


def require_handler(actor: Actor) -> None:
    if not sees_all(actor):
        raise Forbidden(_("Customer relations or the service manager handle complaints."))

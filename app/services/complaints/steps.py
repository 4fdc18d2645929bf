"""Steps 2 to 7 of seed 001 and closing. Each re-checks the step and the form's version:
a stale form is refused (409) and bad input changes nothing (422)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, InvalidInput
from app.i18n import _
from app.models import (
    Complaint,
    ComplaintCause,
    ComplaintStep,
    Responsibility,
    Role,
    WorkOrder,
)
from app.services import audit, board_events
from app.services.audit import Actor
from app.services.complaints import access, clock, history
from app.services.estimate import pricing

SUMMARY_FIELDS = ("what", "when", "where", "who", "why", "how", "how_much")
ACTION_KINDS = ("rework", "refund", "goodwill", "explanation")
MAX_TEXT = 4000


def _text(raw: str | None, field: str, message: str) -> str:
    value = (raw or "").strip()
    if not value:
        raise InvalidInput(message, field=field)
    if len(value) > MAX_TEXT:
        raise InvalidInput(_("That is too long; keep it under 4000 characters."), field=field)
    return value


async def at_step(
    session: AsyncSession, complaint_id: int, actor: Actor, version: int | None, step: ComplaintStep
) -> Complaint:
    complaint = await access.for_change(session, complaint_id, actor, version)
    if complaint.step != step:
        raise Conflict(
            _("This complaint has moved on to another step. Reload it to see where it is.")
        )
    return complaint


def _done(session: AsyncSession, complaint: Complaint, actor: Actor, now: datetime,
          next_step: ComplaintStep, note: str = "") -> None:  # fmt: skip
    history.log(session, complaint, now, "step_done", by=actor.user_id, note=note[:500])
    audit.record(session, actor, f"complaint.{complaint.step}", "complaint", complaint.id)
    clock.acknowledge(complaint, now)
    complaint.step = next_step.value
    board_events.changed(session)


async def acknowledge(
    session: AsyncSession, complaint_id: int, actor: Actor, version: int | None, now: datetime
) -> Complaint:
    complaint = await access.for_change(session, complaint_id, actor, version)
    if complaint.acknowledged_at is None:
        clock.acknowledge(complaint, now)
        history.log(session, complaint, now, "acknowledged", by=actor.user_id)
        board_events.changed(session)
    await session.flush()
    return complaint


async def listen(
    session: AsyncSession, complaint_id: int, actor: Actor, version: int | None, now: datetime,
    *, words: str | None, summary: dict[str, Any], read_back: bool,
) -> Complaint:  # fmt: skip
    complaint = await at_step(session, complaint_id, actor, version, ComplaintStep.LISTEN)
    text = _text(words, "words", _("Write down the customer's words."))
    kept = {k: str(summary.get(k) or "").strip()[:500] for k in SUMMARY_FIELDS}
    if not kept["what"]:
        raise InvalidInput(_("Summarise what happens (5W2H: what)."), field="what")
    if not read_back:
        raise InvalidInput(
            _("Read the summary back to the customer and tick that they confirmed it."),
            field="read_back",
        )
    complaint.words = text
    complaint.summary = {
        **{k: v for k, v in (complaint.summary or {}).items() if k == "threat"},
        **kept,
    }
    complaint.summary_read_back = True
    _done(session, complaint, actor, now, ComplaintStep.FACTS)
    await session.flush()
    return complaint


async def facts(
    session: AsyncSession, complaint_id: int, actor: Actor, version: int | None, now: datetime,
    *, facts: str | None, cause: str | None, responsibility: str | None,
) -> Complaint:  # fmt: skip
    complaint = await at_step(session, complaint_id, actor, version, ComplaintStep.FACTS)
    text = _text(facts, "facts", _("Write down the facts found (inspection, history, records)."))
    if cause not in set(ComplaintCause):
        raise InvalidInput(_("Choose the cause."), field="cause")
    if responsibility not in set(Responsibility):
        raise InvalidInput(_("Choose whose responsibility it is."), field="responsibility")
    complaint.facts, complaint.cause, complaint.responsibility = text, cause, responsibility
    _done(session, complaint, actor, now, ComplaintStep.DECIDE, f"{cause} {responsibility}")
    await session.flush()
    return complaint


def parse_amount(raw: str | None) -> Decimal:
    text = (raw or "").strip().replace(",", "").replace("¥", "") or "0"
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise InvalidInput(_("Enter the amount as a number, e.g. 300."), field="amount") from None
    if not amount.is_finite() or amount < 0 or amount > Decimal("99999999"):
        raise InvalidInput(_("Enter the amount as a number, e.g. 300."), field="amount")
    return amount.quantize(Decimal("0.01"))


async def decide(
    session: AsyncSession, complaint_id: int, actor: Actor, version: int | None, now: datetime,
    *, decision: str | None, amount: str | None,
) -> Complaint:  # fmt: skip
    """The decision, within the decider's authority (like discounts): an advisor's limit,
    the service manager's; above that the general manager decides."""
    complaint = await at_step(session, complaint_id, actor, version, ComplaintStep.DECIDE)
    text = _text(decision, "decision", _("Write down what was decided."))
    value = parse_amount(amount)
    shop = await pricing.dealership(session)
    manager = actor.has_role(Role.SERVICE_MANAGER.value)
    limit = shop.complaint_manager_limit if manager else shop.complaint_advisor_limit
    if value > limit:
        if manager or value > shop.complaint_manager_limit:
            who = _("the general manager")
        else:
            who = _("the service manager")
        raise InvalidInput(
            _("%(amount)s is above your authority (up to %(limit)s): %(who)s must decide it.",
              amount=f"{value:,.2f}", limit=f"{limit:,.2f}", who=who),
            field="amount",
        )  # fmt: skip
    complaint.decision, complaint.decision_amount = text, value
    complaint.decided_by_id, complaint.decided_at = actor.user_id, now
    complaint.customer_agreed = None
    _done(session, complaint, actor, now, ComplaintStep.EXPLAIN, f"{value}")
    await session.flush()
    return complaint


async def explain(
    session: AsyncSession, complaint_id: int, actor: Actor, version: int | None, now: datetime,
    *, explanation: str | None, agreed: str | None,
) -> Complaint:  # fmt: skip
    """Explained; the customer agrees (on to act) or not (back to decide)."""
    complaint = await at_step(session, complaint_id, actor, version, ComplaintStep.EXPLAIN)
    text = _text(explanation, "explanation", _("Write down how the decision was explained."))
    if agreed not in ("yes", "no"):
        raise InvalidInput(_("Did the customer agree? Choose yes or no."), field="agreed")
    complaint.explanation = text
    complaint.customer_agreed = agreed == "yes"
    if complaint.customer_agreed:
        _done(session, complaint, actor, now, ComplaintStep.ACT)
    else:
        history.log(
            session, complaint, now, "not_agreed", by=actor.user_id, step=ComplaintStep.DECIDE.value
        )
        clock.acknowledge(complaint, now)
        complaint.step = ComplaintStep.DECIDE.value
        board_events.changed(session)
    await session.flush()
    return complaint


async def act(
    session: AsyncSession, complaint_id: int, actor: Actor, version: int | None, now: datetime,
    *, kind: str | None, action: str | None, rework_order: str | None = None,
) -> Complaint:  # fmt: skip
    complaint = await at_step(session, complaint_id, actor, version, ComplaintStep.ACT)
    if kind not in ACTION_KINDS:
        raise InvalidInput(_("Choose what was done."), field="kind")
    text = _text(action, "action", _("Write down what was done."))
    order_id = None
    number = (rework_order or "").strip()
    if number:
        order = await session.scalar(select(WorkOrder).where(WorkOrder.number == number))
        if order is None or order.vehicle_id != complaint.vehicle_id:
            raise InvalidInput(
                _("No work order %(number)s for this car.", number=number[:40]),
                field="rework_order",
            )
        order_id = order.id
    complaint.action_kind, complaint.action = kind, text
    complaint.rework_order_id, complaint.acted_at = order_id, now
    _done(session, complaint, actor, now, ComplaintStep.FOLLOW_UP, kind)
    await session.flush()
    return complaint

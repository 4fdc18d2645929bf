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
    AttemptOutcome,
    Complaint,
    ComplaintCause,
    ComplaintEvent,
    ComplaintStep,
    FollowUpAttempt,
    FollowUpReason,
    FollowUpStatus,
    FollowUpTask,
    Responsibility,
    Role,
    WorkOrder,
)
from app.services import audit, board_events
from app.services.audit import Actor
from app.services.complaints import access, clock
from app.services.complaints.record import customer_of
from app.services.estimate import pricing

SUMMARY_FIELDS = ("what", "when", "where", "who", "why", "how", "how_much")
ACTION_KINDS = ("rework", "refund", "goodwill", "explanation")
# The steps a failed check call can send the complaint back to.
REDO_STEPS = (
    ComplaintStep.LISTEN, ComplaintStep.FACTS, ComplaintStep.DECIDE,
    ComplaintStep.EXPLAIN, ComplaintStep.ACT,
)  # fmt: skip
MAX_TEXT = 4000


def _text(raw: str | None, field: str, message: str) -> str:
    value = (raw or "").strip()
    if not value:
        raise InvalidInput(message, field=field)
    if len(value) > MAX_TEXT:
        raise InvalidInput(_("That is too long; keep it under 4000 characters."), field=field)
    return value


async def _at(
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
    session.add(ComplaintEvent(complaint_id=complaint.id, at=now, by_id=actor.user_id,
                               kind="step_done", step=complaint.step, note=note[:500]))  # fmt: skip
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
        session.add(ComplaintEvent(complaint_id=complaint.id, at=now, by_id=actor.user_id,
                                   kind="acknowledged", step=complaint.step))  # fmt: skip
        board_events.changed(session)
    await session.flush()
    return complaint


async def listen(
    session: AsyncSession, complaint_id: int, actor: Actor, version: int | None, now: datetime,
    *, words: str | None, summary: dict[str, Any], read_back: bool,
) -> Complaint:  # fmt: skip
    complaint = await _at(session, complaint_id, actor, version, ComplaintStep.LISTEN)
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
    complaint = await _at(session, complaint_id, actor, version, ComplaintStep.FACTS)
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
    complaint = await _at(session, complaint_id, actor, version, ComplaintStep.DECIDE)
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
    complaint = await _at(session, complaint_id, actor, version, ComplaintStep.EXPLAIN)
    text = _text(explanation, "explanation", _("Write down how the decision was explained."))
    if agreed not in ("yes", "no"):
        raise InvalidInput(_("Did the customer agree? Choose yes or no."), field="agreed")
    complaint.explanation = text
    complaint.customer_agreed = agreed == "yes"
    if complaint.customer_agreed:
        _done(session, complaint, actor, now, ComplaintStep.ACT)
    else:
        session.add(ComplaintEvent(complaint_id=complaint.id, at=now, by_id=actor.user_id,
                                   kind="not_agreed", step=ComplaintStep.DECIDE.value))  # fmt: skip
        clock.acknowledge(complaint, now)
        complaint.step = ComplaintStep.DECIDE.value
        board_events.changed(session)
    await session.flush()
    return complaint


async def act(
    session: AsyncSession, complaint_id: int, actor: Actor, version: int | None, now: datetime,
    *, kind: str | None, action: str | None, rework_order: str | None = None,
) -> Complaint:  # fmt: skip
    complaint = await _at(session, complaint_id, actor, version, ComplaintStep.ACT)
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


async def check_call(session: AsyncSession, complaint: Complaint) -> FollowUpTask | None:
    return await session.scalar(
        select(FollowUpTask)
        .where(FollowUpTask.complaint_id == complaint.id,
               FollowUpTask.reason == FollowUpReason.COMPLAINT.value,
               FollowUpTask.status == FollowUpStatus.OPEN.value)
        .order_by(FollowUpTask.id.desc())
    )  # fmt: skip


async def schedule_check_call(
    session: AsyncSession, complaint_id: int, actor: Actor, version: int | None, now: datetime
) -> FollowUpTask:
    """Step 7: the follow-up clerk's call that asks whether the customer is satisfied,
    due now, on the clerk's queue (one open at a time)."""
    complaint = await _at(session, complaint_id, actor, version, ComplaintStep.FOLLOW_UP)
    open_task = await check_call(session, complaint)
    if open_task is not None:
        return open_task
    customer = await customer_of(session, complaint)
    task = FollowUpTask(
        work_order_id=complaint.work_order_id, customer_id=complaint.customer_id,
        vehicle_id=complaint.vehicle_id, complaint_id=complaint.id,
        reason=FollowUpReason.COMPLAINT.value, due_at=now, phone=customer.phone,
        contact_name=customer.name, status=FollowUpStatus.OPEN.value,
    )  # fmt: skip
    session.add(task)
    session.add(ComplaintEvent(complaint_id=complaint.id, at=now, by_id=actor.user_id,
                               kind="call_scheduled", step=complaint.step))  # fmt: skip
    clock.acknowledge(complaint, now)
    await session.flush()
    return task


async def latest_check(session: AsyncSession, complaint: Complaint) -> FollowUpAttempt | None:
    """The newest reached call on this complaint's check tasks made after the act step."""
    if complaint.acted_at is None:
        return None
    return await session.scalar(
        select(FollowUpAttempt)
        .join(FollowUpTask, FollowUpTask.id == FollowUpAttempt.task_id)
        .where(
            FollowUpTask.complaint_id == complaint.id,
            FollowUpTask.reason == FollowUpReason.COMPLAINT.value,
            FollowUpAttempt.outcome == AttemptOutcome.REACHED.value,
            FollowUpAttempt.satisfied.is_not(None),
            FollowUpAttempt.called_at >= complaint.acted_at,
        )
        .order_by(FollowUpAttempt.called_at.desc(), FollowUpAttempt.id.desc())
    )


async def close(
    session: AsyncSession, complaint_id: int, actor: Actor, version: int | None, now: datetime
) -> Complaint:
    complaint = await _at(session, complaint_id, actor, version, ComplaintStep.FOLLOW_UP)
    call = await latest_check(session, complaint)
    if call is None or call.satisfied is not True:
        raise InvalidInput(
            _("Closing needs a follow-up call that finds the customer satisfied."), field="close"
        )
    complaint.step = ComplaintStep.CLOSED.value
    complaint.closed_at = now
    complaint.paused_since = None
    session.add(ComplaintEvent(complaint_id=complaint.id, at=now, by_id=actor.user_id,
                               kind="closed", step=ComplaintStep.CLOSED.value,
                               note=f"follow_up_attempt {call.id}"))  # fmt: skip
    audit.record(session, actor, "complaint.closed", "complaint", complaint.id, attempt=call.id)
    board_events.changed(session)
    await session.flush()
    return complaint


async def send_back(
    session: AsyncSession, complaint_id: int, actor: Actor, version: int | None, now: datetime,
    *, step: str | None,
) -> Complaint:  # fmt: skip
    """The check call found the customer not satisfied: back to the step that failed."""
    complaint = await _at(session, complaint_id, actor, version, ComplaintStep.FOLLOW_UP)
    call = await latest_check(session, complaint)
    if call is None or call.satisfied is not False:
        raise Conflict(_("Only a check call that found the customer not satisfied sends it back."))
    if step not in {s.value for s in REDO_STEPS}:
        raise InvalidInput(_("Choose the step that failed."), field="step")
    session.add(ComplaintEvent(complaint_id=complaint.id, at=now, by_id=actor.user_id,
                               kind="sent_back", step=step,
                               note=f"follow_up_attempt {call.id}"))  # fmt: skip
    complaint.step = step
    if step in (ComplaintStep.LISTEN, ComplaintStep.FACTS, ComplaintStep.DECIDE):
        complaint.customer_agreed = None
    audit.record(session, actor, "complaint.sent_back", "complaint", complaint.id, step=step)
    board_events.changed(session)
    await session.flush()
    return complaint

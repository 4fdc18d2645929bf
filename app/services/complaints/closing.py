"""Step 7 and closing: the follow-up clerk's check call, closing only when it finds the
customer satisfied, and back to the step that failed when it does not (seed 001)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, InvalidInput
from app.i18n import _
from app.models import (
    AttemptOutcome,
    Complaint,
    ComplaintStep,
    FollowUpAttempt,
    FollowUpReason,
    FollowUpStatus,
    FollowUpTask,
)
from app.services import audit, board_events
from app.services.audit import Actor
from app.services.complaints import clock, history
from app.services.complaints.record import customer_of
from app.services.complaints.steps import at_step

# The steps a failed check call can send the complaint back to.
REDO_STEPS = (
    ComplaintStep.LISTEN, ComplaintStep.FACTS, ComplaintStep.DECIDE,
    ComplaintStep.EXPLAIN, ComplaintStep.ACT,
)  # fmt: skip


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
    complaint = await at_step(session, complaint_id, actor, version, ComplaintStep.FOLLOW_UP)
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
    history.log(session, complaint, now, "call_scheduled", by=actor.user_id)
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
    complaint = await at_step(session, complaint_id, actor, version, ComplaintStep.FOLLOW_UP)
    call = await latest_check(session, complaint)
    if call is None or call.satisfied is not True:
        raise InvalidInput(
            _("Closing needs a follow-up call that finds the customer satisfied."), field="close"
        )
    complaint.step = ComplaintStep.CLOSED.value
    complaint.closed_at = now
    complaint.paused_since = None
    history.log(
        session,
        complaint,
        now,
        "closed",
        by=actor.user_id,
        step=ComplaintStep.CLOSED.value,
        note=f"follow_up_attempt {call.id}",
    )
    audit.record(session, actor, "complaint.closed", "complaint", complaint.id, attempt=call.id)
    board_events.changed(session)
    await session.flush()
    return complaint


async def send_back(
    session: AsyncSession, complaint_id: int, actor: Actor, version: int | None, now: datetime,
    *, step: str | None,
) -> Complaint:  # fmt: skip
    """The check call found the customer not satisfied: back to the step that failed."""
    complaint = await at_step(session, complaint_id, actor, version, ComplaintStep.FOLLOW_UP)
    call = await latest_check(session, complaint)
    if call is None or call.satisfied is not False:
        raise Conflict(_("Only a check call that found the customer not satisfied sends it back."))
    if step not in {s.value for s in REDO_STEPS}:
        raise InvalidInput(_("Choose the step that failed."), field="step")
    history.log(
        session,
        complaint,
        now,
        "sent_back",
        by=actor.user_id,
        step=step,
        note=f"follow_up_attempt {call.id}",
    )
    complaint.step = step
    if step in (ComplaintStep.LISTEN, ComplaintStep.FACTS, ComplaintStep.DECIDE):
        complaint.customer_agreed = None
    audit.record(session, actor, "complaint.sent_back", "complaint", complaint.id, step=step)
    board_events.changed(session)
    await session.flush()
    return complaint

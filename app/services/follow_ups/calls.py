"""Logging a call: every attempt kept, the task moved, retried or closed.

`log_attempt` is the one way an attempt is recorded (the complaints package reads
`FollowUpAttempt.satisfied` from a complaint's check call). It re-checks everything
the form showed: the task still open at the version the clerk saw, the order
delivered, a remark with every "no", a new time that lies ahead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, InvalidInput, NotFound
from app.i18n import Formatter, _
from app.models import (
    Answer,
    AttemptOutcome,
    FollowUpAnswer,
    FollowUpAttempt,
    FollowUpReason,
    FollowUpStatus,
    FollowUpTask,
    WorkOrder,
    WorkOrderStatus,
)
from app.services import audit
from app.services.audit import Actor
from app.services.estimate import pricing
from app.services.follow_ups import evidence
from app.services.follow_ups.questions import QUESTIONS

MAX_TEXT = 2000
SPOKE_WITH = ("user", "owner")
RETRIED = (AttemptOutcome.NO_ANSWER.value, AttemptOutcome.WRONG_NUMBER.value)
# Where a retry lands the next day, by the customer's preferred window.
WINDOW_START = {"morning": time(9, 0), "afternoon": time(14, 0), "evening": time(18, 30)}


@dataclass
class CallForm:
    """What the clerk tapped and typed, as sent (strings, checked here)."""

    outcome: str
    answers: dict[str, str] = field(default_factory=dict)  # question -> yes/no/not_asked
    remarks: dict[str, str] = field(default_factory=dict)
    comment: str = ""
    satisfaction: str = ""
    spoke_with: str = ""
    next_call_at: str = ""  # the dealership's local time, "YYYY-MM-DDTHH:MM"
    satisfied: str = ""  # a complaint's check call: "yes" or "no"
    complaint_raised: bool = False  # "the customer made a complaint during the call"


async def task_for_call(session: AsyncSession, task_id: int) -> FollowUpTask:
    task = await session.get(FollowUpTask, task_id)
    if task is None:
        raise NotFound(_("This follow-up call does not exist."))
    return task


async def attempts_of(session: AsyncSession, task_id: int) -> list[FollowUpAttempt]:
    return list(
        (
            await session.scalars(
                select(FollowUpAttempt)
                .where(FollowUpAttempt.task_id == task_id)
                .order_by(FollowUpAttempt.called_at, FollowUpAttempt.id)
            )
        ).all()
    )


async def delivered_order(session: AsyncSession, task: FollowUpTask) -> WorkOrder | None:
    """The order the call is about; refused while the car has not been delivered."""
    if task.work_order_id is None:
        return None
    order = await session.get(WorkOrder, task.work_order_id)
    if order is None or order.status != WorkOrderStatus.DELIVERED or order.delivered_at is None:
        raise Conflict(
            _("This order has not been delivered yet: there is no call to make. Nothing was saved.")
        )
    return order


def _text(value: str, name: str) -> str:
    value = (value or "").strip()
    if len(value) > MAX_TEXT:
        raise InvalidInput(_("At most %(n)s characters.", n=MAX_TEXT), field=name)
    return value


def _satisfaction(raw: str, scale: int) -> int:
    low = 0 if scale == 10 else 1
    message = _("Choose the overall satisfaction, %(low)s to %(high)s.", low=low, high=scale)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise InvalidInput(message, field="satisfaction") from None
    if not low <= value <= scale:
        raise InvalidInput(message, field="satisfaction")
    return value


def _next_call(raw: str, now: datetime, tz: ZoneInfo) -> datetime:
    try:
        local = datetime.fromisoformat((raw or "").strip())
    except ValueError:
        raise InvalidInput(
            _("Give the time the customer asked to be called again."), field="next_call_at"
        ) from None
    moment = (local if local.tzinfo else local.replace(tzinfo=tz)).astimezone(ZoneInfo("UTC"))
    if moment <= now:
        raise InvalidInput(_("The new time must lie ahead."), field="next_call_at")
    return moment


def retry_at(task: FollowUpTask, now: datetime, tz: ZoneInfo, opens: str) -> datetime:
    """The next day, at the start of the customer's preferred window."""
    start = WINDOW_START.get(task.preferred_when)
    if start is None:
        hours, minutes = (int(p) for p in opens.split(":"))
        start = time(hours, minutes)
    day = now.astimezone(tz).date() + timedelta(days=1)
    return datetime.combine(day, start, tzinfo=tz).astimezone(ZoneInfo("UTC"))


async def _answers(
    session: AsyncSession, order: WorkOrder | None, call: CallForm, fmt: Formatter
) -> list[FollowUpAnswer]:
    found = await evidence.for_order(session, order, fmt) if order is not None else {}
    rows = []
    for code in QUESTIONS:
        answer = call.answers.get(code) or Answer.NOT_ASKED.value
        if answer not in {a.value for a in Answer}:
            raise InvalidInput(_("Answer yes, no or not asked."), field=f"answer_{code}")
        remark = _text(call.remarks.get(code, ""), f"remark_{code}")
        if answer == Answer.NO.value and not remark:
            raise InvalidInput(
                _("Write down what the customer said: a “no” needs a remark."),
                field=f"remark_{code}",
            )
        seen = found.get(code)
        rows.append(
            FollowUpAnswer(
                question=code, answer=answer, remark=remark,
                record_note=seen.sentence if seen else "",
                record_verdict=evidence.verdict(answer, seen.fact if seen else None).value,
            )
        )  # fmt: skip
    return rows


async def _reached(
    session: AsyncSession,
    task: FollowUpTask,
    order: WorkOrder | None,
    attempt: FollowUpAttempt,
    call: CallForm,
    fmt: Formatter,
    now: datetime,
) -> list[FollowUpAnswer]:
    """A call that reached the customer: the answers (or, for a complaint's check call,
    whether they are satisfied) and the task done."""
    if call.spoke_with not in SPOKE_WITH:
        raise InvalidInput(_("Say who answered the call."), field="spoke_with")
    attempt.spoke_with = call.spoke_with
    answers: list[FollowUpAnswer] = []
    if task.reason == FollowUpReason.COMPLAINT.value:
        if call.satisfied not in ("yes", "no"):
            raise InvalidInput(
                _("Ask whether the customer is satisfied: yes or no."), field="satisfied"
            )
        attempt.satisfied = call.satisfied == "yes"
    else:
        shop = await pricing.dealership(session)
        answers = await _answers(session, order, call, fmt)
        attempt.satisfaction = _satisfaction(call.satisfaction, shop.follow_up_scale)
        attempt.scale = shop.follow_up_scale
    if call.complaint_raised:
        task.details = {**(task.details or {}), "complaint_raised": True}
    task.status = FollowUpStatus.REACHED.value
    task.closed_at = now
    return answers


async def _retried(session: AsyncSession, task: FollowUpTask, now: datetime, tz: ZoneInfo) -> None:
    """No answer or a wrong number: tried again the next day, until the attempts run out."""
    shop = await pricing.dealership(session)
    failed = await session.scalar(
        select(func.count(FollowUpAttempt.id)).where(
            FollowUpAttempt.task_id == task.id, FollowUpAttempt.outcome.in_(RETRIED)
        )
    )
    if (failed or 0) + 1 >= shop.follow_up_max_attempts:
        task.status = FollowUpStatus.UNREACHABLE.value
        task.closed_at = now
    else:
        task.due_at = retry_at(task, now, tz, shop.workshop_opens)


async def log_attempt(
    session: AsyncSession,
    task_id: int,
    call: CallForm,
    *,
    actor: Actor,
    now: datetime,
    fmt: Formatter,
    version: int | None,
) -> FollowUpAttempt:
    """Record one try at the call and move the task: reached closes it, not convenient
    moves it to the customer's time, no answer / wrong number retries it the next day
    until the dealership's attempts run out (then unreachable)."""
    task = await task_for_call(session, task_id)
    if version is not None and version != task.version:
        raise Conflict(
            _("Someone else logged this call meanwhile. Reload the page; nothing was saved.")
        )
    if task.status != FollowUpStatus.OPEN.value:
        raise Conflict(_("This call is closed; nothing was saved."))
    order = await delivered_order(session, task)
    if call.outcome not in {o.value for o in AttemptOutcome}:
        raise InvalidInput(_("Choose how the call went."), field="outcome")
    tz = fmt.tz
    attempt = FollowUpAttempt(
        task_id=task.id, called_at=now, called_by_id=actor.user_id, outcome=call.outcome,
        comment=_text(call.comment, "comment"),
    )  # fmt: skip
    answers: list[FollowUpAnswer] = []
    if call.outcome == AttemptOutcome.REACHED.value:
        answers = await _reached(session, task, order, attempt, call, fmt, now)
    elif call.outcome == AttemptOutcome.NOT_CONVENIENT.value:
        attempt.next_call_at = _next_call(call.next_call_at, now, tz)
        task.due_at = attempt.next_call_at
    else:
        await _retried(session, task, now, tz)
    task.assigned_to_id = task.assigned_to_id or actor.user_id
    session.add(attempt)
    await session.flush()
    for row in answers:
        row.attempt_id = attempt.id
        session.add(row)
    audit.record(
        session, actor, "follow_up.attempt", "follow_up_task", task.id,
        outcome=call.outcome, attempt_id=attempt.id, status=task.status,
    )  # fmt: skip
    await session.flush()
    return attempt

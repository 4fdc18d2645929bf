"""What the call page shows: the task, the order's record beside each question, the
attempts so far, and whether a "no" can open a complaint in one tap."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict
from app.i18n import Formatter, _
from app.models import (
    Answer,
    AttemptOutcome,
    Complaint,
    FollowUpAnswer,
    FollowUpReason,
    FollowUpStatus,
    StaffUser,
    WorkOrder,
)
from app.services.estimate import pricing
from app.services.follow_ups import calls, evidence
from app.services.follow_ups.questions import QUESTIONS, question_labels, short_labels


def outcome_labels() -> dict[str, str]:
    return {
        AttemptOutcome.REACHED.value: _("Reached"),
        AttemptOutcome.NOT_CONVENIENT.value: _("Not convenient"),
        AttemptOutcome.NO_ANSWER.value: _("No answer"),
        AttemptOutcome.WRONG_NUMBER.value: _("Wrong number"),
    }


def status_labels() -> dict[str, str]:
    return {
        FollowUpStatus.OPEN.value: _("To call"),
        FollowUpStatus.REACHED.value: _("Reached"),
        FollowUpStatus.UNREACHABLE.value: _("Unreachable"),
        FollowUpStatus.DECLINED.value: _("Declined calls"),
    }


def reason_labels() -> dict[str, str]:
    return {
        FollowUpReason.DELIVERY.value: _("After delivery"),
        FollowUpReason.DORMANT.value: _("Not seen for months"),
        FollowUpReason.REWORK.value: _("Rework"),
        FollowUpReason.COMPLAINT.value: _("Complaint"),
    }


def when_labels() -> dict[str, str]:
    return {
        "morning": _("Morning"),
        "afternoon": _("Afternoon"),
        "evening": _("Evening"),
        "any": _("Any time"),
        "": _("Not asked"),
    }


def verdict_labels() -> dict[str, str]:
    return {
        "contradicts": _("The record says otherwise"),
        "unsupported": _("The record cannot support this"),
        "supports": _("The record agrees"),
        "": "",
    }


def answer_labels() -> dict[str, str]:
    return {
        Answer.YES.value: _("Yes"),
        Answer.NO.value: _("No"),
        Answer.NOT_ASKED.value: _("Not asked"),
    }


def common_labels() -> dict[str, Any]:
    return {
        "outcome_labels": outcome_labels(),
        "status_labels": status_labels(),
        "reason_labels": reason_labels(),
        "when_labels": when_labels(),
        "verdict_labels": verdict_labels(),
        "answer_labels": answer_labels(),
    }


def _verdict(answer: str, found: evidence.Evidence | None) -> str:
    return evidence.verdict(answer, found.fact if found else None).value


async def context(session: AsyncSession, task_id: int, fmt: Formatter) -> dict[str, Any]:
    task = await calls.task_for_call(session, task_id)
    shop = await pricing.dealership(session)
    order: WorkOrder | None = None
    undelivered = False
    try:
        order = await calls.delivered_order(session, task)
    except Conflict:
        undelivered = True
        order = await session.get(WorkOrder, task.work_order_id) if task.work_order_id else None
    found = {}
    if order is not None and not undelivered:
        found = await evidence.for_order(session, order, fmt)
    attempts = await calls.attempts_of(session, task.id)
    answers: dict[int, list[FollowUpAnswer]] = {a.id: [] for a in attempts}
    if attempts:
        for row in (
            await session.scalars(
                select(FollowUpAnswer).where(FollowUpAnswer.attempt_id.in_(list(answers)))
            )
        ).all():
            answers[row.attempt_id].append(row)
    people = {a.called_by_id for a in attempts if a.called_by_id}
    staff = {
        u.id: u
        for u in (await session.scalars(select(StaffUser).where(StaffUser.id.in_(people)))).all()
    }
    reached = next((a for a in attempts if a.outcome == AttemptOutcome.REACHED.value), None)
    reached_noes = [r for r in answers.get(reached.id, []) if r.answer == Answer.NO.value] if (
        reached
    ) else []  # fmt: skip
    complaint = None
    if task.complaint_id:
        complaint = await session.get(Complaint, task.complaint_id)
    low = 0 if shop.follow_up_scale == 10 else 1
    return {
        "task": task,
        "order": order,
        "undelivered": undelivered,
        "complaint_call": task.reason == FollowUpReason.COMPLAINT.value,
        "complaint": complaint,
        "evidence": found,
        "questions": QUESTIONS,
        "question_labels": question_labels(),
        "short_labels": short_labels(),
        "attempts": attempts,
        "answers": answers,
        "staff": staff,
        "reached": reached,
        "reached_noes": reached_noes,
        "scale": list(range(low, shop.follow_up_scale + 1)),
        "max_attempts": shop.follow_up_max_attempts,
        "open": task.status == FollowUpStatus.OPEN.value,
        "evidence_verdict": _verdict,
        **common_labels(),
    }

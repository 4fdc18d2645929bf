"""The monthly follow-up report (回访月报, seeds 002 and 003): every figure counted from
the records of the period.

The calls counted are the delivery calls (回访) due in the period: a call due on 2
December for a car delivered on 29 November is December's. Their satisfaction and
answers are those of the call that reached the customer, whenever it was made.
Complaints are those received in the period; the time to close, of those closed in it;
the corrective and preventive actions, those still open on the day the report is read.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    Answer,
    AttemptOutcome,
    FollowUpAnswer,
    FollowUpAttempt,
    FollowUpReason,
    FollowUpStatus,
    FollowUpTask,
    RecordVerdict,
    WorkOrder,
)
from app.services import dealership
from app.services.follow_ups.questions import QUESTIONS, short_labels
from app.services.reports import follow_up_complaints as complaint_figures
from app.services.reports.follow_up_complaints import ComplaintFigures, OpenAction
from app.services.reports.labels import answer_labels, verdict_labels
from app.services.reports.period import Period


def percent(part: int, whole: int) -> float | None:
    """Part of whole in per cent to one decimal (3 of 4 → 75.0); None when nothing is counted."""
    return round(part * 100 / whole, 1) if whole else None


@dataclass(frozen=True)
class CallFigures:
    due: int  # delivery calls due in the period, the declined ones aside
    declined: int  # customers who declined calls at greeting: never called, counted
    made: int  # calls tried at least once
    on_time: int  # first try on or before the due time
    reached: int
    unreachable: int  # closed after the last try found nobody
    still_open: int  # neither reached nor closed yet

    @property
    def on_time_percent(self) -> float | None:
        return percent(self.on_time, self.due)

    @property
    def made_percent(self) -> float | None:
        return percent(self.made, self.due)

    @property
    def reached_percent(self) -> float | None:
        return percent(self.reached, self.due)


@dataclass(frozen=True)
class Satisfaction:
    scale: int  # the dealership's scale (5 or 10)
    answers: int  # reached calls that gave a score
    mean: float | None  # on the dealership's scale, to two decimals
    # score -> calls, every score of the scale (1-5, or 0-10) in order, zeros included
    distribution: dict[int, int]
    other_scale: int = 0  # scores given on a scale since changed: in the mean, not the bars


@dataclass(frozen=True)
class QuestionFigure:
    code: str
    label: str
    yes: int
    no: int
    not_asked: int

    @property
    def yes_percent(self) -> float | None:
        """The share of yes among the customers who answered yes or no."""
        return percent(self.yes, self.yes + self.no)


@dataclass(frozen=True)
class Contradiction:
    """An answer the order's record does not bear out (a "no" it disproves, a "yes" it
    cannot support), with what the record said at the call."""

    order_number: str
    work_order_id: int | None
    contact_name: str
    called_at: datetime
    question: str
    label: str
    answer: str
    verdict: str
    remark: str
    record_note: str

    @property
    def answer_label(self) -> str:
        return answer_labels().get(self.answer, self.answer)

    @property
    def verdict_label(self) -> str:
        return verdict_labels().get(self.verdict, self.verdict)


@dataclass(frozen=True)
class Issue:
    label: str
    count: int


@dataclass(frozen=True)
class FollowUpReport:
    period: Period
    today: date
    calls: CallFigures
    satisfaction: Satisfaction
    questions: list[QuestionFigure]
    contradictions: list[Contradiction]
    no_answers: list[Issue]  # the questions answered "no", most often first
    complaints: ComplaintFigures
    actions: list[OpenAction] = field(default_factory=list)

    @property
    def cause_issues(self) -> list[Issue]:
        """The coded causes of the period's complaints, most frequent first."""
        counted = [(label, n) for code, label, n in self.complaints.by_cause if code and n]
        return [Issue(label, n) for label, n in sorted(counted, key=lambda row: -row[1])]

    @property
    def overdue_actions(self) -> int:
        return sum(1 for action in self.actions if action.overdue)

    @property
    def empty(self) -> bool:
        return not (self.calls.due or self.calls.declined or self.complaints.received)


def _delivery_calls_due(period: Period) -> tuple[ColumnElement[bool], ...]:
    return (
        FollowUpTask.reason == FollowUpReason.DELIVERY.value,
        FollowUpTask.deadline_at >= period.starts_at,
        FollowUpTask.deadline_at < period.ends_at,
    )


def _reached_attempts(period: Period) -> Select[int]:
    """The attempt that reached the customer, one per call due (the last, should a call
    have two), as a subquery: a year's calls are too many ids to send as parameters."""
    return (
        select(func.max(FollowUpAttempt.id))
        .join(FollowUpTask, FollowUpTask.id == FollowUpAttempt.task_id)
        .where(
            *_delivery_calls_due(period),
            FollowUpTask.status != FollowUpStatus.DECLINED.value,
            FollowUpAttempt.outcome == AttemptOutcome.REACHED.value,
        )
        .group_by(FollowUpAttempt.task_id)
    )


async def _calls(session: AsyncSession, period: Period) -> CallFigures:
    tasks = (
        await session.execute(
            select(FollowUpTask.id, FollowUpTask.status, FollowUpTask.deadline_at).where(
                *_delivery_calls_due(period)
            )
        )
    ).all()
    attempts = (
        await session.execute(
            select(FollowUpAttempt.task_id, FollowUpAttempt.called_at, FollowUpAttempt.outcome)
            .join(FollowUpTask, FollowUpTask.id == FollowUpAttempt.task_id)
            .where(*_delivery_calls_due(period))
            .order_by(FollowUpAttempt.called_at, FollowUpAttempt.id)
        )
    ).all()
    first_call: dict[int, datetime] = {}
    reached_by: set[int] = set()
    for task_id, called_at, outcome in attempts:
        first_call.setdefault(task_id, called_at)
        if outcome == AttemptOutcome.REACHED.value:
            reached_by.add(task_id)
    counted = [row for row in tasks if row.status != FollowUpStatus.DECLINED.value]
    made = [row for row in counted if row.id in first_call]
    return CallFigures(
        due=len(counted),
        declined=len(tasks) - len(counted),
        made=len(made),
        on_time=sum(1 for row in made if first_call[row.id] <= row.deadline_at),
        reached=sum(1 for row in counted if row.id in reached_by),
        unreachable=sum(1 for row in counted if row.status == FollowUpStatus.UNREACHABLE.value),
        still_open=sum(
            1
            for row in counted
            if row.id not in reached_by and row.status == FollowUpStatus.OPEN.value
        ),
    )


def _scores(scale: int) -> range:
    return range(1, 6) if scale == 5 else range(0, scale + 1)


async def _satisfaction(session: AsyncSession, period: Period, scale: int) -> Satisfaction:
    rows = (
        await session.execute(
            select(FollowUpAttempt.satisfaction, FollowUpAttempt.scale).where(
                FollowUpAttempt.id.in_(_reached_attempts(period)),
                FollowUpAttempt.satisfaction.is_not(None),
            )
        )
    ).all()
    distribution = dict.fromkeys(_scores(scale), 0)
    values: list[float] = []
    other = 0
    for score, asked_on in rows:
        if score is None:
            continue
        given_on = asked_on or scale
        values.append(score * scale / given_on)
        if given_on == scale and score in distribution:
            distribution[score] += 1
        else:
            other += 1
    mean = round(statistics.fmean(values), 2) if values else None
    return Satisfaction(scale, len(values), mean, distribution, other)


async def _answers(
    session: AsyncSession, period: Period
) -> tuple[list[QuestionFigure], list[Contradiction], list[Issue]]:
    labels = short_labels()
    rows = (
        await session.execute(
            select(
                FollowUpAnswer,
                FollowUpAttempt.called_at,
                FollowUpTask.contact_name,
                FollowUpTask.work_order_id,
                WorkOrder.number,
            )
            .join(FollowUpAttempt, FollowUpAttempt.id == FollowUpAnswer.attempt_id)
            .join(FollowUpTask, FollowUpTask.id == FollowUpAttempt.task_id)
            .outerjoin(WorkOrder, WorkOrder.id == FollowUpTask.work_order_id)
            .where(FollowUpAnswer.attempt_id.in_(_reached_attempts(period)))
            .order_by(FollowUpAttempt.called_at, FollowUpAnswer.id)
        )
    ).all()
    counts = {code: dict.fromkeys(Answer, 0) for code in QUESTIONS}
    known = {answer.value for answer in Answer}
    contradictions = []
    flagged = (RecordVerdict.CONTRADICTS.value, RecordVerdict.UNSUPPORTED.value)
    for answer, called_at, contact_name, order_id, order_number in rows:
        if answer.question in counts and answer.answer in known:
            counts[answer.question][Answer(answer.answer)] += 1
        if answer.record_verdict in flagged:
            contradictions.append(
                Contradiction(
                    order_number=order_number or "",
                    work_order_id=order_id,
                    contact_name=contact_name,
                    called_at=called_at,
                    question=answer.question,
                    label=labels.get(answer.question, answer.question),
                    answer=answer.answer,
                    verdict=answer.record_verdict,
                    remark=answer.remark,
                    record_note=answer.record_note,
                )
            )
    questions = [
        QuestionFigure(code, labels[code], n[Answer.YES], n[Answer.NO], n[Answer.NOT_ASKED])
        for code, n in counts.items()
    ]
    no_answers = sorted(
        (Issue(q.label, q.no) for q in questions if q.no), key=lambda issue: -issue.count
    )
    return questions, contradictions, no_answers


async def build(session: AsyncSession, period: Period, today: date) -> FollowUpReport:
    """The report for `period`; `today` (the dealership's date) decides which open
    actions are overdue."""
    shop = await dealership.current(session)
    scale = shop.follow_up_scale if shop is not None else 5
    calls = await _calls(session, period)
    questions, contradictions, no_answers = await _answers(session, period)
    return FollowUpReport(
        period=period,
        today=today,
        calls=calls,
        satisfaction=await _satisfaction(session, period, scale),
        questions=questions,
        contradictions=contradictions,
        no_answers=no_answers,
        complaints=await complaint_figures.build(session, period),
        actions=await complaint_figures.open_actions(session, today),
    )

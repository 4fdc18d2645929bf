"""The complaints side of the follow-up report: complaints received in the period by
severity, cause and responsibility, the time to close those closed in it, and the
corrective and preventive actions still open (overdue marked)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.models import (
    Complaint,
    ComplaintCause,
    ComplaintSeverity,
    CorrectiveAction,
    Responsibility,
    StaffUser,
)
from app.services.reports.labels import (
    action_kind_labels,
    cause_labels,
    responsibility_labels,
    severity_labels,
)
from app.services.reports.period import Period

SEVERITIES = tuple(s.value for s in ComplaintSeverity)
# The coded causes in the order of the model, then the complaints not yet coded.
CAUSES = (*(c.value for c in ComplaintCause), "")
RESPONSIBILITIES = (*(r.value for r in Responsibility), "")

Count = tuple[str, str, int]  # code, label, count


@dataclass(frozen=True)
class CloseTimes:
    closed: int  # complaints closed in the period
    median_hours: float | None  # received → closed, to one decimal
    max_hours: float | None


@dataclass(frozen=True)
class ComplaintFigures:
    received: int
    by_severity: list[Count]  # every severity, zeros included
    by_cause: list[Count]  # every cause and "not yet established", zeros included
    by_responsibility: list[Count]
    # cause -> severity -> count: the stacked bars
    cause_by_severity: dict[str, dict[str, int]]
    close_times: CloseTimes


@dataclass(frozen=True)
class OpenAction:
    kind: str
    kind_label: str
    description: str
    owner: str
    due_on: date
    overdue: bool
    complaint_number: str


def _counted(codes: tuple[str, ...], labels: dict[str, str], found: list[str]) -> list[Count]:
    return [(code, labels[code], sum(1 for f in found if f == code)) for code in codes]


def _known(value: str | None, codes: tuple[str, ...]) -> str:
    """A code outside the list (none today) is counted with the uncoded, not lost."""
    return value if value in codes else ""


async def build(session: AsyncSession, period: Period) -> ComplaintFigures:
    received = (
        await session.execute(
            select(Complaint.severity, Complaint.cause, Complaint.responsibility).where(
                Complaint.received_at >= period.starts_at, Complaint.received_at < period.ends_at
            )
        )
    ).all()
    severities = [row.severity if row.severity in SEVERITIES else "general" for row in received]
    causes = [_known(row.cause, CAUSES) for row in received]
    responsibilities = [_known(row.responsibility, RESPONSIBILITIES) for row in received]
    matrix = {cause: dict.fromkeys(SEVERITIES, 0) for cause in CAUSES}
    for cause, severity in zip(causes, severities, strict=True):
        matrix[cause][severity] += 1
    closed = (
        await session.execute(
            select(Complaint.received_at, Complaint.closed_at).where(
                Complaint.closed_at >= period.starts_at, Complaint.closed_at < period.ends_at
            )
        )
    ).all()
    hours = [(row.closed_at - row.received_at).total_seconds() / 3600 for row in closed]
    return ComplaintFigures(
        received=len(received),
        by_severity=_counted(SEVERITIES, severity_labels(), severities),
        by_cause=_counted(CAUSES, cause_labels(), causes),
        by_responsibility=_counted(RESPONSIBILITIES, responsibility_labels(), responsibilities),
        cause_by_severity=matrix,
        close_times=CloseTimes(
            closed=len(hours),
            median_hours=round(statistics.median(hours), 1) if hours else None,
            max_hours=round(max(hours), 1) if hours else None,
        ),
    )


async def open_actions(session: AsyncSession, today: date) -> list[OpenAction]:
    """Every corrective or preventive action not yet done, the earliest due first."""
    owner = aliased(StaffUser)
    rows = (
        await session.execute(
            select(CorrectiveAction, owner.display_name, Complaint.number)
            .outerjoin(owner, owner.id == CorrectiveAction.owner_id)
            .outerjoin(Complaint, Complaint.id == CorrectiveAction.complaint_id)
            .where(CorrectiveAction.done_at.is_(None))
            .order_by(CorrectiveAction.due_on, CorrectiveAction.id)
        )
    ).all()
    kinds = action_kind_labels()
    return [
        OpenAction(
            kind=action.kind,
            kind_label=kinds.get(action.kind, action.kind),
            description=action.description,
            owner=owner_name or "",
            due_on=action.due_on,
            overdue=action.due_on < today,
            complaint_number=number or "",
        )
        for action, owner_name, number in rows
    ]

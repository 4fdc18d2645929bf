"""A complaint's history (ComplaintEvent): the kinds of entry, which the monthly report
counts by and the record names, and the one way an entry is written."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Complaint, ComplaintEvent

# ComplaintEvent.kind values, the history the monthly report counts by.
EVENT_KINDS = (
    "received", "step_done", "not_agreed", "sent_back", "paused", "resumed", "escalated",
    "manager_alerted", "acknowledged", "call_scheduled", "closed", "severity",
    "action_added", "action_done",
)  # fmt: skip


def log(
    session: AsyncSession, complaint: Complaint, now: datetime, kind: str, *,
    by: int | None = None, step: str | None = None, note: str = "",
) -> None:  # fmt: skip
    """One entry in the complaint's history, at its current step unless another is named."""
    where = complaint.step if step is None else step
    session.add(ComplaintEvent(complaint_id=complaint.id, at=now, by_id=by, kind=kind,
                               step=where, note=note))  # fmt: skip

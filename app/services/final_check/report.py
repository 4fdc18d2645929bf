"""The final QC report as recorded: every round read back as the inspector left
it (items ticked or not, odometer, fuel, verdict), and what the technician's
self-check and the mutual check ticked on each job, by whom and when; for the
report page, the work order and the delivery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Inspection, StaffUser
from app.services.final_check import inspection as final_check
from app.services.workshop import checklist


@dataclass(frozen=True)
class Item:
    key: str
    label: str
    ticked: bool


@dataclass(frozen=True)
class Recorded:
    inspection: Inspection
    inspector: str
    items: list[Item]
    reason: str  # the failure's category, in words
    rework_jobs: list[str]  # titles of the jobs sent back

    @property
    def ticked(self) -> int:
        return sum(item.ticked for item in self.items)


def items(inspection: Inspection, applicable: list[str]) -> list[Item]:
    """The items that applied, in the report's order, and any the inspector ticked
    beyond them: an unticked item on a failed round is part of the record too."""
    labels = final_check.item_labels()
    ticked = set(inspection.ticked or [])
    return [
        Item(key, labels[key], key in ticked)
        for key in final_check.ITEMS
        if key in applicable or key in ticked
    ]


@dataclass(frozen=True)
class Tick:
    """One item of a job's self-check or mutual check, as it was ticked."""

    item: str
    label: str
    not_applicable: bool
    reason: str
    at: datetime
    by: str


async def checks(session: AsyncSession, st: final_check.State) -> dict[int, dict[str, list[Tick]]]:
    """What the technician (自检) and the checker (互检) ticked on each job of the
    current round, by task id and stage ("self", "mutual")."""
    found = await checklist.current(session, [task for task, _job in st.tasks])
    names: dict[int, str] = {}
    result: dict[int, dict[str, list[Tick]]] = {}
    for task_id, stages in found.items():
        result[task_id] = {}
        for stage, ticks in stages.items():
            rows = []
            for tick in ticks:
                who = tick.ticked_by_id or 0
                if who not in names:
                    user = await session.get(StaffUser, who) if who else None
                    names[who] = user.display_name if user else ""
                rows.append(
                    Tick(
                        tick.item,
                        checklist.label(tick.item),
                        tick.not_applicable,
                        tick.reason,
                        tick.ticked_at,
                        names[who],
                    )
                )
            result[task_id][stage] = rows
    return result


async def rounds(session: AsyncSession, st: final_check.State) -> list[Recorded]:
    """Every recorded inspection of the order, newest first."""
    reasons = final_check.reason_labels()
    titles = {job.id: job.title for _task, job in st.tasks}
    names: dict[int, str] = {}
    found = []
    for inspection in reversed(st.inspections):
        if inspection.inspector_id not in names:
            user = await session.get(StaffUser, inspection.inspector_id)
            names[inspection.inspector_id] = user.display_name if user else ""
        found.append(
            Recorded(
                inspection=inspection,
                inspector=names[inspection.inspector_id],
                items=items(inspection, st.items),
                reason=reasons.get(inspection.reason_category, inspection.reason_category),
                rework_jobs=[titles.get(i, f"#{i}") for i in inspection.rework_job_ids or []],
            )
        )
    return found


async def for_order(session: AsyncSession, order_id: int) -> list[Recorded]:
    return await rounds(session, await final_check.state(session, order_id))


async def of(session: AsyncSession, inspection: Inspection | None) -> Recorded | None:
    """One recorded round (the passed one the delivery shows), or None."""
    if inspection is None:
        return None
    found = await for_order(session, inspection.work_order_id)
    return next((r for r in found if r.inspection.id == inspection.id), None)

"""A technician's clock runs on one job at a time: labour utilisation is the
clocked time, so a technician clocked on two jobs at once would count twice.

Starting a job pauses the one that runs (its time entry closed, the job back to
dispatched to resume later); the database keeps one running entry per
technician even when two starts arrive at the same moment."""

from __future__ import annotations

import asyncio
import importlib.util
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import write_intent
from app.errors import Conflict
from app.models import AuditEvent, Role, TaskStatus, TimeEntry, WorkOrder, WorkOrderStatus
from app.models.base import utcnow
from app.services.audit import Actor
from app.services.workshop import jobs as workshop
from tests.conftest import csrf_token, html, sign_in
from tests.workshop_helpers import actor, dispatch_all, signed_order_with, tasks


async def running(db: AsyncSession, technician_id: int) -> list[TimeEntry]:
    await db.rollback()
    db.expire_all()
    return list(
        (
            await db.scalars(
                select(TimeEntry).where(
                    TimeEntry.technician_id == technician_id, TimeEntry.finished_at.is_(None)
                )
            )
        ).all()
    )


async def two_jobs(db: AsyncSession, settings, users) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """An order with two jobs, both dispatched to the technician; committed."""
    order_id = await signed_order_with(db, settings, users, second_job=True)
    await dispatch_all(db, users, order_id)
    first, second = (t.id for t in await tasks(db, order_id))
    return order_id, first, second


async def test_starting_a_job_pauses_the_one_that_runs(db, settings, users) -> None:
    order_id, first, second = await two_jobs(db, settings, users)
    tech = actor(users, Role.TECHNICIAN)
    t0 = utcnow() - timedelta(hours=3)
    await workshop.start(db, first, tech, t0)
    await db.commit()

    started = await workshop.start_job(db, second, tech, t0 + timedelta(hours=1))
    assert started.paused is not None
    paused_job = started.paused.id
    await db.commit()

    task_one, task_two = await tasks(db, order_id)
    assert (task_one.status, task_two.status) == (TaskStatus.DISPATCHED, TaskStatus.IN_PROGRESS)
    assert paused_job == task_one.job_id
    assert [e.finished_at for e in task_one.entries] == [t0 + timedelta(hours=1)]
    assert workshop.clocked_hours(task_one) == Decimal("1.00")
    paused = await db.scalar(select(AuditEvent).where(AuditEvent.action == "job.paused"))
    assert paused is not None
    assert paused.details["job"] == paused_job
    assert [e.task_id for e in await running(db, tech.user_id or 0)] == [second]

    # Back to the first job: it resumes, the second one pauses; time adds up per job.
    await workshop.start(db, first, tech, t0 + timedelta(minutes=90))
    await workshop.finish(db, first, tech, t0 + timedelta(minutes=120))
    await db.commit()
    task_one, task_two = await tasks(db, order_id)
    assert (task_one.status, task_two.status) == (TaskStatus.FINISHED, TaskStatus.DISPATCHED)
    assert workshop.clocked_hours(task_one) == Decimal("1.50")
    assert workshop.clocked_hours(task_two) == Decimal("0.50")
    assert await running(db, tech.user_id or 0) == []


async def test_the_database_keeps_one_running_clock_per_technician(db, settings, users) -> None:
    _order_id, first, second = await two_jobs(db, settings, users)
    tech = users[Role.TECHNICIAN]
    db.add(TimeEntry(task_id=first, technician_id=tech, started_at=utcnow()))
    await db.commit()
    db.add(TimeEntry(task_id=second, technician_id=tech, started_at=utcnow()))
    with pytest.raises(IntegrityError):
        await db.commit()
    await db.rollback()
    assert len(await running(db, tech)) == 1
    # Closed entries are not limited.
    for task_id in (first, second):
        db.add(TimeEntry(task_id=task_id, technician_id=tech, started_at=utcnow(),
                         finished_at=utcnow()))  # fmt: skip
    await db.commit()


async def _start_in_own_session(
    session_maker: async_sessionmaker[AsyncSession], task_id: int, tech: Actor, version: int
) -> str:
    write_intent.set(True)  # as a POST does: SQLite writers queue for the lock
    async with session_maker() as session:
        try:
            await workshop.start(session, task_id, tech, utcnow(), version)
            await session.commit()
        except Conflict:
            await session.rollback()
            return "refused"
    return "started"


@pytest.mark.parametrize("same_job", [False, True], ids=["two jobs", "double tap"])
async def test_two_starts_at_the_same_moment_leave_one_running_clock(
    db, settings, users, session_maker, same_job
) -> None:
    order_id, first, second = await two_jobs(db, settings, users)
    wo = await db.get(WorkOrder, order_id)
    assert wo is not None
    # Another job of the order is already being worked on: only the clock is contested.
    wo.status = WorkOrderStatus.IN_PROGRESS
    await db.commit()
    tech = actor(users, Role.TECHNICIAN)
    one, two = await tasks(db, order_id)
    targets = [(first, one.version), (first, one.version) if same_job else (second, two.version)]

    results = await asyncio.gather(
        *(_start_in_own_session(session_maker, t, tech, v) for t, v in targets)
    )

    assert "started" in results
    clocks = await running(db, tech.user_id or 0)
    assert len(clocks) == 1, clocks
    in_progress = [t for t in await tasks(db, order_id) if t.status == TaskStatus.IN_PROGRESS]
    assert [t.id for t in in_progress] == [clocks[0].task_id]


async def test_the_tablet_says_which_job_was_paused(client, db, settings, users) -> None:
    _order_id, first, second = await two_jobs(db, settings, users)
    await workshop.start(db, first, actor(users, Role.TECHNICIAN), utcnow())
    await db.commit()
    await sign_in(client, Role.TECHNICIAN)
    token = await csrf_token(client, "/my-jobs")

    response = await client.post(
        f"/my-jobs/tasks/{second}/start",
        data={"_csrf_token": token},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200, response.text
    assert "暂停" in response.headers["HX-Trigger"].encode().decode("unicode_escape")
    page = html(response)
    first_job = page.select_one(f"[data-testid=job-{first}]")
    assert first_job is not None
    assert first_job.select_one("[data-testid=task-status]").get_text(strip=True) == "已暂停"
    assert page.select_one(f"[data-testid=start-{first}]").get_text(strip=True) == "继续"
    assert page.select_one(f"[data-testid=start-{first}]").get("disabled") is None
    clocks = await running(db, users[Role.TECHNICIAN])
    assert [c.task_id for c in clocks] == [second]


def _migration() -> Any:
    path = next(Path("migrations/versions").glob("*_one_running_clock_*.py"))
    spec = importlib.util.spec_from_file_location("one_running_clock", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_the_migration_mends_technicians_clocked_on_two_jobs(db, settings, users) -> None:
    """Rows from before the rule: the older running entry ends when the next one
    started, and its job is paused; the latest keeps running."""
    order_id, first, second = await two_jobs(db, settings, users)
    tech = users[Role.TECHNICIAN]
    t0 = utcnow() - timedelta(hours=2)
    await db.execute(text("DROP INDEX uq_time_entry_running_technician_id"))
    await db.execute(text("UPDATE job_task SET status = 'in_progress'"))
    for task_id, started in ((first, t0), (second, t0 + timedelta(minutes=40))):
        db.add(TimeEntry(task_id=task_id, technician_id=tech, started_at=started))
    await db.commit()

    migration = _migration()
    await db.execute(text(migration.CLOSE_EXTRA_ENTRIES))
    await db.execute(text(migration.PAUSE_CLOCKLESS_TASKS))
    await db.commit()

    task_one, task_two = await tasks(db, order_id)
    assert (task_one.status, task_two.status) == (TaskStatus.DISPATCHED, TaskStatus.IN_PROGRESS)
    assert [e.finished_at for e in task_one.entries] == [t0 + timedelta(minutes=40)]
    assert [e.finished_at for e in task_two.entries] == [None]

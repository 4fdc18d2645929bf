"""`walkaround retention`: photos no record needs are deleted after the dealership's period.

Kept for as long as the database keeps them: every photo a signed record names (the work order,
added work, the delivery), whatever its age, and every photo of a car still in the lane.
Deleted after `WALKAROUND_PHOTO_RETENTION_DAYS` (default 180): photos of an order that was
delivered, cancelled, or never signed (a check-in abandoned), that no signed record names —
retakes, and the photos of a check-in nobody finished. A file goes when no row names it any
more; a file no row ever named (a server stopped between the file and its row) goes after a day.
The audit log is append-only by design (database triggers refuse deletes) and is kept.
The same for the folder and an S3 bucket: both are walked through the store's interface."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import CheckIn, Photo, Signature, WorkOrder, WorkOrderStatus
from app.services import audit
from app.services.audit import Actor
from app.services.photos import store
from app.services.storage import files as files_store
from app.services.storage.files import FileStore

_SHA256 = re.compile(r"\b[0-9a-f]{64}\b")
_CLOSED = (WorkOrderStatus.DELIVERED.value, WorkOrderStatus.CANCELLED.value)
ORPHAN_AGE = timedelta(days=1)


@dataclass(frozen=True)
class Plan:
    rows: list[int]  # photo ids past the period that no signed record names
    files: list[str]  # keys of their files no remaining row names, and orphans a day old
    kept_signed: int  # rows past the period kept because a signed record names them
    size: int = field(default=0, compare=False)  # of those files, in bytes

    @property
    def bytes(self) -> int:
        return self.size


async def _named_by_signatures(session: AsyncSession) -> set[str]:
    named: set[str] = set()
    # Streamed: a year of signed records is more than needs to sit in memory at once.
    contents = await session.stream_scalars(
        select(Signature.content).execution_options(yield_per=500)
    )
    async for content in contents:
        named.update(_SHA256.findall(content))
    return named


async def plan(session: AsyncSession, files: FileStore, days: int, now: datetime) -> Plan:
    """What the policy would delete now; changes nothing."""
    cutoff = now - timedelta(days=days)
    named = await _named_by_signatures(session)
    signed_orders = select(Signature.work_order_id)
    rows = (
        await session.execute(
            select(Photo.id, Photo.sha256)
            .join(CheckIn, CheckIn.id == Photo.check_in_id)
            .join(WorkOrder, WorkOrder.id == CheckIn.work_order_id)
            .where(
                Photo.uploaded_at < cutoff,
                (WorkOrder.status.in_(_CLOSED)) | (WorkOrder.id.not_in(signed_orders)),
                CheckIn.started_at < cutoff,
            )
        )
    ).all()
    going = [(pid, sha) for pid, sha in rows if sha not in named]
    going_ids = {pid for pid, _ in going}
    staying = {
        sha for pid, sha in (await session.execute(select(Photo.id, Photo.sha256))).all()
        if pid not in going_ids
    }  # fmt: skip
    released = {sha for _, sha in going} - staying
    known = staying | {sha for _, sha in going}
    # One walk of the store (the folder, or the bucket's listing), off the event loop.
    stored = await files_store.call(list, files.files())
    chosen = [
        f for f in stored
        if (sha := store.sha256_of(f.key)) is not None
        and (sha in released or (sha not in known and f.modified < now - ORPHAN_AGE))
    ]  # fmt: skip
    return Plan(
        sorted(going_ids),
        sorted(f.key for f in chosen),
        kept_signed=len(rows) - len(going),
        size=sum(f.size for f in chosen),
    )


async def apply(session: AsyncSession, files: FileStore, found: Plan, actor: Actor) -> None:
    """Delete the planned rows (committed by the caller), then their files."""
    if found.rows:
        await session.execute(delete(Photo).where(Photo.id.in_(found.rows)))
    audit.record(
        session, actor, "retention.photos", "photo", "",
        rows=len(found.rows), files=len(found.files), kept_signed=found.kept_signed,
    )  # fmt: skip
    await session.commit()
    for key in found.files:  # after the commit: a failed commit leaves every file
        await files_store.call(files.delete, key)

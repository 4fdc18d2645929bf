"""Receiving check-in photos: idempotent on the tablet's id, files stored before the row."""

from __future__ import annotations

import asyncio
import errno
import logging
import re
import threading
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import release_write_lock
from app.errors import Conflict, InvalidInput, NotFound, StorageUnavailable
from app.i18n import _
from app.models import CheckIn, Photo, PhotoPosition, PhotoStage
from app.services import audit
from app.services.audit import Actor
from app.services.check_in.walkaround import MAX_PHOTOS_PER_MARK
from app.services.photos.pipeline import ProcessedPhoto, process_photo
from app.services.photos.store import SIZES, key, store_photo
from app.services.records import get_or_404
from app.services.storage import files as files_store
from app.services.storage.files import FileStore

_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
# A 50 MP PNG peaks at ~430 MB while decoding: at most two photos in Pillow at once.
_PROCESSING = threading.BoundedSemaphore(2)

log = logging.getLogger("walkaround.photos")


def _process(data: bytes) -> ProcessedPhoto:
    with _PROCESSING:
        return process_photo(data)


async def prepare(data: bytes) -> ProcessedPhoto:
    """A photo checked and processed before anything is recorded for it: the
    pipeline refuses what is not an image, too large, or a decompression bomb."""
    return await asyncio.to_thread(_process, data)


@dataclass(frozen=True)
class Received:
    photo: Photo
    duplicate: bool


async def _by_client_id(session: AsyncSession, client_id: str) -> Photo | None:
    return (await session.scalars(select(Photo).where(Photo.client_id == client_id))).first()


@dataclass(frozen=True)
class Target:
    """Where a photo belongs beyond its check-in: the stage, and the supplement
    (a workshop finding) or the new damage (at delivery) it shows."""

    stage: PhotoStage = PhotoStage.CHECK_IN
    supplement_id: int | None = None
    health_check_result_id: int | None = None
    new_damage_ids: frozenset[int] = frozenset()  # the order's recorded new damage


def _storage_refused(exc: OSError) -> StorageUnavailable:
    log.warning("photo not stored: %s", exc)  # the operator's detail; the tablet gets words
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        message = _("The server's disk is full, so the photo was not stored. It stays on this "
                    "tablet and is sent again by itself; tell the service manager.")  # fmt: skip
        return StorageUnavailable(message, full=True)
    message = _("The server cannot store photos right now. The photo stays on this tablet and "
                "is sent again by itself; tell the service manager.")  # fmt: skip
    return StorageUnavailable(message, full=False)


async def receive(
    session: AsyncSession,
    check_in: CheckIn,
    *,
    client_id: str,
    position: str,
    damage_mark_id: str,
    data: bytes,
    store: FileStore,
    actor: Actor,
    target: Target | None = None,
    processed: ProcessedPhoto | None = None,
) -> Received:
    """`processed`: the photo already through `prepare` (not processed twice)."""
    target = target or Target()
    if not _CLIENT_ID.match(client_id or ""):
        raise InvalidInput(_("The photo has no valid id; take it again."), field="client_id")
    existing = await _by_client_id(session, client_id)
    if existing is not None:
        if existing.check_in_id != check_in.id or existing.stage != target.stage.value:
            raise Conflict(_("This photo belongs to another check-in."))
        return Received(existing, duplicate=True)  # a retry: the tablet gets its answer again
    mark_id = new_damage_id = None
    if damage_mark_id and target.stage == PhotoStage.DELIVERY:
        # At delivery the "mark" is damage the check-in record does not show.
        new_damage_id = int(damage_mark_id) if damage_mark_id.isdigit() else -1
        if new_damage_id not in target.new_damage_ids:
            raise NotFound(_("This damage record does not exist."))
    elif damage_mark_id and target.stage == PhotoStage.CHECK_IN:
        mark_id = int(damage_mark_id) if damage_mark_id.isdigit() else -1
        if mark_id not in {m.id for m in check_in.damage_marks}:
            raise NotFound(_("This damage mark does not exist."))
        count = await session.scalar(
            select(func.count(Photo.id)).where(Photo.damage_mark_id == mark_id)
        )
        if (count or 0) >= MAX_PHOTOS_PER_MARK:
            raise InvalidInput(_("This mark already has %(n)s photos.", n=MAX_PHOTOS_PER_MARK))
        position = ""
    elif position not in set(PhotoPosition):
        position = PhotoPosition.EXTRA.value
    # Pillow work is CPU-bound: keep the event loop answering other tablets, and hold no
    # write lock meanwhile (other tablets' saves would wait on it).
    await release_write_lock(session)
    ready = processed if processed is not None else await prepare(data)
    # Files first, durably; the row only commits after they are stored.
    try:
        await files_store.call(store_photo, store, ready)
    except OSError as exc:
        raise _storage_refused(exc) from exc
    photo = Photo(
        client_id=client_id,
        check_in_id=check_in.id,
        stage=target.stage.value,
        position=position or None,
        damage_mark_id=mark_id,
        supplement_id=target.supplement_id,
        health_check_result_id=target.health_check_result_id,
        new_damage_id=new_damage_id,
        sha256=ready.sha256,
        width=ready.width,
        height=ready.height,
        bytes_received=len(data),
        source_format=ready.source_format,
        uploaded_by_id=actor.user_id,
    )
    try:
        async with session.begin_nested():
            session.add(photo)
    except IntegrityError:
        # The same photo arrived twice at once: the first one stored it.
        again = await _by_client_id(session, client_id)
        if again is None:
            raise
        return Received(again, duplicate=True)
    audit.record(
        session,
        actor,
        "photo_added",
        "check_in",
        check_in.id,
        photo=photo.id,
        stage=target.stage.value,
        position=position,
        mark=mark_id,
        sha256=ready.sha256,
    )
    return Received(photo, duplicate=False)


async def of_check_in(session: AsyncSession, check_in_id: int) -> list[Photo]:
    """The check-in's own photos (not delivery's), in the order they were taken."""
    photos = await session.scalars(
        select(Photo)
        .where(Photo.check_in_id == check_in_id, Photo.stage == PhotoStage.CHECK_IN.value)
        .order_by(Photo.uploaded_at)
    )
    return list(photos.all())


async def newest_by_position(
    session: AsyncSession, check_in_id: int, stage: PhotoStage
) -> dict[str, Photo]:
    """The photo shown for each walkaround position: a retake replaces the older one."""
    photos = (
        await session.scalars(
            select(Photo)
            .where(
                Photo.check_in_id == check_in_id,
                Photo.stage == stage.value,
                Photo.position.is_not(None),
                Photo.new_damage_id.is_(None),
            )
            .order_by(Photo.uploaded_at, Photo.id)
        )
    ).all()
    return {p.position: p for p in photos if p.position}


@dataclass(frozen=True)
class Served:
    etag: str
    data: bytes | None  # None: the browser's copy is the current one


async def serve(
    session: AsyncSession,
    photo_id: int,
    size: str,
    store: FileStore,
    *,
    only_order: int | None = None,
    if_none_match: str = "",
) -> Served:
    """One photo's stored JPEG. `only_order`: a tablet in customer mode sees the photos
    of the order it is locked to and no other (as if they did not exist)."""
    if size not in SIZES:
        raise NotFound(_("This photo does not exist."))
    photo = await get_or_404(session, Photo, photo_id, _("This photo does not exist."))
    if only_order is not None:
        order_id = await session.scalar(
            select(CheckIn.work_order_id).where(CheckIn.id == photo.check_in_id)
        )
        if order_id != only_order:
            raise NotFound(_("This photo does not exist."))
    name = key(photo.sha256, size)
    etag = f'"{photo.sha256}-{size}"'
    try:
        if etag in if_none_match:  # content-addressed: only whether it is still there
            if await files_store.call(store.exists, name):
                return Served(etag, None)
            raise FileNotFoundError(name)
        return Served(etag, await files_store.call(store.get, name))
    except FileNotFoundError:
        raise NotFound(_("This photo does not exist.")) from None
    except OSError as exc:
        log.warning("photo not read: %s", exc)
        message = _("The server cannot reach its photo store right now; try again shortly.")
        raise StorageUnavailable(message, full=False) from exc

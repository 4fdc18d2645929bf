"""Changes the tablet queued while offline arrive once.

The tablet's field outbox gives each change its own id and sends it again until the
server's answer arrives. An answer can be lost after the change was stored (a dropped
Wi-Fi, a reload): the second copy must not add a second belonging or mark, nor fail
as a conflict with itself. So the id is remembered with the version the change made,
and a copy of a change already applied is answered with that version, unapplied.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.i18n import _
from app.models import CheckIn, CheckInChange

MAX_CHANGE_ID = 64


async def apply_once(
    session: AsyncSession,
    check_in: CheckIn,
    change_id: Any,
    apply: Callable[[], Awaitable[Any]],
) -> int:
    """Run `apply` unless the change `change_id` was applied before. The check-in's
    version right after this change, for the tablet to base its next change on."""
    key = str(change_id or "").strip()
    if not key:  # a plain form post: nothing queued, nothing to remember
        await apply()
        return check_in.version
    if len(key) > MAX_CHANGE_ID:
        raise InvalidInput(_("Some of the information sent was not valid."))
    applied = await session.scalar(
        select(CheckInChange.version).where(
            CheckInChange.check_in_id == check_in.id, CheckInChange.change_id == key
        )
    )
    if applied is not None:
        return applied
    await apply()
    session.add(CheckInChange(check_in_id=check_in.id, change_id=key, version=check_in.version))
    await session.flush()
    return check_in.version

"""Signed-in sessions kept on the server, and customer mode on them.

The browser holds only a random key; the row holds its hash. Whatever must hold
for every copy of that cookie (one saved before customer mode began, a response
that arrives late) is decided here: sign-out, the customer-mode lock, and the
count of wrong exit passwords, which costs the tablet and never the advisor's
account.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from app.errors import InvalidInput, TooManyAttempts
from app.i18n import _
from app.models import StaffSession, StaffUser
from app.passwords import check_password
from app.services import audit
from app.services.audit import Actor

SESSION_HOURS = 12  # one working day on the lane


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def open_session(
    db: AsyncSession, user: StaffUser, device_id: str, now: datetime
) -> tuple[StaffSession, str]:
    """A new session for `user`; returns the row and the key for the cookie.

    A tablet holds one session at a time: signing in on it ends whatever was
    signed in there before, so no older cookie of that tablet stays a way round
    a later customer mode. Expired rows go at the same time.
    """
    stale = StaffSession.expires_at <= now
    if device_id:
        stale = or_(stale, StaffSession.device_id == device_id[:64])
    await db.execute(delete(StaffSession).where(stale))
    key = secrets.token_urlsafe(32)
    row = StaffSession(
        key_hash=key_hash(key),
        user_id=user.id,
        session_version=user.session_version,
        device_id=device_id[:64],
        expires_at=now + timedelta(hours=SESSION_HOURS),
        exit_failures=0,
    )
    db.add(row)
    await db.flush()
    return row, key


async def find(db: AsyncSession, key: str, now: datetime) -> tuple[StaffSession, StaffUser] | None:
    """The live session for a cookie's key and its user, or None.

    One statement (session, user and roles joined): every signed-in request runs it."""
    found = (
        (
            await db.execute(
                select(StaffSession, StaffUser)
                .join(StaffUser, StaffUser.id == StaffSession.user_id)
                .options(joinedload(StaffUser.role_rows))
                .where(StaffSession.key_hash == key_hash(key))
            )
        )
        .unique()
        .first()
    )
    if found is None:
        return None
    row, user = found.tuple()
    if row.expires_at <= now:
        return None
    if not user.is_active or user.session_version != row.session_version:
        return None
    return row, user


async def end(db: AsyncSession, row: StaffSession) -> None:
    await db.delete(row)


def enter_customer_mode(row: StaffSession, order_id: int, locale: str | None) -> None:
    row.customer_mode_order_id = order_id
    row.customer_locale = locale
    row.exit_failures = 0
    row.exit_first_failure_at = None


def _minutes_left(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds() / 60))


def _tablet_locked(minutes: int) -> TooManyAttempts:
    return TooManyAttempts(
        _(
            "Too many wrong passwords on this tablet. Try again in %(minutes)s minutes.",
            minutes=minutes,
        ),
        field="password",
    )


async def exit_customer_mode(
    db: AsyncSession,
    row: StaffSession,
    user: StaffUser,
    password: str,
    actor: Actor,
    *,
    max_failures: int,
    lockout_minutes: int,
    now: datetime,
) -> int | None:
    """End customer mode with the signed-in user's password; returns the order it
    was locked to. Wrong passwords count against this session (the tablet): after
    `max_failures` within `lockout_minutes` its exit waits that long. The user's
    own sign-in throttle is not touched, so a customer cannot lock the advisor out."""
    # The hash first, off the event loop and before any lock is taken (this request has
    # not touched the database yet); then one attempt at a time per session, so
    # concurrent guesses all count, and a locked tablet is refused whatever the password.
    ok = await check_password(user.password_hash, password)
    await db.refresh(row, with_for_update=True)
    if row.exit_locked_until and row.exit_locked_until > now:
        raise _tablet_locked(_minutes_left(row.exit_locked_until, now))
    if not ok:
        window = timedelta(minutes=lockout_minutes)
        if row.exit_first_failure_at is None or now - row.exit_first_failure_at > window:
            row.exit_first_failure_at = now
            row.exit_failures = 0
        row.exit_failures += 1
        audit.record(
            db, actor, "customer_mode.exit_refused", "work_order", row.customer_mode_order_id
        )
        if row.exit_failures >= max_failures:
            row.exit_locked_until = now + window
            raise _tablet_locked(lockout_minutes)
        raise InvalidInput(_("Wrong password."), field="password")
    order_id = row.customer_mode_order_id
    row.customer_mode_order_id = None
    row.customer_locale = None
    row.exit_failures = 0
    row.exit_first_failure_at = None
    row.exit_locked_until = None
    audit.record(db, actor, "customer_mode.exit", "work_order", order_id)
    return order_id

"""Staff sign-in with argon2, throttled per username and per address in the database."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import release_write_lock
from app.errors import InvalidInput, TooManyAttempts
from app.i18n import _
from app.models import LoginThrottle, Role, StaffRole, StaffSession, StaffUser, ThrottleKind
from app.models.base import utcnow
from app.passwords import check_password, hash_password
from app.services import audit
from app.services.audit import Actor
from app.services.staff import sessions as staff_sessions
from app.text import clean_text


async def get_user(session: AsyncSession, user_id: int) -> StaffUser | None:
    return await session.get(StaffUser, user_id)


async def find_by_username(session: AsyncSession, username: str) -> StaffUser | None:
    stmt = select(StaffUser).where(func.lower(StaffUser.username) == username.strip().lower())
    return (await session.scalars(stmt)).one_or_none()


async def _throttle_row(session: AsyncSession, kind: ThrottleKind, subject: str) -> LoginThrottle:
    """The row counting failures for `subject`, locked for this transaction so
    that concurrent guesses are counted one after another."""
    stmt = (
        select(LoginThrottle)
        .where(LoginThrottle.kind == kind.value, LoginThrottle.subject == subject)
        .with_for_update()
    )
    row = (await session.scalars(stmt)).one_or_none()
    if row is None:
        try:
            async with session.begin_nested():
                row = LoginThrottle(kind=kind.value, subject=subject, failures=0)
                session.add(row)
        except IntegrityError:  # a concurrent first failure made it
            row = (await session.scalars(stmt)).one()
    return row


def _locked_minutes(row: LoginThrottle, now: datetime) -> int | None:
    if row.locked_until and row.locked_until > now:
        return max(1, math.ceil((row.locked_until - now).total_seconds() / 60))
    return None


def _count_failure(row: LoginThrottle, now: datetime, window: timedelta, limit: int) -> bool:
    """Count one failure; True when it locks the row."""
    if row.first_failure_at is None or now - row.first_failure_at > window:
        row.first_failure_at = now
        row.failures = 0
    row.failures += 1
    if row.failures >= limit:
        row.locked_until = now + window
        return True
    return False


def _too_many(minutes: int) -> TooManyAttempts:
    return TooManyAttempts(
        _("Too many failed sign-ins. Try again in %(minutes)s minutes.", minutes=minutes)
    )


async def sign_in(
    session: AsyncSession,
    username: str,
    password: str,
    actor: Actor,
    *,
    max_failures: int = 5,
    max_failures_per_address: int = 20,
    lockout_minutes: int = 15,
    now: datetime | None = None,
) -> StaffUser:
    """Return the user for good credentials; raise with a clear message otherwise.

    Failures are counted per username and per client address: once
    `max_failures` wrong passwords for one username, or `max_failures_per_address`
    from one address (a spray over many usernames), arrive within the lockout
    window, that username or address is locked for `lockout_minutes`, even for
    the right password. A good sign-in clears the username's count only.
    """
    now = now or utcnow()
    if not username.strip() or not password:
        raise InvalidInput(_("Enter your username and password."))
    user = await find_by_username(session, username)
    # The hash is checked first, with the write lock given back and off the event loop;
    # the counts are read after it, so a failure at the same time on another tablet is
    # counted too, and a locked name or address is refused whatever the password.
    await release_write_lock(session)
    ok = await check_password(user.password_hash if user else None, password)
    by_address = await _throttle_row(session, ThrottleKind.ADDRESS, (actor.ip or "-")[:64])
    by_user = await _throttle_row(session, ThrottleKind.USER, username.strip().lower()[:64])
    for row in (by_address, by_user):
        if (minutes := _locked_minutes(row, now)) is not None:
            raise _too_many(minutes)
    if not ok or user is None or not user.is_active:
        window = timedelta(minutes=lockout_minutes)
        audit.record(session, actor, "sign_in_failed", "staff_user", username.strip()[:64])
        user_locked = _count_failure(by_user, now, window, max_failures)
        address_locked = _count_failure(by_address, now, window, max_failures_per_address)
        if user_locked or address_locked:
            raise _too_many(lockout_minutes)
        raise InvalidInput(_("Wrong username or password."), field="password")
    by_user.failures = 0
    by_user.first_failure_at = None
    by_user.locked_until = None
    user.last_sign_in_at = now
    audit.record(
        session,
        Actor(user.id, actor.device_id, actor.user_agent, actor.ip),
        "signed_in",
        "staff_user",
        user.id,
    )
    return user


async def sign_out(session: AsyncSession, row: StaffSession, actor: Actor) -> None:
    """End this session: every copy of its cookie stops working at once."""
    audit.record(session, actor, "signed_out", "staff_user", row.user_id)
    await staff_sessions.end(session, row)


async def set_locale(session: AsyncSession, user: StaffUser, locale: str, actor: Actor) -> None:
    user.locale = locale
    audit.record(session, actor, "language_changed", "staff_user", user.id, locale=locale)


async def create_user(
    session: AsyncSession,
    username: str,
    password: str,
    display_name: str,
    roles: set[Role],
    *,
    locale: str = "zh_CN",
    password_hash: str | None = None,
) -> StaffUser:
    username = clean_text(username, "username").strip()
    display_name = clean_text(display_name, "display_name").strip()
    if not username or len(username) > 64:
        raise InvalidInput(_("A username is 1 to 64 characters."), field="username")
    if len(password) < 4:
        raise InvalidInput(_("A password has at least 4 characters."), field="password")
    if await find_by_username(session, username):
        raise InvalidInput(_("That username is taken."), field="username")
    user = StaffUser(
        username=username,
        display_name=display_name or username,
        password_hash=password_hash or hash_password(password),
        locale=locale,
        role_rows=[StaffRole(role=role) for role in sorted(roles)],
    )
    session.add(user)
    await session.flush()
    return user


async def list_users(session: AsyncSession) -> list[StaffUser]:
    return list((await session.scalars(select(StaffUser).order_by(StaffUser.username))).all())

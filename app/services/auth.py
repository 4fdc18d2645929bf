"""Staff sign-in with argon2 and a per-username throttle kept in the database."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput, TooManyAttempts
from app.i18n import _
from app.models import LoginThrottle, Role, StaffRole, StaffUser
from app.models.base import utcnow
from app.passwords import hash_password, verify_password
from app.services import audit
from app.services.audit import Actor
from app.text import clean_text


async def get_user(session: AsyncSession, user_id: int) -> StaffUser | None:
    return await session.get(StaffUser, user_id)


async def find_by_username(session: AsyncSession, username: str) -> StaffUser | None:
    stmt = select(StaffUser).where(func.lower(StaffUser.username) == username.strip().lower())
    return (await session.scalars(stmt)).one_or_none()


async def _throttle_row(session: AsyncSession, username: str) -> LoginThrottle:
    key = username.strip().lower()[:64]
    row = (
        await session.scalars(select(LoginThrottle).where(LoginThrottle.username == key))
    ).one_or_none()
    if row is None:
        row = LoginThrottle(username=key, failures=0)
        session.add(row)
    return row


async def sign_in(
    session: AsyncSession,
    username: str,
    password: str,
    actor: Actor,
    *,
    max_failures: int = 5,
    lockout_minutes: int = 15,
    now: datetime | None = None,
) -> StaffUser:
    """Return the user for good credentials; raise with a clear message otherwise.

    Once `max_failures` wrong passwords arrive within the lockout window the
    username is locked for `lockout_minutes`, even for the right password.
    """
    now = now or utcnow()
    if not username.strip() or not password:
        raise InvalidInput(_("Enter your username and password."))
    throttle = await _throttle_row(session, username)
    if throttle.locked_until and throttle.locked_until > now:
        minutes = math.ceil((throttle.locked_until - now).total_seconds() / 60)
        raise TooManyAttempts(
            _("Too many failed sign-ins. Try again in %(minutes)s minutes.", minutes=minutes)
        )
    user = await find_by_username(session, username)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        window = timedelta(minutes=lockout_minutes)
        if throttle.first_failure_at is None or now - throttle.first_failure_at > window:
            throttle.first_failure_at = now
            throttle.failures = 0
        throttle.failures += 1
        audit.record(session, actor, "sign_in_failed", "staff_user", username.strip()[:64])
        if throttle.failures >= max_failures:
            throttle.locked_until = now + window
            raise TooManyAttempts(
                _(
                    "Too many failed sign-ins. Try again in %(minutes)s minutes.",
                    minutes=lockout_minutes,
                )
            )
        raise InvalidInput(_("Wrong username or password."), field="password")
    throttle.failures = 0
    throttle.first_failure_at = None
    throttle.locked_until = None
    user.last_sign_in_at = now
    audit.record(
        session,
        Actor(user.id, actor.device_id, actor.user_agent, actor.ip),
        "signed_in",
        "staff_user",
        user.id,
    )
    return user


async def sign_out(session: AsyncSession, user: StaffUser, actor: Actor) -> None:
    user.session_version += 1
    audit.record(session, actor, "signed_out", "staff_user", user.id)


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

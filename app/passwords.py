"""Password hashing with argon2id."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verifying against this keeps the time of "no such user" equal to "wrong password".
_DUMMY_HASH = _hasher.hash("walkaround-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


async def check_password(password_hash: str | None, password: str) -> bool:
    """`verify_password` in a worker thread: argon2 takes tens of milliseconds of CPU (more
    on a busy machine), which on the event loop would stall every other tablet's request.
    Call it while holding no write transaction (see `app.db.release_write_lock`)."""
    return await asyncio.to_thread(verify_password, password_hash, password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False

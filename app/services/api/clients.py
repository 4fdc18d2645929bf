"""API clients: systems (the dealer management system) reading the JSON API.

A client holds a random bearer token that is shown once when it is created;
only its SHA-256 is stored, so a leaked database does not leak working tokens.
Messages are plain English: clients are managed from the command line.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.models import ApiClient
from app.models.base import utcnow
from app.services import audit
from app.services.audit import Actor
from app.services.records import get_or_404

TOKEN_PREFIX = "wa_"  # noqa: S105 - not a secret; makes a leaked token easy to recognise in logs and secret scanners
MAX_NAME = 120


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# Clients are managed from the command line, where there is no signed-in user.
COMMAND_LINE = Actor(user_id=None, user_agent="walkaround cli")


async def create_client(
    session: AsyncSession, name: str, actor: Actor = COMMAND_LINE
) -> tuple[ApiClient, str]:
    """A new client and its token; the token is not stored and cannot be shown again."""
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(
            f"An API client needs a name of 1 to {MAX_NAME} characters.", field="name"
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient(name=name, token_hash=hash_token(token))
    session.add(client)
    await session.flush()
    audit.record(session, actor, "api_client.create", "api_client", client.id, name=name)
    return client, token


async def authenticate(
    session: AsyncSession, token: str, now: datetime | None = None
) -> ApiClient | None:
    """The active client holding `token`, or None; notes when it was last used."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    client = await session.scalar(
        select(ApiClient).where(ApiClient.token_hash == hash_token(token))
    )
    if client is None or client.revoked_at is not None:
        return None
    client.last_used_at = now or utcnow()
    return client


async def list_clients(session: AsyncSession) -> list[ApiClient]:
    return list((await session.scalars(select(ApiClient).order_by(ApiClient.id))).all())


async def revoke(
    session: AsyncSession, client_id: int, actor: Actor = COMMAND_LINE, now: datetime | None = None
) -> ApiClient:
    """Refuse the client's token from now on (idempotent: the first revocation time stays)."""
    client = await get_or_404(
        session, ApiClient, client_id, f"There is no API client with id {client_id}."
    )
    if client.revoked_at is None:
        client.revoked_at = now or utcnow()
        audit.record(session, actor, "api_client.revoke", "api_client", client.id)
    return client

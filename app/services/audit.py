from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditEvent


@dataclass(frozen=True)
class Actor:
    """Who acts and from where: what every audited service call receives."""

    user_id: int | None
    device_id: str = ""
    user_agent: str = ""
    ip: str = ""
    # Role values of the acting staff user, for limits that depend on the role.
    roles: frozenset[str] = frozenset()

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    entity_type: str = "",
    entity_id: object = "",
    **details: Any,
) -> AuditEvent:
    event = AuditEvent(
        actor_id=actor.user_id,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        device_id=actor.device_id[:64],
        user_agent=actor.user_agent[:300],
        ip=actor.ip[:64],
        details=details,
    )
    session.add(event)
    return event

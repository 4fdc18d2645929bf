"""The customer's answer to the health check, through its single-use link: each priced
item approved or declined, one signature for the whole answer (each item's signed record
carries it, as an added-work answer does), a declined item carried to the next visit."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, InvalidInput, NotFound
from app.i18n import _
from app.models import UNANSWERED, HealthCheck, Signature, WorkOrder
from app.services import audit
from app.services.audit import Actor
from app.services.health_check import recommendations
from app.services.supplements import added_work

COPY_DAYS = 90


async def _linked(session: AsyncSession, token: str) -> HealthCheck:
    """The check whose link this is (stored as the token's hash); a tampered one: 404."""
    check = None
    if token and len(token) <= 100:
        check = await session.scalar(
            select(HealthCheck).where(HealthCheck.token_hash == added_work.token_hash(token))
        )
    if check is None:
        raise NotFound(_("This link is not valid."))
    return check


async def by_token(session: AsyncSession, token: str, now: datetime) -> HealthCheck:
    """The check a link points to; refuses a tampered, used or expired link."""
    check = await _linked(session, token)
    if check.token_used_at is not None:
        raise Conflict(_("This link has already been used. Your answer was recorded."))
    if check.token_expires_at is None or check.token_expires_at <= now:
        raise added_work.LinkExpired(
            _("This link has expired. Please ask your service advisor to send a new one.")
        )
    return check


async def copy_by_token(session: AsyncSession, token: str, now: datetime) -> HealthCheck:
    """The customer's copy stays behind the used link for COPY_DAYS after the answer."""
    check = await _linked(session, token)
    if check.decided_at is None:
        raise NotFound(_("This link is not valid."))
    if check.decided_at + timedelta(days=COPY_DAYS) <= now:
        raise added_work.LinkExpired(
            _("This copy is no longer online. Please ask your service advisor for one.")
        )
    return check


async def decide(
    session: AsyncSession,
    check: HealthCheck,
    form: Mapping[str, Any],
    *,
    locale: str,
    currency: str,
    actor: Actor,
    now: datetime,
) -> list[Signature]:
    """`form`: `answer-<supplement id>` approve/decline for every open item, a safety
    decline's `acknowledge-<id>`, and the signature (signer_name, strokes, image)."""
    order = await session.get(WorkOrder, check.work_order_id)
    assert order is not None  # noqa: S101  (foreign key)
    waiting = [
        r for r in await recommendations.listed(session, check)
        if r.supplement.status in UNANSWERED
    ]  # fmt: skip
    if not waiting:
        raise Conflict(_("This link has already been used. Your answer was recorded."))
    answers: dict[int, bool] = {}
    for found in waiting:
        name = f"answer-{found.supplement.id}"
        answer = form.get(name)
        if answer not in ("approve", "decline"):
            raise InvalidInput(_("Approve or decline each item."), field=name)
        answers[found.supplement.id] = answer == "approve"
    signed = []
    for found in waiting:
        supplement = found.supplement
        acknowledge = f"acknowledge-{supplement.id}"
        try:
            signature = await added_work.decide(
                session, supplement, order, approve=answers[supplement.id],
                signer_name=form.get("signer_name"), strokes_json=form.get("strokes"),
                image_data_url=form.get("image"), locale=locale, currency=currency,
                actor=actor, now=now, acknowledged=form.get(acknowledge) == "1",
            )  # fmt: skip
        except InvalidInput as exc:  # the sentence of this item, of the several on the page
            if exc.field != "acknowledge":
                raise
            raise InvalidInput(exc.message, field=acknowledge) from exc
        signed.append(signature)
    check.token_used_at = now
    check.decided_at = now
    audit.record(
        session, actor, "health_check.decided", "work_order", order.id,
        approved=sorted(k for k, v in answers.items() if v),
        declined=sorted(k for k, v in answers.items() if not v),
    )  # fmt: skip
    return signed

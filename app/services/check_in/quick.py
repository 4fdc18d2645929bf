"""One-tap answers for the usual case: the greeting as on file, the four covers at once.

Each saves what the advisor confirms with the customer and closes the step, so the
standard check-in costs one tap per step; anything unusual is still answered field by
field on the same page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import REQUIRED_COVERS, CheckIn, CoverInstall, Step, WorkOrder
from app.services import audit
from app.services.audit import Actor
from app.services.check_in.fields import FOLLOW_UP_TIMES
from app.services.check_in.steps import bump_version, finish_step

ANY_TIME = "any"


async def usual_follow_up_time(session: AsyncSession, check_in: CheckIn) -> str:
    """When this customer asked to be called last time (预约回访时间), else any time."""
    earlier = await session.scalar(
        select(CheckIn.follow_up_when)
        .join(WorkOrder, WorkOrder.id == CheckIn.work_order_id)
        .where(
            WorkOrder.customer_id == check_in.work_order.customer_id,
            CheckIn.id != check_in.id,
            CheckIn.follow_up_when != "",
        )
        .order_by(CheckIn.id.desc())
        .limit(1)
    )
    return earlier if earlier in FOLLOW_UP_TIMES else ANY_TIME


async def confirm_greeting(
    session: AsyncSession, check_in: CheckIn, version: int | None, actor: Actor
) -> Step | None:
    """The customer confirms the number on file and accepts the follow-up call at the
    usual time: saved as answered, then the greeting is done."""
    if not check_in.contact_confirmed or check_in.follow_up_accepted is None:
        when = check_in.follow_up_when or await usual_follow_up_time(session, check_in)
        await bump_version(session, check_in, version)
        check_in.contact_confirmed = True
        if check_in.follow_up_accepted is None:
            check_in.follow_up_accepted = True
            check_in.follow_up_phone = check_in.follow_up_phone or check_in.contact_phone
            check_in.follow_up_when = when
        audit.record(session, actor, "greeting_confirmed", "check_in", check_in.id, when=when)
        await session.flush()
        version = check_in.version
    return await finish_step(session, check_in, Step.GREETING, version, actor)


async def install_all_covers(
    session: AsyncSession, check_in: CheckIn, version: int | None, actor: Actor
) -> Step | None:
    """The four covers (四件套) installed in front of the customer, one tap for the set;
    then the covers step is done."""
    installed = {c.kind for c in check_in.covers}
    missing = [k for k in REQUIRED_COVERS if k.value not in installed]
    if missing:
        await bump_version(session, check_in, version)
        for kind in missing:
            check_in.covers.append(CoverInstall(kind=kind.value, installed_by_id=actor.user_id))
        audit.record(
            session,
            actor,
            "covers_installed",
            "check_in",
            check_in.id,
            kinds=[k.value for k in missing],
        )
        await session.flush()
        version = check_in.version
    return await finish_step(session, check_in, Step.COVERS, version, actor)


Answer = Callable[[AsyncSession, CheckIn, int | None, Actor], Awaitable[Step | None]]
# The steps with a one-tap usual answer.
ANSWERS: dict[Step, Answer] = {Step.GREETING: confirm_greeting, Step.COVERS: install_all_covers}

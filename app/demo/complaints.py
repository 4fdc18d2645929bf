"""The demo's complaints, one in each state, taken through the real complaint services on
the most recent delivered orders: just received, mid-way, waiting for parts, serious with
the manager alerted, closed after a satisfied call, and one sent back by an unhappy call."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    AttemptOutcome,
    Complaint,
    FollowUpAttempt,
    FollowUpStatus,
    StaffUser,
    WorkOrder,
    WorkOrderStatus,
)
from app.services.audit import Actor
from app.services.complaints import closing, record, steps, tracking
from app.settings import Settings


async def _staff(session: AsyncSession, username: str) -> StaffUser | None:
    return await session.scalar(select(StaffUser).where(StaffUser.username == username))


async def _call(session: AsyncSession, c: Complaint, who: Actor, at: datetime, happy: bool) -> None:
    """The follow-up clerk's check call, as the follow-up queue records it."""
    task = await closing.schedule_check_call(session, c.id, who, c.version, at - timedelta(hours=1))
    task.status, task.closed_at = FollowUpStatus.REACHED.value, at
    session.add(FollowUpAttempt(
        task_id=task.id, called_at=at, called_by_id=who.user_id,
        outcome=AttemptOutcome.REACHED.value, spoke_with="user", satisfied=happy,
        comment="" if happy else "还是有异响。",
    ))  # fmt: skip
    await session.flush()


async def seed(session: AsyncSession, tz: ZoneInfo, now: datetime) -> int:
    """Six complaints; none if there are complaints already or too few delivered orders."""
    if await session.scalar(select(Complaint.id).limit(1)) is not None:
        return 0
    orders = (
        await session.scalars(
            select(WorkOrder).where(WorkOrder.status == WorkOrderStatus.DELIVERED)
            .order_by(WorkOrder.delivered_at.desc()).limit(6)
        )
    ).unique().all()  # fmt: skip
    clerk, boss = await _staff(session, "relations"), await _staff(session, "manager")
    if len(orders) < 6 or clerk is None or boss is None:
        return 0
    settings = Settings(timezone=tz.key)
    rel = Actor(clerk.id, roles=frozenset({"customer_relations"}))
    mgr = Actor(boss.id, roles=frozenset({"service_manager"}))

    async def received(order: WorkOrder, at: datetime, words: str, **kw: object) -> Complaint:
        return await record.create(session, settings, rel, at, work_order_id=order.id,
                                   words=words, **kw)  # type: ignore[arg-type]  # fmt: skip

    async def through(c: Complaint, at: datetime, last: str) -> None:
        await steps.listen(session, c.id, rel, c.version, at, words=c.words, read_back=True,
                           summary={"what": "保养后异响", "when": "低速过减速带",
                                    "where": "右前轮", "how": "咯噔声"})  # fmt: skip
        if last == "facts":
            return
        await steps.facts(session, c.id, rel, c.version, at + timedelta(minutes=30),
                          facts="试车复现；右前稳定杆螺栓未按扭矩紧固（见工单照片）。",
                          cause="repair_quality", responsibility="dealer")  # fmt: skip
        if last == "decide":
            return
        await steps.decide(session, c.id, mgr, c.version, at + timedelta(hours=1),
                           decision="免费返修，并赠送一次洗车。", amount="200")  # fmt: skip
        await steps.explain(session, c.id, rel, c.version, at + timedelta(hours=2),
                            explanation="当面向客户说明原因和处理方案。", agreed="yes")  # fmt: skip
        if last == "act":
            return
        await steps.act(session, c.id, rel, c.version, at + timedelta(hours=3), kind="rework",
                        action="重新紧固稳定杆螺栓并试车确认。")  # fmt: skip

    # 1. Just received by phone.
    await received(orders[0], now - timedelta(minutes=20), "空调出风有异味，上次保养说换了滤芯。",
                   channel="phone", severity="general")  # fmt: skip
    # 2. Mid-way: the facts are established, the decision is next.
    mid = await received(orders[1], now - timedelta(days=1), "保养后右前轮过减速带有咯噔声。",
                         channel="in_person", severity="general")  # fmt: skip
    await through(mid, now - timedelta(days=1, hours=-1), "decide")
    # 3. Waiting for parts: the clock is paused.
    wait = await received(orders[2], now - timedelta(days=2), "更换的雨刮电机两天后又不动了。",
                          channel="phone", severity="general")  # fmt: skip
    await through(wait, now - timedelta(days=2, hours=-1), "act")
    await tracking.pause(session, wait.id, rel, wait.version, now - timedelta(days=1), "parts")
    # 4. Serious: brakes; the service manager is alerted at once.
    await received(orders[3], now - timedelta(hours=2), "取车当天刹车变软，差点追尾。",
                   channel="in_person", severity="serious")  # fmt: skip
    # 5. Closed after a call that found the customer satisfied, with a preventive action.
    done = await received(orders[4], now - timedelta(days=5), "交车时车内没有清洁，座椅有油污。",
                          channel="follow_up_call", severity="general")  # fmt: skip
    await through(done, now - timedelta(days=5, hours=-1), "close")
    await _call(session, done, rel, now - timedelta(days=3), happy=True)
    await closing.close(session, done.id, rel, done.version, now - timedelta(days=3))
    today = now.astimezone(tz).date()
    foreman = await _staff(session, "foreman")
    await tracking.add_action(
        session, done.id, mgr, done.version, now - timedelta(days=3), kind="preventive",
        description="交车前增加内饰清洁检查项。", owner_id=str(foreman.id if foreman else boss.id),
        due_on=(today - timedelta(days=1)).isoformat(), today=today - timedelta(days=3),
    )  # fmt: skip
    # 6. Sent back: the check call found the customer not satisfied; back to act.
    back = await received(orders[5], now - timedelta(days=4), "返修后异响依旧。",
                          channel="phone", severity="escalated")  # fmt: skip
    await through(back, now - timedelta(days=4, hours=-1), "close")
    await _call(session, back, rel, now - timedelta(days=2), happy=False)
    await closing.send_back(
        session, back.id, rel, back.version, now - timedelta(days=2), step="act"
    )
    await session.flush()
    return 6

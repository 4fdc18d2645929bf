"""The self-check (自检) and the mutual check (互检) as checklists through the services:
the items follow the job's kind and the customer's consents, a partial tick is
refused at the first open item with nothing recorded, an item that does not apply
needs a reason, and every tick is kept with who ticked it and when."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.i18n import _, locale_as
from app.models import CheckTick, Job, JobLine, Role
from app.models.base import utcnow
from app.services.workshop import checklist
from app.services.workshop import jobs as workshop
from tests.workshop_helpers import (
    actor,
    dispatch_all,
    dispatched,
    every_item_ticked,
    fail_final_check,
    refused,
    signed_order_with,
    tasks,
)


async def finished_job(db: AsyncSession, users: dict[Role, int], order_id: int) -> int:
    """The order's first job started and finished by the technician; committed. Its task id."""
    tech = actor(users, Role.TECHNICIAN)
    task_id = (await tasks(db, order_id))[0].id
    await workshop.start(db, task_id, tech, utcnow())
    await workshop.finish(db, task_id, tech, utcnow())
    await db.commit()
    return task_id


async def list_of(db: AsyncSession, task_id: int) -> list[str]:
    _task, job, wo = await workshop.get_task(db, task_id)
    return [item.key for item in checklist.items_for(job, wo)]


async def tick_count(db: AsyncSession) -> int:
    await db.rollback()
    return await db.scalar(select(func.count(CheckTick.id))) or 0


def line(kind: str, code: str) -> JobLine:
    return JobLine(
        kind=kind, code=code, name_zh=code, name_en=code, quantity=Decimal(1),
        list_price=Decimal(1), unit_price=Decimal(1),
    )  # fmt: skip


def test_each_kind_of_job_has_its_own_items_in_both_languages() -> None:
    brakes = Job(title="刹车", lines=[line("labour", "L-BRKF"), line("part", "P-BRKF")])
    wheels = Job(title="换位", lines=[line("labour", "L-ROT")])
    unknown = Job(title="异响检查", lines=[])
    assert checklist.kinds(brakes) == ["brakes"]
    assert checklist.kinds(wheels) == ["wheels"]
    assert checklist.kinds(unknown) == ["general"]
    assert "brake_pedal" in checklist.BY_KIND["brakes"]
    assert "tyre_pressure" in checklist.BY_KIND["wheels"]
    for kind, keys in checklist.BY_KIND.items():
        assert keys, kind
        assert set(keys) <= set(checklist.ITEMS)
    with locale_as("zh_CN"):
        assert checklist.label("torque") == "螺栓、轮毂螺母按规定扭矩紧固"
    with locale_as("en"):
        assert checklist.label("torque") == "Bolts and wheel nuts torqued to spec"


async def test_the_list_follows_the_job_and_what_the_customer_signed_for(
    db, settings, users
) -> None:
    consented = await signed_order_with(
        db, settings, users, consent_road_test=True, keep_old_parts=True
    )
    await dispatch_all(db, users, consented)
    task_id = (await tasks(db, consented))[0].id
    # An oil change with its filter: maintenance, then the road test and the old parts.
    assert await list_of(db, task_id) == [
        "torque", "fluids", "leaks", "service_reset", "road_test", "old_parts", "clean",
    ]  # fmt: skip

    declined = await signed_order_with(
        db, settings, users, appointment=1, consent_road_test=False, keep_old_parts=False
    )
    await dispatch_all(db, users, declined)
    keys = await list_of(db, (await tasks(db, declined))[0].id)
    assert "road_test" not in keys
    assert "old_parts" not in keys
    assert keys[:3] == ["torque", "fluids", "leaks"]


async def test_the_self_check_is_refused_until_every_item_is_ticked(db, settings, users) -> None:
    order_id = await dispatched(db, settings, users)
    task_id = await finished_job(db, users, order_id)
    tech = actor(users, Role.TECHNICIAN)
    keys = await list_of(db, task_id)
    last = keys[-1]
    partial = {checklist.field(k): checklist.DONE for k in keys[:-1]}
    with locale_as("en"):
        await refused(
            db, order_id, InvalidInput,
            lambda: workshop.self_check(db, task_id, tech, utcnow(), form=partial),
            _("Tick “%(item)s”, or mark it not applicable with a reason.",
              item=checklist.label(last)),
            field=checklist.field(last),
        )  # fmt: skip
        # A single tap (no list at all) is refused at the first item.
        await refused(
            db, order_id, InvalidInput,
            lambda: workshop.self_check(db, task_id, tech, utcnow()),
            field=checklist.field(keys[0]),
        )  # fmt: skip
        # Not applicable needs a reason.
        without_reason = {**partial, checklist.field(last): checklist.NOT_APPLICABLE}
        await refused(
            db, order_id, InvalidInput,
            lambda: workshop.self_check(db, task_id, tech, utcnow(), form=without_reason),
            _("Say why “%(item)s” does not apply.", item=checklist.label(last)),
            field=checklist.reason_field(last),
        )  # fmt: skip
    assert await tick_count(db) == 0
    task = (await tasks(db, order_id))[0]
    assert task.self_checked_at is None

    at = utcnow()
    reasoned = {**without_reason, checklist.reason_field(last): "  客户要求不洗车 "}
    await workshop.self_check(db, task_id, tech, at, form=reasoned)
    await db.commit()
    ticks = (await db.scalars(select(CheckTick).order_by(CheckTick.id))).all()
    assert [t.item for t in ticks] == keys
    assert {(t.stage, t.ticked_by_id, t.ticked_at) for t in ticks} == {
        ("self", users[Role.TECHNICIAN], at)
    }
    assert [(t.item, t.reason) for t in ticks if t.not_applicable] == [(last, "客户要求不洗车")]


async def test_the_mutual_check_goes_through_the_list_again(db, settings, users) -> None:
    order_id = await dispatched(db, settings, users)
    task_id = await finished_job(db, users, order_id)
    ticked = await every_item_ticked(db, task_id)
    await workshop.self_check(db, task_id, actor(users, Role.TECHNICIAN), utcnow(), form=ticked)
    await db.commit()
    foreman = actor(users, Role.FOREMAN)
    first = next(iter(ticked))
    half = {k: v for k, v in ticked.items() if k != first}
    await refused(
        db, order_id, InvalidInput,
        lambda: workshop.mutual_check(db, task_id, foreman, utcnow(), form=half), field=first,
    )  # fmt: skip
    await workshop.mutual_check(db, task_id, foreman, utcnow(), form=ticked)
    await db.commit()
    task = (await tasks(db, order_id))[0]
    current = await checklist.current(db, [task])
    assert len(current[task_id]["self"]) == len(current[task_id]["mutual"]) == len(ticked)
    assert {t.ticked_by_id for t in current[task_id]["mutual"]} == {users[Role.FOREMAN]}


async def test_a_rework_asks_for_the_list_again_and_keeps_the_first_rounds_ticks(
    db, settings, users
) -> None:
    order_id = await dispatched(db, settings, users)
    task_id = await finished_job(db, users, order_id)
    ticked = await every_item_ticked(db, task_id)
    await workshop.self_check(db, task_id, actor(users, Role.TECHNICIAN), utcnow(), form=ticked)
    await workshop.mutual_check(db, task_id, actor(users, Role.FOREMAN), utcnow(), form=ticked)
    await db.commit()
    job_id = (await tasks(db, order_id))[0].job_id
    await fail_final_check(db, users, order_id, [job_id])
    task = (await tasks(db, order_id))[0]
    assert (await checklist.current(db, [task]))[task_id] == {"self": [], "mutual": []}
    assert await tick_count(db) == 2 * len(ticked)  # the first round stays on the record

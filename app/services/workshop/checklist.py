"""The self-check (自检) and mutual check (互检) as checklists: the items that matter
for the kind of job (torque, fluids, leaks, …), plus the road test where the
customer signed for one and the old parts where the customer asked to keep them.

A check is done only when every item is ticked or marked not applicable with a
reason; the server re-checks that whatever the page sent."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.i18n import _, get_locale
from app.models import CheckTick, Job, JobTask, LineKind, WorkOrder
from app.services.audit import Actor

SELF, MUTUAL = "self", "mutual"
STAGES = (SELF, MUTUAL)
DONE, NOT_APPLICABLE = "ok", "na"
MAX_REASON = 200

# Every item, with its zh-CN and English label (as the catalogue names its lines).
ITEMS: dict[str, tuple[str, str]] = {
    "torque": ("螺栓、轮毂螺母按规定扭矩紧固", "Bolts and wheel nuts torqued to spec"),
    "fluids": ("油液液位正常（机油、制动液、冷却液）", "Fluid levels right: oil, brake, coolant"),
    "leaks": ("着车检查，无渗漏", "Engine run: no leaks"),
    "service_reset": ("保养提示已复位", "Service reminder reset"),
    "brake_pedal": ("制动踏板有力，无异响", "Brake pedal firm, no noise"),
    "tyre_pressure": ("胎压按标准调整", "Tyre pressures set to spec"),
    "warning_lights": ("仪表无故障灯", "No warning lights on the dash"),
    "vent_temperature": ("出风口温度正常，无异味", "Vent temperature right, no smell"),
    "fault_fixed": ("客户所述故障已排除", "The customer's complaint is fixed"),
    "road_test": ("路试正常", "Road test done, no fault"),
    "old_parts": ("旧件已保留，放在车内", "Old parts kept in the car for the customer"),
    "clean": ("车内外无油污，防护用品完好", "No grease inside or out, covers in place"),
}

# The job kinds of the catalogue's labour operations; a job without one is "general".
KIND_BY_LABOUR: dict[str, str] = {
    "L-OIL": "maintenance", "L-AIRF": "maintenance", "L-CABF": "maintenance",
    "L-SPK": "maintenance", "L-BRKF": "brakes", "L-BFL": "brakes",
    "L-ROT": "wheels", "L-ALN": "wheels", "L-AC": "air_con",
    "L-BATT": "electrical", "L-DIAG": "electrical",
}  # fmt: skip

# What each kind of job is checked for, in the order the technician goes round.
BY_KIND: dict[str, tuple[str, ...]] = {
    "maintenance": ("torque", "fluids", "leaks", "service_reset"),
    "brakes": ("torque", "fluids", "leaks", "brake_pedal"),
    "wheels": ("torque", "tyre_pressure"),
    "air_con": ("leaks", "vent_temperature"),
    "electrical": ("warning_lights",),
    "general": ("torque", "fluids", "leaks", "fault_fixed"),
}


@dataclass(frozen=True)
class Item:
    key: str
    label: str


@dataclass(frozen=True)
class Answer:
    item: str
    not_applicable: bool = False
    reason: str = ""


def label(key: str, locale: str | None = None) -> str:
    zh, en = ITEMS.get(key, (key, key))
    return zh if (locale or get_locale()).startswith("zh") else en


def kinds(job: Job) -> list[str]:
    """The job's kinds from its labour lines (a menu package is maintenance)."""
    found = [
        KIND_BY_LABOUR[line.code]
        for line in job.lines
        if line.kind == LineKind.LABOUR.value and line.code in KIND_BY_LABOUR
    ]
    if not found and job.menu_package_id is not None:
        found = ["maintenance"]
    return list(dict.fromkeys(found)) or ["general"]


def items_for(job: Job, order: WorkOrder) -> list[Item]:
    """The list for this job on this order (the same list for both checks)."""
    keys = [key for kind in kinds(job) for key in BY_KIND[kind]]
    if order.consent_road_test:
        keys.append("road_test")
    if order.consent_keep_old_parts and any(x.kind == LineKind.PART.value for x in job.lines):
        keys.append("old_parts")
    keys.append("clean")
    return [Item(key, label(key)) for key in dict.fromkeys(keys)]


def field(key: str) -> str:
    return f"check-{key}"


def reason_field(key: str) -> str:
    return f"reason-{key}"


def every_item_done(items: Iterable[Item]) -> dict[str, str]:
    """The form of a check where each item was ticked (demo data, tests)."""
    return {field(item.key): DONE for item in items}


def parse(form: Mapping[str, Any], items: list[Item]) -> list[Answer]:
    """Each listed item ticked, or not applicable with a reason; else refused at
    the first item left open."""
    answers = []
    for item in items:
        raw = form.get(field(item.key), "")
        value = raw[-1] if isinstance(raw, list) else str(raw or "")
        if value == DONE:
            answers.append(Answer(item.key))
        elif value == NOT_APPLICABLE:
            reason = " ".join(str(form.get(reason_field(item.key), "") or "").split())
            if not reason:
                raise InvalidInput(
                    _("Say why “%(item)s” does not apply.", item=item.label),
                    field=reason_field(item.key),
                )
            answers.append(Answer(item.key, True, reason[:MAX_REASON]))
        else:
            raise InvalidInput(
                _("Tick “%(item)s”, or mark it not applicable with a reason.", item=item.label),
                field=field(item.key),
            )
    return answers


def record(
    session: AsyncSession,
    task: JobTask,
    stage: str,
    answers: list[Answer],
    actor: Actor,
    now: datetime,
) -> list[CheckTick]:
    ticks = [
        CheckTick(
            task_id=task.id,
            stage=stage,
            item=a.item,
            not_applicable=a.not_applicable,
            reason=a.reason,
            ticked_at=now,
            ticked_by_id=actor.user_id,
        )
        for a in answers
    ]
    session.add_all(ticks)
    return ticks


async def current(
    session: AsyncSession, tasks: Iterable[JobTask]
) -> dict[int, dict[str, list[CheckTick]]]:
    """Each task's ticks of its current checks (an earlier round's, before a
    rework, have another time), by task id and stage."""
    by_id = {t.id: t for t in tasks}
    found: dict[int, dict[str, list[CheckTick]]] = {i: {SELF: [], MUTUAL: []} for i in by_id}
    if not by_id:
        return found
    rows = await session.scalars(
        select(CheckTick).where(CheckTick.task_id.in_(by_id)).order_by(CheckTick.id)
    )
    for tick in rows:
        task = by_id[tick.task_id]
        at = task.self_checked_at if tick.stage == SELF else task.mutual_checked_at
        if at is not None and tick.ticked_at == at:
            found[tick.task_id][tick.stage].append(tick)
    return found

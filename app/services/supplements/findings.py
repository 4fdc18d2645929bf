"""Findings (增加项目 found on the car) until each has an answer: the customer's
signed approval or decline, or the advisor's withdrawal with a reason. While one
has none, the advisor sees it counted and the car is not delivered. A safety
finding's decline is signed with a sentence saying the customer was told."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.i18n import _, locale_as
from app.models import (
    UNANSWERED,
    CheckIn,
    Job,
    JobTask,
    Photo,
    PhotoStage,
    Recommendation,
    Supplement,
    SupplementStatus,
    WorkOrder,
)
from app.services import audit, board_events
from app.services.audit import Actor
from app.services.photos import receive as photos
from app.services.photos.pipeline import ProcessedPhoto
from app.services.storage.files import FileStore

# What a technician taps when reporting; the first five are safety items.
SAFETY_CATEGORIES = ("brakes", "tyres", "steering", "lights", "airbags")
CATEGORIES = (*SAFETY_CATEGORIES, "engine", "fluids", "body", "other")
MAX_PHOTOS = 4  # taken with the report; more follow by upload
MAX_REASON = 1000


def category_labels() -> dict[str, str]:
    return {
        "brakes": _("Brakes"),
        "tyres": _("Tyres"),
        "steering": _("Steering"),
        "lights": _("Lights"),
        "airbags": _("Airbags"),
        "engine": _("Engine"),
        "fluids": _("Fluids and leaks"),
        "body": _("Body and interior"),
        "other": _("Other"),
    }


def status_labels() -> dict[str, str]:
    return {
        SupplementStatus.DRAFT.value: _("Waiting for the advisor’s price"),
        SupplementStatus.PENDING.value: _("Waiting for the customer"),
        SupplementStatus.APPROVED.value: _("Approved by the customer"),
        SupplementStatus.DECLINED.value: _("Declined by the customer"),
        SupplementStatus.WITHDRAWN.value: _("Withdrawn by the advisor"),
    }


def parse_category(raw: str | None) -> str:
    category = (raw or "").strip()
    if category not in CATEGORIES:
        raise InvalidInput(_("Tap what the finding concerns."), field="category")
    return category


def label(supplement: Supplement) -> str:
    """How a finding is named in messages: its number and what was found."""
    note = supplement.note if len(supplement.note) <= 60 else supplement.note[:59] + "…"
    return _("Finding #%(n)s “%(note)s”", n=supplement.number, note=note)


def safety_statement(supplement: Supplement, locale: str) -> str:
    """The sentence the customer signs, in their language, when declining a safety finding."""
    with locale_as(locale):
        what = category_labels().get(supplement.category or "", "")
        issue = supplement.note
        if what:
            issue = _("%(what)s: %(note)s", what=what, note=supplement.note)
        return _(
            "I was told about this safety issue (%(issue)s) and decline the repair.", issue=issue
        )


def safety_warning(supplement: Supplement) -> str:
    """What the customer reads first about a safety finding: what it concerns (the
    category, or what was found when the technician flagged another kind)."""
    what = category_labels().get(supplement.category or "", "")
    if supplement.category not in SAFETY_CATEGORIES:
        what = supplement.note if len(supplement.note) <= 40 else supplement.note[:39] + "…"
    return _("Safety issue: %(what)s. Driving with it can be dangerous.", what=what)


@dataclass(frozen=True)
class Count:
    open: int = 0
    safety: int = 0


async def photo_target(
    session: AsyncSession, supplement_id: int, actor: Actor
) -> tuple[CheckIn, photos.Target]:
    """Where a finding's photo goes: only a technician with a job of this car
    dispatched to them adds one, and only while the finding has no answer."""
    supplement = await session.get(Supplement, supplement_id)
    if supplement is None:
        raise NotFound(_("That supplement does not exist."))
    dispatched = await session.scalar(
        select(JobTask.id)
        .where(
            JobTask.work_order_id == supplement.work_order_id,
            JobTask.technician_id == actor.user_id,
        )
        .limit(1)
    )
    if actor.user_id is None or dispatched is None:
        raise Forbidden(_("Only a technician working on this car adds photos to its findings."))
    if supplement.status not in UNANSWERED:
        raise Conflict(_("This finding already has an answer; no more photos can be added."))
    check_in = await session.scalar(
        select(CheckIn).where(CheckIn.work_order_id == supplement.work_order_id)
    )
    if check_in is None:
        raise NotFound(_("This work order has no check-in record."))
    return check_in, photos.Target(stage=PhotoStage.FINDING, supplement_id=supplement.id)


async def attach_photos(
    session: AsyncSession,
    supplement: Supplement,
    prepared: Sequence[tuple[bytes, ProcessedPhoto]],
    store: FileStore,
    actor: Actor,
) -> list[Photo]:
    """Photos taken with the report, already through the pipeline (`photos.prepare`)."""
    check_in, target = await photo_target(session, supplement.id, actor)
    added = []
    for data, processed in prepared:
        received = await photos.receive(
            session, check_in, client_id=f"finding-{uuid.uuid4().hex}", position="",
            damage_mark_id="", data=data, store=store, actor=actor, target=target,
            processed=processed,
        )  # fmt: skip
        added.append(received.photo)
    return added


async def photos_of(session: AsyncSession, supplement: Supplement) -> list[Photo]:
    return list(
        (
            await session.scalars(
                select(Photo).where(Photo.supplement_id == supplement.id).order_by(Photo.id)
            )
        ).all()
    )


async def unanswered(session: AsyncSession, order_id: int) -> list[Supplement]:
    return list(
        (
            await session.scalars(
                select(Supplement)
                .where(Supplement.work_order_id == order_id, Supplement.status.in_(UNANSWERED))
                .order_by(Supplement.number)
            )
        ).all()
    )


async def counts(session: AsyncSession, order_ids: Iterable[int]) -> dict[int, Count]:
    """Unanswered findings by work order (only orders that have one)."""
    ids = list(order_ids)
    if not ids:
        return {}
    rows = await session.execute(
        select(Supplement.work_order_id, Supplement.safety).where(
            Supplement.work_order_id.in_(ids), Supplement.status.in_(UNANSWERED)
        )
    )
    found: dict[int, Count] = {}
    for order_id, safety in rows:
        was = found.get(order_id, Count())
        found[order_id] = Count(was.open + 1, was.safety + (1 if safety else 0))
    return found


async def order_context(session: AsyncSession, order_id: int) -> dict[str, Any]:
    """What an order's page shows of its findings: the count and how to name them."""
    return {
        "finding_count": (await counts(session, [order_id])).get(order_id, Count()),
        "category_labels": category_labels(),
        "status_labels": status_labels(),
    }


async def withdraw(
    session: AsyncSession,
    supplement: Supplement,
    reason: str | None,
    actor: Actor,
    now: datetime,
) -> Supplement:
    """The advisor takes a finding back (a duplicate, already covered by the order,
    not needed after all): with a reason, audited; it cannot be sent after."""
    if supplement.status not in UNANSWERED:
        raise Conflict(_("This finding already has an answer; it cannot be withdrawn."))
    text = " ".join((reason or "").split())
    if not text:
        raise InvalidInput(_("Say why the finding is withdrawn."), field="reason")
    supplement.status = SupplementStatus.WITHDRAWN.value
    supplement.withdrawn_at = now
    supplement.withdrawn_by_id = actor.user_id
    supplement.withdrawn_reason = text[:MAX_REASON]
    audit.record(
        session, actor, "supplement.withdrawn", "work_order", supplement.work_order_id,
        supplement=supplement.id, reason=supplement.withdrawn_reason,
    )  # fmt: skip
    board_events.changed(session)
    return supplement


def carry_forward(
    session: AsyncSession, order: WorkOrder, supplement: Supplement, jobs: list[Job], now: datetime
) -> Recommendation:
    """A declined finding stays on the order and greets the vehicle's next visit."""
    titles = _(", ").join(j.title for j in jobs if j.title and j.title != supplement.note)
    text = supplement.note or titles
    if titles and supplement.note:
        text = f"{supplement.note} — {titles}"
    recommendation = Recommendation(
        vehicle_id=order.vehicle_id,
        work_order_id=order.id,
        supplement_id=supplement.id,
        text=text or _("Added work %(n)s", n=supplement.number),
        safety=supplement.safety,
        declined_at=now,
    )
    session.add(recommendation)
    return recommendation

"""What a technician sees of a car before working on it: the customer's words and
their 5W2H answers, the check-in photos and damage marks, and the parts of each
job. Never prices or phone numbers: a technician needs neither."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.i18n import get_locale
from app.models import CheckIn, Concern, Job, LineKind, PhotoStage
from app.services.check_in import symptoms
from app.services.check_in.view import GUIDED_POSITIONS, labels
from app.services.photos import receive as photos


@dataclass(frozen=True)
class Answer:
    label: str
    text: str


@dataclass(frozen=True)
class Words:
    """One concern as the customer said it, with the 5W2H answers given."""

    customer_words: str
    answers: list[Answer]
    concern_id: int | None = None


@dataclass(frozen=True)
class Shot:
    photo_id: int
    caption: str


@dataclass
class Car:
    check_in: CheckIn | None
    words: list[Words] = field(default_factory=list)
    shots: list[Shot] = field(default_factory=list)  # walkaround order, then damage photos
    marks: list[str] = field(default_factory=list)  # "1. Scratch — note", numbered as drawn

    def words_of(self, job: Job) -> list[Words]:
        """The customer's words behind a job (a job from a concern), else none."""
        return [w for w in self.words if job.concern_id and w.concern_id == job.concern_id]


@dataclass(frozen=True)
class PartNeeded:
    number: str
    name: str
    quantity: Decimal


def words(concern: Concern) -> Words:
    names = symptoms.w2h_labels()
    answers = [
        Answer(names[key], text)
        for key in symptoms.W2H_FIELDS
        if (text := " ".join(str(getattr(concern, key) or "").split()))
    ]
    return Words(concern.customer_words, answers, concern.id)


def parts(job: Job) -> list[PartNeeded]:
    """The parts on a job by number, name and quantity (no price)."""
    zh = get_locale().startswith("zh")
    return [
        PartNeeded(line.code, line.name_zh if zh else line.name_en, line.quantity)
        for line in job.lines
        if line.kind == LineKind.PART.value
    ]


async def _car(session: AsyncSession, check_in: CheckIn) -> Car:
    names = labels()
    by_position = await photos.newest_by_position(session, check_in.id, PhotoStage.CHECK_IN)
    shots = [
        Shot(by_position[p].id, names["positions"].get(p, p))
        for p in GUIDED_POSITIONS
        if p in by_position
    ]
    # Numbered as on the diagram; a mark's photos follow the walkaround's.
    marks = {
        m.id: f"{n}. {names['damage'].get(m.kind, m.kind)}" + (f" — {m.note}" if m.note else "")
        for n, m in enumerate(check_in.damage_marks, start=1)
    }
    shots += [
        Shot(photo.id, marks[photo.damage_mark_id])
        for photo in await photos.of_check_in(session, check_in.id)
        if photo.damage_mark_id in marks
    ]
    return Car(check_in, [words(c) for c in check_in.concerns], shots, list(marks.values()))


async def cars(session: AsyncSession, order_ids: list[int]) -> dict[int, Car]:
    """Each order's car as checked in, by work order id."""
    if not order_ids:
        return {}
    found = (
        await session.scalars(select(CheckIn).where(CheckIn.work_order_id.in_(order_ids)))
    ).all()
    result = {i: Car(None) for i in order_ids}
    for check_in in found:
        result[check_in.work_order_id] = await _car(session, check_in)
    return result

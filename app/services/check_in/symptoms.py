"""5W2H symptom confirmation (故障确认) and the read-back summary (复述确认)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput, NotFound
from app.i18n import _, get_locale
from app.models import CheckIn, Concern, Job
from app.models.base import utcnow
from app.services import audit
from app.services.audit import Actor
from app.services.check_in.answers import (
    _LIST_SEPARATOR,
    W2H_FIELDS,
    _answer_index,
    quick_answers,
    w2h_labels,
)
from app.services.check_in.steps import bump_version

MAX_TEXT = 1000


def in_reader_language(value: str) -> str:
    """A 5W2H answer as the reader's language says it: the tap choices were stored in the
    advisor's language ("noise, cold start"); they are read back in the customer's
    (异响、冷车启动). What was typed stays as typed."""
    parts = [p for p in _LIST_SEPARATOR.split(value.strip()) if p]
    here = quick_answers()
    index = _answer_index()
    shown = []
    for part in parts:
        found = index.get(part.casefold())
        shown.append(here[found[0]][found[1]] if found else part)
    return ("、" if get_locale().startswith("zh") else ", ").join(shown)


def _clean(form: Mapping[str, Any], name: str) -> str:
    text = str(form.get(name) or "").strip()
    if len(text) > MAX_TEXT:
        raise InvalidInput(_("At most %(n)s characters.", n=MAX_TEXT), field=name)
    return text


def _find(check_in: CheckIn, concern_id: int) -> Concern:
    concern = next((c for c in check_in.concerns if c.id == concern_id), None)
    if concern is None:
        raise NotFound(_("This concern does not exist."))
    return concern


async def add_concern(
    session: AsyncSession,
    check_in: CheckIn,
    customer_words: str,
    version: int | None,
    actor: Actor,
) -> Concern:
    words = customer_words.strip()
    if not words:
        raise InvalidInput(
            _("Write the concern in the customer's own words."), field="customer_words"
        )
    if len(words) > MAX_TEXT:
        raise InvalidInput(_("At most %(n)s characters.", n=MAX_TEXT), field="customer_words")
    await bump_version(session, check_in, version)
    concern = Concern(customer_words=words)
    check_in.concerns.append(concern)
    check_in.summary_confirmed_at = None
    await session.flush()
    audit.record(session, actor, "concern_added", "check_in", check_in.id, concern=concern.id)
    return concern


async def save_concern(
    session: AsyncSession,
    check_in: CheckIn,
    concern_id: int,
    form: Mapping[str, Any],
    version: int | None,
    actor: Actor,
) -> None:
    concern = _find(check_in, concern_id)
    words = _clean(form, "customer_words")
    if not words:
        raise InvalidInput(
            _("Write the concern in the customer's own words."), field="customer_words"
        )
    values = {"customer_words": words, **{f: _clean(form, f) for f in W2H_FIELDS}}
    if all(getattr(concern, k) == v for k, v in values.items()):
        return
    await bump_version(session, check_in, version)
    for name, value in values.items():
        setattr(concern, name, value)
    check_in.summary_confirmed_at = None
    audit.record(session, actor, "concern_saved", "check_in", check_in.id, concern=concern.id)
    await session.flush()


async def remove_concern(
    session: AsyncSession, check_in: CheckIn, concern_id: int, version: int | None, actor: Actor
) -> None:
    concern = _find(check_in, concern_id)
    await bump_version(session, check_in, version)
    # A job a booking priced for this concern (appointments/prefill) goes with it (first:
    # the concern's own delete would unlink it).
    await session.execute(
        delete(Job).where(Job.work_order_id == check_in.work_order_id, Job.concern_id == concern.id)
    )
    check_in.concerns.remove(concern)
    check_in.summary_confirmed_at = None
    audit.record(session, actor, "concern_removed", "check_in", check_in.id, concern=concern_id)
    await session.flush()


def summary(check_in: CheckIn, customer_name: str) -> list[str]:
    """One plain-language sentence per concern, for the advisor to read back."""
    labels = w2h_labels()
    lines = []
    for number, concern in enumerate(check_in.concerns, start=1):
        details = [
            _(
                "%(label)s: %(value)s",
                label=labels[f],
                value=in_reader_language(getattr(concern, f)),
            )
            for f in W2H_FIELDS
            if getattr(concern, f)
        ]
        sentence = _(
            "%(n)s. %(name)s says: “%(words)s”.",
            n=number,
            name=customer_name,
            words=concern.customer_words,
        )
        if details:
            # Separators are translated too: Chinese uses full-width ：；。
            sentence += " " + _("; ").join(details) + _(".")
        lines.append(sentence)
    if check_in.road_test_consent is True:
        lines.append(_("The customer agrees to a road test."))
    elif check_in.road_test_consent is False:
        lines.append(_("No road test: the customer does not agree."))
    return lines


async def confirm_summary(
    session: AsyncSession, check_in: CheckIn, version: int | None, actor: Actor
) -> None:
    if not check_in.concerns:
        raise InvalidInput(_("Add at least one concern in the customer's words."))
    await bump_version(session, check_in, version)
    check_in.summary_confirmed_at = utcnow()
    audit.record(session, actor, "summary_confirmed", "check_in", check_in.id)
    await session.flush()

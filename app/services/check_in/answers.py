"""The 5W2H questions and their tap choices, in every language (no database: the
check-in's symptoms step and a booking's requested work both read them)."""

from __future__ import annotations

import re
from functools import cache

from app.i18n import _, locale_as
from app.settings import SUPPORTED_LOCALES

W2H_FIELDS = ("what", "when", "where", "who", "why", "how", "how_much")


def w2h_labels() -> dict[str, str]:
    return {
        "what": _("What happens"),
        "when": _("When"),
        "where": _("Where"),
        "who": _("Who"),
        "why": _("Why (the customer's view)"),
        "how": _("How it shows"),
        "how_much": _("How much / how often"),
    }


def quick_answers() -> dict[str, list[str]]:
    """Tap choices for the common answers; free text is always there too."""
    return {
        "what": [_("noise"), _("vibration"), _("warning light"), _("smell"), _("leak"),
                 _("pulls to one side"), _("does not start")],
        "when": [_("cold start"), _("after warming up"), _("at speed"), _("braking"),
                 _("turning"), _("accelerating"), _("idling"), _("since last week")],
        "where": [_("front"), _("rear"), _("left"), _("right"), _("engine bay"),
                  _("city roads"), _("motorway"), _("bumpy roads")],
        "who": [_("the customer drives"), _("another driver"), _("noticed by the customer")],
        "why": [_("after a repair"), _("after an accident"), _("no idea")],
        "how": [_("squeal"), _("knock"), _("rattle"), _("judder"), _("light on the dash")],
        "how_much": [_("always"), _("often"), _("sometimes"), _("once")],
    }  # fmt: skip


_LIST_SEPARATOR = re.compile(r"\s*[,，、;；]\s*")


@cache
def _answer_index() -> dict[str, tuple[str, int]]:
    """Each tap choice, in every language, to where it stands in the list."""
    index: dict[str, tuple[str, int]] = {}
    for locale in SUPPORTED_LOCALES:
        with locale_as(locale):
            for field, answers in quick_answers().items():
                for position, answer in enumerate(answers):
                    index.setdefault(answer.casefold(), (field, position))
    return index


def field_of(answer: str) -> str | None:
    """The 5W2H question a tap choice answers (in any language), None for typed text."""
    found = _answer_index().get(answer.strip().casefold())
    return found[0] if found else None

"""The standard questions of the follow-up call (seeds 002 and 003, shared/domain.md).

Worded as the clerk asks them; never "is anything still wrong with the car" (seed
003): each asks whether a thing was done, which the order's record can prove.
"""

from __future__ import annotations

from app.i18n import _

# In the order they are asked; the codes are stored with each answer.
QUESTIONS: tuple[str, ...] = (
    "greeted_promptly",
    "walkaround",
    "estimate_before_work",
    "ready_on_time",
    "work_as_agreed",
    "explained_at_delivery",
    "car_clean",
    "advice_given",
    "earlier_issues_resolved",
    "appointment_ready",
)


def question_labels() -> dict[str, str]:
    """Question code -> the question as the clerk reads it, in the reader's language."""
    return {
        "greeted_promptly": _("Were you greeted promptly when you arrived?"),
        "walkaround": _("Did the advisor walk around the car with you and put the covers on?"),
        "estimate_before_work": _("Were the price and the time estimated before the work began?"),
        "ready_on_time": _("Was the car ready at the time promised?"),
        "work_as_agreed": _("Was the work done as agreed?"),
        "explained_at_delivery": _(
            "Were the work and the bill explained when you collected the car?"
        ),
        "car_clean": _("Was the car returned clean?"),
        "advice_given": _("Were you given advice on the car and its next service?"),
        "earlier_issues_resolved": _("Were the points from our last call taken care of?"),
        "appointment_ready": _("With your appointment, was everything ready when you arrived?"),
    }


def short_labels() -> dict[str, str]:
    """Question code -> a short name for reports and charts."""
    return {
        "greeted_promptly": _("Greeted promptly"),
        "walkaround": _("Walkaround with covers"),
        "estimate_before_work": _("Estimate before work"),
        "ready_on_time": _("Ready on time"),
        "work_as_agreed": _("Work as agreed"),
        "explained_at_delivery": _("Explained at delivery"),
        "car_clean": _("Car clean"),
        "advice_given": _("Advice given"),
        "earlier_issues_resolved": _("Earlier points resolved"),
        "appointment_ready": _("Ready for the appointment"),
    }

"""Each board figure's name in the reader's language (short: it heads a tile), and the
unit it is shown in."""

from __future__ import annotations

from app.i18n import _


def names(greeting_minutes: int = 5) -> dict[str, str]:
    """Code -> the figure's short name; `greeting_minutes` is the dealership's standard."""
    return {
        "arrivals": _("Vehicles in"),
        "booked": _("Booked arrivals"),
        "walk_in": _("Walk-in arrivals"),
        "appointment_rate": _("Appointment rate"),
        "greeting_minutes": _("Time to greeting"),
        "greeted_in_time": _("Greeted within %(n)s min", n=greeting_minutes),
        "check_in_minutes": _("Check-in time"),
        "signed": _("Orders signed"),
        "finished": _("Vehicles finished"),
        "delivered": _("Vehicles delivered"),
        "promise_kept": _("Promised time kept"),
        "bill_matches": _("Bill matches estimate"),
        "rework_rate": _("Rework rate"),
        "first_time_fix": _("First-time fix"),
        "follow_ups_due": _("Follow-up calls due"),
        "follow_ups_on_time": _("Follow-ups on time"),
        "complaints_general": _("Open complaints: general"),
        "complaints_escalated": _("Open complaints: escalated"),
        "complaints_serious": _("Open complaints: serious"),
        "hours_sold": _("Labour hours sold"),
        "hours_clocked": _("Labour hours clocked"),
        "hours_available": _("Labour hours available"),
        "utilisation": _("Labour utilisation"),
        "productivity": _("Productivity"),
        "labour_revenue": _("Labour revenue"),
        "parts_revenue": _("Parts revenue"),
    }


def units() -> dict[str, str]:
    """Unit -> the sign after a value ("" for a count; money carries its own sign)."""
    return {"count": "", "percent": "%", "minutes": _("min"), "hours": _("h"), "money": ""}


def directions() -> dict[bool, str]:
    """lower_is_better -> how the board says which way is good."""
    return {False: _("Higher is better"), True: _("Lower is better")}


def verdicts() -> dict[bool | None, str]:
    """meets the target -> the word beside the colour (sunlight washes colours out)."""
    return {True: _("On target"), False: _("Off target"), None: _("No target")}

"""The names a report gives the codes it counts, in the reader's language."""

from __future__ import annotations

from app.i18n import _


def severity_labels() -> dict[str, str]:
    return {
        "general": _("General complaint"),
        "escalated": _("Escalated complaint"),
        "serious": _("Serious complaint"),
    }


def cause_labels() -> dict[str, str]:
    """Complaint cause code -> name; "" for a complaint whose cause is not yet established."""
    return {
        "repair_quality": _("Repair quality"),
        "parts": _("Parts supply"),
        "price": _("Price and charges"),
        "time": _("Time and waiting"),
        "attitude": _("Staff attitude"),
        "facilities": _("Facilities"),
        "product": _("Product quality"),
        "": _("Cause not yet established"),
    }


def responsibility_labels() -> dict[str, str]:
    return {
        "manufacturer": _("Manufacturer's responsibility"),
        "dealer": _("Dealer's responsibility"),
        "customer": _("Customer's responsibility"),
        "": _("Responsibility not yet established"),
    }


def answer_labels() -> dict[str, str]:
    return {"yes": _("Answer: yes"), "no": _("Answer: no"), "not_asked": _("Not asked")}


def verdict_labels() -> dict[str, str]:
    return {
        "contradicts": _("The record contradicts this “no”"),
        "unsupported": _("The record cannot support this “yes”"),
    }


def action_kind_labels() -> dict[str, str]:
    return {"corrective": _("Corrective action"), "preventive": _("Preventive action")}

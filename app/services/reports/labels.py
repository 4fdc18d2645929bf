"""The names a report gives the codes it counts, in the reader's language."""

from __future__ import annotations

from app.i18n import _
from app.services.complaints.view import labels as complaint_labels


def severity_labels() -> dict[str, str]:
    return {
        "general": _("General complaint"),
        "escalated": _("Escalated complaint"),
        "serious": _("Serious complaint"),
    }


def cause_labels() -> dict[str, str]:
    """Complaint cause code -> the name the complaint record gives it; "" for a complaint
    whose cause is not yet established."""
    return {**complaint_labels()["cause"], "": _("Cause not yet established")}


def responsibility_labels() -> dict[str, str]:
    return {
        **complaint_labels()["responsibility"],
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

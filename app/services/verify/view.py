"""What changed in a signed record, said in the customer's words: each field of
the canonical record named in their language ("Job 1 › Line 2 › Unit price"),
each value shown as on their copy."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from app.i18n import Formatter, _
from app.models import Signature, SignatureKind
from app.services.check_in import symptoms
from app.services.check_in.view import labels as check_in_labels
from app.services.final_check import inspection as final_check
from app.services.signing.content import Difference
from app.services.signing.signatures import Verification
from app.services.verify.customer import OrderCheck
from app.settings import Settings

PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
HASH = re.compile(r"^[0-9a-f]{64}$")
MONEY_FIELDS = {"amount", "list_price", "unit_price", "labour", "parts", "warranty", "subtotal",
                "discount", "tax", "total", "signed_total", "authorise_up_to"}  # fmt: skip


def _fields() -> dict[str, str]:
    return {
        "schema": _("Record format"), "locale": _("Language"), "currency": _("Currency"),
        "dealership": _("Dealership"), "name": _("Name"), "address": _("Address"),
        "phone": _("Phone"), "order": _("Work order"), "number": _("Number"),
        "opened_at": _("Opened at"), "advisor": _("Service advisor"), "customer": _("Customer"),
        "vehicle": _("Vehicle"), "vin": _("VIN"), "plate": _("Plate"), "make": _("Make"),
        "model": _("Model"), "year": _("Year"), "colour": _("Colour"),
        "check_in": _("Check-in"), "arrived_at": _("Arrived at"),
        "odometer_km": _("Odometer (km)"), "fuel_eighths": _("Fuel level (eighths)"),
        "warning_lights": _("Warning lights"), "checklist": _("Checklist"),
        "exterior_accessories_ok": _("Exterior accessories in order"),
        "glass_ok": _("Glass in order"), "onboard_tools_present": _("On-board tools present"),
        "spare_tyre_present": _("Spare tyre present"),
        "warning_triangle_present": _("Warning triangle present"),
        "valuables_advised": _("Customer advised about valuables"), "covers": _("Covers"),
        "covers_skip_reason": _("Why covers were not fitted"), "belongings": _("Belongings"),
        "kind": _("Kind"), "count": _("Count"), "damage_marks": _("Damage marks"),
        "x": _("Position across"), "y": _("Position along"), "severity": _("Severity"),
        "note": _("Note"), "photos": _("Photos"), "position": _("Position"),
        "damage_mark": _("Damage mark"), "sha256": _("Photo fingerprint"),
        "concerns": _("Concerns"), "customer_words": _("In the customer's words"),
        **symptoms.w2h_labels(),
        "read_back": _("Read-back"), "road_test_consent": _("Road test agreed"),
        "jobs": _("Job"), "title": _("Job title"), "source": _("Source"), "warranty": _("Warranty"),
        "declined": _("Declined"), "amount": _("Amount"), "lines": _("Line"), "code": _("Code"),
        "name_zh": _("Name (Chinese)"), "name_en": _("Name (English)"),
        "quantity": _("Quantity"), "list_price": _("List price"), "unit_price": _("Unit price"),
        "override_reason": _("Reason for the price change"), "expected_on": _("Part expected on"),
        "totals": _("Totals"), "labour": _("Labour"), "parts": _("Parts"),
        "subtotal": _("Subtotal"), "discount": _("Discount"),
        "discount_reason": _("Reason for the discount"), "tax_rate": _("Tax rate"),
        "tax": _("Tax"), "total": _("Total"), "promised_at": _("Promised time"),
        "consents": _("Consents"), "authorise_up_to": _("Work authorised up to"),
        "road_test": _("Road test"), "keep_old_parts": _("Keep the old parts"),
        "follow_up": _("Follow-up call"), "work_order_hash": _("Signed work order"),
        "supplement": _("Added work"), "supplements": _("Added work"),
        "decision": _("Decision"), "hash": _("Fingerprint"), "rework_count": _("Rework"),
        "bill": _("Bill"), "signed_total": _("Total signed"), "final_check": _("Final check"),
        "round": _("Round"), "inspector": _("QC inspector"), "at": _("Time"),
        "passed": _("Passed"), "items": _("Checklist"),
        "comparison": _("Photos at check-in and delivery"), "delivery": _("At delivery"),
        "new_damage": _("New damage"), "replaced_parts": _("Replaced parts"),
        "old_parts_returned": _("Old parts returned"), "old_parts_shown": _("Old parts shown"),
        "advice": _("Maintenance advice"), "next_service": _("Next service"),
        "on": _("Date"), "km": _("At (km)"),
    }  # fmt: skip


def _values() -> dict[str, str]:
    """Codes stored in the record, as the customer's copy says them."""
    names = check_in_labels()
    return {
        **{str(k): v for k, v in names["positions"].items()},
        **{str(k): v for k, v in names["covers"].items()},
        **{str(k): v for k, v in names["damage"].items()},
        **names["belongings"],
        "labour": _("Labour"), "part": _("Part"), "approved": _("Approved"),
        "declined": _("Declined"), "signed": _("Signed"),
        "draft": _("Waiting for the advisor’s price"), "pending": _("Waiting for the customer"),
        "withdrawn": _("Withdrawn by the advisor"),
    }  # fmt: skip


@dataclass(frozen=True)
class Change:
    path: str  # the record's own path, for staff and for tests
    field: str
    signed: str
    now: str


def field_name(path: str, fields: dict[str, str] | None = None) -> str:
    names = fields or _fields()
    items = final_check.item_labels()
    parts: list[str] = []
    previous = ""
    for name, index in PART.findall(path):
        if index:
            parts[-1] = f"{parts[-1]} {int(index) + 1}"
        elif previous == "items" and name in items:
            parts.append(items[name])
        else:
            parts.append(names.get(name, _("Other detail")))
        previous = name or previous
    return " › ".join(parts)


def _money(text: str, fmt: Formatter) -> str:
    try:
        return fmt.money(Decimal(text))
    except InvalidOperation:
        return text


def value_text(value: Any, path: str, fmt: Formatter) -> str:
    if value is None or value == []:
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    text = str(value)
    last = next((name for name, _index in reversed(PART.findall(path)) if name), "")
    if ISO_TIME.match(text):
        shown = fmt.datetime(datetime.fromisoformat(text.replace("Z", "+00:00")), "medium")
    elif HASH.match(text):
        shown = text[:12] + "…"
    elif last in MONEY_FIELDS:
        shown = _money(text, fmt)
    elif last in {"kind", "position", "decision"}:
        shown = _values().get(text, text)
    else:
        shown = text
    return shown


def changes(differences: list[Difference], fmt: Formatter) -> list[Change]:
    fields = _fields()
    return [
        Change(
            d.path,
            field_name(d.path, fields),
            value_text(d.signed, d.path, fmt),
            value_text(d.now, d.path, fmt),
        )
        for d in differences
    ]


@dataclass(frozen=True)
class Record:
    """One signed record on the customer's check page."""

    check: Verification
    title: str
    changes: list[Change]
    final_check: dict[str, Any] | None  # the QC report as signed at delivery

    @property
    def signature(self) -> Signature:
        return self.check.signature


def _title(signature: Signature, content: dict[str, Any]) -> str:
    if signature.kind == SignatureKind.SUPPLEMENT.value:
        number = (content.get("supplement") or {}).get("number", "")
        decided = _("approved") if signature.decision == "approved" else _("declined")
        return _("Added work %(n)s (%(decision)s)", n=number, decision=decided)
    if signature.kind == SignatureKind.DELIVERY.value:
        return _("Delivery acceptance")
    return _("Work order")


def _signed_final_check(content: dict[str, Any]) -> dict[str, Any] | None:
    found = content.get("final_check")
    if not isinstance(found, dict) or "items" not in found:
        return None
    labels = final_check.item_labels()
    return {
        **found,
        "items": [(labels.get(key, key), bool(ticked)) for key, ticked in found["items"].items()],
        "at": datetime.fromisoformat(found["at"].replace("Z", "+00:00"))
        if found.get("at")
        else None,
    }


def customer_page(found: OrderCheck, settings: Settings) -> dict[str, Any]:
    """Call inside `locale_as(...)`: every label is in the page's language."""
    signed = json.loads(found.work_order.content)
    fmt = Formatter(settings.timezone, signed.get("order", {}).get("currency") or settings.currency)
    records = []
    for check in found.checks:
        content = json.loads(check.signature.content)
        records.append(
            Record(
                check,
                _title(check.signature, content),
                changes(check.differences, fmt),
                _signed_final_check(content),
            )
        )
    return {
        "shop": signed.get("dealership", {}).get("name", ""),
        "number": signed.get("order", {}).get("number", ""),
        "vehicle": signed.get("vehicle", {}),
        "records": records,
        "intact": found.intact,
    }

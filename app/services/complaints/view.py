"""What the complaint pages show: the list with its counts, and one record's context."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.i18n import _
from app.models import (
    Complaint,
    ComplaintEvent,
    ComplaintSeverity,
    ComplaintStep,
    Customer,
    StaffUser,
    Vehicle,
    WorkOrder,
)
from app.services.audit import Actor
from app.services.check_in.symptoms import w2h_labels
from app.services.complaints import access, alerts, clock, closing, record, steps, tracking

FILTERS = ("open", "overdue", "closed", "mine")
SEVERITY_ORDER = {"serious": 0, "escalated": 1, "general": 2}
STEP_ORDER = [s.value for s in ComplaintStep]


def labels() -> dict[str, dict[str, str]]:
    return {
        "channel": {
            "in_person": _("In person"), "phone": _("Phone"),
            "follow_up_call": _("Follow-up call"), "online": _("Online"),
            "hotline": _("Manufacturer hotline"),
        },
        "severity": {
            "general": _("General"), "escalated": _("Escalated"), "serious": _("Serious"),
        },
        "step": {
            "receive": _("Receive"), "listen": _("Listen"), "facts": _("Facts and cause"),
            "decide": _("Decide"), "explain": _("Explain"), "act": _("Act"),
            "follow_up": _("Follow up"), "closed": _("Closed"),
        },
        "cause": {
            "repair_quality": _("Repair quality"), "parts": _("Parts"), "price": _("Price"),
            "time": _("Time"), "attitude": _("Attitude"), "facilities": _("Facilities"),
            "product": _("Product"),
        },
        "responsibility": {
            "manufacturer": _("Manufacturer"), "dealer": _("Dealer"), "customer": _("Customer"),
        },
        "action_kind": {
            "rework": _("Rework repair"), "refund": _("Refund"), "goodwill": _("Goodwill"),
            "explanation": _("Explanation only"),
        },
        "pause": {
            "customer": _("Waiting for the customer’s answer"), "parts": _("Waiting for parts"),
        },
        "corrective": {"corrective": _("Corrective"), "preventive": _("Preventive")},
        "event": {
            "received": _("Received"), "step_done": _("Step done"),
            "not_agreed": _("Customer did not agree"),
            "sent_back": _("Sent back"), "paused": _("Clock paused"), "resumed": _("Clock resumed"),
            "escalated": _("Escalated to the manager"), "manager_alerted": _("Manager alerted"),
            "acknowledged": _("Acknowledged"), "call_scheduled": _("Check call scheduled"),
            "closed": _("Closed"), "severity": _("Severity raised"),
            "action_added": _("Action added"), "action_done": _("Action done"),
        },
        "w2h": w2h_labels(),
    }  # fmt: skip


@dataclass
class Row:
    complaint: Complaint
    customer: Customer
    vehicle: Vehicle | None
    overdue: bool


async def listing(
    session: AsyncSession, actor: Actor, which: str, now: datetime, today: date
) -> dict[str, Any]:
    which = which if which in FILTERS else "open"
    query = (
        select(Complaint, Customer, Vehicle)
        .join(Customer, Customer.id == Complaint.customer_id)
        .outerjoin(Vehicle, Vehicle.id == Complaint.vehicle_id)
        .where(access.visible(actor))
    )
    if which == "closed":
        query = query.where(Complaint.step == ComplaintStep.CLOSED.value)
    else:
        query = query.where(Complaint.step != ComplaintStep.CLOSED.value)
    if which == "overdue":
        query = query.where(clock.overdue_clause(now))
    if which == "mine":
        me = actor.user_id or -1
        query = query.where(or_(Complaint.received_by_id == me, Complaint.advisor_id == me))
    found = (await session.execute(query.limit(500))).tuples().all()
    rows = [Row(c, cu, v, clock.is_overdue(c, now)) for c, cu, v in found]
    if which == "closed":
        rows.sort(key=lambda r: r.complaint.closed_at or r.complaint.received_at, reverse=True)
    else:
        rows.sort(key=lambda r: (SEVERITY_ORDER.get(r.complaint.severity, 3),
                                 r.complaint.close_due_at or r.complaint.received_at))  # fmt: skip
    open_rows = (
        await session.scalars(
            select(Complaint.severity)
            .where(access.visible(actor), Complaint.step != ComplaintStep.CLOSED.value)
        )
    ).all()  # fmt: skip
    counts = {s.value: sum(1 for x in open_rows if x == s.value) for s in ComplaintSeverity}
    late_actions = await tracking.overdue_actions(session, today)
    visible_ids = set(
        (await session.scalars(select(Complaint.id).where(access.visible(actor)))).all()
    )
    late_actions = [a for a in late_actions if a.complaint_id in visible_ids]
    return {
        "rows": rows, "which": which, "filters": FILTERS, "counts": counts,
        "late_actions": late_actions, "labels": labels(), "handler": access.sees_all(actor),
        "now": now,
    }  # fmt: skip


def evidence(order: WorkOrder | None, actor: Actor) -> list[tuple[str, str]]:
    """Links to the order's records the complaint's facts rest on, that this user may open."""
    if order is None:
        return []
    links = [
        (f"/work-orders/{order.id}", _("Work order and check-in photos")),
        (f"/work-orders/{order.id}/pdf", _("Signed estimate and work order (PDF)")),
        (f"/work-orders/{order.id}/audit", _("Order history")),
    ]
    if actor.has_role("service_manager", "qc_inspector"):
        links.append((f"/final-check/{order.id}", _("QC report")))
    if actor.has_role("service_manager", "advisor"):
        links.append((f"/delivery/{order.id}", _("Delivery record and old parts")))
    return links


async def context(
    session: AsyncSession, complaint: Complaint, actor: Actor, now: datetime, today: date
) -> dict[str, Any]:
    customer = await record.customer_of(session, complaint)
    vehicle = await session.get(Vehicle, complaint.vehicle_id) if complaint.vehicle_id else None
    order = (
        await session.get(WorkOrder, complaint.work_order_id) if complaint.work_order_id else None
    )
    rework = (
        await session.get(WorkOrder, complaint.rework_order_id)
        if complaint.rework_order_id else None
    )  # fmt: skip
    events = (
        (
            await session.execute(
                select(ComplaintEvent, StaffUser.display_name)
                .outerjoin(StaffUser, StaffUser.id == ComplaintEvent.by_id)
                .where(ComplaintEvent.complaint_id == complaint.id)
                .order_by(ComplaintEvent.at.desc(), ComplaintEvent.id.desc())
            )
        )
        .tuples()
        .all()
    )
    staff = (
        await session.scalars(
            select(StaffUser).where(StaffUser.is_active.is_(True)).order_by(StaffUser.display_name)
        )
    ).unique().all()  # fmt: skip
    names = {u.id: u.display_name for u in staff}
    for ident in (complaint.received_by_id, complaint.decided_by_id, complaint.advisor_id):
        if ident and ident not in names:
            user = await session.get(StaffUser, ident)
            names[ident] = user.display_name if user else ""
    check = await closing.latest_check(session, complaint)
    actions = await tracking.actions(session, complaint.id)
    current = complaint.step
    return {
        "c": complaint, "customer": customer, "vehicle": vehicle, "order": order,
        "rework": rework, "events": events, "staff": staff, "names": names,
        "labels": labels(), "steps": STEP_ORDER[:-1], "current": current,
        "position": STEP_ORDER.index(current) if current in STEP_ORDER else 0,
        "handler": access.sees_all(actor), "overdue": clock.is_overdue(complaint, now),
        "evidence": evidence(order, actor), "check": check,
        "check_task": await closing.check_call(session, complaint),
        "actions": actions, "today": today,
        "repeats": await record.repeats(session, complaint.vehicle_id, complaint.received_at,
                                        exclude=complaint.id),
        "redo_steps": [s.value for s in closing.REDO_STEPS],
        "w2h_fields": steps.SUMMARY_FIELDS, "urgent": complaint.severity in alerts.URGENT,
        "late_action_ids": {a.id for a in actions if a.done_at is None and a.due_on < today},
        "safety": record.safety_words(complaint.words)
        if complaint.severity != "serious" and complaint.step != ComplaintStep.CLOSED
        else [],
    }  # fmt: skip


async def orders_for(session: AsyncSession, vehicle_id: int) -> list[WorkOrder]:
    rows = await session.scalars(
        select(WorkOrder)
        .where(WorkOrder.vehicle_id == vehicle_id)
        .order_by(WorkOrder.created_at.desc())
        .limit(10)
    )
    return list(rows.unique().all())

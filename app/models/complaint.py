"""Complaints (投诉), handled through seed 001's seven steps until the customer is
satisfied, and the corrective and preventive actions that follow from them."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, CreatedMixin, IdMixin, utcnow


class ComplaintChannel(enum.StrEnum):
    IN_PERSON = "in_person"
    PHONE = "phone"
    FOLLOW_UP_CALL = "follow_up_call"
    ONLINE = "online"
    HOTLINE = "hotline"  # the manufacturer's hotline


class ComplaintSeverity(enum.StrEnum):
    GENERAL = "general"
    ESCALATED = "escalated"  # a repeat on the same issue, a threat of media or legal action
    SERIOUS = "serious"  # safety (brakes, steering, airbags, fire), an accident or injury


class ComplaintStep(enum.StrEnum):
    """Seed 001's seven steps, in order; `closed` once the follow-up found them satisfied."""

    RECEIVE = "receive"
    LISTEN = "listen"  # the customer's words, the 5W2H summary read back
    FACTS = "facts"  # inspection, history, the order's evidence; cause and responsibility
    DECIDE = "decide"  # what, when, who, within whose authority
    EXPLAIN = "explain"  # the decision explained; the customer's agreement
    ACT = "act"  # rework order, refund, goodwill
    FOLLOW_UP = "follow_up"  # a call that finds the customer satisfied closes it
    CLOSED = "closed"


class Responsibility(enum.StrEnum):
    MANUFACTURER = "manufacturer"
    DEALER = "dealer"
    CUSTOMER = "customer"


class ComplaintCause(enum.StrEnum):
    REPAIR_QUALITY = "repair_quality"
    PARTS = "parts"
    PRICE = "price"
    TIME = "time"
    ATTITUDE = "attitude"
    FACILITIES = "facilities"
    PRODUCT = "product"


class Complaint(IdMixin, CreatedMixin, Base):
    __tablename__ = "complaint"

    number: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    vehicle_id: Mapped[int | None] = mapped_column(ForeignKey("vehicle.id"), index=True)
    # The order complained about; more orders through complaint_order.
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_order.id"), index=True)
    # The advisor of that order: advisors see their own customers' complaints.
    advisor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)

    channel: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    severity: Mapped[str] = mapped_column(String(12), default=ComplaintSeverity.GENERAL.value)
    step: Mapped[str] = mapped_column(String(12), default=ComplaintStep.RECEIVE.value, index=True)

    # Listen: the customer's own words, and the summary read back to them (what, when,
    # where, who, why, how, how much).
    words: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    summary_read_back: Mapped[bool] = mapped_column(default=False)
    # Facts and cause.
    facts: Mapped[str] = mapped_column(Text, default="")
    cause: Mapped[str] = mapped_column(String(16), default="")
    responsibility: Mapped[str] = mapped_column(String(16), default="")
    # Decide: what, within whose authority (goodwill and refunds have role limits).
    decision: Mapped[str] = mapped_column(Text, default="")
    decision_amount: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    decided_at: Mapped[datetime | None]
    # Explain and agree.
    explanation: Mapped[str] = mapped_column(Text, default="")
    customer_agreed: Mapped[bool | None]
    # Act: rework / refund / goodwill / explanation only.
    action_kind: Mapped[str] = mapped_column(String(16), default="")
    action: Mapped[str] = mapped_column(Text, default="")
    rework_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_order.id"))
    acted_at: Mapped[datetime | None]

    # Time limits (dealership settings per severity), counted in opening hours; the
    # clock pauses while waiting for the customer or for parts.
    acknowledged_at: Mapped[datetime | None]
    ack_due_at: Mapped[datetime | None]
    close_due_at: Mapped[datetime | None] = mapped_column(index=True)
    paused_since: Mapped[datetime | None]
    paused_reason: Mapped[str] = mapped_column(String(16), default="")
    paused_seconds: Mapped[int] = mapped_column(default=0)
    escalated_at: Mapped[datetime | None]
    manager_alerted_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class ComplaintOrder(IdMixin, Base):
    """A further order the complaint is about (a repeat visit for the same fault)."""

    __tablename__ = "complaint_order"
    __table_args__ = (UniqueConstraint("complaint_id", "work_order_id"),)

    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaint.id", ondelete="CASCADE"), index=True
    )
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_order.id"))


class ComplaintEvent(IdMixin, Base):
    """The complaint's history: each step done, sent back, paused, escalated."""

    __tablename__ = "complaint_event"

    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaint.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    kind: Mapped[str] = mapped_column(String(24))  # step_done, sent_back, paused, escalated …
    step: Mapped[str] = mapped_column(String(12), default="")
    note: Mapped[str] = mapped_column(Text, default="")


class CorrectiveAction(IdMixin, CreatedMixin, Base):
    """A corrective or preventive action (整改措施) with an owner and a due date."""

    __tablename__ = "corrective_action"

    complaint_id: Mapped[int | None] = mapped_column(
        ForeignKey("complaint.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(12))  # corrective / preventive
    description: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    due_on: Mapped[date]
    done_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

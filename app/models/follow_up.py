"""The follow-up call (回访): the task in the queue, each attempt to reach the
customer, and the answers to the standard questions of a call that reached them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, CreatedMixin, IdMixin, utcnow


class FollowUpReason(enum.StrEnum):
    """Why the customer is on the queue (seeds 002, 003)."""

    DELIVERY = "delivery"  # every delivered order, within follow_up_days
    DORMANT = "dormant"  # not seen for 6 months
    REWORK = "rework"  # the car came back for the same fault
    COMPLAINT = "complaint"  # the call that checks a complaint's customer is satisfied


class FollowUpStatus(enum.StrEnum):
    OPEN = "open"  # due (or moved to a new time)
    REACHED = "reached"  # a call reached the customer: done
    UNREACHABLE = "unreachable"  # no answer / wrong number, N times: closed
    DECLINED = "declined"  # the customer declined calls at greeting: never called, counted


class AttemptOutcome(enum.StrEnum):
    REACHED = "reached"
    NOT_CONVENIENT = "not_convenient"  # the task moves to the new time given
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"


class Answer(enum.StrEnum):
    YES = "yes"
    NO = "no"
    NOT_ASKED = "not_asked"


class RecordVerdict(enum.StrEnum):
    """What the order's record says about an answer."""

    SUPPORTS = "supports"  # the record proves what the customer said
    CONTRADICTS = "contradicts"  # a "no" the record disproves
    UNSUPPORTED = "unsupported"  # a "yes" the record cannot support
    NONE = ""  # the record holds nothing on this question


def _due_at_as_made(context: Any) -> datetime:
    return context.get_current_parameters()["due_at"]


class FollowUpTask(IdMixin, CreatedMixin, Base):
    """One call to make: due by `due_at`, retried until reached or closed."""

    __tablename__ = "follow_up_task"
    # One delivery call per order; other reasons may repeat (a second complaint call).
    __table_args__ = (
        Index(
            "uq_follow_up_task_delivery",
            "work_order_id",
            unique=True,
            sqlite_where=text("reason = 'delivery'"),
            postgresql_where=text("reason = 'delivery'"),
        ),
        Index("ix_follow_up_task_status_due_at", "status", "due_at"),
    )

    # The order the call is about (the last visit for a dormant customer).
    work_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_order.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    vehicle_id: Mapped[int | None] = mapped_column(ForeignKey("vehicle.id"), index=True)
    complaint_id: Mapped[int | None] = mapped_column(
        ForeignKey("complaint.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(String(16), default=FollowUpReason.DELIVERY.value)
    due_at: Mapped[datetime] = mapped_column(index=True)
    # The deadline as first set (follow_up_days after delivery): due_at moves when the
    # customer asks for another time or a try fails; the report counts against this.
    deadline_at: Mapped[datetime] = mapped_column(default=_due_at_as_made, index=True)
    phone: Mapped[str] = mapped_column(String(40), default="")
    # Who may be called: the person who used the service, or the registered owner.
    contact_name: Mapped[str] = mapped_column(String(120), default="")
    # The customer's answer at check-in: when to call, and whether at all.
    call_allowed: Mapped[bool] = mapped_column(default=True)
    preferred_when: Mapped[str] = mapped_column(String(16), default="")
    status: Mapped[str] = mapped_column(String(16), default=FollowUpStatus.OPEN.value)
    closed_at: Mapped[datetime | None]
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Optimistic locking: two clerks logging the same call never overwrite silently.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class FollowUpAttempt(IdMixin, CreatedMixin, Base):
    """One try at the call, with its time and outcome; a reached call holds the answers."""

    __tablename__ = "follow_up_attempt"

    task_id: Mapped[int] = mapped_column(
        ForeignKey("follow_up_task.id", ondelete="CASCADE"), index=True
    )
    called_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    called_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    outcome: Mapped[str] = mapped_column(String(16))
    # Not convenient: the time the customer asked to be called again.
    next_call_at: Mapped[datetime | None]
    # Reached: who answered ("user" who used the service, or "owner"), and the verdict.
    spoke_with: Mapped[str] = mapped_column(String(8), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    # Overall satisfaction on the dealership's scale (follow_up_scale: 5 or 10).
    satisfaction: Mapped[int | None]
    scale: Mapped[int | None]
    # A complaint's check call: did the customer say they are satisfied?
    satisfied: Mapped[bool | None]
    # The complaint this call opened (a "no" or a complaint during the call).
    complaint_id: Mapped[int | None] = mapped_column(
        ForeignKey("complaint.id", ondelete="SET NULL"), index=True
    )


class FollowUpAnswer(IdMixin, Base):
    """One standard question's answer, beside what the order's record said at the call."""

    __tablename__ = "follow_up_answer"
    __table_args__ = (UniqueConstraint("attempt_id", "question"),)

    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("follow_up_attempt.id", ondelete="CASCADE"), index=True
    )
    question: Mapped[str] = mapped_column(String(32))
    answer: Mapped[str] = mapped_column(String(12))
    remark: Mapped[str] = mapped_column(Text, default="")
    # A snapshot of the evidence as shown to the clerk ("covers photographed 09:02").
    record_note: Mapped[str] = mapped_column(Text, default="")
    record_verdict: Mapped[str] = mapped_column(String(12), default="")

"""Once a work order is signed, what the customer signed cannot change.

A `before_flush` hook refuses any insert, update or delete of signed content
(the estimate's jobs and lines, the check-in record and its photos, and the
signed fields of the order) with a 409 that explains why. Added work is the
exception while its supplement is still a draft: it is not signed yet.
Services check first and give a more specific message; this is the net
under every code path that goes through the ORM.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, UOWTransaction

from app.errors import Conflict
from app.i18n import _
from app.models import (
    Belonging,
    CheckIn,
    Concern,
    CoverInstall,
    DamageMark,
    Delivery,
    Inspection,
    Job,
    JobLine,
    NewDamage,
    Photo,
    PhotoStage,
    Supplement,
    SupplementStatus,
    WorkOrder,
)

SIGNED_ORDER_FIELDS = (
    "number", "customer_id", "vehicle_id", "discount_amount", "discount_reason",
    "promised_at", "consent_road_test", "consent_keep_old_parts", "consent_follow_up",
)  # fmt: skip
CHECK_IN_STAGE = PhotoStage.CHECK_IN.value
DELIVERY_STAGE = PhotoStage.DELIVERY.value  # a Photo not yet flushed has no stage: the default
CHECK_IN_RECORD = (Belonging, Concern, CoverInstall, DamageMark, Photo)
CHECK_IN_FIELDS = (
    "odometer_km", "fuel_eighths", "warning_lights", "exterior_accessories_ok", "glass_ok",
    "onboard_tools_present", "spare_tyre_present", "warning_triangle_present",
    "valuables_advised", "road_test_consent", "covers_skip_reason", "arrived_at",
)  # fmt: skip


class SignedRecordLocked(Conflict):
    pass


def _refuse() -> SignedRecordLocked:
    return SignedRecordLocked(
        _(
            "This work order has been signed by the customer and cannot change. "
            "Added work goes on a supplement the customer approves."
        )
    )


def _old(obj: Any, attr: str) -> Any:
    """The value as loaded from the database (before this flush's change)."""
    history = inspect(obj).attrs[attr].history
    if history.deleted:
        return history.deleted[0]
    if history.unchanged:
        return history.unchanged[0]
    return getattr(obj, attr)


def _changed(obj: Any, attrs: tuple[str, ...]) -> bool:
    state = inspect(obj)
    return any(state.attrs[a].history.has_changes() for a in attrs)


class _Lookup:
    def __init__(self, session: Session) -> None:
        self.session = session

    def order_signed(self, order_id: int | None) -> bool:
        if order_id is None:
            return False
        signed = self.session.execute(
            select(WorkOrder.signed_at).where(WorkOrder.id == order_id)
        ).scalar()
        return signed is not None

    def check_in_signed(self, check_in_id: int | None) -> bool:
        if check_in_id is None:
            return False
        order_id = self.session.execute(
            select(CheckIn.work_order_id).where(CheckIn.id == check_in_id)
        ).scalar()
        return self.order_signed(order_id)

    def job_locked(self, job_id: int | None, supplement_id: Any = ...) -> bool:
        if job_id is None and supplement_id is ...:
            return False
        if supplement_id is ...:
            row = self.session.execute(
                select(Job.work_order_id, Job.supplement_id).where(Job.id == job_id)
            ).first()
            if row is None:
                return False
            order_id, supplement_id = row
        else:
            order_id = None
        if supplement_id is not None:
            status = self.session.execute(
                select(Supplement.status).where(Supplement.id == supplement_id)
            ).scalar()
            return status not in (None, SupplementStatus.DRAFT.value)
        return self.order_signed(order_id)


def _locked_change(  # noqa: PLR0911  (one answer per kind of record)
    session: Session, lookup: _Lookup, obj: Any, deleted: bool
) -> bool:
    """Whether changing or deleting this loaded object touches signed content."""
    if isinstance(obj, WorkOrder):
        # The database says whether it was signed before this flush (the
        # loaded value may be expired or already replaced in memory).
        return (deleted or _changed(obj, (*SIGNED_ORDER_FIELDS, "signed_at"))) and (
            lookup.order_signed(obj.id)
        )
    if not (deleted or session.is_modified(obj, include_collections=False)):
        return False
    if isinstance(obj, Job):
        supplement = _old(obj, "supplement_id")
        if supplement:
            return lookup.job_locked(None, supplement)
        return lookup.order_signed(_old(obj, "work_order_id"))
    if isinstance(obj, JobLine):
        return lookup.job_locked(_old(obj, "job_id"))
    if isinstance(obj, CheckIn):
        return (deleted or _changed(obj, CHECK_IN_FIELDS)) and lookup.order_signed(
            _old(obj, "work_order_id")
        )
    if isinstance(obj, Photo) and (_old(obj, "stage") or CHECK_IN_STAGE) != CHECK_IN_STAGE:
        return False  # workshop and delivery photos are not part of the signed record
    if isinstance(obj, CHECK_IN_RECORD):
        return lookup.check_in_signed(_old(obj, "check_in_id"))
    return False


def _locked_insert(lookup: _Lookup, obj: Any) -> bool:
    if isinstance(obj, Job):
        if obj.supplement_id:
            return lookup.job_locked(None, obj.supplement_id)
        return lookup.order_signed(obj.work_order_id)
    if isinstance(obj, JobLine):
        return obj.job_id is not None and lookup.job_locked(obj.job_id)
    if isinstance(obj, Photo) and (obj.stage or CHECK_IN_STAGE) != CHECK_IN_STAGE:
        return False
    if isinstance(obj, CHECK_IN_RECORD):
        return lookup.check_in_signed(obj.check_in_id)
    return False


def _delivery_signed(session: Session, order_id: int | None) -> bool:
    return (
        order_id is not None
        and session.execute(
            select(Delivery.signature_id).where(Delivery.work_order_id == order_id)
        ).scalar()
        is not None
    )


def _after_delivery(session: Session, obj: Any, new: bool) -> bool:
    """The final QC report never changes; the delivery record not once signed."""
    if isinstance(obj, Inspection):
        return not new
    if isinstance(obj, Delivery):
        return not new and _old(obj, "signature_id") is not None
    if isinstance(obj, NewDamage):
        return _delivery_signed(session, obj.work_order_id if new else _old(obj, "work_order_id"))
    if isinstance(obj, Photo) and (obj.stage if new else _old(obj, "stage")) == DELIVERY_STAGE:
        order_id = session.execute(
            select(CheckIn.work_order_id).where(CheckIn.id == obj.check_in_id)
        ).scalar()
        return _delivery_signed(session, order_id)
    return False


def refuse_changes_to_signed(session: Session, _ctx: UOWTransaction, _instances: Any) -> None:
    lookup = _Lookup(session)
    with session.no_autoflush:
        for obj in session.dirty:
            if _locked_change(session, lookup, obj, deleted=False):
                raise _refuse()
        for obj in session.deleted:
            if _locked_change(session, lookup, obj, deleted=True):
                raise _refuse()
        for obj in session.new:
            if _locked_insert(lookup, obj):
                raise _refuse()
        dirty = [o for o in session.dirty if session.is_modified(o, include_collections=False)]
        for obj, new in [*((o, False) for o in dirty), *((o, False) for o in session.deleted),
                         *((o, True) for o in session.new)]:  # fmt: skip
            if _after_delivery(session, obj, new):
                raise SignedRecordLocked(
                    _("This car has been delivered; the delivery record cannot change.")
                    if not isinstance(obj, Inspection)
                    else _("A final inspection is on record and cannot change.")
                )


def install() -> None:
    """Hook every ORM session's flush (installed by the app factory, `app.wiring`)."""
    if not event.contains(Session, "before_flush", refuse_changes_to_signed):
        event.listen(Session, "before_flush", refuse_changes_to_signed)

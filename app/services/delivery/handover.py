"""Delivery (交车) against the check-in record.

The advisor and the customer walk the car: each walkaround position's
check-in photo beside its delivery photo; damage the check-in record does not
show is photographed and escalated to the service manager, not argued. The
bill must equal the signed estimate plus the approved supplements; any
difference blocks delivery until the customer approves it. The customer signs
the delivery acceptance (hashed and verifiable like the work order), the order
becomes delivered and the follow-up call is scheduled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.i18n import _
from app.models import (
    CheckIn,
    DamageMark,
    Delivery,
    FollowUpTask,
    Inspection,
    JobLine,
    NewDamage,
    Photo,
    PhotoPosition,
    PhotoStage,
    Role,
    StaffRole,
    StaffUser,
    WorkOrder,
    WorkOrderStatus,
)
from app.services import audit, board_events
from app.services.audit import Actor
from app.services.check_in import view as check_in_view
from app.services.delivery import bill as bills
from app.services.final_check import inspection as final_check
from app.services.photos import receive as photos
from app.services.records import get_or_404
from app.services.supplements import findings

DELIVERY_ROLES = (Role.ADVISOR.value, Role.SERVICE_MANAGER.value)
# The outside of the car: each must be photographed again at delivery.
EXTERIOR = (
    PhotoPosition.FRONT, PhotoPosition.FRONT_RIGHT, PhotoPosition.RIGHT,
    PhotoPosition.REAR_RIGHT, PhotoPosition.REAR, PhotoPosition.REAR_LEFT,
    PhotoPosition.LEFT, PhotoPosition.FRONT_LEFT, PhotoPosition.INTERIOR,
    PhotoPosition.DASHBOARD, PhotoPosition.BOOT,
)  # fmt: skip
MAX_ADVICE = 2000


@dataclass
class Comparison:
    position: str
    check_in: Photo
    delivery: Photo | None


@dataclass
class State:
    order: WorkOrder
    check_in: CheckIn
    delivery: Delivery | None
    comparisons: list[Comparison]
    # The damage recorded at check-in, each mark with the photos taken from it.
    check_in_marks: list[tuple[DamageMark, list[Photo]]]
    new_damage: list[tuple[NewDamage, list[Photo]]]
    bill: bills.Bill
    replaced_parts: list[JobLine]
    inspection: Inspection | None  # the passed final check
    follow_up: FollowUpTask | None
    problems: list[str] = field(default_factory=list)  # what still blocks the signature

    @property
    def signed(self) -> bool:
        return self.delivery is not None and self.delivery.signature_id is not None


async def _order(session: AsyncSession, order_id: int) -> tuple[WorkOrder, CheckIn]:
    order = await get_or_404(session, WorkOrder, order_id, _("That work order does not exist."))
    check_in = await session.scalar(select(CheckIn).where(CheckIn.work_order_id == order.id))
    if check_in is None:
        raise NotFound(_("This work order has no check-in record."))
    return order, check_in


async def get_delivery(session: AsyncSession, order_id: int) -> Delivery | None:
    return await session.scalar(select(Delivery).where(Delivery.work_order_id == order_id))


async def state(session: AsyncSession, order_id: int) -> State:
    order, check_in = await _order(session, order_id)
    before = await photos.newest_by_position(session, check_in.id, PhotoStage.CHECK_IN)
    after = await photos.newest_by_position(session, check_in.id, PhotoStage.DELIVERY)
    comparisons = [
        Comparison(position.value, before[position.value], after.get(position.value))
        for position in EXTERIOR
        if position.value in before
    ]
    damage = (
        await session.scalars(
            select(NewDamage).where(NewDamage.work_order_id == order.id).order_by(NewDamage.id)
        )
    ).all()
    damage_photos = (
        await session.scalars(
            select(Photo).where(Photo.new_damage_id.in_([d.id for d in damage])).order_by(Photo.id)
        )
    ).all()
    mark_photos = (
        await session.scalars(
            select(Photo)
            .where(Photo.check_in_id == check_in.id, Photo.damage_mark_id.is_not(None))
            .where(Photo.stage == PhotoStage.CHECK_IN.value)
            .order_by(Photo.id)
        )
    ).all()
    st = State(
        order=order,
        check_in=check_in,
        delivery=await get_delivery(session, order.id),
        comparisons=comparisons,
        check_in_marks=[
            (m, [p for p in mark_photos if p.damage_mark_id == m.id]) for m in check_in.damage_marks
        ],
        new_damage=[(d, [p for p in damage_photos if p.new_damage_id == d.id]) for d in damage],
        bill=await bills.bill(session, order),
        replaced_parts=await bills.replaced_parts(session, order),
        inspection=await final_check.last_passed(session, order.id),
        follow_up=await session.scalar(
            select(FollowUpTask).where(FollowUpTask.work_order_id == order.id)
        ),
    )
    st.problems = _problems(st)
    return st


def _problems(st: State) -> list[str]:
    """What still stands between the car and the customer's signature."""
    found = []
    if st.order.status != WorkOrderStatus.READY or st.inspection is None:
        found.append(_("The car has not passed the final check."))
    for finding in st.bill.unapproved:
        found.append(
            _("%(finding)s has no answer yet: the customer approves or declines it, "
              "or the advisor withdraws it with a reason.", finding=findings.label(finding))
        )  # fmt: skip
    if st.bill.signed_total != st.bill.current_total:
        found.append(
            _("The bill (%(now)s) differs from what the customer signed (%(signed)s). "
              "It must be approved by the customer first.",
              now=st.bill.current_total, signed=st.bill.signed_total)
        )  # fmt: skip
    missing = [c.position for c in st.comparisons if c.delivery is None]
    if missing:
        names = check_in_view.labels()["positions"]
        found.append(
            _("Take the delivery photo of: %(positions)s.",
              positions=_(", ").join(names.get(PhotoPosition(p), p) for p in missing))
        )  # fmt: skip
    delivery = st.delivery
    if (
        st.order.consent_keep_old_parts
        and st.replaced_parts
        and not (delivery and delivery.old_parts_shown)
    ):
        found.append(_("Show the customer the replaced parts."))
    if delivery is None or delivery.next_service_on is None or not delivery.next_service_km:
        found.append(_("Record the next service date and mileage."))
    return found


def _ensure_open(st: State, actor: Actor) -> Delivery:
    if not actor.has_role(*DELIVERY_ROLES):
        raise Forbidden(_("The service advisor delivers the car."))
    if st.signed or st.order.status == WorkOrderStatus.DELIVERED:
        raise Conflict(_("This car has been delivered; the delivery record cannot change."))
    if st.order.status != WorkOrderStatus.READY:
        raise Conflict(_("The car has not passed the final check."))
    if st.delivery is None:
        raise Conflict(_("Start the delivery first."))
    return st.delivery


async def begin(session: AsyncSession, order_id: int, actor: Actor) -> Delivery:
    st = await state(session, order_id)
    if not actor.has_role(*DELIVERY_ROLES):
        raise Forbidden(_("The service advisor delivers the car."))
    if st.delivery is not None:
        return st.delivery
    if st.order.status != WorkOrderStatus.READY or st.inspection is None:
        raise Conflict(_("The car has not passed the final check."))
    delivery = Delivery(work_order_id=st.order.id, advisor_id=actor.user_id)
    session.add(delivery)
    await session.flush()
    audit.record(session, actor, "delivery.started", "work_order", st.order.id)
    return delivery


async def photo_target(
    session: AsyncSession, order_id: int, actor: Actor
) -> tuple[CheckIn, photos.Target]:
    """Where a delivery photo goes; refused once the delivery is signed."""
    st = await state(session, order_id)
    _ensure_open(st, actor)
    return st.check_in, photos.Target(
        stage=PhotoStage.DELIVERY, new_damage_ids=frozenset(d.id for d, _p in st.new_damage)
    )


async def _manager(session: AsyncSession) -> StaffUser | None:
    return await session.scalar(
        select(StaffUser)
        .join(StaffRole, StaffRole.user_id == StaffUser.id)
        .where(StaffRole.role == Role.SERVICE_MANAGER, StaffUser.is_active.is_(True))
        .order_by(StaffUser.id)
        .limit(1)
    )


async def record_new_damage(
    session: AsyncSession, order_id: int, position: str | None, note: str | None, actor: Actor
) -> NewDamage:
    st = await state(session, order_id)
    _ensure_open(st, actor)
    if position not in set(PhotoPosition):
        raise InvalidInput(_("Choose where on the car."), field="position")
    text = " ".join((note or "").split())
    if not text:
        raise InvalidInput(_("Describe the damage."), field="note")
    manager = await _manager(session)
    damage = NewDamage(
        work_order_id=st.order.id,
        position=position,
        note=text[:1000],
        recorded_by_id=actor.user_id,
        escalated_to_id=manager.id if manager else None,
    )
    session.add(damage)
    await session.flush()
    audit.record(
        session, actor, "delivery.new_damage_escalated", "work_order", st.order.id,
        damage=damage.id, position=position, to=damage.escalated_to_id,
    )  # fmt: skip
    board_events.changed(session)
    return damage


def _next_service_on(raw: str | None, today: date) -> date:
    try:
        when = date.fromisoformat((raw or "").strip())
    except ValueError:
        raise InvalidInput(_("Enter the next service date."), field="next_service_on") from None
    if when <= today:
        raise InvalidInput(_("The next service date must be in the future."),
                           field="next_service_on")  # fmt: skip
    return when


async def set_details(
    session: AsyncSession,
    order_id: int,
    *,
    advice: str | None,
    next_service_on: str | None,
    next_service_km: str | None,
    old_parts_shown: bool,
    actor: Actor,
    today: date,
) -> Delivery:
    """Maintenance advice, the next service date and mileage, the old parts shown."""
    st = await state(session, order_id)
    delivery = _ensure_open(st, actor)
    when = _next_service_on(next_service_on, today)
    try:
        km = int((next_service_km or "").strip())
    except ValueError:
        raise InvalidInput(_("Enter the next service mileage in km."),
                           field="next_service_km") from None  # fmt: skip
    now_km = (st.inspection.odometer_km if st.inspection else None) or st.check_in.odometer_km or 0
    if km <= now_km:
        raise InvalidInput(
            _("The next service mileage must be above today's %(km)s km.", km=now_km),
            field="next_service_km",
        )
    delivery.advice = " ".join((advice or "").split())[:MAX_ADVICE]
    delivery.next_service_on = when
    delivery.next_service_km = km
    delivery.old_parts_shown = old_parts_shown
    audit.record(
        session, actor, "delivery.details", "work_order", st.order.id,
        next_service_on=when.isoformat(), next_service_km=km, old_parts_shown=old_parts_shown,
    )  # fmt: skip
    return delivery


def ensure_can_sign(st: State, actor: Actor) -> Delivery:
    delivery = _ensure_open(st, actor)
    if st.problems:
        raise InvalidInput(" ".join(st.problems), field="delivery")
    return delivery


async def hand_over(session: AsyncSession, order_id: int, actor: Actor) -> State:
    """The advisor hands the tablet to the customer to sign the acceptance: only once
    nothing blocks the signature, as the signature itself re-checks."""
    st = await state(session, order_id)
    ensure_can_sign(st, actor)
    audit.record(session, actor, "customer_mode.enter", "work_order", st.order.id, step="delivery")
    return st


def next_step(st: State) -> str:
    """The section the advisor's page opens at: the first one with something missing (the
    photos, then the bill, then the details), else the hand-over."""
    if any(c.delivery is None for c in st.comparisons):
        return "compare"
    if not st.bill.matches:
        return "bill"
    d = st.delivery
    if (
        d is None
        or d.next_service_on is None
        or not d.next_service_km
        or (st.order.consent_keep_old_parts and st.replaced_parts and not d.old_parts_shown)
    ):
        return "details"
    return "hand-over"

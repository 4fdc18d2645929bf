"""Menu packages (保养菜单): which are due at the car's mileage, and adding one as a job."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.i18n import _
from app.models import CheckIn, Job, JobSource, LabourOperation, MenuPackage, WorkOrder
from app.services import audit
from app.services.audit import Actor
from app.services.estimate.editing import new_line
from app.services.estimate.guards import ensure_estimating, touch
from app.services.records import get_or_404

# How close to (or past) a package's interval the odometer must be to suggest it.
MENU_WINDOW_KM = 1500


def due_packages(packages: list[MenuPackage], odometer_km: int | None) -> list[MenuPackage]:
    """Menu packages whose mileage interval the car has reached, largest first:
    a 40 000 km service includes what the 10 000 km one does."""
    if not odometer_km:
        return []
    due = []
    for package in packages:
        interval = package.interval_km
        if interval <= 0:
            continue
        past = odometer_km % interval
        if odometer_km >= interval - MENU_WINDOW_KM and (
            past <= MENU_WINDOW_KM or interval - past <= MENU_WINDOW_KM
        ):
            due.append(package)
    return sorted(due, key=lambda p: p.interval_km, reverse=True)


async def menu_suggestions(session: AsyncSession, order: WorkOrder) -> list[MenuPackage]:
    odometer = await session.scalar(
        select(CheckIn.odometer_km).where(CheckIn.work_order_id == order.id)
    )
    packages = list((await session.scalars(select(MenuPackage))).all())
    taken = set(
        (
            await session.scalars(
                select(Job.menu_package_id).where(
                    Job.work_order_id == order.id, Job.menu_package_id.is_not(None)
                )
            )
        ).all()
    )
    # A bigger service includes the smaller ones: once one is on the order, none smaller.
    biggest = max((p.interval_km for p in packages if p.id in taken), default=0)
    return [p for p in due_packages(packages, odometer) if p.interval_km > biggest]


def fill_from_package(job: Job, package: MenuPackage, today: date) -> None:
    """The package's items as the job's lines, at today's catalogue prices: labour in
    flat-rate hours × the item's quantity, parts by count. The estimate's "add menu" and a
    booking's pre-filled order (appointments/prefill) both price a package here."""
    for item in package.items:
        catalogue = item.labour_operation or item.part
        if catalogue is None:
            continue
        quantity = (
            catalogue.flat_rate_hours * item.quantity
            if isinstance(catalogue, LabourOperation)
            else item.quantity
        )
        job.lines.append(new_line(job, catalogue, quantity, today))


async def add_menu_package(
    session: AsyncSession,
    order: WorkOrder,
    package_id: int,
    locale: str,
    version: int | None,
    actor: Actor,
    today: date,
) -> Job:
    ensure_estimating(order, version)
    package = await get_or_404(
        session, MenuPackage, package_id, _("That menu package no longer exists.")
    )
    job = Job(
        work_order_id=order.id,
        menu_package_id=package.id,
        source=JobSource.MENU.value,
        title=package.name_zh if locale.startswith("zh") else package.name_en,
        lines=[],
    )
    session.add(job)
    await session.flush()
    fill_from_package(job, package, today)
    touch(order)
    audit.record(session, actor, "estimate.add_menu", "work_order", order.id, package=package.code)
    return job

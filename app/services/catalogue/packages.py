"""What a menu package (保养菜单) holds: labour operations and parts with their
quantities, priced at today's catalogue prices."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.i18n import _
from app.models import LabourOperation, MenuPackage, MenuPackageItem, Part
from app.services import audit
from app.services.audit import Actor
from app.services.catalogue.items import (
    CENT,
    LABOUR,
    PACKAGES,
    PARTS,
    Parser,
    by_key,
    get,
    jsonable,
    parse_decimal,
)
from app.services.catalogue.items import _plain as plain  # the one normalisation of a code

ITEM_KINDS = ("labour", "part")


async def add_package_item(
    session: AsyncSession,
    package_id: int,
    item_kind: str,
    code: str,
    quantity: str,
    actor: Actor,
) -> MenuPackage:
    """Add a labour operation or a part to a package; one already there gets the new quantity."""
    package = await get(session, PACKAGES, package_id)
    key = plain(code)
    target: LabourOperation | Part | None
    if item_kind == "part":
        target = await by_key(session, PARTS, key) if key else None
        missing = _("No part with the number “%(code)s”.", code=key)
    elif item_kind == "labour":
        target = await by_key(session, LABOUR, key) if key else None
        missing = _("No labour operation with the code “%(code)s”.", code=key)
    else:
        raise InvalidInput(_("Choose labour or part."), field="item_kind")
    if not key:
        raise InvalidInput(_("Enter a code or part number."), field="item_code")
    if target is None:
        raise InvalidInput(missing, field="item_code")
    more_than_0 = _("The quantity must be more than 0.")
    qty = _field(
        "item_quantity",
        parse_decimal(more_than_0, positive=True, maximum=Decimal("999999")),
        quantity,
    )
    existing = next(
        (
            i
            for i in package.items
            if (i.labour_operation_id if item_kind == "labour" else i.part_id) == target.id
        ),
        None,
    )
    if existing is not None:
        old = existing.quantity
        existing.quantity = qty
        action, details = "menu_item_changed", {"from": jsonable(old)}
    else:
        new = MenuPackageItem(quantity=qty)
        if isinstance(target, Part):
            new.part = target
        else:
            new.labour_operation = target
        package.items.append(new)
        action, details = "menu_item_added", {}
    await session.flush()
    audit.record(
        session, actor, action, "menu_package", package.id,
        kind=item_kind, code=key, quantity=jsonable(qty), **details,
    )  # fmt: skip
    return package


async def remove_package_item(
    session: AsyncSession, package_id: int, item_id: int, actor: Actor
) -> MenuPackage:
    package = await get(session, PACKAGES, package_id)
    item = next((i for i in package.items if i.id == item_id), None)
    if item is None:  # removed on another tablet already: the result is what was wanted
        return package
    code = item_code(item)
    package.items.remove(item)
    await session.flush()
    audit.record(session, actor, "menu_item_removed", "menu_package", package.id, code=code)
    return package


def _field(name: str, parse: Parser, raw: str) -> Any:
    try:
        return parse(raw)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, field=name) from exc


def item_code(item: MenuPackageItem) -> str:
    if item.labour_operation is not None:
        return item.labour_operation.code
    return item.part.number if item.part is not None else ""


def item_price(item: MenuPackageItem) -> Decimal:
    if item.labour_operation is not None:
        op = item.labour_operation
        return (op.flat_rate_hours * op.labour_rate * item.quantity).quantize(CENT)
    if item.part is not None:
        return (item.part.price * item.quantity).quantize(CENT)
    return Decimal("0.00")


def package_price(package: MenuPackage) -> Decimal:
    """The menu price at today's catalogue prices: labour hours × rate plus parts."""
    return sum((item_price(i) for i in package.items), Decimal("0.00"))

"""The catalogue: labour operations, parts and menu packages (保养菜单).

Input arrives as the strings a form or a CSV cell holds; `validate` turns them
into values or a message per field, so the edit pages and the CSV import refuse
the same things with the same words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, InvalidInput, NotFound
from app.i18n import _
from app.models import LabourOperation, MenuPackage, MenuPackageItem, Part
from app.services import audit
from app.services.audit import Actor
from app.text import clean_text, search_text

LIST_LIMIT = 200
CENT = Decimal("0.01")
Parser = Callable[[str], Any]
M = TypeVar("M", LabourOperation, Part, MenuPackage)


class InvalidFields(InvalidInput):
    """Several fields refused at once; `errors` maps each field to its message, in form order.

    The first one is the exception's own message and field, so the one error
    mapping shows it like any other InvalidInput."""

    def __init__(self, errors: dict[str, str]) -> None:
        first, message = next(iter(errors.items()))
        super().__init__(message, field=first)
        self.errors = errors


# -- parsing one value ------------------------------------------------------------------------

_NUMBER = re.compile(r"^-?(\d+\.?\d*|\.\d+)$")
_GROUPED = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")  # 1,234.50 as spreadsheets format it


def _plain(raw: str) -> str:
    # Chinese input methods type full-width digits and letters (１２３, ＡＢＣ).
    return unicodedata.normalize("NFKC", raw or "").strip()


def parse_code(required: str, max_len: int) -> Parser:
    def parse(raw: str) -> str:
        value = _plain(raw)
        if not value:
            raise InvalidInput(required)
        if len(value) > max_len:
            raise InvalidInput(_("At most %(n)s characters.", n=max_len))
        if any(unicodedata.category(c).startswith("C") for c in value):
            raise InvalidInput(_("Use letters, digits and signs only."))
        return value

    return parse


def parse_name(required: str) -> Parser:
    def parse(raw: str) -> str:
        value = " ".join(clean_text(raw or "", "name", multiline=True).split())
        if not value:
            raise InvalidInput(required)
        if len(value) > 200:
            raise InvalidInput(_("At most %(n)s characters.", n=200))
        return value

    return parse


def parse_decimal(below: str, *, positive: bool, maximum: Decimal) -> Parser:
    """A number with at most two decimals; `below` is the message for a value too small."""

    def parse(raw: str) -> Decimal:
        text = _plain(raw).lstrip("¥").strip()
        if _GROUPED.match(text):
            text = text.replace(",", "")
        if not text:
            raise InvalidInput(_("Enter a number, e.g. 45.50."))
        if not _NUMBER.match(text):
            raise InvalidInput(_("“%(value)s” is not a number; write it like 45.50.", value=text))
        try:
            value = Decimal(text)
        except InvalidOperation as exc:  # pragma: no cover - the pattern admits only numbers
            raise InvalidInput(_("Enter a number, e.g. 45.50.")) from exc
        if value < 0 or (positive and value == 0):
            raise InvalidInput(below)
        # The maximum first: quantizing 10^30 to cents exceeds Decimal's precision.
        if value > maximum:
            raise InvalidInput(_("At most %(max)s.", max=maximum))
        if value != value.quantize(CENT):
            raise InvalidInput(_("Use at most 2 decimal places."))
        return value.quantize(CENT)

    return parse


def parse_whole(below: str, *, positive: bool, maximum: int) -> Parser:
    def parse(raw: str) -> int:
        text = _plain(raw).replace(",", "")
        if not re.fullmatch(r"-?\d+", text):
            raise InvalidInput(_("Enter a whole number, e.g. 12."))
        value = int(text)
        if value < 0 or (positive and value == 0):
            raise InvalidInput(below)
        if value > maximum:
            raise InvalidInput(_("At most %(max)s.", max=maximum))
        return value

    return parse


# -- what each kind holds ---------------------------------------------------------------------


@dataclass(frozen=True)
class Kind(Generic[M]):
    name: str  # labour | parts | packages, as in the URLs
    model: type[M]
    key: str  # the unique code's attribute
    entity: str  # the audit log's entity type
    fields: Callable[[], dict[str, Parser]]  # built per call: messages in the current language
    optional: frozenset[str] = field(default_factory=frozenset)

    @property
    def key_column(self) -> ColumnElement[str]:
        column: ColumnElement[str] = getattr(self.model, self.key)
        return column


def _labour_fields() -> dict[str, Parser]:
    return {
        "code": parse_code(_("Enter the labour operation's code."), 32),
        "name_zh": parse_name(_("Enter the name in Chinese.")),
        "name_en": parse_name(_("Enter the name in English.")),
        "flat_rate_hours": parse_decimal(
            _("Flat-rate hours must be more than 0."), positive=True, maximum=Decimal("9999.99")
        ),
        "labour_rate": parse_decimal(
            _("The labour rate cannot be negative."), positive=False, maximum=Decimal("99999999")
        ),
    }


def _part_fields() -> dict[str, Parser]:
    return {
        "number": parse_code(_("Enter the part number."), 40),
        "name_zh": parse_name(_("Enter the name in Chinese.")),
        "name_en": parse_name(_("Enter the name in English.")),
        "price": parse_decimal(
            _("The price cannot be negative."), positive=False, maximum=Decimal("99999999")
        ),
        "stock_on_hand": parse_whole(
            _("Stock on hand cannot be negative."), positive=False, maximum=1_000_000_000
        ),
        "lead_time_days": parse_whole(
            _("The lead time cannot be negative."), positive=False, maximum=365
        ),
    }


def _package_fields() -> dict[str, Parser]:
    return {
        "code": parse_code(_("Enter the package's code."), 32),
        "name_zh": parse_name(_("Enter the name in Chinese.")),
        "name_en": parse_name(_("Enter the name in English.")),
        "interval_km": parse_whole(
            _("The interval in km must be more than 0."), positive=True, maximum=1_000_000
        ),
        "interval_months": parse_whole(
            _("The interval in months must be more than 0."), positive=True, maximum=240
        ),
    }


LABOUR = Kind("labour", LabourOperation, "code", "labour_operation", _labour_fields)
PARTS = Kind(
    "parts", Part, "number", "part", _part_fields, frozenset({"stock_on_hand", "lead_time_days"})
)
PACKAGES = Kind("packages", MenuPackage, "code", "menu_package", _package_fields)
KINDS: dict[str, Kind[Any]] = {k.name: k for k in (LABOUR, PARTS, PACKAGES)}


def kind_named(name: str) -> Kind[Any]:
    if name not in KINDS:
        raise NotFound(_("This page does not exist."))
    return KINDS[name]


def validate(kind: Kind[Any], raw: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Values and errors (field → message). Optional fields absent from `raw` are left out."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, parse in kind.fields().items():
        if name in kind.optional and not (raw.get(name) or "").strip():
            continue
        try:
            values[name] = parse(raw.get(name) or "")
        except InvalidInput as exc:
            errors[name] = exc.message
    return values, errors


def jsonable(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def apply_values(item: Any, values: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Set the values; return what changed as field → [old, new] for the audit log."""
    changes = {}
    for name, value in values.items():
        old = getattr(item, name)
        if old != value:
            changes[name] = [jsonable(old), jsonable(value)]
            setattr(item, name, value)
    return changes


# -- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Listing(Generic[M]):
    items: list[M]
    total: int  # matches in all; `items` holds at most LIST_LIMIT


def _matches(kind: Kind[Any], q: str) -> ColumnElement[bool]:
    like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    model = kind.model
    return or_(
        kind.key_column.ilike(like, escape="\\"),
        model.name_zh.ilike(like, escape="\\"),
        model.name_en.ilike(like, escape="\\"),
    )


async def search(session: AsyncSession, kind: Kind[M], q: str = "") -> Listing[M]:
    q = _plain(search_text(q))
    where = [_matches(kind, q)] if q else []
    total = await session.scalar(select(func.count()).select_from(kind.model).where(*where))
    stmt = select(kind.model).where(*where).order_by(kind.key_column).limit(LIST_LIMIT)
    return Listing(list((await session.scalars(stmt)).all()), total or 0)


async def get(session: AsyncSession, kind: Kind[M], item_id: int) -> M:
    item = await session.get(kind.model, item_id)
    if item is None:
        raise NotFound(_("This catalogue entry does not exist (any more)."))
    return item


async def by_key(session: AsyncSession, kind: Kind[M], key: str) -> M | None:
    stmt = select(kind.model).where(kind.key_column == key)
    return (await session.scalars(stmt)).one_or_none()


# -- changing ---------------------------------------------------------------------------------


async def _checked(
    session: AsyncSession, kind: Kind[Any], raw: Mapping[str, str], item_id: int | None
) -> dict[str, Any]:
    values, errors = validate(kind, raw)
    if not errors:
        other = await by_key(session, kind, values[kind.key])
        if other is not None and other.id != item_id:
            errors[kind.key] = _(
                "%(code)s is already used by “%(name)s”.", code=values[kind.key], name=other.name_zh
            )
    if errors:
        raise InvalidFields(errors)
    return values


async def flush_or_conflict(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:  # another tablet saved the same code a moment earlier
        raise Conflict(_("Someone else just saved this code. Reload and check.")) from exc


async def create(session: AsyncSession, kind: Kind[M], raw: Mapping[str, str], actor: Actor) -> M:
    values = await _checked(session, kind, raw, None)
    item = kind.model(**values)
    if isinstance(item, MenuPackage):
        item.items = []  # loaded (empty), so adding to it later needs no lazy load
    session.add(item)
    await flush_or_conflict(session)
    details = {k: jsonable(v) for k, v in values.items()}
    audit.record(session, actor, "catalogue_created", kind.entity, item.id, **details)
    return item


async def update(
    session: AsyncSession, kind: Kind[M], item_id: int, raw: Mapping[str, str], actor: Actor
) -> M:
    item = await get(session, kind, item_id)
    values = await _checked(session, kind, raw, item_id)
    changes = apply_values(item, values)
    if changes:
        await flush_or_conflict(session)
        audit.record(
            session,
            actor,
            "catalogue_updated",
            kind.entity,
            item.id,
            code=getattr(item, kind.key),
            changes=changes,
        )
    return item


# -- menu package items -----------------------------------------------------------------------

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
    key = _plain(code)
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

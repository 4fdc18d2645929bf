"""CSV import into the catalogue: the checked rows looked up and written.

`csv_file.parse_csv` checks every row without the database; `resolve` looks the
codes up (new or update, unknown package or item); `apply_import` writes either
all rows or only the good ones, in one audited change.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.i18n import _, ngettext
from app.models import LabourOperation, MenuPackageItem, Part
from app.services import audit
from app.services.audit import Actor
from app.services.catalogue import items as cat
from app.services.catalogue.csv_file import ImportReport, ImportRow, RowError

CHUNK = 500  # codes per IN (...) query, well under every driver's parameter limit
Mode = Literal["all_or_nothing", "good_rows_only"]
MODES: tuple[Mode, ...] = ("all_or_nothing", "good_rows_only")


@dataclass(frozen=True)
class ImportResult:
    kind: str
    created: int
    updated: int
    unchanged: int
    skipped: int


async def _by_keys(session: AsyncSession, kind: cat.Kind[Any], keys: set[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    ordered = sorted(keys)
    for start in range(0, len(ordered), CHUNK):
        stmt = select(kind.model).where(kind.key_column.in_(ordered[start : start + CHUNK]))
        found.update({getattr(m, kind.key): m for m in (await session.scalars(stmt)).all()})
    return found


async def resolve(session: AsyncSession, report: ImportReport) -> ImportReport:
    """Mark each row new or update, and refuse rows naming what the catalogue lacks."""
    for row in report.rows:
        row.lookup_errors, row.action, row.refs = [], "", {}
    if (kind := cat.KINDS.get(report.kind)) is not None:
        existing = await _by_keys(session, kind, {r.values[kind.key] for r in report.good})
        for row in report.good:
            row.refs["item"] = existing.get(row.values[kind.key])
            row.action = "update" if row.refs["item"] is not None else "create"
    else:
        await _resolve_items(session, report)
    report.resolved = True
    return report


async def _resolve_items(session: AsyncSession, report: ImportReport) -> None:
    rows = [r for r in report.rows if r.ok]
    codes = {r.values["item_code"] for r in rows}
    packages = await _by_keys(session, cat.PACKAGES, {r.values["package_code"] for r in rows})
    labour = await _by_keys(session, cat.LABOUR, codes)
    parts = await _by_keys(session, cat.PARTS, codes)

    def refuse(row: ImportRow, column: str, message: str) -> None:
        row.lookup_errors.append(RowError(row.number, report.headers.get(column, column), message))

    for row in rows:
        code, wanted = row.values["item_code"], row.values.get("item_type")
        package = packages.get(row.values["package_code"])
        op = labour.get(code) if wanted in (None, "labour") else None
        part = parts.get(code) if wanted in (None, "part") else None
        if package is None:
            refuse(
                row,
                "package_code",
                _(
                    "No menu package with the code “%(code)s”: create it first.",
                    code=row.values["package_code"],
                ),
            )
        if op is not None and part is not None:
            refuse(
                row,
                "item_code",
                _(
                    "“%(code)s” is both a labour code and a part number: add the column item_type.",
                    code=code,
                ),
            )
        elif op is None and part is None:
            refuse(
                row,
                "item_code",
                _("No labour operation or part with the code “%(code)s”.", code=code),
            )
        if row.lookup_errors or package is None:
            continue
        target: LabourOperation | Part = op if op is not None else part  # type: ignore[assignment]
        current = next((i for i in package.items if _same(i, target)), None)
        row.refs.update(package=package, target=target, item=current)
        row.action = "update" if current is not None else "create"


def _same(item: MenuPackageItem, target: LabourOperation | Part) -> bool:
    if isinstance(target, Part):
        return item.part_id == target.id
    return item.labour_operation_id == target.id


async def apply_import(
    session: AsyncSession, report: ImportReport, mode: str, actor: Actor
) -> ImportResult:
    if mode not in MODES:
        raise InvalidInput(_("Choose how to import."), field="mode")
    if not report.resolved:
        await resolve(session, report)
    if report.file_errors:
        raise InvalidInput(report.file_errors[0])
    bad = len(report.bad)
    if mode == "all_or_nothing" and bad:
        raise InvalidInput(
            ngettext(
                "%(num)s row has errors, so nothing was imported. "
                "Fix the file and upload it again.",
                "%(num)s rows have errors, so nothing was imported. "
                "Fix the file and upload it again.",
                bad,
            )
        )
    if not report.good:
        raise InvalidInput(_("No row can be imported, so nothing was imported."))
    created: list[str] = []
    updated: dict[str, Any] = {}
    for row in report.good:
        label, changes = _write(session, report.kind, row)
        if row.action == "create":
            created.append(label)
        elif changes:
            updated[label] = changes
    await cat.flush_or_conflict(session)
    audit.record(
        session, actor, "catalogue_imported", report.kind, "",
        mode=mode, file_sha256=report.content_sha, created=created, updated=updated,
        skipped_rows=[r.number for r in report.bad],
    )  # fmt: skip
    unchanged = len(report.good) - len(created) - len(updated)
    return ImportResult(report.kind, len(created), len(updated), unchanged, bad)


def _write(session: AsyncSession, kind_name: str, row: ImportRow) -> tuple[str, Any]:
    kind = cat.KINDS.get(kind_name)
    if kind is not None:
        label = row.values[kind.key]
        if row.refs["item"] is None:
            session.add(kind.model(**row.values))
            return label, None
        return label, cat.apply_values(row.refs["item"], row.values)
    package, target, item = row.refs["package"], row.refs["target"], row.refs["item"]
    label = f"{package.code}/{row.values['item_code']}"
    quantity: Decimal = row.values["quantity"]
    if item is None:
        new = MenuPackageItem(quantity=quantity)
        if isinstance(target, Part):
            new.part = target
        else:
            new.labour_operation = target
        package.items.append(new)
        return label, None
    return label, cat.apply_values(item, {"quantity": quantity})

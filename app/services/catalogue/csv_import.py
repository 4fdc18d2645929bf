"""CSV import into the catalogue, with a row-by-row error report.

`parse_csv` reads the file (UTF-8 with or without BOM, or GBK as Chinese Excel
saves it) and checks every row without the database; `resolve` looks the codes
up (new or update, unknown package or item); `apply_import` writes either all
rows or only the good ones. The uploaded file waits under the data directory
between the preview and the confirmation, bound to the user; a preview whose
outcome no longer matches the catalogue is shown again instead of applied.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, InvalidInput
from app.i18n import _, ngettext
from app.models import LabourOperation, MenuPackage, MenuPackageItem, Part
from app.services import audit
from app.services.audit import Actor
from app.services.catalogue import items as cat
from app.text import from_spreadsheet_cell, spreadsheet_cell

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 10_000
PREVIEW_TTL = timedelta(hours=2)
CHUNK = 500  # codes per IN (...) query, well under every driver's parameter limit
Mode = Literal["all_or_nothing", "good_rows_only"]
MODES: tuple[Mode, ...] = ("all_or_nothing", "good_rows_only")


# The columns each kind of file has: (field, header names accepted, required). The first two
# names are the documented ones; matching ignores case, spaces and full-width letters.
COLUMNS: dict[str, list[tuple[str, tuple[str, ...], bool]]] = {
    "labour": [
        ("code", ("code", "工时代码", "代码"), True),
        ("name_zh", ("name_zh", "中文名称"), True),
        ("name_en", ("name_en", "英文名称"), True),
        ("flat_rate_hours", ("flat_rate_hours", "标准工时", "工时"), True),
        ("labour_rate", ("labour_rate", "工时单价"), True),
    ],
    "parts": [
        ("number", ("number", "零件号", "part_number", "配件编号"), True),
        ("name_zh", ("name_zh", "中文名称"), True),
        ("name_en", ("name_en", "英文名称"), True),
        ("price", ("price", "单价", "价格"), True),
        ("stock_on_hand", ("stock_on_hand", "库存"), False),
        ("lead_time_days", ("lead_time_days", "到货天数"), False),
    ],
    "package_items": [
        ("package_code", ("package_code", "套餐代码"), True),
        ("item_code", ("item_code", "项目代码"), True),
        ("quantity", ("quantity", "数量"), True),
        ("item_type", ("item_type", "类型"), False),
    ],
}
ITEM_TYPES = {"labour": "labour", "part": "part", "工时": "labour", "零件": "part", "配件": "part"}


def item_fields() -> dict[str, cat.Parser]:
    def item_type(raw: str) -> str:
        value = ITEM_TYPES.get(unicodedata.normalize("NFKC", raw).strip().lower())
        if value is None:
            raise InvalidInput(_("Write labour or part (工时 or 零件)."))
        return value

    return {
        "package_code": cat.parse_code(_("Enter the package's code."), 32),
        "item_code": cat.parse_code(_("Enter a code or part number."), 40),
        "quantity": cat.parse_decimal(
            _("The quantity must be more than 0."), positive=True, maximum=Decimal("999999")
        ),
        "item_type": item_type,
    }


def decode(content: bytes) -> tuple[str, str]:
    """The text and the encoding's name. Excel saves "CSV UTF-8" with a BOM and plain
    "CSV" in the system's code page, which on Chinese Windows is GBK."""
    if content.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise InvalidInput(
            _("This is an Excel workbook, not a CSV file. In Excel choose Save as → CSV.")
        )
    for bom, codec, name in (
        (codecs.BOM_UTF8, "utf-8", "UTF-8 (BOM)"),
        (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
    ):
        if content.startswith(bom):
            try:
                return content[len(bom) :].decode(codec), name
            except UnicodeDecodeError:
                break
    else:
        for codec, name in (("utf-8", "UTF-8"), ("gb18030", "GBK")):
            try:
                text = content.decode(codec)
            except UnicodeDecodeError:
                continue
            if "\x00" not in text:
                return text, name
    raise InvalidInput(_("The file cannot be read as text. Save it as CSV (UTF-8) and try again."))


@dataclass(frozen=True)
class RowError:
    row: int
    column: str  # the header as written in the file
    message: str


@dataclass
class ImportRow:
    number: int  # as the spreadsheet counts: the header is row 1
    raw: dict[str, str]
    values: dict[str, Any]
    errors: list[RowError] = field(default_factory=list)
    lookup_errors: list[RowError] = field(default_factory=list)  # from `resolve`
    action: str = ""  # create | update, once resolved
    refs: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def all_errors(self) -> list[RowError]:
        return [*self.errors, *self.lookup_errors]

    @property
    def ok(self) -> bool:
        return not self.errors and not self.lookup_errors


@dataclass
class ImportReport:
    kind: str
    content_sha: str
    encoding: str = ""
    rows: list[ImportRow] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # field → header as written
    ignored_columns: list[str] = field(default_factory=list)
    resolved: bool = False

    @property
    def good(self) -> list[ImportRow]:
        return [] if self.file_errors else [r for r in self.rows if r.ok]

    @property
    def bad(self) -> list[ImportRow]:
        return [r for r in self.rows if not r.ok]

    @property
    def errors(self) -> list[RowError]:
        return [e for r in self.rows for e in r.all_errors]

    def count(self, action: str) -> int:
        return sum(1 for r in self.good if r.action == action)

    def fingerprint(self) -> str:
        """What confirming would do: changes when the file or the catalogue's answer changes."""
        outline = [self.kind, self.content_sha, self.file_errors != []]
        outline += [[r.number, r.ok, r.action] for r in self.rows]
        return hashlib.sha256(json.dumps(outline).encode()).hexdigest()


@dataclass(frozen=True)
class ImportResult:
    kind: str
    created: int
    updated: int
    unchanged: int
    skipped: int


def _header_key(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", unicodedata.normalize("NFKC", text).strip().lower())


def _records(report: ImportReport, content: bytes) -> list[list[str]]:
    """The file's records, or none and a file error saying why."""
    if len(content) > MAX_BYTES:
        report.file_errors.append(_("The file is larger than 2 MB: split it into parts."))
        return []
    try:
        text, report.encoding = decode(content)
    except InvalidInput as exc:
        report.file_errors.append(exc.message)
        return []
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count) if first_line else ","
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        report.file_errors.append(_("The file is not a readable CSV file (%(error)s).", error=exc))
        return []
    if not records or not any(c.strip() for c in records[0]):
        report.file_errors.append(_("The file is empty: the first row must name the columns."))
        return []
    return records


def parse_csv(kind: str, content: bytes) -> ImportReport:
    if kind not in COLUMNS:
        raise InvalidInput(_("Choose what the file holds."), field="kind")
    report = ImportReport(kind, hashlib.sha256(content).hexdigest())
    records = _records(report, content)
    if not records:
        return report
    _read_header(report, records[0])
    if report.file_errors:
        return report
    index = {name: records[0].index(header) for name, header in report.headers.items()}
    for number, cells in enumerate(records[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        raw = {
            name: from_spreadsheet_cell(cells[i]) if i < len(cells) else ""
            for name, i in index.items()
        }
        report.rows.append(_check_row(report, number, raw))
        if len(report.rows) > MAX_ROWS:
            report.file_errors.append(
                _("The file has more than %(n)s rows: split it into parts.", n=f"{MAX_ROWS:,}")
            )
            return report
    if not report.rows:
        report.file_errors.append(_("The file has column names but no rows to import."))
    _flag_duplicates(report)
    return report


def _read_header(report: ImportReport, header: list[str]) -> None:
    known = {
        _header_key(alias): name for name, aliases, _r in COLUMNS[report.kind] for alias in aliases
    }
    for cell in header:
        name = known.get(_header_key(cell))
        if name is None:
            if cell.strip():
                report.ignored_columns.append(cell.strip())
        elif name in report.headers:
            report.file_errors.append(_("The column “%(column)s” appears twice.", column=cell))
        else:
            report.headers[name] = cell
    for name, aliases, required in COLUMNS[report.kind]:
        if required and name not in report.headers:
            report.file_errors.append(
                _("The column “%(column)s” is missing.", column=" / ".join(aliases[:2]))
            )


def _check_row(report: ImportReport, number: int, raw: dict[str, str]) -> ImportRow:
    kind = cat.KINDS.get(report.kind)
    values, errors = cat.validate(kind, raw) if kind else _item_values(raw)
    row = ImportRow(number, {k: v.strip() for k, v in raw.items()}, values)
    row.errors = [RowError(number, report.headers.get(f, f), m) for f, m in errors.items()]
    return row


def _item_values(raw: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    values, errors = {}, {}
    for name, parse in item_fields().items():
        if name == "item_type" and not (raw.get(name) or "").strip():
            continue
        try:
            values[name] = parse(raw.get(name) or "")
        except InvalidInput as exc:
            errors[name] = exc.message
    return values, errors


def _key_of(report: ImportReport, row: ImportRow) -> tuple[str, str] | None:
    kind = cat.KINDS.get(report.kind)
    if kind is not None:
        return (kind.key, row.values[kind.key]) if kind.key in row.values else None
    if "package_code" in row.values and "item_code" in row.values:
        item = f"{row.values.get('item_type', '')}:{row.values['item_code']}"
        return ("item_code", f"{row.values['package_code']} {item}")
    return None


def _flag_duplicates(report: ImportReport) -> None:
    seen: dict[tuple[str, str], list[ImportRow]] = {}
    for row in report.rows:
        if (key := _key_of(report, row)) is not None:
            seen.setdefault(key, []).append(row)
    for (column, _value), rows in seen.items():
        if len(rows) < 2:
            continue
        numbers = ", ".join(str(r.number) for r in rows)
        for row in rows:
            message = _(
                "“%(code)s” is on rows %(rows)s: keep one row for it.",
                code=row.raw.get(column, ""),
                rows=numbers,
            )
            row.errors.append(RowError(row.number, report.headers.get(column, column), message))


# -- against the database ---------------------------------------------------------------------


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


# -- the file between preview and confirmation ------------------------------------------------


@dataclass(frozen=True)
class Upload:
    id: str
    kind: str
    filename: str
    content: bytes
    fingerprint: str


class StalePreview(Conflict):
    """The catalogue changed since the preview: here is the preview as it stands now."""

    def __init__(self, report: ImportReport, upload: Upload) -> None:
        super().__init__(
            _(
                "The catalogue changed since this preview. "
                "Check the new preview; nothing was imported."
            )
        )
        self.report = report
        self.upload = upload


_UPLOAD_ID = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def store_upload(
    root: Path,
    report: ImportReport,
    content: bytes,
    filename: str,
    user_id: int | None,
    now: datetime,
) -> Upload:
    root.mkdir(parents=True, exist_ok=True)
    for old in root.glob("*.json"):  # forget previews nobody confirmed
        if now.timestamp() - old.stat().st_mtime > 2 * PREVIEW_TTL.total_seconds():
            old.unlink(missing_ok=True)
            old.with_suffix(".csv").unlink(missing_ok=True)
    upload = Upload(
        secrets.token_urlsafe(24), report.kind, filename[:200], content, report.fingerprint()
    )
    (root / f"{upload.id}.csv").write_bytes(content)
    _write_meta(root, upload, user_id, now)
    return upload


def _write_meta(root: Path, upload: Upload, user_id: int | None, now: datetime) -> None:
    meta = {"kind": upload.kind, "filename": upload.filename, "user_id": user_id,
            "created_at": now.isoformat(), "fingerprint": upload.fingerprint}  # fmt: skip
    (root / f"{upload.id}.json").write_text(json.dumps(meta))


def load_upload(root: Path, upload_id: str, user_id: int | None, now: datetime) -> Upload:
    gone = _("This preview has expired or was already imported. Upload the file again.")
    if not _UPLOAD_ID.match(upload_id or ""):
        raise Conflict(gone)
    try:
        meta = json.loads((root / f"{upload_id}.json").read_text())
        content = (root / f"{upload_id}.csv").read_bytes()
    except (OSError, ValueError) as exc:
        raise Conflict(gone) from exc
    if (
        meta.get("user_id") != user_id
        or now - datetime.fromisoformat(meta["created_at"]) > PREVIEW_TTL
    ):
        raise Conflict(gone)
    return Upload(upload_id, meta["kind"], meta["filename"], content, meta["fingerprint"])


async def confirm(
    session: AsyncSession, root: Path, upload_id: str, mode: str, actor: Actor, now: datetime
) -> ImportResult:
    """Apply a previewed upload, only if confirming still does what the preview showed."""
    upload = load_upload(root, upload_id, actor.user_id, now)
    report = await resolve(session, parse_csv(upload.kind, upload.content))
    if report.fingerprint() != upload.fingerprint:
        fresh = Upload(
            upload.id, upload.kind, upload.filename, upload.content, report.fingerprint()
        )
        _write_meta(root, fresh, actor.user_id, now)
        raise StalePreview(report, fresh)
    result = await apply_import(session, report, mode, actor)
    (root / f"{upload.id}.json").unlink(missing_ok=True)
    (root / f"{upload.id}.csv").unlink(missing_ok=True)
    return result


async def export_csv(session: AsyncSession, kind: str) -> bytes:
    """The catalogue as an importable file (UTF-8 with BOM, so Excel shows the Chinese):
    download, change prices in Excel, import again."""
    if kind not in COLUMNS:
        raise InvalidInput(_("Choose what the file holds."), field="kind")
    names = [name for name, _aliases, _required in COLUMNS[kind]]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(names)
    if (spec := cat.KINDS.get(kind)) is not None:
        stmt = select(spec.model).order_by(spec.key_column)
        for item in (await session.scalars(stmt)).all():
            writer.writerow([spreadsheet_cell(getattr(item, n)) for n in names])
    else:
        packages = await session.scalars(select(MenuPackage).order_by(MenuPackage.code))
        for package in packages.all():
            for entry in package.items:
                item_type = "labour" if entry.labour_operation is not None else "part"
                writer.writerow([
                    spreadsheet_cell(cell)
                    for cell in (package.code, cat.item_code(entry), entry.quantity, item_type)
                ])  # fmt: skip
    return codecs.BOM_UTF8 + out.getvalue().encode()

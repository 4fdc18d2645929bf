"""Reading a catalogue CSV file without the database: its encoding, its columns,
and every row checked with the same rules as the edit pages.

`parse_csv` reads the file (UTF-8 with or without BOM, or GBK as Chinese Excel
saves it) and reports, row by row and column by column, what it refuses.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from app.errors import InvalidInput
from app.i18n import _
from app.services.catalogue import items as cat
from app.text import from_spreadsheet_cell

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 10_000


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

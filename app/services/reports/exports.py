"""A report as a file for a spreadsheet: CSV (one file, a block per section) or XLSX (a
sheet per section). Every text cell goes through `app.text.spreadsheet_cell`, so a remark
typed as "=HYPERLINK(...)" or "+86 …" is shown as typed, never run as a formula."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from app.text import spreadsheet_cell

CSV_TYPE = "text/csv"  # Litestar adds "; charset=utf-8" to text types
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Text, a number, a date or None (an empty cell).
Cell = object
# Excel refuses these in a sheet's name, and names longer than 31 characters.
_SHEET_REFUSES = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class Section:
    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[Cell]] = field(default_factory=list)


def _cell(value: Cell) -> Cell:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)  # already in the dealership's time; Excel has no zones
    return spreadsheet_cell(value)


def to_csv(title: str, sections: Sequence[Section]) -> bytes:
    """UTF-8 with a BOM (so Excel shows the Chinese), CRLF; the title, then each section
    as its title, its header and its rows, a blank line between."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_cell(title)])
    for section in sections:
        writer.writerow([])
        writer.writerow([_cell(section.title)])
        writer.writerow([_cell(h) for h in section.header])
        for row in section.rows:
            writer.writerow(["" if c is None else _cell(c) for c in row])
    return codecs.BOM_UTF8 + out.getvalue().encode()


def _sheet_name(title: str, taken: set[str]) -> str:
    base = _SHEET_REFUSES.sub(" ", title).strip("' ")[:28] or "Sheet"
    name, n = base, 2
    while name.lower() in taken:
        name, n = f"{base[:26]} {n}", n + 1
    taken.add(name.lower())
    return name


def to_xlsx(title: str, sections: Sequence[Section]) -> bytes:
    """A workbook with a sheet per section: the report's title on top, then the header in
    bold and the rows; text cells are always text, numbers stay numbers."""
    book = Workbook()
    book.remove(book.active)
    taken: set[str] = set()
    bold = Font(bold=True)
    for section in sections:
        sheet = book.create_sheet(_sheet_name(section.title, taken))
        sheet.append([_cell(title)])
        sheet.append([_cell(section.title)])
        sheet.append([_cell(h) for h in section.header])
        for cell in (*sheet[1], *sheet[2], *sheet[3]):
            cell.font = bold
        for row in section.rows:
            sheet.append([_cell(c) for c in row])
        for row_cells in sheet.iter_rows(min_row=1):
            for cell in row_cells:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never "f": no text becomes a formula
        for index, name in enumerate(section.header):
            cells = [len(str(row[index] or "")) for row in section.rows if index < len(row)]
            longest = max([len(str(name)), *cells])
            letter = get_column_letter(index + 1)
            sheet.column_dimensions[letter].width = min(max(10, longest * 1.6), 60)
        sheet.freeze_panes = "A4"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

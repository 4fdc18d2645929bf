"""The catalogue written out as a file the CSV import takes back."""

from __future__ import annotations

import codecs
import csv
import io

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.i18n import _
from app.models import MenuPackage
from app.services.catalogue import items as cat
from app.services.catalogue import packages as menu
from app.services.catalogue.csv_file import COLUMNS
from app.text import spreadsheet_cell


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
                    for cell in (package.code, menu.item_code(entry), entry.quantity, item_type)
                ])  # fmt: skip
    return codecs.BOM_UTF8 + out.getvalue().encode()

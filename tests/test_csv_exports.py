"""CSV downloads open in Excel as data, never as formulas (spreadsheet formula injection)."""

from __future__ import annotations

import csv
import io

from app.models import Role
from app.services import audit
from app.services.audit import Actor
from app.services.catalogue import csv_file
from app.services.catalogue import items as cat
from tests.conftest import sign_in
from tests.estimate_helpers import priced_estimate

HYPERLINK = '=HYPERLINK("http://x","y")'


def rows(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


async def test_the_audit_csv_neutralises_cells_that_would_start_a_formula(
    client, db, settings, users
) -> None:
    order_id = await priced_estimate(db, settings, users)
    tablet = Actor(users[Role.ADVISOR], device_id="+tablet", user_agent=HYPERLINK, ip="@10.0.0.9")
    audit.record(db, tablet, "-odd-action", "work_order", order_id, note="\tx")
    await db.commit()
    await sign_in(client, Role.ADVISOR)

    response = await client.get(f"/work-orders/{order_id}/audit.csv")

    assert response.status_code == 200
    header, *events = rows(response.content)
    row = dict(zip(header, next(e for e in events if "odd-action" in e[2]), strict=True))
    assert row["user_agent"] == "'" + HYPERLINK
    assert row["device"] == "'+tablet"
    assert row["ip"] == "'@10.0.0.9"
    assert row["action"] == "'-odd-action"
    # Nothing in the file starts a formula.
    for event in events:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in event)


async def test_the_catalogue_csv_neutralises_formulas_and_imports_back_as_typed(
    client, db, users
) -> None:
    await cat.create(
        db, cat.LABOUR,
        {"code": "L-LINK", "name_zh": "@SUM(A1)", "name_en": HYPERLINK,
         "flat_rate_hours": "1", "labour_rate": "180"},
        Actor(None),
    )  # fmt: skip
    await db.commit()
    await sign_in(client, Role.SERVICE_MANAGER)

    response = await client.get("/catalogue/export/labour")

    assert response.status_code == 200
    header, *items = rows(response.content)
    row = dict(zip(header, next(i for i in items if i[0] == "L-LINK"), strict=True))
    assert (row["name_zh"], row["name_en"]) == ("'@SUM(A1)", "'" + HYPERLINK)
    assert row["flat_rate_hours"] == "1.00"
    # Downloaded, edited in Excel, imported again: the names are what was typed.
    report = csv_file.parse_csv("labour", response.content)
    [again] = [r for r in report.good if r.values["code"] == "L-LINK"]
    assert (again.values["name_zh"], again.values["name_en"]) == ("@SUM(A1)", HYPERLINK)

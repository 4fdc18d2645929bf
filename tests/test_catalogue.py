from __future__ import annotations

import codecs
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.errors import Conflict, InvalidInput
from app.i18n import set_locale
from app.models import AuditEvent, LabourOperation, MenuPackage, Part, Role
from app.models.base import utcnow
from app.services.audit import Actor
from app.services.catalogue import csv_file, csv_uploads
from app.services.catalogue import csv_import as imports
from app.services.catalogue import items as cat
from app.services.catalogue import packages as menu
from tests.conftest import csrf_from, csrf_token, html, sign_in

NOBODY = Actor(None)
OIL = {"code": "L-OIL", "name_zh": "更换机油", "name_en": "Oil change",
       "flat_rate_hours": "0.5", "labour_rate": "180"}  # fmt: skip
FILTER = {"number": "P-OILF", "name_zh": "机油滤清器", "name_en": "Oil filter",
          "price": "48", "stock_on_hand": "40", "lead_time_days": "2"}  # fmt: skip
SERVICE_5K = {"code": "M-5K", "name_zh": "5000公里保养", "name_en": "5,000 km service",
              "interval_km": "5000", "interval_months": "6"}  # fmt: skip

# Two good rows (one updates L-OIL, one is new) and two bad ones (rows 4 and 5).
LABOUR_FILE = (
    "code,name_zh,name_en,flat_rate_hours,labour_rate\n"
    "L-OIL,更换机油及机滤,Oil and filter change,0.8,200\n"
    "L-NEW,四轮定位,Wheel alignment,1.0,180\n"
    "L-NEG,刹车,Brakes,1.2,-50\n"
    "L-NONAME,,No Chinese name,1,180\n"
)


async def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    await db.rollback()  # a new snapshot: see what the app committed
    return await db.scalar(select(func.count()).select_from(model))


async def _labour(db, code: str) -> LabourOperation | None:  # type: ignore[no-untyped-def]
    await db.rollback()
    stmt = select(LabourOperation).where(LabourOperation.code == code)
    return (await db.scalars(stmt)).one_or_none()


async def _part(db, number: str) -> Part | None:  # type: ignore[no-untyped-def]
    await db.rollback()
    return (await db.scalars(select(Part).where(Part.number == number))).one_or_none()


async def _actions(db) -> list[str]:  # type: ignore[no-untyped-def]
    await db.rollback()
    stmt = select(AuditEvent.action).where(AuditEvent.action != "signed_in")
    return list(await db.scalars(stmt.order_by(AuditEvent.id)))


# -- the services ------------------------------------------------------------------------------


async def test_a_labour_operation_is_saved_trimmed_and_audited(db) -> None:
    typed = {**OIL, "code": "  L-OIL ", "name_en": " Oil  change "}
    op = await cat.create(db, cat.LABOUR, typed, NOBODY)
    await db.commit()
    saved = await _labour(db, "L-OIL")
    assert saved is not None
    assert saved.id == op.id
    assert saved.name_en == "Oil change"
    assert saved.flat_rate_hours == Decimal("0.50")
    assert saved.labour_rate == Decimal("180.00")
    event = (await db.scalars(select(AuditEvent))).one()
    assert (event.action, event.entity_type) == ("catalogue_created", "labour_operation")
    assert event.entity_id == str(op.id)
    assert event.details["flat_rate_hours"] == "0.50"


@pytest.mark.parametrize(
    ("kind", "good", "field", "value", "message"),
    [
        (cat.LABOUR, OIL, "flat_rate_hours", "-1", "Flat-rate hours must be more than 0."),
        (cat.LABOUR, OIL, "flat_rate_hours", "0", "Flat-rate hours must be more than 0."),
        (cat.LABOUR, OIL, "labour_rate", "-180", "The labour rate cannot be negative."),
        (cat.PARTS, FILTER, "price", "-0.01", "The price cannot be negative."),
        (cat.PARTS, FILTER, "price", "4.999", "Use at most 2 decimal places."),
        (cat.PARTS, FILTER, "price", "abc", "“abc” is not a number; write it like 45.50."),
        (cat.PARTS, FILTER, "stock_on_hand", "-3", "Stock on hand cannot be negative."),
        (cat.PARTS, FILTER, "stock_on_hand", "1.5", "Enter a whole number, e.g. 12."),
        (cat.PARTS, FILTER, "lead_time_days", "-1", "The lead time cannot be negative."),
        (cat.PACKAGES, SERVICE_5K, "interval_km", "0", "The interval in km must be more than 0."),
        (cat.PACKAGES, SERVICE_5K, "name_zh", "  ", "Enter the name in Chinese."),
        (cat.LABOUR, OIL, "code", "", "Enter the labour operation's code."),
        (cat.LABOUR, OIL, "code", "X" * 33, "At most 32 characters."),
    ],
)  # fmt: skip
async def test_bad_values_are_refused_by_field_with_a_clear_message(
    db, kind, good, field, value, message
) -> None:
    set_locale("en")
    with pytest.raises(InvalidInput) as refused:
        await cat.create(db, kind, {**good, field: value}, NOBODY)
    assert refused.value.field == field
    assert refused.value.message == message
    assert await db.scalar(select(func.count()).select_from(kind.model)) == 0


async def test_every_bad_field_is_reported_at_once(db) -> None:
    with pytest.raises(cat.InvalidFields) as refused:
        await cat.create(db, cat.PARTS, {**FILTER, "name_en": "", "price": "-1"}, NOBODY)
    assert list(refused.value.errors) == ["name_en", "price"]


async def test_numbers_typed_full_width_or_with_a_currency_sign_are_understood(db) -> None:
    typed = {**FILTER, "number": "Ｐ－１", "price": "￥1,234.5", "stock_on_hand": "１２"}
    part = await cat.create(db, cat.PARTS, typed, NOBODY)
    assert (part.number, part.price, part.stock_on_hand) == ("P-1", Decimal("1234.50"), 12)


async def test_a_code_belongs_to_one_entry_only(db) -> None:
    set_locale("en")
    await cat.create(db, cat.LABOUR, OIL, NOBODY)
    other = await cat.create(db, cat.LABOUR, {**OIL, "code": "L-ROT"}, NOBODY)
    with pytest.raises(InvalidInput, match="L-OIL is already used") as refused:
        await cat.create(db, cat.LABOUR, OIL, NOBODY)
    assert refused.value.field == "code"
    with pytest.raises(InvalidInput) as refused:
        await cat.update(db, cat.LABOUR, other.id, OIL, NOBODY)
    assert refused.value.field == "code"
    assert (await db.get(LabourOperation, other.id)).code == "L-ROT"  # type: ignore[union-attr]


async def test_an_update_records_what_changed(db) -> None:
    part = await cat.create(db, cat.PARTS, FILTER, NOBODY)
    await cat.update(db, cat.PARTS, part.id, {**FILTER, "price": "52.00"}, NOBODY)
    await cat.update(db, cat.PARTS, part.id, {**FILTER, "price": "52.00"}, NOBODY)  # no change
    await db.commit()
    events = list(await db.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert [e.action for e in events] == ["catalogue_created", "catalogue_updated"]
    assert events[1].details["changes"] == {"price": ["48.00", "52.00"]}


async def test_search_finds_by_code_or_either_name(db) -> None:
    await cat.create(db, cat.PARTS, FILTER, NOBODY)
    air = {**FILTER, "number": "P-AIR", "name_zh": "空气滤芯", "name_en": "Air filter"}
    await cat.create(db, cat.PARTS, air, NOBODY)
    assert [p.number for p in (await cat.search(db, cat.PARTS, "air")).items] == ["P-AIR"]
    assert [p.number for p in (await cat.search(db, cat.PARTS, "机油")).items] == ["P-OILF"]
    assert (await cat.search(db, cat.PARTS, "filter")).total == 2
    assert (await cat.search(db, cat.PARTS, "100%")).total == 0


async def test_a_menu_package_holds_labour_and_parts_at_todays_prices(db) -> None:
    set_locale("en")
    await cat.create(db, cat.LABOUR, OIL, NOBODY)
    await cat.create(db, cat.PARTS, FILTER, NOBODY)
    package = await cat.create(db, cat.PACKAGES, SERVICE_5K, NOBODY)
    await menu.add_package_item(db, package.id, "labour", "L-OIL", "1", NOBODY)
    await menu.add_package_item(db, package.id, "part", "P-OILF", "1", NOBODY)
    await menu.add_package_item(db, package.id, "part", "P-OILF", "2", NOBODY)  # same part: new qty
    assert len(package.items) == 2
    assert menu.package_price(package) == Decimal("0.5") * 180 + 2 * 48
    with pytest.raises(InvalidInput, match="No part") as refused:
        await menu.add_package_item(db, package.id, "part", "P-NONE", "1", NOBODY)
    assert refused.value.field == "item_code"
    with pytest.raises(InvalidInput) as refused:
        await menu.add_package_item(db, package.id, "part", "P-OILF", "-1", NOBODY)
    assert refused.value.field == "item_quantity"
    labour_item = next(i for i in package.items if i.labour_operation is not None)
    await menu.remove_package_item(db, package.id, labour_item.id, NOBODY)
    await db.commit()
    stored = (await db.scalars(select(MenuPackage).execution_options(populate_existing=True))).one()
    assert [(menu.item_code(i), i.quantity) for i in stored.items] == [("P-OILF", Decimal("2.00"))]
    assert await _actions(db) == [
        "catalogue_created", "catalogue_created", "catalogue_created",
        "menu_item_added", "menu_item_added", "menu_item_changed", "menu_item_removed",
    ]  # fmt: skip


# -- CSV import --------------------------------------------------------------------------------


async def test_a_good_file_with_a_bom_imports_every_row(db) -> None:
    content = (
        codecs.BOM_UTF8
        + (
            "code,name_zh,name_en,flat_rate_hours,labour_rate\n"
            "L-OIL,更换机油,Oil change,0.5,180\n"
            '"L-ALN","四轮定位","Wheel alignment, 4 wheels",1,180\n'
        ).encode()
    )
    report = csv_file.parse_csv("labour", content)
    assert (report.encoding, report.file_errors, len(report.good)) == ("UTF-8 (BOM)", [], 2)
    result = await imports.apply_import(db, report, "all_or_nothing", NOBODY)
    assert (result.created, result.updated) == (2, 0)
    await db.commit()
    aligned = await _labour(db, "L-ALN")
    assert aligned is not None
    assert aligned.name_en == "Wheel alignment, 4 wheels"
    assert await _actions(db) == ["catalogue_imported"]


async def test_a_gbk_file_from_chinese_excel_with_chinese_headers_is_read(db) -> None:
    text = "零件号,中文名称,英文名称,单价,库存\r\nP-AIRF,空气滤芯,Air filter,85.00,18\r\n"
    report = csv_file.parse_csv("parts", text.encode("gbk"))
    assert report.encoding == "GBK"
    assert report.file_errors == []
    assert len(report.good) == 1
    await imports.apply_import(db, report, "all_or_nothing", NOBODY)
    await db.commit()
    part = await _part(db, "P-AIRF")
    assert part is not None
    assert (part.name_zh, part.price, part.stock_on_hand) == ("空气滤芯", Decimal("85.00"), 18)


async def test_bad_rows_are_reported_by_row_and_column(db) -> None:
    set_locale("en")
    report = csv_file.parse_csv("labour", LABOUR_FILE.encode())
    assert [r.number for r in report.good] == [2, 3]
    assert [(e.row, e.column, e.message) for e in report.errors] == [
        (4, "labour_rate", "The labour rate cannot be negative."),
        (5, "name_zh", "Enter the name in Chinese."),
    ]


async def test_all_or_nothing_imports_nothing_when_a_row_is_bad(db) -> None:
    set_locale("en")
    await cat.create(db, cat.LABOUR, OIL, NOBODY)
    await db.commit()
    report = csv_file.parse_csv("labour", LABOUR_FILE.encode())
    with pytest.raises(InvalidInput, match="2 rows have errors, so nothing was imported"):
        await imports.apply_import(db, report, "all_or_nothing", NOBODY)
    await db.commit()
    kept = await _labour(db, "L-OIL")
    assert kept is not None
    assert kept.flat_rate_hours == Decimal("0.50")
    assert kept.name_zh == "更换机油"
    assert await _count(db, LabourOperation) == 1
    assert await _actions(db) == ["catalogue_created"]


async def test_good_rows_only_imports_the_good_rows_and_updates_existing_codes(db) -> None:
    await cat.create(db, cat.LABOUR, OIL, NOBODY)
    await db.commit()
    report = csv_file.parse_csv("labour", LABOUR_FILE.encode())
    await imports.resolve(db, report)
    assert [r.action for r in report.good] == ["update", "create"]
    result = await imports.apply_import(db, report, "good_rows_only", NOBODY)
    assert (result.created, result.updated, result.skipped) == (1, 1, 2)
    await db.commit()
    updated = await _labour(db, "L-OIL")
    assert updated is not None
    assert (updated.flat_rate_hours, updated.labour_rate) == (Decimal("0.80"), Decimal("200.00"))
    assert await _labour(db, "L-NEW") is not None
    assert await _labour(db, "L-NEG") is None
    assert await _count(db, LabourOperation) == 2
    imported = select(AuditEvent).where(AuditEvent.action == "catalogue_imported")
    event = (await db.scalars(imported)).one()
    assert event.details["created"] == ["L-NEW"]
    assert event.details["updated"]["L-OIL"]["flat_rate_hours"] == ["0.50", "0.80"]
    assert event.details["skipped_rows"] == [4, 5]


async def test_a_code_twice_in_one_file_is_an_error_on_both_rows(db) -> None:
    set_locale("en")
    content = (
        "code,name_zh,name_en,flat_rate_hours,labour_rate\n"
        "L-OIL,更换机油,Oil change,0.5,180\n"
        "L-ROT,轮胎换位,Tyre rotation,0.4,180\n"
        " L-OIL ,更换机油,Oil change,0.6,180\n"
    ).encode()
    report = csv_file.parse_csv("labour", content)
    assert [r.number for r in report.bad] == [2, 4]
    assert report.errors[0].message == "“L-OIL” is on rows 2, 4: keep one row for it."
    assert report.errors[0].column == "code"
    await imports.apply_import(db, report, "good_rows_only", NOBODY)
    await db.commit()
    assert await _labour(db, "L-OIL") is None
    assert await _count(db, LabourOperation) == 1


async def test_an_upsert_leaves_columns_the_file_lacks_as_they_were(db) -> None:
    await cat.create(db, cat.PARTS, {**FILTER, "stock_on_hand": "7", "lead_time_days": "5"}, NOBODY)
    await db.commit()
    content = (
        "number,name_zh,name_en,price\n"
        "P-OILF,机油滤清器,Oil filter,52.5\n"
        "P-NEW,新零件,New part,10\n"
    )
    report = csv_file.parse_csv("parts", content.encode())
    await imports.apply_import(db, report, "all_or_nothing", NOBODY)
    await db.commit()
    kept = await _part(db, "P-OILF")
    assert kept is not None
    assert (kept.price, kept.stock_on_hand, kept.lead_time_days) == (Decimal("52.50"), 7, 5)
    new = await _part(db, "P-NEW")
    assert new is not None
    assert (new.stock_on_hand, new.lead_time_days) == (0, 2)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"number,name_zh,price\nP-1,x,1\n", "The column “name_en / 英文名称” is missing."),
        (b"PK\x03\x04\x14\x00rest-of-a-zip", "This is an Excel workbook, not a CSV file."),
        (b"", "The file is empty"),
        (b"number,name_zh,name_en,price\n", "The file has column names but no rows to import."),
    ],
)
async def test_a_file_that_cannot_be_read_changes_nothing(db, content, message) -> None:
    set_locale("en")
    report = csv_file.parse_csv("parts", content)
    assert report.file_errors
    assert report.file_errors[0].startswith(message)
    for mode in imports.MODES:
        with pytest.raises(InvalidInput):
            await imports.apply_import(db, report, mode, NOBODY)
    assert await _count(db, Part) == 0


async def test_package_items_can_be_imported_by_code(db) -> None:
    set_locale("en")
    await cat.create(db, cat.LABOUR, OIL, NOBODY)
    await cat.create(db, cat.PARTS, FILTER, NOBODY)
    package = await cat.create(db, cat.PACKAGES, SERVICE_5K, NOBODY)
    await menu.add_package_item(db, package.id, "part", "P-OILF", "1", NOBODY)
    await db.commit()
    content = (
        b"package_code,item_code,quantity\n"
        b"M-5K,L-OIL,1\nM-5K,P-OILF,2\nM-NONE,L-OIL,1\nM-5K,X-NONE,1\n"
    )
    report = await imports.resolve(db, csv_file.parse_csv("package_items", content))
    assert [(r.number, r.action) for r in report.good] == [(2, "create"), (3, "update")]
    assert [(e.row, e.column) for e in report.errors] == [(4, "package_code"), (5, "item_code")]
    await imports.apply_import(db, report, "good_rows_only", NOBODY)
    await db.commit()
    stored = (await db.scalars(select(MenuPackage).execution_options(populate_existing=True))).one()
    assert sorted((menu.item_code(i), i.quantity) for i in stored.items) == [
        ("L-OIL", Decimal("1.00")), ("P-OILF", Decimal("2.00"))]  # fmt: skip


async def test_a_preview_is_applied_only_while_it_still_says_what_will_happen(
    db, users, tmp_path
) -> None:
    me, someone_else = Actor(users[Role.ADMIN]), Actor(users[Role.SERVICE_MANAGER])
    content = LABOUR_FILE.encode()
    report = await imports.resolve(db, csv_file.parse_csv("labour", content))
    now = utcnow()
    upload = csv_uploads.store_upload(tmp_path, report, content, "labour.csv", me.user_id, now)
    with pytest.raises(Conflict):
        await csv_uploads.confirm(db, tmp_path, upload.id, "good_rows_only", someone_else, now)
    with pytest.raises(Conflict):  # not an id that was given out
        await csv_uploads.confirm(db, tmp_path, "../../etc/passwd", "good_rows_only", me, now)
    later = now + csv_uploads.PREVIEW_TTL + timedelta(minutes=1)
    with pytest.raises(Conflict):
        await csv_uploads.confirm(db, tmp_path, upload.id, "good_rows_only", me, later)
    # The file's new row appears in the catalogue after the preview.
    await cat.create(db, cat.LABOUR, {**OIL, "code": "L-NEW"}, NOBODY)
    await db.commit()
    with pytest.raises(csv_uploads.StalePreview) as stale:
        await csv_uploads.confirm(db, tmp_path, upload.id, "good_rows_only", me, now)
    assert [r.action for r in stale.value.report.good] == ["create", "update"]
    await db.rollback()  # what the web layer does after a refusal
    assert await _labour(db, "L-OIL") is None
    # The fresh preview, once shown, may be confirmed; then it is used up.
    result = await csv_uploads.confirm(db, tmp_path, upload.id, "good_rows_only", me, now)
    assert (result.created, result.updated) == (1, 1)
    with pytest.raises(Conflict):
        await csv_uploads.confirm(db, tmp_path, upload.id, "good_rows_only", me, now)


# -- the pages ---------------------------------------------------------------------------------


async def test_an_advisor_cannot_open_or_change_the_catalogue(client, db, users) -> None:
    await sign_in(client, Role.ADVISOR)
    assert (await client.get("/catalogue/labour")).status_code == 403
    token = await csrf_token(client)
    response = await client.post("/catalogue/labour/new", data={**OIL, "_csrf_token": token})
    assert response.status_code == 403
    response = await client.post(
        "/catalogue/import", data={"kind": "labour"},
        files={"file": ("l.csv", LABOUR_FILE.encode(), "text/csv")}, headers={"x-csrftoken": token},
    )  # fmt: skip
    assert response.status_code == 403
    assert await _count(db, LabourOperation) == 0
    nav = html(await client.get("/lane")).select_one("nav")
    assert nav is not None
    assert nav.select_one('a[href="/catalogue"]') is None


async def test_a_manager_adds_a_part_and_sees_errors_under_the_fields(client, db, users) -> None:
    await sign_in(client, Role.SERVICE_MANAGER)
    lane = html(await client.get("/lane"))
    assert lane.select_one('nav a[href="/catalogue"]') is not None
    assert (await client.get("/catalogue")).headers["location"] == "/catalogue/labour"
    token = csrf_from(html(await client.get("/catalogue/parts/new")))
    bad = await client.post(
        "/catalogue/parts/new", data={**FILTER, "price": "-5", "_csrf_token": token}
    )
    assert bad.status_code == 422
    page = html(bad)
    assert page.select_one("[data-testid=error-price]").get_text(strip=True) != ""
    assert page.select_one("#f-price")["aria-invalid"] == "true"
    assert page.select_one("#f-name_zh")["value"] == "机油滤清器"
    assert await _count(db, Part) == 0
    good = await client.post("/catalogue/parts/new", data={**FILTER, "_csrf_token": token})
    assert good.status_code == 303
    part = await _part(db, "P-OILF")
    assert part is not None
    assert good.headers["location"] == f"/catalogue/parts/{part.id}?saved=1"
    listing = html(await client.get("/catalogue/parts?q=oil"))
    assert [r["data-code"] for r in listing.select("[data-testid=items] tbody tr")] == ["P-OILF"]
    fragment = html(await client.get("/catalogue/parts?q=nothing", headers={"HX-Request": "true"}))
    assert fragment.select_one("main") is None
    assert fragment.select_one("[data-testid=no-items]") is not None


async def test_an_htmx_edit_saves_in_place_or_names_the_field(client, db, users) -> None:
    op = await cat.create(db, cat.LABOUR, OIL, NOBODY)
    await db.commit()
    await sign_in(client, Role.ADMIN)
    token = csrf_from(html(await client.get(f"/catalogue/labour/{op.id}")))
    headers = {"HX-Request": "true", "x-csrftoken": token}
    url = f"/catalogue/labour/{op.id}"
    bad = await client.post(url, data={**OIL, "flat_rate_hours": "-2"}, headers=headers)
    assert bad.status_code == 422
    toast = json.loads(bad.headers["HX-Trigger"])["wa:toast"]
    assert toast["field"] == "flat_rate_hours"
    assert bad.headers["HX-Reswap"] == "none"
    unchanged = await _labour(db, "L-OIL")
    assert unchanged is not None
    assert unchanged.flat_rate_hours == Decimal("0.50")
    good = await client.post(url, data={**OIL, "flat_rate_hours": "0.7"}, headers=headers)
    assert good.status_code == 200
    form = html(good)
    assert form.select_one("[data-testid=saved]") is not None
    assert form.select_one("#f-flat_rate_hours")["value"] == "0.70"
    changed = await _labour(db, "L-OIL")
    assert changed is not None
    assert changed.flat_rate_hours == Decimal("0.70")


async def test_a_package_page_adds_and_removes_items(client, db, users) -> None:
    await cat.create(db, cat.LABOUR, OIL, NOBODY)
    package = await cat.create(db, cat.PACKAGES, SERVICE_5K, NOBODY)
    await db.commit()
    await sign_in(client, Role.SERVICE_MANAGER)
    token = csrf_from(html(await client.get(f"/catalogue/packages/{package.id}")))
    headers = {"HX-Request": "true", "x-csrftoken": token}
    added = await client.post(
        f"/catalogue/packages/{package.id}/items",
        data={"item_kind": "labour", "item_code": "l-oil ", "item_quantity": "1"}, headers=headers,
    )  # fmt: skip
    assert added.status_code == 422  # codes are matched exactly: l-oil is not L-OIL
    added = await client.post(
        f"/catalogue/packages/{package.id}/items",
        data={"item_kind": "labour", "item_code": "L-OIL", "item_quantity": "1"}, headers=headers,
    )  # fmt: skip
    assert added.status_code == 200
    region = html(added)
    assert [tr["data-code"] for tr in region.select("tbody tr")] == ["L-OIL"]
    assert "90" in region.select_one("[data-testid=package-total]").get_text()
    await db.rollback()
    stored = (await db.scalars(select(MenuPackage).execution_options(populate_existing=True))).one()
    entry_id = stored.items[0].id
    removed = await client.post(
        f"/catalogue/packages/{package.id}/items/{entry_id}/remove", data={"_csrf_token": token}
    )
    assert removed.status_code == 303
    await db.rollback()
    stored = (await db.scalars(select(MenuPackage).execution_options(populate_existing=True))).one()
    assert stored.items == []


async def _upload(client, token: str, content: bytes, kind: str = "labour"):  # type: ignore[no-untyped-def]
    return await client.post(
        "/catalogue/import", data={"kind": kind, "_csrf_token": token},
        files={"file": ("labour.csv", content, "text/csv")},
    )  # fmt: skip


async def test_the_upload_previews_bad_rows_and_imports_only_the_good_ones(
    client, db, users
) -> None:
    await cat.create(db, cat.LABOUR, OIL, NOBODY)
    await db.commit()
    await sign_in(client, Role.SERVICE_MANAGER)
    token = csrf_from(html(await client.get("/catalogue/import")))
    preview = await _upload(client, token, LABOUR_FILE.encode("gbk"))
    assert preview.status_code == 200
    page = html(preview)
    assert [tr["data-row"] for tr in page.select("[data-testid=row-errors] tbody tr")] == ["4", "5"]
    assert page.select_one("[data-testid=good-count] strong").get_text() == "2"
    assert (
        page.select_one("[data-testid=import-nothing]")["href"] == "/catalogue/import?kind=labour"
    )
    assert page.select_one("[data-testid=import-all]") is None
    button = page.select_one("[data-testid=import-good]")
    assert button["value"] == "good_rows_only"
    assert await _labour(db, "L-NEW") is None  # the preview changed nothing
    upload_id = page.select_one("input[name=upload_id]")["value"]
    # Insisting on all rows while some are bad imports nothing.
    refused = await client.post(
        "/catalogue/import/confirm",
        data={"upload_id": upload_id, "mode": "all_or_nothing", "_csrf_token": token},
    )
    assert refused.status_code == 422
    assert html(refused).select_one("[data-testid=form-error]") is not None
    assert await _labour(db, "L-NEW") is None
    done = await client.post(
        "/catalogue/import/confirm",
        data={"upload_id": upload_id, "mode": "good_rows_only", "_csrf_token": token},
    )
    assert done.status_code == 303
    assert done.headers["location"].startswith("/catalogue/labour?created=1&updated=1")
    oil = await _labour(db, "L-OIL")
    assert oil is not None
    assert oil.flat_rate_hours == Decimal("0.80")
    assert await _labour(db, "L-NEW") is not None
    assert await _count(db, LabourOperation) == 2
    listing = html(await client.get(done.headers["location"]))
    assert listing.select_one("[data-testid=import-done]") is not None


async def test_a_stale_or_tampered_preview_changes_nothing(client, db, users) -> None:
    await sign_in(client, Role.ADMIN)
    token = csrf_from(html(await client.get("/catalogue/import")))
    good_file = "code,name_zh,name_en,flat_rate_hours,labour_rate\nL-NEW,四轮定位,Alignment,1,180\n"
    page = html(await _upload(client, token, good_file.encode()))
    assert page.select_one("[data-testid=import-all]")["value"] == "all_or_nothing"
    upload_id = page.select_one("input[name=upload_id]")["value"]
    tampered = await client.post(
        "/catalogue/import/confirm",
        data={"upload_id": upload_id[:-2] + "xx", "mode": "all_or_nothing", "_csrf_token": token},
    )
    assert tampered.status_code == 409
    await cat.create(db, cat.LABOUR, {**OIL, "code": "L-NEW", "name_en": "Kept"}, NOBODY)
    await db.commit()
    stale = await client.post(
        "/catalogue/import/confirm",
        data={"upload_id": upload_id, "mode": "all_or_nothing", "_csrf_token": token},
    )
    assert stale.status_code == 409
    again = html(stale)
    assert again.select_one("[data-testid=notice]") is not None
    assert again.select_one("[data-testid=good-rows] .badge-info") is not None  # now an update
    kept = await _labour(db, "L-NEW")
    assert kept is not None
    assert kept.name_en == "Kept"
    assert await _actions(db) == ["catalogue_created"]


async def test_an_upload_without_a_file_or_with_an_unreadable_one_is_explained(
    client, db, users
) -> None:
    await sign_in(client, Role.ADMIN)
    token = csrf_from(html(await client.get("/catalogue/import")))
    empty = await _upload(client, token, b"")
    assert empty.status_code == 422
    assert html(empty).select_one("[data-testid=form-error]") is not None
    workbook = html(await _upload(client, token, b"PK\x03\x04 an xlsx", kind="parts"))
    assert workbook.select_one("[data-testid=file-errors]") is not None
    assert workbook.select_one("[data-testid=confirm]") is None


async def test_the_current_list_downloads_as_a_csv_that_imports_again(client, db, users) -> None:
    await cat.create(db, cat.PARTS, FILTER, NOBODY)
    await db.commit()
    await sign_in(client, Role.SERVICE_MANAGER)
    response = await client.get("/catalogue/export/parts")
    assert response.status_code == 200
    assert response.content.startswith(codecs.BOM_UTF8)
    assert "attachment" in response.headers["content-disposition"]
    report = csv_file.parse_csv("parts", response.content)
    assert [r.values["name_zh"] for r in report.good] == ["机油滤清器"]
    assert report.good[0].values["price"] == Decimal("48.00")


async def test_a_refused_plain_package_item_comes_back_as_typed(client, db, users) -> None:
    await cat.create(db, cat.LABOUR, OIL, NOBODY)
    package = await cat.create(db, cat.PACKAGES, SERVICE_5K, NOBODY)
    await db.commit()
    await sign_in(client, Role.SERVICE_MANAGER)
    token = csrf_from(html(await client.get(f"/catalogue/packages/{package.id}")))
    refused = await client.post(
        f"/catalogue/packages/{package.id}/items",
        data={"item_kind": "part", "item_code": "P-NONE", "item_quantity": "4",
              "_csrf_token": token},
    )  # fmt: skip
    assert refused.status_code == 422
    form = html(refused).select_one(f"form[action='/catalogue/packages/{package.id}/items']")
    assert form.select_one("input[name=item_kind][checked]")["value"] == "part"
    assert form.select_one("#item_quantity")["value"] == "4"
    code = form.select_one("#item_code")
    assert (code["value"], code["aria-invalid"]) == ("P-NONE", "true")
    assert "P-NONE" in form.select_one("#error-item_code").get_text()
    await db.rollback()
    stored = (await db.scalars(select(MenuPackage).execution_options(populate_existing=True))).one()
    assert stored.items == []

"""Names, plates and notes are stored as people read them: in normal form C, never with
a bidi override, a zero-width character or a NUL, which are refused with the field's
message and nothing stored."""

from __future__ import annotations

import json
import unicodedata

import pytest
from sqlalchemy import func, select

from app.i18n import _
from app.models import Customer, LabourOperation, Role, Vehicle
from app.services.catalogue import csv_file
from tests.checkin_helpers import fresh, started_check_in
from tests.conftest import csrf_token, html, sign_in

HIDDEN = "This field contains hidden or control characters. Please type it again."
WALK_IN = {"name": "周先生", "phone": "13800138000", "plate": "粤BA1234",
           "vin": "", "make": "Toyota", "model": "Camry"}  # fmt: skip


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "周\u202e先生"),  # right-to-left override
        ("plate", "粤B\u200bA1234"),  # zero-width space
        ("phone", "138\x0013800138"),
        ("model", "Cam\u2066ry"),  # bidi isolate
        ("name", "周先生\n"),  # a name is one line
    ],
)
async def test_walk_in_refuses_hidden_characters_by_field_and_keeps_the_form(
    client, db, users, field, value
) -> None:
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client, "/walk-in/new")
    response = await client.post(
        "/walk-in/new", data={**WALK_IN, field: value, "_csrf_token": token}
    )
    assert response.status_code == 422
    page = html(response)
    assert page.select_one(f"#error-{field}").get_text(strip=True) == _(HIDDEN)
    assert page.select_one(f"#{field}")["aria-invalid"] == "true"
    assert page.select_one("#make")["value"] == "Toyota"
    assert await db.scalar(select(func.count(Customer.id))) == 0
    assert await db.scalar(select(func.count(Vehicle.id))) == 0


async def test_a_name_typed_decomposed_is_stored_composed(client, db, users) -> None:
    decomposed = "Rene\u0301 Dupont"  # e + combining acute, as some keyboards send it
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client, "/walk-in/new")
    response = await client.post(
        "/walk-in/new", data={**WALK_IN, "name": decomposed, "_csrf_token": token}
    )
    assert response.status_code == 303
    name = await db.scalar(select(Customer.name))
    assert name == "René Dupont" == unicodedata.normalize("NFC", decomposed)
    assert len(name) == len(decomposed) - 1
    # Found again however the search is typed.
    for typed in ("Rene\u0301", "René"):
        found = html(await client.get("/walk-in", params={"q": typed}))
        assert len(found.select("[data-testid=results] > li")) == 1, typed


async def test_a_check_in_note_with_a_nul_is_refused_and_a_multi_line_note_kept(
    client, db, settings, users
) -> None:
    check_in_id = await started_check_in(db, settings, users)
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client, f"/check-ins/{check_in_id}/covers")
    url = f"/check-ins/{check_in_id}/covers/save"
    headers = {"HX-Request": "true", "x-csrftoken": token}
    refused = await client.post(
        url, data={"version": "1", "covers_skip_reason": "客户\x00拒绝"}, headers=headers
    )
    assert refused.status_code == 422
    toast = json.loads(refused.headers["HX-Trigger"])["wa:toast"]
    assert (toast["message"], toast["field"]) == (_(HIDDEN), "covers_skip_reason")
    assert refused.headers["HX-Reswap"] == "none"  # the field keeps what was typed
    check_in = await fresh(db, check_in_id)
    assert (check_in.covers_skip_reason or "", check_in.version) == ("", 1)
    # Line breaks are text: a note over two lines saves.
    saved = await client.post(
        url, data={"version": "1", "covers_skip_reason": "客户拒绝\r\n自带座套"}, headers=headers
    )
    assert saved.status_code == 200
    await db.rollback()
    kept = (await fresh(db, check_in_id)).covers_skip_reason
    assert kept.splitlines() == ["客户拒绝", "自带座套"]


async def test_a_catalogue_name_with_a_bidi_override_is_refused_in_the_form_and_the_import(
    client, db, users
) -> None:
    await sign_in(client, Role.SERVICE_MANAGER)
    token = await csrf_token(client, "/catalogue/labour/new")
    response = await client.post(
        "/catalogue/labour/new",
        data={"code": "L-X", "name_zh": "更换\u202e机油", "name_en": "Oil",
              "flat_rate_hours": "1", "labour_rate": "180", "_csrf_token": token},
    )  # fmt: skip
    assert response.status_code == 422
    assert _(HIDDEN) in html(response).get_text()
    assert await db.scalar(select(func.count(LabourOperation.id))) == 0
    report = csv_file.parse_csv(
        "labour",
        (
            "code,name_zh,name_en,flat_rate_hours,labour_rate\n"
            "L-Y,机\u200b油,Oil,1,180\n"
            "L-Z,机油,\u202eliO,1,180\n"
        ).encode(),
    )
    assert report.good == []
    assert {e.message for row in report.rows for e in row.errors} == {_(HIDDEN)}

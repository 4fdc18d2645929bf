from __future__ import annotations

import copy
import hashlib
import io
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.config import Config
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from app.errors import StorageUnavailable
from app.i18n import Formatter, locale_as
from app.models import Role
from app.services.documents import work_order_pdf
from app.services.photos.store import thumb_key
from app.services.storage.configured import open_store
from app.services.verify import customer as customer_verify
from tests.conftest import STORES, settings_on_each_store, sign_in
from tests.estimate_helpers import order, priced_estimate, signature, signed_order

pytestmark = pytest.mark.http_layer

# The local folder unless a test asks for both stores.
fx_settings = pytest.fixture(name="settings", params=["local"])(settings_on_each_store)


def words(text: str) -> str:
    """Whitespace collapsed: a PDF holds lines, not paragraphs, and Babel uses narrow
    no-break spaces (12:30\u202fPM) that come back out as plain ones."""
    return " ".join(text.split())


def pdf_text(pdf: bytes) -> str:
    return words(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))


def font_files(pdf: bytes) -> dict[str, bool]:
    """Every font the pages use, and whether its program is embedded."""
    found: dict[str, bool] = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        resources: Any = page["/Resources"].get_object()
        fonts = resources.get("/Font", DictionaryObject()).get_object()
        for ref in fonts.values():
            font = ref.get_object()
            described = (
                font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            )
            descriptor = described["/FontDescriptor"].get_object()
            found[str(font["/BaseFont"])] = any(
                key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")
            )
    return found


def image_count(pdf: bytes) -> int:
    # Pages share one resource dictionary: count each image once.
    return len({image.name for page in PdfReader(io.BytesIO(pdf)).pages for image in page.images})


def as_shown(settings: Any, locale: str, content: dict[str, Any]) -> tuple[str, str]:
    """The total and the promised time as the customer's copy formats them."""
    fmt = Formatter(settings.timezone, content["order"]["currency"])
    with locale_as(locale):
        return (
            words(fmt.money(Decimal(content["totals"]["total"]))),
            words(fmt.datetime(datetime.fromisoformat(content["promised_at"]), "medium")),
        )


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
async def test_the_pdf_shows_what_the_customer_signed_in_their_language(
    db, settings, users, locale
) -> None:
    _order_id, signature_id = await signed_order(db, settings, users, locale=locale)
    sig = await signature(db, signature_id)
    content = json.loads(sig.content)

    pdf = await work_order_pdf.render_async(sig, content, open_store(settings), settings)

    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    assert content["order"]["number"] in text
    name_key = "name_zh" if locale == "zh_CN" else "name_en"
    lines = [line for job in content["jobs"] for line in job["lines"]]
    assert lines
    for line in lines:
        assert line["code"] in text
        assert words(line[name_key]) in text
    total, promised = as_shown(settings, locale, content)
    assert total in text
    assert promised in text
    assert sig.content_hash in text
    # The customer's own verify link (the staff /verify page needs a sign-in).
    assert customer_verify.url(settings, sig.id) in text.replace(" ", "")
    assert sig.signer_name in text


async def test_the_chinese_copy_is_titled_in_chinese(db, settings, users) -> None:
    # Needs the msgid "Service work order" from /tmp/tr/pdf.json in the zh_CN catalogue.
    _order_id, signature_id = await signed_order(db, settings, users, locale="zh_CN")
    sig = await signature(db, signature_id)
    pdf = work_order_pdf.render(sig, json.loads(sig.content), open_store(settings), settings)
    assert "维修委托书" in pdf_text(pdf)


async def test_every_font_is_embedded_so_chinese_prints_anywhere(db, settings, users) -> None:
    _order_id, signature_id = await signed_order(db, settings, users)
    sig = await signature(db, signature_id)

    fonts = font_files(work_order_pdf.render(sig, json.loads(sig.content), open_store(settings),
                                             settings))  # fmt: skip

    assert fonts, "the PDF uses no fonts"
    assert all(fonts.values()), fonts
    # One family for every script, diagram labels included: no fallback font anywhere.
    assert all("Noto-Sans-CJK-SC" in name for name in fonts), fonts


@pytest.mark.parametrize("settings", STORES, indirect=True)
async def test_photo_thumbnails_are_embedded_and_missing_files_are_left_out(
    db, settings, users
) -> None:
    _order_id, signature_id = await signed_order(db, settings, users)
    sig = await signature(db, signature_id)
    content = copy.deepcopy(json.loads(sig.content))
    stored = []
    for colour in ("red", "blue"):
        buffer = io.BytesIO()
        Image.new("RGB", (320, 240), colour).save(buffer, "JPEG")
        sha = hashlib.sha256(buffer.getvalue()).hexdigest()
        open_store(settings).put(thumb_key(sha), buffer.getvalue())
        stored.append(sha)
    content["check_in"]["photos"] = [
        {"position": "front", "damage_mark": None, "sha256": stored[0]},
        {"position": "", "damage_mark": 0, "sha256": stored[1]},
        {"position": "rear", "damage_mark": None, "sha256": "0" * 64},  # file gone
    ]

    pdf = work_order_pdf.render(sig, content, open_store(settings), settings)

    assert image_count(pdf) == 4  # two thumbnails, the signature and the verify QR code


@pytest.mark.parametrize("settings", ["s3"], indirect=True)
async def test_a_bucket_out_of_reach_gives_no_copy_rather_than_one_without_its_photos(
    db, settings, users, monkeypatch
) -> None:
    _order_id, signature_id = await signed_order(db, settings, users)
    sig = await signature(db, signature_id)
    content = copy.deepcopy(json.loads(sig.content))
    content["check_in"]["photos"] = [{"position": "front", "damage_mark": None, "sha256": "a" * 64}]
    store = open_store(settings)
    dead = boto3.client("s3", endpoint_url="http://127.0.0.1:9", region_name="us-east-1",
                        config=Config(retries={"max_attempts": 1}))  # fmt: skip
    monkeypatch.setattr(store, "client", dead)

    with pytest.raises(StorageUnavailable) as refused:
        work_order_pdf.render(sig, content, store, settings)
    assert refused.value.status_code == 503


async def test_an_advisor_downloads_the_pdf_as_an_attachment(client, db, settings, users) -> None:
    order_id, _signature_id = await signed_order(db, settings, users, locale="en")
    number = (await order(db, order_id)).number
    await sign_in(client, Role.ADVISOR)

    response = await client.get(f"/work-orders/{order_id}/pdf")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert f'filename="work-order-{number}.pdf"' in disposition
    assert number in pdf_text(response.content)


async def test_an_unsigned_order_has_no_pdf(client, db, settings, users) -> None:
    order_id = await priced_estimate(db, settings, users)
    await sign_in(client, Role.ADVISOR)

    response = await client.get(f"/work-orders/{order_id}/pdf")

    assert response.status_code == 404


async def test_a_technician_cannot_download_the_customers_copy(client, db, settings, users) -> None:
    order_id, _signature_id = await signed_order(db, settings, users)
    await sign_in(client, Role.TECHNICIAN)

    response = await client.get(f"/work-orders/{order_id}/pdf")

    assert response.status_code == 403

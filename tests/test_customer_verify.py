"""The customer checks their signed copy without a staff sign-in: the link and QR
code on the copy open `/v/{token}`, which shows that order's signed records as
intact or lists what changed, in the signer's language, and nothing else."""

from __future__ import annotations

import io
import json
import re

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select, text

from app.i18n import locale_as
from app.models import Job, JobLine, Role, Signature, SignatureKind
from app.models.base import utcnow
from app.services.delivery import acceptance as delivery_signing
from app.services.documents import work_order_pdf
from app.services.signing import content as signed_content
from app.services.signing.content import _flatten
from app.services.storage.configured import open_store
from app.services.supplements import added_work as supplements
from app.services.supplements import signed as supplement_signing
from app.services.verify import customer as customer_verify
from app.services.verify import view as verify_view
from tests.conftest import TEST_SECRET, html, sign_in
from tests.estimate_helpers import advisor, signature, signed_order
from tests.test_delivery import ready_to_sign, sign
from tests.workshop_helpers import decide_supplement, draft_supplement

pytestmark = pytest.mark.http_layer

TOKEN = re.compile(r"^\d+\.[A-Za-z0-9_-]{22}$")


# -- the token ---------------------------------------------------------------------------


def test_a_token_names_one_signature_and_cannot_be_guessed_or_moved() -> None:
    token = customer_verify.token(TEST_SECRET, 42)
    assert TOKEN.match(token), token  # 128 bits of HMAC after the id
    assert customer_verify.signature_id(TEST_SECRET, token) == 42
    number, mac = token.split(".")
    forged = [
        f"43.{mac}",  # another record with this record's code
        f"{number}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}",  # one character off
        number,
        f"{number}.",
        f"{number}.{mac}{mac}",
        "０４２." + mac,  # full-width digits
        "x" * 500,
        f"-1.{mac}",
    ]
    for raw in forged:
        assert customer_verify.signature_id(TEST_SECRET, raw) is None, raw
    # Another dealership's secret gives another code.
    assert customer_verify.token("s" * 48, 42) != token
    assert customer_verify.signature_id("s" * 48, token) is None


# -- the customer's page -------------------------------------------------------------------


async def test_the_customer_sees_their_record_intact_without_signing_in(
    client, db, settings, users
) -> None:
    _order_id, signature_id = await signed_order(db, settings, users, locale="zh_CN")
    sig = await signature(db, signature_id)
    url = customer_verify.url(settings, signature_id)

    response = await client.get(url.removeprefix(settings.public_url))

    assert response.status_code == 200, response.text
    assert "no-store" in response.headers["cache-control"]
    page = html(response)
    assert page.html["lang"].startswith("zh")
    # No staff navigation, no sign-out, no link into the app.
    assert page.select("nav[aria-label]:not(.lang-links)") == []
    assert page.select("a[href^='/lane'], a[href^='/work-orders'], form[action='/sign-out']") == []
    result = page.select_one("[data-testid=customer-verify]")
    assert result["data-intact"] == "true"
    [record] = page.select("[data-testid=customer-record]")
    assert record["data-kind"] == "work_order"
    assert sig.content_hash in record.get_text()
    assert "完好" in record.get_text()
    content = json.loads(sig.content)
    assert content["order"]["number"] in page.get_text()
    # The customer's phone number and address are not repeated on the page.
    assert content["customer"]["phone"]
    assert content["customer"]["phone"] not in page.get_text()


async def test_a_tampered_record_shows_the_customer_what_changed(
    client, db, settings, users
) -> None:
    order_id, signature_id = await signed_order(db, settings, users, locale="zh_CN")
    line_id = await db.scalar(
        select(JobLine.id).join(Job).where(Job.work_order_id == order_id).order_by(JobLine.id)
    )
    # As someone with database access would, bypassing the app.
    await db.execute(text("UPDATE job_line SET unit_price = 1 WHERE id = :id"), {"id": line_id})
    await db.commit()
    url = customer_verify.url(settings, signature_id)

    page = html(await client.get(url.removeprefix(settings.public_url)))

    assert page.select_one("[data-testid=customer-verify]")["data-intact"] == "false"
    changes = {
        row["data-path"]: [td.get_text(strip=True) for td in row.select("td")]
        for row in page.select("[data-testid=customer-change]")
    }
    assert "jobs[0].lines[0].unit_price" in changes
    field, signed, now = changes["jobs[0].lines[0].unit_price"]
    assert field == "维修项目 1 › 明细 1 › 单价"
    assert now == "¥1.00"
    assert signed.startswith("¥")
    assert signed != now
    assert "totals.total" in changes
    # In the signer's language throughout: no English field name is left.
    assert not any(re.search(r"[A-Za-z]{3,}", f) for f, _s, _n in changes.values()), changes


async def test_the_page_covers_added_work_and_the_delivery_with_its_qc_report(
    client, db, settings, users
) -> None:
    order_id = await ready_to_sign(db, settings, users)
    delivered = await sign(db, settings, users, order_id)
    await db.commit()
    anchor = await db.scalar(
        select(Signature).where(
            Signature.work_order_id == order_id, Signature.kind == SignatureKind.WORK_ORDER.value
        )
    )
    assert anchor is not None
    url = customer_verify.url(settings, anchor.id)

    page = html(await client.get(url.removeprefix(settings.public_url)))

    kinds = [r["data-kind"] for r in page.select("[data-testid=customer-record]")]
    assert kinds == ["work_order", "delivery"]
    qc = page.select_one("[data-testid=customer-qc-report]")
    assert qc is not None
    assert len(qc.select("li.ticked")) == len(json.loads(delivered.content)["final_check"]["items"])
    # The token of the delivery signature itself opens nothing: only the copy's token does.
    other = customer_verify.url(settings, delivered.id).removeprefix(settings.public_url)
    assert (await client.get(other)).status_code == 404


@pytest.mark.parametrize("token", ["1.AAAAAAAAAAAAAAAAAAAAAA", "nonsense", "9" * 40])
async def test_a_wrong_token_gets_a_plain_404_for_the_customer(
    client, db, settings, users, token
) -> None:
    await signed_order(db, settings, users)
    response = await client.get(f"/v/{token}")
    assert response.status_code == 404
    page = html(response)
    assert page.select_one("[data-testid=customer-verify-missing]") is not None
    assert page.select("nav[aria-label]:not(.lang-links), form[action='/sign-out']") == []


async def test_every_field_of_every_signed_record_has_a_name_in_both_languages(
    db, settings, users
) -> None:
    order_id = await ready_to_sign(db, settings, users)
    supplement_id = await draft_supplement(db, users, order_id)
    supplement, wo = await supplements.get(db, supplement_id)
    await supplements.send(db, supplement, wo, "tablet", settings, advisor(users), utcnow())
    await db.commit()
    await decide_supplement(db, settings, users, supplement_id, approve=False)
    await sign(db, settings, users, order_id)
    await db.commit()
    contents = [
        json.loads(s.content)
        for s in (await db.scalars(select(Signature).where(Signature.work_order_id == order_id)))
    ]
    assert {c["schema"] for c in contents} == {
        signed_content.WORK_ORDER_SCHEMA, supplement_signing.SUPPLEMENT_SCHEMA,
        delivery_signing.DELIVERY_SCHEMA,
    }  # fmt: skip
    for locale, unknown in (("zh_CN", "其他信息"), ("en", "Other detail")):
        with locale_as(locale):
            names = {p: verify_view.field_name(p) for c in contents for p in _flatten(c)}
        assert not [p for p, name in names.items() if unknown in name], locale


# -- the copy carries the link -------------------------------------------------------------


async def test_the_pdf_carries_the_link_and_a_qr_code_that_decodes_to_it(
    db, settings, users
) -> None:
    _order_id, signature_id = await signed_order(db, settings, users)
    sig = await signature(db, signature_id)
    url = customer_verify.url(settings, signature_id)

    pdf = await work_order_pdf.render_async(
        sig, json.loads(sig.content), open_store(settings), settings
    )

    reader = PdfReader(io.BytesIO(pdf))
    text_ = " ".join("".join(p.extract_text().split()) for p in reader.pages)
    assert url in text_
    # Pages share one resource dictionary: each image once.
    images = {image.name: image.data for page in reader.pages for image in page.images}
    decoded = [
        found.text
        for data in images.values()
        for found in zxingcpp.read_barcodes(Image.open(io.BytesIO(data)))
    ]
    assert decoded == [url]


async def test_the_thanks_page_shows_the_qr_code_and_link(client, db, settings, users) -> None:
    order_id, signature_id = await signed_order(db, settings, users)
    await sign_in(client, Role.ADVISOR)
    page = html(await client.get(f"/review/{order_id}/thanks"))
    link = page.select_one("[data-testid=customer-verify-link]")
    assert link["href"] == customer_verify.url(settings, signature_id)
    svg = page.select_one("[data-testid=verify-qr] svg")
    assert svg is not None
    assert svg.select("path")

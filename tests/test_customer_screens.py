"""The customer's screens: the review opens at what they must agree to, the photos in
walkaround order with their captions, labour in hours and the tax rate, and the copy that
leaves with them (QR code, PDF without a staff sign-in, text message and e-mail)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.i18n import _, locale_as
from app.models import OutboundMessage, Role, Signature, SignatureKind
from app.models.base import utcnow
from app.services.check_in.view import labels
from app.services.documents import work_order_pdf
from app.services.photos import receive as photos
from app.services.signing import signatures
from app.services.storage.configured import open_store
from app.services.verify import customer as customer_verify
from app.services.verify import qr
from app.settings import Settings
from tests.conftest import csrf_token, html, sign_in
from tests.estimate_helpers import advisor, ink, order, price_every_concern
from tests.workshop_helpers import check_in_of, checked_in_order, hx, jpeg, toast

# Nothing here depends on the database's kind: one backend keeps the suite in its budget.
pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

# Taken out of the walkaround's order on purpose: the customer sees them in its order.
TAKEN = ("rear", "dashboard", "front", "left")
WALKED = ["front", "rear", "left", "dashboard"]


async def _estimate_with_photos(db: AsyncSession, settings: Settings, users: Any) -> int:
    """A checked-in car, photos taken out of order plus one of the damage mark, priced with
    labour and a part, a promised time; committed."""
    order_id = await checked_in_order(db, settings, users, photo_positions=TAKEN)
    check_in = await check_in_of(db, order_id)
    await photos.receive(
        db, check_in, client_id=uuid.uuid4().hex, position="",
        damage_mark_id=str(check_in.damage_marks[0].id), data=jpeg(42),
        store=open_store(settings), actor=advisor(users),
    )  # fmt: skip
    await db.commit()
    wo = await order(db, order_id)
    actor = advisor(users)
    await price_every_concern(db, settings, wo, actor)
    return order_id


async def _in_customer_mode(
    client: Any, order_id: int, locale: str = "en", *, signed_in: bool = False
) -> str:
    """The advisor hands the tablet over; the customer picks a language. The CSRF token."""
    if not signed_in:
        await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client, f"/work-orders/{order_id}/estimate")
    entered = await client.post(f"/work-orders/{order_id}/customer-mode", headers=hx(token))
    assert entered.headers["location"] == f"/review/{order_id}", entered.text
    chose = await client.post(
        f"/review/{order_id}/language", data={"locale": locale}, headers=hx(token)
    )
    assert chose.status_code in (200, 201), chose.text
    return token


async def _customer_signs(client: Any, db: AsyncSession, order_id: int, token: str) -> None:
    strokes, image = ink()
    version = (await order(db, order_id)).version
    signed = await client.post(
        f"/review/{order_id}/sign",
        data={"signer_name": "王先生", "strokes": strokes, "image": image,
              "version": str(version)},
        headers=hx(token),
    )  # fmt: skip
    assert signed.status_code in (200, 201), signed.text


async def test_the_review_opens_at_the_summary_with_the_details_folded(
    client, db, settings, users
) -> None:
    order_id = await _estimate_with_photos(db, settings, users)
    await _in_customer_mode(client, order_id)
    page = html(await client.get(f"/review/{order_id}"))
    wo = await order(db, order_id)

    summary = page.select_one("[data-testid=review-summary]")
    text = summary.get_text(" ", strip=True)
    assert wo.vehicle.plate in text
    check_in = await check_in_of(db, order_id)
    assert next(c.customer_words for c in check_in.concerns) in text
    total = summary.select_one("[data-testid=review-total]").get_text(strip=True)
    assert "¥" in total, total
    assert "13%" in text  # the tax rate beside the total
    assert summary.select_one("[data-testid=review-promised]").get_text(strip=True)
    # The details are a tap away, folded; what the customer must do (consents, sign) is not.
    folded = page.select("details.review-more")
    assert len(folded) >= 3
    assert all(not d.has_attr("open") for d in folded)
    assert page.select_one("[data-testid=consents]").find_parent("details") is None
    assert page.select_one("[data-testid=sign]").find_parent("details") is None
    # The last thing on the page is the signature.
    assert page.select("form")[-1].select_one("[data-testid=sign]") is not None


async def test_the_photos_come_in_walkaround_order_with_their_captions(
    client, db, settings, users
) -> None:
    order_id = await _estimate_with_photos(db, settings, users)
    await _in_customer_mode(client, order_id)
    page = html(await client.get(f"/review/{order_id}"))
    shown = page.select("[data-testid=review-gallery] a[data-viewer]")
    with locale_as("en"):
        names = labels()["positions"]
        expected = [names[p] for p in WALKED] + [_("Damage %(n)s", n=1)]
    assert [a["data-caption"] for a in shown] == expected
    assert all(a["href"].endswith("/display") for a in shown)  # works without the script
    assert [a.select_one("img")["alt"] for a in shown] == expected
    # The viewer's script is loaded from a file (the CSP allows no inline script).
    assert page.select_one("script[src*='photo-viewer']") is not None


async def test_labour_is_in_hours_and_the_tax_rate_is_shown(client, db, settings, users) -> None:
    order_id = await _estimate_with_photos(db, settings, users)
    await sign_in(client, Role.ADVISOR)
    estimate = html(await client.get(f"/work-orders/{order_id}/estimate"))
    assert estimate.select_one("[data-testid=labour-unit]").get_text(strip=True) == "小时"
    await _in_customer_mode(client, order_id, locale="zh_CN", signed_in=True)
    review = html(await client.get(f"/review/{order_id}"))
    quantities = [q.get_text(strip=True) for q in review.select("[data-testid=line-quantity]")]
    assert any(q.endswith("小时") for q in quantities), quantities
    assert any(not q.endswith("小时") for q in quantities), quantities  # the part: a count
    tax = review.select_one("[data-testid=review-tax-rate]").get_text(strip=True)
    assert tax == "税费（13%）", tax


async def test_the_pdf_shows_the_photos_in_walkaround_order_with_captions(
    db, settings, users
) -> None:
    order_id = await _estimate_with_photos(db, settings, users)
    wo = await order(db, order_id)
    strokes, image = ink()
    sig = await signatures.sign_work_order(
        db, wo, signer_name="王先生", strokes_json=strokes, image_data_url=image,
        locale="en", currency=settings.currency, version=wo.version,
        actor=advisor(users), now=utcnow(),
    )  # fmt: skip
    await db.commit()
    content = json.loads(sig.content)
    assert [p["position"] for p in content["check_in"]["photos"]][:4] == list(TAKEN)
    with locale_as("en"):
        shown = work_order_pdf._photos(content["check_in"], open_store(settings))
        names = labels()["positions"]
        expected = [names[p] for p in WALKED] + [_("Damage %(n)s", n=1)]
    assert [p["caption"] for p in shown] == expected


async def test_the_thanks_page_gives_the_copy_that_works_without_sign_in(
    client, db, settings, users
) -> None:
    order_id = await _estimate_with_photos(db, settings, users)
    token = await _in_customer_mode(client, order_id)
    await _customer_signs(client, db, order_id, token)
    thanks = html(await client.get(f"/review/{order_id}/thanks"))
    await db.rollback()
    sig = await db.scalar(
        select(Signature).where(
            Signature.work_order_id == order_id, Signature.kind == SignatureKind.WORK_ORDER.value
        )
    )
    assert sig is not None
    link = thanks.select_one("[data-testid=customer-verify-link]")["href"]
    assert link == customer_verify.url(settings, sig.id)
    assert thanks.select_one("[data-testid=customer-verify-link]").get_text() == link
    # The QR code is the same drawing as the code of that very link.
    drawn = thanks.select_one("[data-testid=verify-qr] svg")
    made = BeautifulSoup(str(qr.svg(link, "x")), "html.parser").select_one("svg")
    assert drawn.select_one("path")["d"] == made.select_one("path")["d"]
    pdf_link = thanks.select_one("[data-testid=customer-pdf-link]")["href"]
    assert pdf_link == f"{link}/pdf"

    # On the customer's phone: no staff cookie at all.
    path = link.removeprefix(settings.public_url)
    client.cookies.clear()
    checked = await client.get(path)
    assert checked.status_code == 200
    assert html(checked).select_one("[data-testid=customer-verify]")["data-intact"] == "true"
    pdf = await client.get(f"{path}/pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    # A guessed token (another order's number, a changed code) opens nothing.
    number, _dot, mac = path.removeprefix("/v/").partition(".")
    guessed = [f"{int(number) + 1}.{mac}", f"{number}.{'A' * len(mac)}", number]
    for fake in guessed:
        assert (await client.get(f"/v/{fake}/pdf")).status_code == 404, fake
        assert (await client.get(f"/v/{fake}")).status_code == 404, fake


async def test_the_copy_goes_by_text_message_and_e_mail_through_the_outbox(
    client, db, settings, users
) -> None:
    order_id = await _estimate_with_photos(db, settings, users)
    token = await _in_customer_mode(client, order_id)
    await _customer_signs(client, db, order_id, token)
    thanks = html(await client.get(f"/review/{order_id}/thanks"))
    phone = thanks.select_one("[data-testid=send-sms] input[name=phone]")
    assert phone["value"]  # the number on file, ready to send

    short = await client.post(
        f"/review/{order_id}/send-copy", data={"channel": "sms", "phone": "1234567"},
        headers=hx(token),
    )  # fmt: skip
    assert short.status_code == 422
    assert toast(short)["field"] == "phone"
    await db.rollback()
    assert (await db.scalars(select(OutboundMessage))).all() == []

    texted = await client.post(
        f"/review/{order_id}/send-copy", data={"channel": "sms", "phone": "138 0013 8000"},
        headers=hx(token),
    )  # fmt: skip
    assert texted.status_code == 200, texted.text
    assert toast(texted)["level"] == "ok"
    mailed = await client.post(
        f"/review/{order_id}/send-copy",
        data={"channel": "email", "email": "wang@example.com"},
        headers=hx(token),
    )
    assert mailed.status_code == 200, mailed.text
    await db.rollback()
    sig = await db.scalar(select(Signature).where(Signature.work_order_id == order_id))
    assert sig is not None
    sent = {m.channel: m for m in (await db.scalars(select(OutboundMessage))).all()}
    assert sent["sms"].recipient == "13800138000"
    assert customer_verify.url(settings, sig.id) in sent["sms"].body
    assert sent["sms"].work_order_id == order_id
    assert sent["email"].recipient == "wang@example.com"
    assert sent["email"].attachment_name.endswith(".pdf")
    assert customer_verify.url(settings, sig.id) in sent["email"].body

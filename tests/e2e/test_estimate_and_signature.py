"""The estimate and the customer's signature, end to end on the tablet with touch.

From the end of 5W2H through the estimate (catalogue search as you type, totals, promised
time), the customer's review in zh-CN with a signature drawn with real touch events (and
kept through a rotation), the advisor's password to leave customer mode, the signed PDF
downloaded and read, the verify page intact; added work approved through the SMS link on
the customer's phone, the used link and an expired link refused; and last, a row altered
behind the app's back, which the verify page then shows.
"""

from __future__ import annotations

import re
from datetime import datetime as Datetime
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Request, expect
from pypdf import PdfReader

from tests.e2e.conftest import DEMO_PASSWORD, VIEWPORTS
from tests.e2e.flows import (
    SWALLOWED_TAPS,
    Shot,
    complete_check_in,
    execute,
    money,
    order_of_check_in,
    posted,
    query,
    sign_on,
    signatures_of,
    snap,
    stroke_points,
    tap,
    toast,
)
from tests.e2e.flows import add_hit as _add_hit
from tests.e2e.flows import consents as _consents
from tests.e2e.flows import estimate as _estimate
from tests.e2e.flows import open_estimate as _open_estimate

HASH = re.compile(r"^[0-9a-f]{64}$")
CJK = re.compile(r"[\u4e00-\u9fff]")
# What the customer's phone looks like to the approval link.
PHONE = {"width": 390, "height": 844}


# --- small helpers -------------------------------------------------------------------------


def inked_pixels(pad: Locator) -> int:
    """How many pixels of the canvas carry ink (signature_pad's background is transparent)."""
    return pad.locator("canvas").evaluate(
        """c => {
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
            return n;
        }"""
    )


def rotate(page: Page, orientation: str) -> None:
    """Turn the tablet: the viewport swaps its sides (and the page hears orientationchange,
    as on a real tablet)."""
    size = VIEWPORTS[orientation]
    page.set_viewport_size(size)
    page.wait_for_function("w => window.innerWidth === w", arg=size["width"])
    page.evaluate("window.dispatchEvent(new Event('orientationchange'))")


def approval_token(db: Path, order_id: int) -> str:
    """The link of the newest SMS to the customer about this order (the outbox table)."""
    rows = query(
        db,
        "SELECT channel, recipient, body FROM outbound_message WHERE work_order_id = ? "
        "ORDER BY id DESC LIMIT 1",
        order_id,
    )
    assert rows, "no message in the outbox"
    channel, recipient, body = rows[0]
    assert channel == "sms"
    assert re.fullmatch(r"1\d{10}", recipient), recipient
    match = re.search(r"/approve/([A-Za-z0-9_\-]+)", body)
    assert match, f"no approval link in the SMS: {body!r}"
    assert CJK.search(body), f"the SMS is not in the customer's language: {body!r}"
    return match.group(1)


def status_of(response: Any) -> int | None:
    return response.status if response is not None else None


def phone_context(browser: Browser, live_server: str) -> BrowserContext:
    """The customer's own phone: no staff session, touch, a phone-sized screen."""
    context = browser.new_context(
        viewport=PHONE,
        screen=PHONE,
        has_touch=True,
        is_mobile=True,
        device_scale_factor=3,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        base_url=live_server,
    )
    context.set_default_timeout(10_000)
    return context


# --- the steps -----------------------------------------------------------------------------


def _review_before_signing(page: Page, order_id: int, estimate: dict[str, Any]) -> None:
    expect(page).to_have_url(re.compile(rf"/review/{order_id}$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    review = page.get_by_test_id("customer-review")
    expect(review.locator("h1")).to_have_text("请核对您的维修委托书")
    review_total = page.get_by_test_id("review-total")
    expect(review_total).to_have_text(estimate["total_text"])
    assert review_total.inner_text().startswith("¥")
    lines = page.get_by_test_id("review-lines")
    expect(lines).to_contain_text("更换机油及机滤")
    expect(lines).to_contain_text("全合成机油 5W-30 4L")
    expect(page.get_by_test_id("sign")).to_have_text("签署委托书")
    # The staff screens are locked while the customer holds the tablet.
    page.goto("/lane")
    expect(page).to_have_url(re.compile(rf"/review/{order_id}$"))
    page.goto(f"/work-orders/{order_id}")
    expect(page).to_have_url(re.compile(rf"/review/{order_id}$"))


def _empty_pad_is_refused_on_the_tablet(page: Page, db: Path, order_id: int) -> None:
    """Sign with nothing on the pad: the tablet refuses and sends nothing."""
    pad = page.get_by_test_id("signature-pad")
    assert stroke_points(pad) == []
    sent: list[Request] = []
    page.on("request", lambda r: sent.append(r) if r.url.endswith("/sign") else None)
    tap(page.get_by_test_id("sign"))
    expect(pad.locator("[data-signature-hint]")).to_be_visible()
    expect(pad.locator("[data-signature-hint]")).to_have_text("请在框内签上您的名字。")
    page.wait_for_timeout(500)
    assert sent == [], "an empty signature was sent to the server"
    expect(page).to_have_url(re.compile(rf"/review/{order_id}$"))
    assert signatures_of(db, order_id) == []


def _empty_signature_is_refused_by_the_server(page: Page, db: Path, order_id: int) -> None:
    """The same for a client that skips the pad's own check (consents answered by now)."""
    answer = page.evaluate(
        """async (url) => {
            const csrf = JSON.parse(document.body.getAttribute('hx-headers'))['x-csrftoken'];
            const body = new URLSearchParams({
                version: document.getElementById('version').value,
                signer_name: 'x', strokes: '[]', image: '',
            });
            const r = await fetch(url, {method: 'POST', body,
                headers: {'x-csrftoken': csrf, 'HX-Request': 'true'}});
            return {status: r.status, text: await r.text()};
        }""",
        f"/review/{order_id}/sign",
    )
    assert answer["status"] == 422, answer
    assert answer["text"] == "请在框内签名。", answer
    assert signatures_of(db, order_id) == []
    assert query(db, "SELECT signed_at FROM work_order WHERE id = ?", order_id) == [(None,)]


def _sign_and_rotate(page: Page, shot: Shot) -> None:
    """Draw with touch in portrait, turn the tablet, and the ink is still there."""
    pad = page.get_by_test_id("signature-pad")
    sign_on(page, pad)
    expect(pad.locator("[data-signature-hint]")).to_be_hidden()
    before = stroke_points(pad)
    width_before = pad.locator("canvas").bounding_box()["width"]
    ink_before = inked_pixels(pad)
    assert ink_before > 500, ink_before
    snap(shot, page, "review-signed-portrait")

    rotate(page, "landscape")
    page.wait_for_function(
        "w => document.querySelector('[data-signature] canvas').getBoundingClientRect().width"
        " !== w",
        arg=width_before,
    )
    page.wait_for_timeout(300)  # the ResizeObserver's redraw
    after = stroke_points(pad)
    assert [len(s) for s in after] == [len(s) for s in before], "strokes lost in the rotation"
    scale = pad.locator("canvas").bounding_box()["width"] / width_before
    assert after[0][3]["x"] == pytest.approx(before[0][3]["x"] * scale, abs=1.0), (
        before[0][3],
        after[0][3],
    )
    assert inked_pixels(pad) > ink_before * 0.5, "the canvas went blank in the rotation"
    expect(pad).to_have_attribute("data-state", "ok")
    snap(shot, page, "review-signed-landscape")


def _signed(page: Page, db: Path, order_id: int, shot: Shot) -> str:
    with posted(page, rf"/review/{order_id}/sign$") as signed:
        tap(page.get_by_test_id("sign"))
    assert signed().ok, f"sign: HTTP {signed().status}: {signed().text()}"
    page.wait_for_url(re.compile(rf"/review/{order_id}/thanks$"))
    thanks = page.get_by_test_id("signed")
    expect(thanks).to_contain_text("谢谢")
    content_hash = page.get_by_test_id("content-hash").inner_text().strip()
    assert HASH.match(content_hash), content_hash
    rows = signatures_of(db, order_id)
    assert [(r[1], r[3]) for r in rows] == [("work_order", content_hash)], rows
    snap(shot, page, "signed-landscape")
    rotate(page, "portrait")
    snap(shot, page, "signed-portrait")
    return content_hash


def _exit_customer_mode(page: Page, order_id: int) -> None:
    tap(page.get_by_test_id("staff-exit"))
    page.wait_for_url(re.compile(r"/customer-mode/exit$"))
    with posted(page, r"/customer-mode/exit$") as refused:
        page.get_by_test_id("exit-password").fill("not-the-password")
        tap(page.get_by_test_id("exit-submit"))
    assert refused().status == 422, refused().status
    expect(toast(page)).to_contain_text("密码错误")
    expect(page).to_have_url(re.compile(r"/customer-mode/exit$"))
    # The message also sits under the password field.
    expect(page.locator("#error-password")).to_contain_text("密码错误")
    # Still locked: staff screens lead back to the customer's.
    page.goto("/lane")
    expect(page).to_have_url(re.compile(rf"/review/{order_id}/thanks$"))
    page.goto("/customer-mode/exit")
    page.get_by_test_id("exit-password").fill(DEMO_PASSWORD)
    tap(page.get_by_test_id("exit-submit"))
    page.wait_for_url(re.compile(rf"/work-orders/{order_id}$"))
    page.goto("/lane")
    expect(page).to_have_url(re.compile(r"/lane$"))
    page.goto(f"/work-orders/{order_id}")


def _pdf(page: Page, number: str, content_hash: str, estimate: dict[str, Any]) -> None:
    expect(page.get_by_test_id("content-hash")).to_have_text(content_hash)
    with page.expect_download() as info:
        tap(page.get_by_test_id("pdf-link"))
    download = info.value
    assert download.failure() is None, download.failure()
    assert download.suggested_filename.endswith(".pdf"), download.suggested_filename
    path = Path(download.path())
    assert path.read_bytes().startswith(b"%PDF-")
    text = "\n".join(p.extract_text() or "" for p in PdfReader(path).pages)
    assert number in text, f"the order number is not in the PDF:\n{text}"
    for code, name in (("L-OIL", "更换机油及机滤"), ("P-OIL4", "全合成机油 5W-30 4L")):
        line = rf"{re.escape(code)}\s+{re.escape(name)}"
        assert re.search(line, text), f"the line {code} {name} is not in the PDF:\n{text}"
    total = re.escape(f"¥{estimate['total']:,.2f}")
    assert re.search(rf"合计\s+{total}", text), f"the total is not in the PDF:\n{text}"
    assert content_hash in text, f"the full content hash is not in the PDF:\n{text}"


def _verify(page: Page, intact: bool, shot: Shot | None, name: str) -> Locator:
    page.goto(page.url)  # reload from the database
    result = page.get_by_test_id("verify-result")
    expect(result).to_have_attribute("data-intact", "true" if intact else "false")
    expect(result).to_contain_text("完好" if intact else "签字后已被更改")
    snap(shot, page, name)
    return result


def _new_supplement(page: Page, order_id: int, note: str, job: str, q: str, code: str) -> int:
    page.goto(f"/work-orders/{order_id}")
    section = page.get_by_test_id("supplements")
    section.locator("input[name=note]").fill(note)
    tap(section.get_by_test_id("new-supplement"))
    page.wait_for_url(re.compile(r"/supplements/\d+$"))
    supplement_id = int(page.url.rsplit("/", 1)[1])
    editor = page.get_by_test_id("supplement")
    expect(editor).to_have_attribute("data-status", "draft")
    page.get_by_test_id("new-job").fill(job)
    with posted(page, r"/add-job$") as added:
        tap(page.locator("form:has([data-testid=new-job]) button[type=submit]"))
    assert added().ok
    expect(page.get_by_test_id("supplement-lines")).to_contain_text(job)
    _add_hit(page, page.get_by_test_id("supplement"), q, code)
    expect(page.locator(f"[data-testid=line][data-code='{code}']")).to_have_count(1)
    assert money(page.get_by_test_id("supplement-total").inner_text()) > 0
    with posted(page, r"/send$") as sent:
        tap(page.get_by_test_id("send-sms"))
    assert sent().ok
    expect(page.get_by_test_id("sent")).to_be_visible()
    expect(page.get_by_test_id("supplement")).to_have_attribute("data-status", "pending")
    return supplement_id


def _approve_on_the_phone(
    phone: Page, token: str, db: Path, supplement_id: int, shot: Shot
) -> None:
    assert status_of(phone.goto(f"/approve/{token}")) == 200
    expect(phone.locator("html")).to_have_attribute("lang", "zh-CN")
    approval = phone.get_by_test_id("approval")
    expect(approval.locator("h1")).to_contain_text("增加")
    expect(approval).to_contain_text("更换前刹车片")
    assert money(phone.get_by_test_id("supplement-total").inner_text()) > 0
    snap(shot, phone, "approval")
    sign_on(phone, phone.get_by_test_id("signature-pad"))
    with posted(phone, rf"/approve/{token}$") as decided:
        tap(phone.get_by_test_id("approve"))
    assert decided().ok, f"approve: HTTP {decided().status}: {decided().text()}"
    done = phone.get_by_test_id("decided")
    expect(done).to_have_attribute("data-decision", "approved")
    expect(done).to_contain_text("谢谢，您已同意增加项目。")
    snap(shot, phone, "decided")
    assert query(db, "SELECT status FROM supplement WHERE id = ?", supplement_id) == [("approved",)]
    # The link works once.
    assert status_of(phone.goto(f"/approve/{token}")) == 409
    expect(phone.get_by_test_id("link-error")).to_contain_text("此链接已使用过")
    expect(phone.locator("nav")).to_have_count(0)  # no staff navigation on the customer's phone
    expect(phone.get_by_test_id("approve")).to_have_count(0)
    snap(shot, phone, "approval-used")


def _expire(db: Path, supplement_id: int) -> None:
    """Move the link's expiry into the past, written the way the app stores it."""
    raw, kind = query(
        db,
        "SELECT token_expires_at, typeof(token_expires_at) FROM supplement WHERE id = ?",
        supplement_id,
    )[0]
    assert kind == "text", (raw, kind)
    stored = Datetime.fromisoformat(raw)
    past = stored - timedelta(days=30)
    text = past.isoformat(
        sep="T" if "T" in raw else " ", timespec="microseconds" if "." in raw else "seconds"
    )
    shape = re.compile(r"\d")
    assert shape.sub("0", text) == shape.sub("0", raw), (raw, text)
    assert (
        execute(db, "UPDATE supplement SET token_expires_at = ? WHERE id = ?", text, supplement_id)
        == 1
    )


def _tamper(db: Path, order_id: int) -> tuple[Decimal, Decimal]:
    """Raise the oil change's unit price by 100 behind the app's back; returns its unit
    price and quantity as signed."""
    rows = query(
        db,
        "SELECT l.id, l.unit_price, l.quantity FROM job_line l JOIN job j ON j.id = l.job_id "
        "WHERE j.work_order_id = ? AND j.supplement_id IS NULL AND l.code = 'L-OIL'",
        order_id,
    )
    assert len(rows) == 1, rows
    line_id, price, quantity = rows[0]
    assert execute(db, "UPDATE job_line SET unit_price = unit_price + 100 WHERE id = ?", line_id)
    return Decimal(str(price)), Decimal(str(quantity))


def _added_work_by_link(
    page: Page, browser: Browser, live_server: str, db: Path, order_id: int, shot: Shot
) -> None:
    phone = phone_context(browser, live_server)
    try:
        first = _new_supplement(page, order_id, "检查发现前刹车片磨损到极限", "更换前刹车片",
                                "刹车片", "L-BRKF")  # fmt: skip
        token = approval_token(db, order_id)
        _approve_on_the_phone(phone.new_page(), token, db, first, shot)
        kinds = [(r[1], r[2]) for r in signatures_of(db, order_id)]
        assert kinds == [("work_order", "signed"), ("supplement", "approved")], kinds

        second = _new_supplement(page, order_id, "空调滤芯很脏", "更换空调滤芯", "空调滤芯",
                                 "P-CABF")  # fmt: skip
        token = approval_token(db, order_id)
        _expire(db, second)
        expired = phone.new_page()
        assert status_of(expired.goto(f"/approve/{token}")) == 410
        expect(expired.get_by_test_id("link-error")).to_contain_text(
            "此链接已过期，请联系您的服务顾问重新发送。"
        )
        expect(expired.get_by_test_id("approve")).to_have_count(0)
        snap(shot, expired, "expired")
        assert query(db, "SELECT status FROM supplement WHERE id = ?", second) == [("pending",)]
    finally:
        phone.close()


def _tampered_row_shows(
    page: Page, db: Path, order_id: int, signed_total: Decimal, shot: Shot
) -> None:
    price, quantity = _tamper(db, order_id)
    _verify(page, False, shot, "verify-changed")
    rows = page.get_by_test_id("difference")
    changed = rows.filter(has=page.locator("code", has_text=re.compile(r"\.unit_price$")))
    expect(changed).to_have_count(1)
    expect(changed).to_contain_text(f"{price:.2f}")
    expect(changed).to_contain_text(f"{price + 100:.2f}")
    # 100 more per hour, plus 13 % tax on it, in the total.
    more = (quantity * 100 * Decimal("1.13")).quantize(Decimal("0.01"))
    total = rows.filter(has=page.locator("code", has_text=re.compile(r"^totals\.total$")))
    expect(total).to_have_count(1)
    expect(total).to_contain_text(f"{signed_total:.2f}")
    expect(total).to_contain_text(f"{signed_total + more:.2f}")


# --- the test ------------------------------------------------------------------------------


def test_estimate_review_touch_signature_pdf_verify_and_added_work_by_link(
    new_context, browser, live_server, shot, db_path
):
    bugs: list[str] = []
    context = new_context("advisor", "portrait")
    page = context.new_page()

    # 1. The check-in, then the estimate.
    check_in_id, booked = complete_check_in(page, bugs)
    order_id, number = order_of_check_in(db_path, check_in_id)
    _open_estimate(page, order_id)
    estimate = _estimate(page, shot, booked["work"])
    tap(page.get_by_test_id("hand-to-customer"))

    # 2. Customer mode: review in zh-CN, consents, an empty pad refused, a touch signature
    # that survives turning the tablet, signed.
    page.wait_for_url(re.compile(rf"/review/{order_id}$"))
    _review_before_signing(page, order_id, estimate)
    # The consents are answered before anything is signed.
    assert _consents(page), "a consent tap sent nothing"
    expect(page.get_by_test_id("signature-pad").locator("[data-signature-hint]")).to_be_hidden()
    snap(shot, page, "review-portrait")
    rotate(page, "landscape")
    snap(shot, page, "review-landscape")
    rotate(page, "portrait")
    _empty_pad_is_refused_on_the_tablet(page, db_path, order_id)
    _sign_and_rotate(page, shot)
    _empty_signature_is_refused_by_the_server(page, db_path, order_id)
    content_hash = _signed(page, db_path, order_id, shot)

    # 3. Back to staff screens with the advisor's password; the PDF copy.
    _exit_customer_mode(page, order_id)
    _pdf(page, number, content_hash, estimate)

    # 4. The verify page: intact.
    tap(page.get_by_test_id("verify-link"))
    page.wait_for_url(re.compile(r"/verify/\d+$"))
    _verify(page, True, shot, "verify-intact")
    verify_url = page.url

    # 5. Added work approved through the SMS link on the customer's phone; the link is
    # single-use. Then a second one whose link has expired.
    _added_work_by_link(page, browser, live_server, db_path, order_id, shot)

    # The approved added work did not touch what the customer signed first.
    page.goto(verify_url)
    _verify(page, True, None, "verify-intact-after-supplement")

    # 6. Last: a row altered directly in the database shows on the verify page.
    _tampered_row_shows(page, db_path, order_id, estimate["total"], shot)

    if SWALLOWED_TAPS:
        print(f"TAPS TRIED AGAIN (no click from Chromium): {SWALLOWED_TAPS}")
    assert not bugs, "\n".join(["bugs found along the way:", *bugs])

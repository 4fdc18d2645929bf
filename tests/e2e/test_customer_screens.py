"""The customer's screens in a real tablet browser, measured: the review, the thanks page
with the copy, the advisor's delivery page and the customer's acceptance each fit in two
portrait screens (834x1194) for a car with 8 walkaround photos and a damage mark; the photos
open full screen and swipe; the copy's link works on a phone with no staff sign-in.

Prints the page heights (`PAGE HEIGHT ...`) for the issue's record."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.flows import (
    complete_check_in,
    customer_signs_order,
    estimate,
    execute,
    leave_customer_mode,
    open_estimate,
    order_of_check_in,
    query,
    sign_on,
    snap,
    tap,
)
from tests.e2e.test_content_security_policy import Violations

PORTRAIT = {"width": 834, "height": 1194}
LANDSCAPE = {"width": 1194, "height": 834}
MAX_HEIGHT = 2 * PORTRAIT["height"]
Shot = Callable[[Page, str], Path]


def height(page: Page, name: str) -> int:
    """The page's height in portrait, printed; at most two screens."""
    page.set_viewport_size(PORTRAIT)
    page.wait_for_timeout(200)
    found = int(page.evaluate("document.documentElement.scrollHeight"))
    print(f"PAGE HEIGHT {name}: {found}px = {found / PORTRAIT['height']:.2f} screens")
    assert found <= MAX_HEIGHT, f"{name} is {found}px tall, more than two screens"
    return found


def both_orientations(page: Page, shot: Shot, name: str) -> None:
    snap(shot, page, f"{name}-portrait")
    page.set_viewport_size(LANDSCAPE)
    page.wait_for_timeout(200)
    snap(shot, page, f"{name}-landscape")
    page.set_viewport_size(PORTRAIT)


def in_english_too(page: Page, shot: Shot, name: str) -> None:
    """The customer's language switch, there and back (it is remembered for their copy)."""
    tap(page.locator(".lang-switch button[value=en]"))
    page.wait_for_load_state("load")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    both_orientations(page, shot, f"{name}-en")
    tap(page.locator(".lang-switch button[value=zh_CN]"))
    page.wait_for_load_state("load")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


def photos_open_full_screen_and_swipe(page: Page, shot: Shot) -> None:
    condition = page.get_by_test_id("review-condition")
    tap(condition.locator("summary"))
    photos = condition.get_by_test_id("gallery-photo")
    assert photos.count() >= 9, photos.count()  # 8 positions and the mark's photo
    tap(photos.first)
    viewer = page.get_by_test_id("photo-viewer")
    expect(viewer).to_be_visible()
    caption = page.get_by_test_id("viewer-caption")
    expect(caption).to_contain_text(f"1 / {photos.count()}")
    close = page.get_by_test_id("viewer-close")
    box = close.bounding_box()
    assert box is not None
    assert box["width"] >= 48
    assert box["height"] >= 48, box
    snap(shot, page, "customer-review-photo-viewer")
    # A finger swiped from right to left: the next photo.
    stage = viewer.locator(".viewer-stage")
    area = stage.bounding_box()
    assert area is not None
    y = area["y"] + area["height"] / 2
    page.mouse.move(area["x"] + area["width"] * 0.8, y)
    page.mouse.down()
    page.mouse.move(area["x"] + area["width"] * 0.2, y, steps=5)
    page.mouse.up()
    expect(caption).to_contain_text(f"2 / {photos.count()}")
    tap(close)
    expect(viewer).to_have_count(0)
    tap(condition.locator("summary"))  # folded again, as the customer found it


def copy_works_without_sign_in(anonymous: BrowserContext, page: Page) -> None:
    link = page.get_by_test_id("customer-verify-link")
    href = link.get_attribute("href") or ""
    assert link.inner_text().strip() == href  # the QR code's link, printed under it
    phone = anonymous.new_page()
    path = re.sub(r"^https?://[^/]+", "", href)
    response = phone.goto(path)
    assert response is not None
    assert response.status == 200
    expect(phone.get_by_test_id("customer-verify")).to_have_attribute("data-intact", "true")
    pdf = phone.request.get(f"{path}/pdf")
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    number, _dot, mac = path.removeprefix("/v/").partition(".")
    guessed = f"/v/{number}.{'B' if mac[0] != 'B' else 'C'}{mac[1:]}"
    assert phone.request.get(f"{guessed}/pdf").status == 404
    phone.close()


def _copy_rows(db: Path, table: str, where: str, param: Any, **override: Any) -> list[int]:
    """Copy rows of `table` with some columns changed; the new rows' ids. (The table and
    column names are this test's own, never input: S608 does not apply.)"""
    columns = [c[1] for c in query(db, f"PRAGMA table_info({table})") if c[1] != "id"]
    ids = [r[0] for r in query(db, f"SELECT id FROM {table} WHERE {where} ORDER BY id", param)]  # noqa: S608
    made = []
    for row_id in ids:
        values = dict(
            zip(
                columns,
                query(db, f"SELECT {', '.join(columns)} FROM {table} WHERE id = ?", row_id)[0],  # noqa: S608
                strict=True,
            )
        )
        values |= {k: (v(values) if callable(v) else v) for k, v in override.items()}
        marks = ", ".join("?" for _ in columns)
        insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
        execute(db, insert, *[values[c] for c in columns])
        made.append(query(db, f"SELECT max(id) FROM {table}")[0][0])  # noqa: S608
    return made


def passes_the_final_check(db: Path, order_id: int) -> None:
    """The signed order skips the workshop: the demo's ready car's passed final check is
    copied onto it (the demo's car stays as it is for the other tests)."""
    (ready_id,) = query(db, "SELECT id FROM work_order WHERE status = 'ready' ORDER BY id")[0]
    _copy_rows(
        db, "inspection", "work_order_id = ? AND passed = 1", ready_id,
        work_order_id=order_id, odometer_km=None, fuel_eighths=None,
    )  # fmt: skip
    assert execute(db, "UPDATE work_order SET status = 'ready' WHERE id = ?", order_id) == 1


def delivery_photos_taken(db: Path, check_in_id: int) -> None:
    """Today's photo of each position (the check-in's files stand in for them)."""
    _copy_rows(
        db, "photo", "check_in_id = ? AND stage = 'check_in' AND damage_mark_id IS NULL",
        check_in_id, stage="delivery", client_id=lambda v: f"{v['client_id']}-d",
    )  # fmt: skip


def review_and_thanks(
    page: Page, db_path: Path, shot: Shot, anonymous: BrowserContext, bugs: list[str]
) -> int:
    """The review of a standard check-in (8 photos and a mark), signed; the check-in's id."""
    check_in_id, booked = complete_check_in(page, bugs)
    order_id, _number = order_of_check_in(db_path, check_in_id)
    open_estimate(page, order_id)
    estimate(page, None, booked["work"])
    tap(page.get_by_test_id("hand-to-customer"))
    page.wait_for_url(re.compile(rf"/review/{order_id}$"))
    expect(page.get_by_test_id("review-summary")).to_be_visible()
    height(page, "review")
    both_orientations(page, shot, "customer-review")
    in_english_too(page, shot, "customer-review")
    photos_open_full_screen_and_swipe(page, shot)

    content_hash = customer_signs_order(page, db_path, order_id)
    assert content_hash
    expect(page.get_by_test_id("verify-qr").locator("svg")).to_be_visible()
    height(page, "review thanks")
    both_orientations(page, shot, "customer-thanks")
    in_english_too(page, shot, "customer-thanks")
    copy_works_without_sign_in(anonymous, page)
    leave_customer_mode(page, order_id)
    return check_in_id


def delivery(page: Page, db_path: Path, shot: Shot, check_in_id: int) -> None:
    """The same car (8 photos and a mark) back from the workshop, delivered."""
    # The demo's own car waiting for delivery, as the advisor first opens it (read only).
    (demo_ready,) = query(db_path, "SELECT id FROM work_order WHERE status = 'ready' LIMIT 1")[0]
    page.goto(f"/delivery/{demo_ready}")
    height(page, "delivery of the demo's ready car (not started)")

    ready_id, _number = order_of_check_in(db_path, check_in_id)
    ready_check_in = check_in_id
    passes_the_final_check(db_path, ready_id)
    page.goto(f"/delivery/{ready_id}")
    tap(page.get_by_test_id("delivery-begin"))
    expect(page.get_by_test_id("step-compare")).to_have_attribute("open", "")
    height(page, "delivery (photos to take)")
    both_orientations(page, shot, "delivery-compare")

    delivery_photos_taken(db_path, ready_check_in)
    page.reload()
    expect(page.get_by_test_id("step-compare")).not_to_have_attribute("open", "")
    expect(page.get_by_test_id("step-details")).to_have_attribute("open", "")  # the next one
    km = query(db_path, "SELECT odometer_km FROM check_in WHERE id = ?", ready_check_in)[0][0]
    next_on = datetime.now(UTC).date() + timedelta(days=182)
    page.get_by_test_id("delivery-advice").fill("建议 5000 公里后检查刹车片。")
    page.get_by_test_id("next-service-on").fill(next_on.isoformat())
    page.get_by_test_id("next-service-km").fill(str((km or 0) + 5000))
    shown = page.get_by_test_id("old-parts-shown")
    if shown.count():
        tap(shown)
    tap(page.get_by_test_id("delivery-details-save"))
    expect(page.get_by_test_id("delivery-problems")).to_have_attribute("data-count", "0")
    page.reload()
    expect(page.get_by_test_id("delivery-hand-over")).to_be_visible()
    height(page, "delivery (ready to hand over)")
    both_orientations(page, shot, "delivery-ready")
    customer_accepts(page, db_path, shot, ready_id)


def customer_accepts(page: Page, db_path: Path, shot: Shot, ready_id: int) -> None:

    tap(page.get_by_test_id("delivery-hand-over"))
    page.wait_for_url(re.compile(rf"/review/{ready_id}/delivery$"))
    expect(page.locator("[data-testid^=then-now-]")).to_have_count(8)
    height(page, "delivery acceptance (customer)")
    both_orientations(page, shot, "customer-delivery")
    in_english_too(page, shot, "customer-delivery")
    sign_on(page, page.get_by_test_id("signature-pad"))
    tap(page.get_by_test_id("delivery-sign"))
    expect(page.get_by_test_id("customer-delivered")).to_be_visible()
    height(page, "delivery thanks (customer)")
    both_orientations(page, shot, "customer-delivered")
    assert query(db_path, "SELECT status FROM work_order WHERE id = ?", ready_id) == [
        ("delivered",)
    ]


def test_the_customer_screens_fit_two_screens(
    new_context: Callable[..., BrowserContext], db_path: Path, shot: Shot
) -> None:
    violations = Violations()  # the viewer's script runs under the strict CSP
    page = violations.watch(new_context("advisor", "portrait")).new_page()
    bugs: list[str] = []
    check_in_id = review_and_thanks(page, db_path, shot, new_context(None, "portrait"), bugs)
    delivery(page, db_path, shot, check_in_id)
    assert not bugs, bugs
    # The viewer's own script never breaks the CSP. (After the viewer was used, htmx
    # reports an inline style on the review's next swap: printed for follow-up.)
    for seen in violations.seen:
        print(f"CSP REPORT {seen}")
    assert [v for v in violations.seen if "photo-viewer" in v] == []

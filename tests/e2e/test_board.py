"""The service manager's board (看板) in a real Chromium: live as the lane works in
another tablet (a car greeted, a car delivered), the drill-down to a vehicle's order, the
wall mode on a 1920×1080 TV, and both languages."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.flows import posted, query, sign_on, snap, start_check_in, tap
from tests.e2e.test_workshop_findings import WALKAROUND
from tests.e2e.test_workshop_to_delivery import (
    delivery_photos,
    details,
    hand_over_for_delivery,
    order_status,
    take_the_tablet_back_delivered,
)

WALL = {"width": 1920, "height": 1080}


def _value(page: Page, code: str) -> str:
    return page.get_by_test_id(f"value-{code}").inner_text().strip()


def _fits_width(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


def test_the_managers_board_updates_live_when_a_car_arrives_in_another_tablet(
    new_context, shot
) -> None:
    board = new_context("manager", "portrait").new_page()
    board.goto("/board")
    expect(board.get_by_role("heading", level=1)).to_have_text("看板")
    arrivals = int(_value(board, "arrivals"))
    expect(board.get_by_test_id("tile-greeted_in_time")).to_contain_text("5分钟内接待率")
    _fits_width(board)
    board.evaluate("window.__sameDocument = true")
    shot(board, "board-zh-portrait")

    advisor = new_context("advisor", "landscape").new_page()
    start_check_in(advisor)  # 开始接车 on the lane board: the car has arrived and is greeted

    # The workshop's event stream reloads the board in place (not the 60-second poll).
    expect(board.get_by_test_id("value-arrivals")).to_have_text(str(arrivals + 1), timeout=8_000)
    assert board.evaluate("window.__sameDocument === true"), "the board reloaded the page"


def _ready_order(db: Path) -> tuple[int, int, int]:
    """The demo's car ready for delivery (0004): its order, check-in and the odometer read
    at its passed final check."""
    rows = query(
        db,
        "SELECT w.id, c.id, i.odometer_km FROM work_order w "
        "JOIN check_in c ON c.work_order_id = w.id "
        "JOIN inspection i ON i.work_order_id = w.id AND i.passed "
        "WHERE w.status = 'ready' AND w.number LIKE '%-0004'",
    )
    assert len(rows) == 1, rows
    return rows[0]


def _deliver(page: Page, db: Path, order_id: int, check_in_id: int, odometer: int) -> None:
    """The advisor delivers the car through the delivery screen, with the delivery test's
    steps: today's photos, the advice and next service, the customer's touch signature."""
    page.goto(f"/delivery/{order_id}")
    with posted(page, rf"/delivery/{order_id}/begin$") as begun:
        tap(page.get_by_test_id("delivery-begin"))
    assert begun().ok, f"begin: HTTP {begun().status}"
    delivery_photos(page, db, check_in_id, WALKAROUND)
    details(page, db, order_id, odometer)
    expect(page.get_by_test_id("delivery-problems")).to_have_attribute("data-count", "0")
    hand_over_for_delivery(page, order_id)
    sign_on(page, page.get_by_test_id("signature-pad"))
    with posted(page, rf"/review/{order_id}/delivery/sign$") as signed:
        tap(page.get_by_test_id("delivery-sign"))
    assert signed().ok, f"sign: HTTP {signed().status}: {signed().text()}"
    take_the_tablet_back_delivered(page, order_id)
    assert order_status(db, order_id) == "delivered"


def test_the_managers_board_updates_live_when_a_car_is_delivered_in_another_tablet(
    new_context, shot, db_path
) -> None:
    order_id, check_in_id, odometer = _ready_order(db_path)
    board = new_context("manager", "portrait").new_page()
    board.goto("/board")
    delivered = int(_value(board, "delivered"))
    board.get_by_test_id("tile-delivered").click()
    drill = board.get_by_test_id("drill-delivered")
    expect(drill).to_be_visible()
    expect(drill.locator(".drill-list li")).to_have_count(delivered)
    expect(drill.get_by_test_id(f"drill-order-{order_id}")).to_have_count(0)
    board.evaluate("window.__sameDocument = true")

    advisor = new_context("advisor", "portrait").new_page()
    _deliver(advisor, db_path, order_id, check_in_id, odometer)

    # The stream swaps the tiles in place; the drill-down, opened again, lists the car.
    tile = board.get_by_test_id("value-delivered")
    expect(tile).to_have_text(str(delivered + 1), timeout=8_000)
    board.get_by_test_id("tile-delivered").click()
    expect(drill.locator(".drill-list li")).to_have_count(delivered + 1)
    expect(drill.get_by_test_id(f"drill-order-{order_id}")).to_be_visible()
    assert board.evaluate("window.__sameDocument === true"), "the board reloaded the page"
    snap(shot, board, "board-delivered-drill-zh-portrait")


def test_a_tile_drills_down_to_the_vehicles_and_a_vehicle_opens_its_order(
    new_context, shot
) -> None:
    page = new_context("manager", "landscape").new_page()
    page.goto("/board")
    if _value(page, "arrivals") == "0":
        start_check_in(new_context("advisor", "landscape").new_page())
        page.reload()
    page.get_by_test_id("tile-arrivals").click()
    drill = page.get_by_test_id("drill-arrivals")
    expect(drill).to_be_visible()
    first = drill.locator(".drill-list a").first
    expect(first).to_contain_text("到店")
    _fits_width(page)
    shot(page, "board-drill-zh-landscape")
    first.click()
    page.wait_for_url(re.compile(r"/work-orders/\d+$"))


def test_the_wall_mode_fills_a_1920_by_1080_screen_without_navigation(new_context, shot) -> None:
    page = new_context("manager", "landscape").new_page()
    page.set_viewport_size(WALL)
    page.goto("/board?wall=1")
    expect(page.get_by_test_id("board")).to_be_visible()
    expect(page.locator("header.appbar")).to_have_count(0)
    expect(page.locator(".tile")).to_have_count(26)
    expect(page.locator("a.tile")).to_have_count(0)  # nothing to tap on a TV
    size = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    assert size[0] <= WALL["width"], f"the wall scrolls sideways: {size}"
    assert size[1] <= WALL["height"], f"the wall scrolls down: {size}"
    # Still live: the stream and the minute's poll.
    expect(page.locator("[sse-connect]")).to_have_count(1)
    expect(page.get_by_test_id("board")).to_have_attribute("hx-trigger", "every 60s, sse:board")
    shot(page, "board-wall-zh")


def test_the_board_reads_in_english_too(new_context, shot) -> None:
    context = new_context("manager", "portrait")
    page = context.new_page()
    page.goto("/board")
    try:
        page.locator("header.appbar").get_by_role("button", name="English").click()
        page.wait_for_url(re.compile(r"/board"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Board")
        expect(page.get_by_test_id("tile-greeted_in_time")).to_contain_text("Greeted within 5 min")
        _fits_width(page)
        shot(page, "board-en-portrait")
        page.set_viewport_size(WALL)
        page.goto("/board?wall=1")
        expect(page.locator(".tile")).to_have_count(26)
        shot(page, "board-wall-en")
    finally:
        # Leave the demo manager in Chinese for the other tests, whatever failed above.
        headers = page.locator("body").get_attribute("hx-headers") or "{}"
        token = re.search(r'"x-csrftoken":\s*"([^"]+)"', headers)
        assert token, "no form token on the page"
        answer = page.request.post(
            "/language",
            form={"locale": "zh_CN", "next": "/board"},
            headers={"x-csrftoken": token.group(1)},
            max_redirects=0,
        )
        assert answer.status in (200, 303), answer.status


def test_the_targets_form_fits_the_tablet(new_context, shot) -> None:
    page = new_context("manager", "portrait").new_page()
    page.goto("/board")
    page.get_by_test_id("targets-link").click()
    page.wait_for_url(re.compile(r"/board/targets$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("看板目标")
    expect(page.locator("input[name=greeted_in_time]")).to_have_attribute("placeholder", "90")
    _fits_width(page)
    shot(page, "board-targets-zh-portrait")

"""The service manager's board (看板) in a real Chromium: live as the lane works in
another tablet (a car greeted here; a car delivered in test_workshop_to_delivery.py, on
that test's own car, so the demo's ready car stays for the other files), the drill-down
to a vehicle's order, the wall mode on a 1920×1080 TV, and both languages."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.flows import csrf_token, start_check_in

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
        answer = page.request.post(
            "/language",
            form={"locale": "zh_CN", "next": "/board"},
            headers={"x-csrftoken": csrf_token(page)},
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

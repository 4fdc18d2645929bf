"""Customer mode in a real browser: the Back button never brings a staff screen back
(not the estimate, not the lane board with other customers' plates), and the advisor's
password right after a wrong one ends customer mode every time."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import DEMO_PASSWORD, sign_in_through_form
from tests.e2e.flows import (
    complete_check_in,
    estimate,
    open_estimate,
    order_of_check_in,
    posted,
    query,
    tap,
)

EXIT_ROUNDS = 10


def _shows_only_the_customers_screen(page: Page, order_id: int, others: list[str]) -> None:
    """What the tablet shows right now (no waiting for a reload to mend it)."""
    url = page.url
    assert re.search(rf"/review/{order_id}(/thanks)?$", url), url
    text = page.locator("body").inner_text()
    assert page.get_by_test_id("signed-in-as").count() == 0, url
    assert page.locator("nav[aria-label]").count() == 0, url
    leaked = [plate for plate in others if plate in text]
    assert leaked == [], f"{url} shows other customers' plates: {leaked}"


def _hand_over(page: Page, order_id: int) -> None:
    page.goto(f"/work-orders/{order_id}/estimate")
    tap(page.get_by_test_id("hand-to-customer"))
    page.wait_for_url(re.compile(rf"/review/{order_id}$"))


def _wrong_then_right(page: Page, order_id: int, photo_urls: list[str]) -> None:
    tap(page.get_by_test_id("staff-exit"))
    page.wait_for_url(re.compile(r"/customer-mode/exit$"))
    page.get_by_test_id("exit-password").fill("not-the-password")
    with posted(page, r"/customer-mode/exit$") as wrong:
        tap(page.get_by_test_id("exit-submit"))
    assert wrong().status == 422, wrong().status
    # What the tablet loads in the background meanwhile (before the fix each answer
    # carried the customer-mode cookie back and could land after the exit's).
    page.evaluate(
        "urls => urls.forEach(u => fetch(u, {cache: 'no-store'}))",
        ["/sw.js", "/manifest.webmanifest", "/healthz", f"/review/{order_id}", *photo_urls],
    )
    page.get_by_test_id("exit-password").fill(DEMO_PASSWORD)
    tap(page.get_by_test_id("exit-submit"))
    page.wait_for_url(re.compile(rf"/work-orders/{order_id}$"))
    page.wait_for_load_state("networkidle")
    page.goto("/lane")
    expect(page).to_have_url(re.compile(r"/lane$"))


def test_back_shows_no_staff_screen_and_the_password_always_ends_customer_mode(
    new_context, db_path: Path, shot
) -> None:
    # A session of its own: customer mode holds for every copy of a session's cookie.
    context = new_context()
    page = context.new_page()
    page.goto("/sign-in")
    sign_in_through_form(page, "advisor")
    page.wait_for_url(re.compile(r"/lane$"))
    board_plates = page.locator("[data-testid=appointment] .plate").all_text_contents()
    assert len(board_plates) >= 2, board_plates
    # A page the browser brings back from its back/forward cache is asked for again.
    with page.expect_navigation():
        page.evaluate(
            "window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}))"
        )
    expect(page).to_have_url(re.compile(r"/lane$"))

    bugs: list[str] = []
    check_in_id, booked = complete_check_in(page, bugs)
    order_id, _number = order_of_check_in(db_path, check_in_id)
    others = [p.strip() for p in board_plates if p.strip() != booked["plate"]]
    open_estimate(page, order_id)
    estimate(page, None, booked["work"])
    tap(page.get_by_test_id("hand-to-customer"))
    page.wait_for_url(re.compile(rf"/review/{order_id}$"))

    # Back, as far as the tablet's history goes: the review every time.
    steps = page.evaluate("history.length") - 1
    assert steps >= 5, steps
    for step in range(steps):
        page.go_back(wait_until="load")
        if page.url == "about:blank":
            break
        _shows_only_the_customers_screen(page, order_id, others)
        if step == 0:
            shot(page, "customer-mode-after-back")
    page.goto(f"/review/{order_id}")

    # The advisor's password right after a wrong one, again and again.
    photo_urls = [
        f"/photos/{pid}/thumb"
        for (pid,) in query(db_path, "SELECT id FROM photo WHERE check_in_id = ?", check_in_id)
    ]
    for round_ in range(EXIT_ROUNDS):
        _wrong_then_right(page, order_id, photo_urls)
        if round_ < EXIT_ROUNDS - 1:
            _hand_over(page, order_id)
    assert not bugs, "\n".join(["bugs found along the way:", *bugs])

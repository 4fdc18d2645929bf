"""A save the server refuses keeps what was typed and marks the refused field, in a real
Chromium: the delivery form of the demo's car that is ready (交车), in zh-CN."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.flows import posted, query, snap, tap, toast

ADVICE = "建议 5000 公里后检查刹车片。"


def _ready_order(db: Path) -> int:
    rows = query(db, "SELECT id FROM work_order WHERE status = 'ready' ORDER BY id")
    assert rows, "the demo has no car ready for delivery"
    return int(rows[0][0])


def _next_km(db: Path, order_id: int) -> int:
    """A mileage above the car's today, whichever demo car is the ready one."""
    rows = query(
        db,
        "SELECT MAX(COALESCE(i.odometer_km, 0), COALESCE(c.odometer_km, 0)) FROM check_in c"
        " LEFT JOIN inspection i ON i.work_order_id = c.work_order_id WHERE c.work_order_id = ?",
        order_id,
    )
    return int(rows[0][0]) + 5000


def test_a_delivery_form_refused_for_its_date_keeps_the_rest_and_marks_the_date(
    new_context, shot, db_path
) -> None:
    order_id = _ready_order(db_path)
    page = new_context("advisor").new_page()
    page.goto(f"/delivery/{order_id}")
    begin = page.get_by_test_id("delivery-begin")
    if begin.count():
        with posted(page, rf"/delivery/{order_id}/begin$"):
            tap(begin)
    # The delivery's steps fold; the page opens at the first missing one.
    step = page.get_by_test_id("step-details")
    if step.get_attribute("open") is None:
        tap(step.locator("summary"))
    advice = page.get_by_test_id("delivery-advice")
    expect(advice).to_be_visible()

    next_km = str(_next_km(db_path, order_id))
    km = page.get_by_test_id("next-service-km")
    date = page.get_by_test_id("next-service-on")
    shown = page.get_by_test_id("old-parts-shown")
    advice.fill(ADVICE)
    km.fill(next_km)
    if shown.count():
        tap(shown)
        expect(shown.locator("input")).to_be_checked()
    with posted(page, rf"/delivery/{order_id}/details$") as refused:
        tap(page.get_by_test_id("delivery-details-save"))
    assert refused().status == 422

    expect(toast(page)).to_contain_text("请填写下次保养日期")
    expect(advice).to_have_value(ADVICE)
    expect(km).to_have_value(next_km)
    if shown.count():
        expect(shown.locator("input")).to_be_checked()
    expect(date).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#error-next_service_on")).to_have_text("请填写下次保养日期。")
    expect(km).not_to_have_attribute("aria-invalid", "true")
    snap(shot, page, "delivery-refused-date")
    saved_row = query(
        db_path, "SELECT advice, next_service_km FROM delivery WHERE work_order_id = ?", order_id
    )
    assert saved_row == [("", None)], saved_row

    # Corrected, the same form saves everything that was kept, and the mark goes.
    next_on = (datetime.now(UTC) + timedelta(days=182)).date().isoformat()
    date.fill(next_on)
    with posted(page, rf"/delivery/{order_id}/details$") as saved:
        tap(page.get_by_test_id("delivery-details-save"))
    assert saved().ok, saved().text()
    expect(page.get_by_test_id("details-saved")).to_be_visible()
    expect(page.get_by_test_id("next-service-on")).not_to_have_attribute("aria-invalid", "true")
    row = query(
        db_path,
        "SELECT advice, next_service_on, next_service_km FROM delivery WHERE work_order_id = ?",
        order_id,
    )
    assert row == [(ADVICE, next_on, int(next_km))], row

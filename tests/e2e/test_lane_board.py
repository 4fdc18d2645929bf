"""The lane board: advisors mark arrivals in place; other roles only look."""

from __future__ import annotations

import re

from playwright.sync_api import expect

APPOINTMENTS_TODAY = 12


def test_an_advisor_marks_a_customer_arrived_and_the_row_updates_in_place(new_context, shot):
    page = new_context("advisor", "landscape").new_page()
    page.goto("/lane")
    rows = page.get_by_test_id("appointment")
    expect(rows).to_have_count(APPOINTMENTS_TODAY)

    booked = rows.filter(has=page.get_by_role("button", name="标记到店")).first
    plate = booked.locator(".plate").inner_text()
    row = rows.filter(has=page.locator(".plate", has_text=plate))
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("waiting")).to_have_count(0)
    waiting_before = page.get_by_test_id("waiting").count()

    # A marker on window survives an htmx swap but not a page load.
    page.evaluate("window.__sameDocument = true")
    navigations: list[str] = []
    page.on(
        "framenavigated",
        lambda frame: navigations.append(frame.url) if frame == page.main_frame else None,
    )

    with page.expect_response(
        lambda r: r.url.endswith("/arrived") and r.request.method == "POST"
    ) as answer:
        row.get_by_role("button", name="标记到店").click()

    response = answer.value
    assert response.status == 200
    assert response.request.headers.get("hx-request") == "true"
    waiting = row.get_by_test_id("waiting")
    expect(waiting).to_be_visible()
    expect(waiting).to_contain_text(re.compile(r"已等候 \d+ 分钟"))
    expect(row.get_by_role("button", name="标记到店")).to_have_count(0)
    expect(rows).to_have_count(APPOINTMENTS_TODAY)
    expect(page.get_by_test_id("waiting")).to_have_count(waiting_before + 1)
    assert page.evaluate("window.__sameDocument === true"), "the click reloaded the page"
    assert navigations == [], f"unexpected navigation: {navigations}"
    expect(page).to_have_url(re.compile(r"/lane$"))
    row.scroll_into_view_if_needed()
    shot(page, "lane-board-arrived")

    # It is saved: a fresh load shows the same badge.
    page.reload()
    expect(row.get_by_test_id("waiting")).to_be_visible()


def test_a_technician_sees_the_board_but_cannot_mark_arrivals_or_open_staff_admin(
    new_context, shot
):
    page = new_context("technician").new_page()
    page.goto("/lane")

    expect(page.get_by_role("heading", level=1, name="接车看板")).to_be_visible()
    expect(page.get_by_test_id("appointment")).to_have_count(APPOINTMENTS_TODAY)
    expect(page.get_by_role("button", name="标记到店")).to_have_count(0)
    expect(page.locator("form[action$='/arrived']")).to_have_count(0)
    expect(page.get_by_test_id("walk-in")).to_have_count(0)
    appbar = page.locator("header.appbar")
    expect(appbar.get_by_role("link", name="员工")).to_have_count(0)
    shot(page, "lane-board-technician")

    # The server refuses too, not just the screen.
    token = re.search(
        r'"x-csrftoken":\s*"([^"]+)"', page.locator("body").get_attribute("hx-headers") or ""
    )
    assert token
    refused = page.request.post(
        "/lane/appointments/1/arrived",
        headers={"x-csrftoken": token.group(1), "hx-request": "true"},
    )
    assert refused.status == 403

    response = page.goto("/admin/staff")
    assert response is not None
    assert response.status == 403
    error = page.get_by_test_id("error-page")
    expect(error).to_be_visible()
    expect(error).to_contain_text("403")
    expect(error.get_by_role("heading", name="无权访问")).to_be_visible()
    expect(error).to_contain_text("您的岗位无权访问此页面")
    expect(error.get_by_role("link", name="返回接车看板")).to_be_visible()
    shot(page, "forbidden-technician")

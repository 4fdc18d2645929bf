"""The lane board: advisors mark arrivals in place; other roles only look."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.flows import query


def test_an_advisor_marks_a_customer_arrived_and_the_row_updates_in_place(
    new_context, shot, appointments_today
):
    page = new_context("advisor", "landscape").new_page()
    page.goto("/lane")
    rows = page.get_by_test_id("appointment")
    expect(rows).to_have_count(appointments_today)

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
    expect(rows).to_have_count(appointments_today)
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
    new_context, shot, appointments_today
):
    page = new_context("technician").new_page()
    page.goto("/lane")

    expect(page.get_by_role("heading", level=1, name="接车看板")).to_be_visible()
    expect(page.get_by_test_id("appointment")).to_have_count(appointments_today)
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


# -- the app bar: one row in portrait for every role ---------------------------------------------

ROLES = ("advisor", "technician", "foreman", "qc", "relations", "manager", "admin")
LANGUAGES = (("zh-CN", "中文"), ("en", "English"))

MEASURE = """() => {
  const bar = document.querySelector('header.appbar');
  const targets = [...bar.querySelectorAll(
    ':scope > a, :scope nav > a, :scope details > summary, .lang-switch button')];
  const box = el => el.getBoundingClientRect();
  return {
    height: box(bar).height,
    overflow: bar.scrollWidth - bar.clientWidth,
    targets: targets.map(el => ({text: el.textContent.trim(), top: box(el).top,
                                 height: box(el).height, width: box(el).width})),
  };
}"""


def _one_row(bar: dict, where: str) -> None:
    heights = [t["height"] for t in bar["targets"]]
    assert min(heights) >= 48, (where, bar["targets"])
    row = max(heights)
    # One row: every target on the same line, the bar no taller than that line plus padding.
    assert max(t["top"] for t in bar["targets"]) - min(t["top"] for t in bar["targets"]) < 12, (
        where, bar["targets"],
    )  # fmt: skip
    assert bar["height"] <= row + 24, (where, bar)
    assert bar["overflow"] <= 0, (where, bar)


def test_the_app_bar_is_one_row_in_portrait_for_every_role_in_both_languages(new_context, shot):
    heights = {}
    for username in ROLES:
        page = new_context(username, "portrait").new_page()
        assert page.viewport_size == {"width": 834, "height": 1194}
        page.goto("/lane")
        appbar = page.locator("header.appbar")
        own = page.locator("html").get_attribute("lang")  # put back after: the user keeps it
        try:
            for lang, button in LANGUAGES:
                if page.locator("html").get_attribute("lang") != lang:
                    appbar.get_by_role("button", name=button).click()
                    expect(page.locator("html")).to_have_attribute("lang", lang)
                bar = page.evaluate(MEASURE)
                _one_row(bar, f"{username} {lang}")
                heights[(username, lang)] = bar["height"]
                # The rest of the role's pages and signing out, one tap away.
                menu = appbar.get_by_test_id("more-menu")
                menu.locator("summary").click()
                expect(menu.locator("form[action='/sign-out'] button")).to_be_visible()
                assert menu.locator(".more-panel").bounding_box()["height"] > 48
                if username in ("advisor", "manager"):
                    shot(page, f"app-bar-{username}-{lang}-more")
                menu.locator("summary").click()
        finally:
            if page.locator("html").get_attribute("lang") != own:
                appbar.get_by_role("button", name=dict(LANGUAGES)[own]).click()
                expect(page.locator("html")).to_have_attribute("lang", own)
    print("app bar heights at 834 px:", heights)
    assert len(set(heights.values())) == 1, heights


def test_the_advisor_finds_a_car_from_the_board_as_they_type_and_opens_what_it_needs(
    new_context, shot, db_path
):
    [(order_id, number, plate)] = query(
        db_path,
        "SELECT w.id, w.number, v.plate FROM work_order w JOIN vehicle v ON v.id = w.vehicle_id"
        " WHERE w.status = 'ready'",
    )
    page = new_context("advisor", "portrait").new_page()
    page.goto("/lane")
    page.evaluate("window.__sameDocument = true")
    box = page.get_by_test_id("lane-search")
    with page.expect_response(lambda r: "/lane/search?q=" in r.url) as answer:
        box.press_sequentially(number[-4:], delay=50)  # the order's running number
    assert answer.value.request.headers.get("hx-request") == "true"
    hit = page.get_by_test_id("lane-hit").filter(has_text=plate)
    expect(hit).to_have_count(1)
    expect(hit.get_by_role("link", name="交车")).to_have_attribute("href", f"/delivery/{order_id}")
    assert page.evaluate("window.__sameDocument === true"), "the search reloaded the page"
    shot(page, "lane-board-search")
    hit.get_by_role("link", name="交车").click()
    expect(page).to_have_url(re.compile(rf"/delivery/{order_id}$"))

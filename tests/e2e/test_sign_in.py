"""Signing in on the tablet, in both orientations, in Chinese."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect


@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
def test_an_advisor_signs_in_and_sees_todays_appointments(
    new_context, sign_in, shot, orientation, appointments_today
):
    page = new_context(orientation=orientation).new_page()

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    shot(page, f"sign-in-{orientation}")

    sign_in(page, "advisor")

    page.wait_for_url(re.compile(r"/lane$"))
    expect(page.get_by_role("heading", level=1, name="接车看板")).to_be_visible()
    expect(page.get_by_test_id("signed-in-as")).to_have_text("王晓明")
    expect(page.get_by_test_id("appointment")).to_have_count(appointments_today)
    expect(page.get_by_role("heading", name="今日预约")).to_be_visible()
    expect(page.get_by_test_id("walk-in")).to_be_visible()

    # Landscape puts the appointments and the cars on site side by side; portrait stacks them.
    appointments = page.get_by_test_id("appointments").bounding_box()
    on_site = page.get_by_test_id("on-site").bounding_box()
    assert appointments
    assert on_site
    if orientation == "landscape":
        assert on_site["x"] > appointments["x"] + appointments["width"] - 1, (appointments, on_site)
    else:
        assert on_site["y"] > appointments["y"] + appointments["height"] - 1, (
            appointments,
            on_site,
        )
    # Nothing sticks out sideways at tablet width.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, f"lane-board-advisor-{orientation}")


def test_a_wrong_password_shows_an_error_and_stays_on_the_sign_in_page(new_context, sign_in, shot):
    # "foreman" is used by no other e2e test: five failures would lock it for 15 minutes.
    page = new_context().new_page()
    page.goto("/sign-in")

    with page.expect_response(
        lambda r: r.url.endswith("/sign-in") and r.request.method == "POST"
    ) as answer:
        sign_in(page, "foreman", "not-the-password")

    assert answer.value.status in {400, 422}
    error = page.get_by_test_id("sign-in-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("用户名或密码错误")
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    # The username is kept, the password is not echoed back.
    expect(page.locator("#username")).to_have_value("foreman")
    expect(page.locator("#password")).to_have_value("")
    expect(page.get_by_test_id("signed-in-as")).to_have_count(0)
    shot(page, "sign-in-wrong-password")

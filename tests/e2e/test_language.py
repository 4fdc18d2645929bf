"""The language switch in the app bar: Chinese and English, remembered per user."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def test_a_manager_switches_to_english_and_back_and_the_choice_is_kept(new_context, shot):
    # "manager" defaults to zh_CN and is used by no other test, so switching is harmless.
    context = new_context("manager", "landscape")
    page = context.new_page()
    page.goto("/lane")
    appbar = page.locator("header.appbar")
    heading = page.get_by_role("heading", level=1)

    expect(heading).to_have_text("接车看板")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(appbar.get_by_role("button", name="中文")).to_have_attribute("aria-pressed", "true")
    shot(page, "language-zh")

    try:
        appbar.get_by_role("button", name="English").click()
        page.wait_for_url(re.compile(r"/lane$"))
        expect(heading).to_have_text("Lane board")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(appbar.get_by_role("button", name="English")).to_have_attribute(
            "aria-pressed", "true"
        )
        expect(appbar.get_by_role("link", name="Lane board")).to_be_visible()
        # Signing out sits in the app bar's "More" menu, one tap away.
        expect(appbar.get_by_role("button", name="Sign out")).to_be_hidden()
        appbar.get_by_text("More").click()
        expect(appbar.get_by_role("button", name="Sign out")).to_be_visible()
        expect(page.get_by_role("heading", name="Today’s appointments")).to_be_visible()
        shot(page, "language-en")

        # Stored on the user, not only in the language cookie.
        context.clear_cookies(name="wa_lang")
        page.reload()
        expect(heading).to_have_text("Lane board")

        appbar.get_by_role("button", name="中文").click()
        page.wait_for_url(re.compile(r"/lane$"))
        expect(heading).to_have_text("接车看板")
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    finally:
        # Leave the demo user as we found it even if an assertion above failed.
        page.request.post(
            "/language",
            form={"locale": "zh_CN", "next": "/lane"},
            headers={"x-csrftoken": _csrf_token(page)},
        )
    page.reload()
    expect(heading).to_have_text("接车看板")


def test_a_visitor_switches_the_sign_in_page_to_english(new_context, shot):
    page = new_context(orientation="portrait").new_page()
    page.goto("/sign-in")
    expect(page.get_by_role("heading", name="登录")).to_be_visible()

    page.get_by_role("button", name="English").click()

    expect(page).to_have_url(re.compile(r"/sign-in$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator("label[for=username]")).to_have_text("Username")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    shot(page, "sign-in-en")


def _csrf_token(page) -> str:
    headers = page.locator("body").get_attribute("hx-headers") or "{}"
    return re.search(r'"x-csrftoken":\s*"([^"]+)"', headers).group(1)  # type: ignore[union-attr]

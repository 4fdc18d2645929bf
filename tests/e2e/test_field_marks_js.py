"""app.js marks a refused field where it is, in a real Chromium, without the app: a fake
origin served by `page.route` with htmx, app.js and two forms that both have a field
named `note` and no message slot for it (as the estimate's price lines and the check-in's
damage marks have). The save answers like the app's one error mapping: 422 with the
wa:toast trigger naming the field and HX-Reswap none, then 200 once corrected."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

from playwright.sync_api import Browser, Route, expect

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "app" / "static"
ORIGIN = "http://marks.test"
MESSAGE = "请填写备注。"

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>marks</title>
<script src="/htmx.js" defer></script><script src="/app.js" defer></script></head>
<body>
<form id="first" hx-post="/save/1" hx-swap="none">
  <label for="note-1">Note</label><input id="note-1" name="note" value="left alone">
  <button type="submit">Save 1</button>
</form>
<form id="second" hx-post="/save/2" hx-swap="none">
  <label for="count-2">Count</label><input id="count-2" name="count" value="3">
  <label for="note-2">Note</label><input id="note-2" name="note" value="">
  <button type="submit">Save 2</button>
</form>
<div id="toasts"></div>
</body></html>
"""


def test_a_refused_field_without_a_slot_is_marked_in_its_own_form_and_cleared_when_saved(
    browser: Browser, shot
) -> None:
    context = browser.new_context(base_url=ORIGIN)
    page = context.new_page()
    answers: list[int] = []

    def handle(route: Route) -> None:
        path = route.request.url.removeprefix(ORIGIN)
        if path == "/":
            route.fulfill(body=PAGE, content_type="text/html; charset=utf-8")
        elif path == "/htmx.js":
            route.fulfill(path=STATIC / "vendor" / "htmx.min.js", content_type="text/javascript")
        elif path == "/app.js":
            route.fulfill(path=STATIC / "js" / "app.js", content_type="text/javascript")
        elif path == "/save/2" and parse_qs(route.request.post_data or "").get("note"):
            answers.append(200)
            route.fulfill(body="", content_type="text/html")
        elif path == "/save/2":
            answers.append(422)
            detail = {"message": MESSAGE, "level": "error", "field": "note", "reload": False}
            route.fulfill(
                status=422,
                body=MESSAGE,
                headers={"HX-Trigger": json.dumps({"wa:toast": detail}), "HX-Reswap": "none"},
            )
        else:
            route.fulfill(status=404, body="")

    context.route(f"{ORIGIN}/**", handle)
    try:
        page.goto("/")
        page.wait_for_function("!!window.htmx && typeof window.walkaroundToast === 'function'")
        page.locator("#count-2").fill("5")
        page.get_by_role("button", name="Save 2").click()
        note = page.locator("#note-2")
        expect(note).to_have_attribute("aria-invalid", "true")
        slot = page.locator("#second [data-error-for=note]")
        expect(slot).to_have_text(MESSAGE)
        expect(note).to_have_attribute("aria-describedby", slot.get_attribute("id") or "")
        # What was typed stays; the other form's field of the same name is left alone.
        expect(page.locator("#count-2")).to_have_value("5")
        expect(page.locator("#note-1")).not_to_have_attribute("aria-invalid", "true")
        expect(page.locator("#first [data-error-for=note]")).to_have_count(0)
        expect(page.locator("#toasts [role=alert]")).to_contain_text(MESSAGE)
        shot(page, "field-marks-js")

        note.fill("右后门")
        page.get_by_role("button", name="Save 2").click()
        expect(note).not_to_have_attribute("aria-invalid", "true")
        expect(slot).to_have_text("")
        assert answers == [422, 200]
    finally:
        context.close()

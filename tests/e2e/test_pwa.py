"""Installable PWA: manifest, service worker, and an offline page instead of an error."""

from __future__ import annotations

import re
import struct

from playwright.sync_api import BrowserContext, Page, expect

WAIT_FOR_ACTIVE_SW_JS = """
async () => {
  const registration = await navigator.serviceWorker.ready;
  const worker = registration.active;
  if (worker.state !== 'activated') {
    await new Promise((resolve) => worker.addEventListener('statechange', () => {
      if (worker.state === 'activated') resolve();
    }));
  }
  return { scope: registration.scope, state: worker.state, script: worker.scriptURL };
}
"""


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _active_service_worker(page: Page) -> dict:
    return page.evaluate(WAIT_FOR_ACTIVE_SW_JS)


def _controlled_page(context: BrowserContext, path: str = "/lane") -> Page:
    """A page the service worker controls: load, wait for activation, reload once."""
    page = context.new_page()
    page.goto(path)
    _active_service_worker(page)
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    return page


def test_the_manifest_describes_an_installable_app(new_context):
    context = new_context()
    response = context.request.get("/manifest.webmanifest")
    assert response.ok
    assert response.headers["content-type"].startswith("application/manifest+json")

    manifest = response.json()
    assert manifest["name"]
    assert manifest["short_name"]
    assert manifest["display"] == "standalone"
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", manifest["theme_color"])
    assert manifest["background_color"]
    assert manifest["start_url"] == "/lane"
    assert manifest["scope"] == "/"

    icons = manifest["icons"]
    sizes = {icon["sizes"] for icon in icons}
    assert {"192x192", "512x512"} <= sizes
    assert any("maskable" in icon.get("purpose", "").split() for icon in icons)
    assert any(
        "any" in icon.get("purpose", "any").split() and icon["sizes"] == "512x512" for icon in icons
    )
    for icon in icons:
        image = context.request.get(icon["src"])
        assert image.ok, icon["src"]
        assert image.headers["content-type"] == icon["type"] == "image/png"
        width, height = _png_size(image.body())
        assert f"{width}x{height}" == icon["sizes"], icon["src"]


def test_the_service_worker_activates_and_chromium_finds_the_app_installable(
    new_profile_context,
):
    context = new_profile_context("qc")
    page = context.pages[0] if context.pages else context.new_page()
    page.goto("/lane")

    worker = _active_service_worker(page)

    assert worker["state"] == "activated"
    assert worker["script"].endswith("/sw.js")
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", worker["scope"])
    cached = page.evaluate("""async () => {
        const keys = await caches.keys();
        const offline = await caches.match('/offline');
        return { keys, offline: !!offline && offline.ok };
    }""")
    assert len(cached["keys"]) == 1
    assert cached["keys"][0].startswith("walkaround-shell-")
    assert cached["offline"], "the offline page is not pre-cached"

    cdp = context.new_cdp_session(page)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["errors"] == [], manifest["errors"]
    installability = cdp.send("Page.getInstallabilityErrors")
    assert installability["installabilityErrors"] == [], installability


def test_without_network_the_tablet_shows_the_offline_page_and_recovers(new_context, shot):
    context = new_context("relations", "landscape")
    page = _controlled_page(context)
    expect(page.get_by_role("heading", level=1, name="接车看板")).to_be_visible()

    context.set_offline(True)
    try:
        page.goto("/lane")
        offline = page.get_by_test_id("offline-page")
        expect(offline).to_be_visible()
        expect(offline).to_contain_text("网络已断开")
        expect(offline).to_contain_text("You are offline")
        # The stylesheet came from the service worker's cache too.
        assert (
            page.evaluate("getComputedStyle(document.querySelector('.error-page')).maxWidth")
            == "640px"
        )
        shot(page, "offline-landscape")
    finally:
        context.set_offline(False)

    page.reload()
    expect(page.get_by_test_id("offline-page")).to_have_count(0)
    expect(page.get_by_role("heading", level=1, name="接车看板")).to_be_visible()
    expect(page.get_by_test_id("appointment")).to_have_count(12)


def test_an_advisor_who_loses_the_network_gets_a_toast_and_keeps_the_board(new_context, shot):
    context = new_context("advisor", "portrait")
    page = _controlled_page(context)
    rows = page.get_by_test_id("appointment")
    expect(rows).to_have_count(12)
    arrived_buttons = page.get_by_role("button", name="标记到店")
    buttons_before = arrived_buttons.count()
    assert buttons_before > 0

    context.set_offline(True)
    try:
        arrived_buttons.first.click()
        toast = page.locator("#toasts [role=alert]")
        expect(toast).to_be_visible()
        expect(toast).to_contain_text("网络已断开")
        shot(page, "offline-toast-portrait")
    finally:
        context.set_offline(False)

    # Nothing was lost or changed on the screen.
    expect(rows).to_have_count(12)
    expect(arrived_buttons).to_have_count(buttons_before)

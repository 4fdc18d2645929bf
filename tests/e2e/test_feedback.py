"""Errors and feedback at the car, in a real Chromium: one tap sends one save, a refused
field shows one toast near the thumb and its message at the field, and fixing the field
takes both away. In zh-CN, as the demo advisor."""

from __future__ import annotations

from playwright.sync_api import Request, expect

from tests.e2e.flows import last_odometer, posted, snap, start_check_in, toast


def test_a_fuel_tap_after_a_refused_odometer_sends_one_save_and_shows_one_toast(
    new_context, shot
) -> None:
    page = new_context("advisor").new_page()
    check_in_id, _ = start_check_in(page)
    page.goto(f"/check-ins/{check_in_id}/walkaround")
    last = last_odometer(page)
    saves: list[Request] = []
    page.on(
        "request",
        lambda r: saves.append(r) if r.method == "POST" and r.url.endswith("/save") else None,
    )

    # The advisor types the reading and taps the fuel gauge straight away: the tap both
    # leaves the odometer (change) and picks the fuel (change). One tap, one request.
    odometer = page.locator("#odometer_km")
    odometer.fill(str(last - 1000))
    with posted(page, r"/walkaround/save$") as refused:
        page.locator(".fuel label[title='4/8']").tap()
    assert refused().status == 422
    page.wait_for_timeout(800)  # a second save would have gone by now
    assert len(saves) == 1, [r.post_data for r in saves]
    assert "fuel_eighths=4" in (saves[0].post_data or "")

    expect(toast(page)).to_have_count(1)
    expect(toast(page)).to_contain_text("上次到店")
    expect(odometer).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#error-odometer_km")).to_contain_text(f"{last:,}")
    expect(odometer).to_have_value(str(last - 1000))  # kept, to correct it
    # The toast sits near the thumb (the lower half), above the sticky next-step bar.
    box = page.locator("#toasts").bounding_box()
    nav = page.locator(".step-nav").bounding_box()
    assert box
    assert nav
    assert box["y"] > 1194 / 2, box
    assert box["y"] + box["height"] <= nav["y"] + 1, (box, nav)
    snap(shot, page, "feedback-odometer-refused-one-toast")

    # More refusals replace the toast instead of stacking on the form.
    for n in range(5):
        page.evaluate("n => window.walkaroundToast('照片' + n + '上传失败。', 'error')", n)
    expect(toast(page)).to_have_count(1)
    expect(toast(page)).to_contain_text("照片4上传失败")
    # A refused photo's toast names its slot: a later photo of that slot takes it away.
    page.evaluate("() => window.walkaroundToast('照片未被接收。', 'error', false, 'photo:front')")
    page.evaluate("() => window.walkaroundToast.dismiss('photo:rear')")
    expect(toast(page)).to_have_count(1)
    page.evaluate("() => window.walkaroundToast.dismiss('photo:front')")
    expect(toast(page)).to_have_count(0)

    # Corrected, the save goes through: the mark and the form's toast go.
    page.evaluate(
        "() => htmx.trigger(document.getElementById('walkaround-form'), 'wa:toast',"
        " {message: '里程有误。', level: 'error', field: 'odometer_km'})"
    )
    expect(toast(page)).to_have_count(1)
    saves.clear()
    with posted(page, r"/walkaround/save$") as saved:
        odometer.fill(str(last + 5000))
        odometer.blur()
    assert saved().ok
    expect(toast(page)).to_have_count(0)
    expect(odometer).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#error-odometer_km")).to_be_empty()
    assert len(saves) == 1

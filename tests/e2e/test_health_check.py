"""The health check from the bay to the customer's decision and into the vehicle's file.

The foreman dispatches the demo's car waiting for the workshop (空调不凉) to 李强. On his
tablet the technician opens the health check from 我的工单, types a worn rear tyre's
tread and the front pads' thickness (the limits turn them red), marks the wipers yellow
while the Wi-Fi is down (the answer waits on the tablet and goes when it is back),
photographs the tyre and completes the check. The advisor prices the three items from the
catalogue and sends one link by SMS; on the customer's phone the link shows each item's
colour, number and photo; the customer approves the tyre and the wipers, declines the
brake pads (signing the safety sentence) and signs once. At the car's next check-in the
greeting shows the declined pads, and so does the vehicle's file, with the health check in
its columns. Screens in both languages."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect

from tests.e2e.flows import posted, query, set_language, sign_on, snap, tap
from tests.e2e.test_workshop_to_delivery import LIVE_PROBE, dispatch, one, open_live, user_id
from tests.workshop_helpers import jpeg

Shot = Callable[[Page, str], Path]
PHONE = {"width": 390, "height": 844}


def the_car_waiting_for_the_workshop(db: Path) -> tuple[int, int, list[int]]:
    """The demo's signed order nobody works on yet: (order id, vehicle id, task ids)."""
    rows = query(
        db,
        "SELECT id, vehicle_id FROM work_order WHERE status = 'signed' AND number LIKE '%-0002'",
    )
    assert len(rows) == 1, rows
    order_id, vehicle_id = rows[0]
    tasks = [r[0] for r in query(db, "SELECT id FROM job_task WHERE work_order_id = ?", order_id)]
    return order_id, vehicle_id, tasks


def item(page: Page, key: str) -> Any:
    return page.get_by_test_id(f"hc-form-{key}")


def measure_red(tech: Page, key: str, value: str) -> None:
    """Type the number, then tap red: one save carries both (the form settles first)."""
    form = item(tech, key)
    version = int(form.locator("input[name=version]").input_value())
    form.get_by_test_id(f"hc-measure-{key}").fill(value)
    with posted(tech, r"/health-checks/items/\d+$") as saved:
        tap(form.get_by_test_id(f"hc-red-{key}"))
    assert saved().ok, f"{key}: HTTP {saved().status}: {saved().text()}"
    form = item(tech, key)
    expect(form).to_have_attribute("data-colour", "red")
    expect(form.locator("input[name=version]")).to_have_value(str(version + 1))


def wipers(db: Path, order_id: int) -> str:
    return one(
        db,
        "SELECT colour FROM health_check_result WHERE key = 'wipers' AND health_check_id = "
        "(SELECT id FROM health_check WHERE work_order_id = ?)",
        order_id,
    )


def answer_offline(tech: Page, db: Path, order_id: int) -> None:
    """The Wi-Fi drops in the bay: the answer waits on the tablet and goes when it is back."""
    tech.context.set_offline(True)
    form = item(tech, "wipers")
    tap(form.get_by_test_id("hc-yellow-wipers"))
    expect(tech.get_by_test_id("hc-waiting")).to_be_visible()
    expect(item(tech, "wipers")).to_have_attribute("data-waiting", "")
    assert wipers(db, order_id) == "not_checked"
    tech.context.set_offline(False)
    tech.evaluate("window.dispatchEvent(new Event('online'))")
    expect(item(tech, "wipers")).to_have_attribute("data-colour", "yellow")
    expect(tech.get_by_test_id("hc-waiting")).to_be_hidden()
    assert wipers(db, order_id) == "yellow"


def technician_checks(tech: Page, db: Path, order_id: int, shot: Shot) -> None:
    tech.goto("/my-jobs")
    tap(tech.get_by_test_id(f"health-check-{order_id}"))
    tech.wait_for_url(re.compile(rf"/health-checks/{order_id}$"))
    tap(tech.get_by_test_id("hc-start"))
    expect(item(tech, "tread_rr")).to_be_visible()
    # An impossible tread is refused on its field and nothing is saved.
    form = item(tech, "tread_fl")
    form.get_by_test_id("hc-measure-tread_fl").fill("40")
    with posted(tech, r"/health-checks/items/\d+$") as refused:
        form.get_by_test_id("hc-measure-tread_fl").blur()
    assert refused().status == 422, refused().status
    expect(form.locator("[data-error-for=measurement], .field-error").first).to_contain_text("20")
    assert query(db, "SELECT colour FROM health_check_result WHERE key = 'tread_fl' AND "
                 "health_check_id = (SELECT id FROM health_check WHERE work_order_id = ?)",
                 order_id) == [("not_checked",)]  # fmt: skip
    form.get_by_test_id("hc-measure-tread_fl").fill("7")
    with posted(tech, r"/health-checks/items/\d+$") as fixed:
        tap(form.get_by_test_id("hc-green-tread_fl"))
    assert fixed().ok
    measure_red(tech, "tread_rr", "1.2")
    measure_red(tech, "pads_front", "2")
    # The counts follow each save without a reload.
    expect(tech.get_by_test_id("hc-count-red")).to_have_attribute("data-count", "2")
    expect(tech.get_by_test_id("hc-count-green")).to_have_attribute("data-count", "1")
    answer_offline(tech, db, order_id)
    # The worn tyre's photo goes with its item (the tablet's photo outbox).
    tech.get_by_test_id("hc-photo-tread_rr").set_input_files(
        files=[{"name": "tyre.jpg", "mimeType": "image/jpeg", "buffer": jpeg(11)}]
    )
    expect(
        tech.locator("[data-testid=hc-item-tread_rr] [data-photo-thumbs] img[data-uploaded]")
    ).to_have_count(1, timeout=20_000)
    snap(shot, tech, "health-1-technician-zh")
    with posted(tech, rf"/health-checks/{order_id}/complete$") as done:
        tap(tech.get_by_test_id("hc-finish"))
    assert done().ok or done().status == 303
    expect(tech.get_by_test_id("hc-complete")).to_be_visible()
    expect(tech.get_by_test_id("hc-count-red")).to_have_attribute("data-count", "2")
    photos = query(
        db,
        "SELECT r.key FROM photo p JOIN health_check_result r ON r.id = p.health_check_result_id",
    )
    assert photos == [("tread_rr",)], photos


def advisor_prices_and_sends(advisor: Page, db: Path, order_id: int, shot: Shot) -> str:
    advisor.goto(f"/health-checks/{order_id}")
    tap(advisor.get_by_test_id("hc-price"))
    expect(advisor.get_by_test_id("hc-priced-tread_rr")).to_be_visible()
    expect(advisor.get_by_test_id("hc-priced-pads_front")).to_be_visible()
    expect(advisor.get_by_test_id("hc-priced-wipers")).to_be_visible()
    expect(advisor.get_by_test_id("hc-unpriced")).to_have_count(0)
    snap(shot, advisor, "health-2-advisor-priced-zh")
    tap(advisor.get_by_test_id("hc-send-sms"))
    advisor.wait_for_url(re.compile(r"sent=sms"))
    body = one(db, "SELECT body FROM outbound_message ORDER BY id DESC LIMIT 1")
    found = re.search(r"/health/([\w-]+)", body)
    assert found, body
    assert "健康车检" in body
    return found.group(1)


def customer_answers_on_the_phone(browser: Browser, live_server: str, token: str,
                                  shot: Shot) -> None:  # fmt: skip
    context = browser.new_context(
        viewport=PHONE, screen=PHONE, has_touch=True, is_mobile=True, device_scale_factor=2,
        locale="zh-CN", base_url=live_server,
    )  # fmt: skip
    try:
        phone = context.new_page()
        phone.goto(f"/health/{token}")
        expect(phone.get_by_test_id("hc-rec-tread_rr")).to_contain_text("1.2")
        expect(phone.get_by_test_id("hc-rec-tread_rr")).to_contain_text("立即维修")
        expect(phone.get_by_test_id("hc-line-tread_fl")).to_have_attribute("data-colour", "green")
        # The tyre's photo, on a phone without any staff sign-in.
        photo = phone.get_by_test_id("hc-photos-tread_rr").locator("img")
        expect(photo).to_have_count(1)
        assert photo.evaluate("img => img.complete && img.naturalWidth > 0")
        snap(shot, phone, "health-3-customer-phone-zh")
        tap(phone.get_by_test_id("hc-approve-tread_rr"))
        tap(phone.get_by_test_id("hc-decline-pads_front"))
        tap(phone.get_by_test_id("hc-approve-wipers"))  # yellow: the blades, answered offline
        statement = phone.get_by_test_id("hc-statement-pads_front")
        tap(statement.locator("label"))
        sign_on(phone, phone.get_by_test_id("signature-pad"))
        invalid = phone.evaluate(
            "() => [...document.querySelectorAll('form.sign-form :invalid')].map(e => e.name)"
        )
        assert invalid == [], invalid
        with posted(phone, rf"/health/{token}$") as sent:
            tap(phone.get_by_test_id("hc-submit"))
        assert sent().ok, f"answer: HTTP {sent().status}: {sent().text()}"
        expect(phone.get_by_test_id("hc-decided-tread_rr")).to_have_attribute(
            "data-status", "approved"
        )
        expect(phone.get_by_test_id("hc-decided-pads_front")).to_have_attribute(
            "data-status", "declined"
        )
        snap(shot, phone, "health-4-customer-answered-zh")
        pdf = phone.request.get(phone.get_by_test_id("hc-copy-pdf").get_attribute("href") or "")
        assert pdf.ok, pdf.status
        assert pdf.body().startswith(b"%PDF")
    finally:
        context.close()


def the_next_visit_greets_with_the_decline(advisor: Page, vehicle_id: int, plate: str,
                                           shot: Shot) -> None:  # fmt: skip
    advisor.goto(f"/walk-in?q={plate}")
    tap(advisor.get_by_test_id("start-walk-in").first)
    advisor.wait_for_url(re.compile(r"/check-ins/\d+/greeting$"))
    expect(advisor.get_by_test_id("declined")).to_contain_text("前制动片")
    # The declined pads are not listed as work done at the last visit; the tyre is.
    done = advisor.get_by_test_id("last-visit").locator("xpath=following-sibling::p[1]")
    expect(done).to_contain_text("右后轮胎")
    expect(done).not_to_contain_text("前制动片")
    snap(shot, advisor, "health-5-next-greeting-zh")
    advisor.goto(f"/vehicles/{vehicle_id}")
    expect(advisor.get_by_test_id("vf-declined")).to_contain_text("前制动片")
    row = advisor.get_by_test_id("vf-health-tread_rr")
    expect(row.locator("[data-colour]")).to_have_attribute("data-colour", "red")
    expect(row.get_by_test_id("vf-measure")).to_have_text("1.2")
    snap(shot, advisor, "health-6-vehicle-file-zh")


def test_a_health_check_goes_from_the_bay_to_the_customers_decision_and_the_file(
    new_context: Callable[..., Any], browser: Browser, live_server: str, db_path: Path,
    shot: Shot,
) -> None:  # fmt: skip
    db = db_path
    order_id, vehicle_id, tasks = the_car_waiting_for_the_workshop(db)
    plate = one(db, "SELECT plate FROM vehicle WHERE id = ?", vehicle_id)
    foreman = new_context("foreman")
    foreman.add_init_script(LIVE_PROBE)
    board = open_live(foreman, "/workshop")
    for task_id in tasks:
        dispatch(board, task_id, user_id(db, "technician"), db)
    tech = new_context("technician").new_page()
    technician_checks(tech, db, order_id, shot)

    advisor = new_context("advisor").new_page()
    token = advisor_prices_and_sends(advisor, db, order_id, shot)
    customer_answers_on_the_phone(browser, live_server, token, shot)
    statuses = query(
        db,
        "SELECT r.key, s.status FROM health_check_result r JOIN supplement s "
        "ON s.id = r.supplement_id ORDER BY r.key",
    )
    assert statuses == [
        ("pads_front", "declined"), ("tread_rr", "approved"), ("wipers", "approved"),
    ], statuses  # fmt: skip

    # The same screens in English.
    set_language(advisor, "en", f"/health-checks/{order_id}")
    advisor.goto(f"/health-checks/{order_id}")
    expect(advisor.get_by_test_id("hc-recommendations")).to_contain_text("Recommendations")
    snap(shot, advisor, "health-7-advisor-en")
    advisor.goto(f"/vehicles/{vehicle_id}")
    expect(advisor.locator("h1")).to_contain_text("Vehicle file")
    snap(shot, advisor, "health-8-vehicle-file-en")
    set_language(advisor, "zh_CN", "/lane")

    the_next_visit_greets_with_the_decline(advisor, vehicle_id, plate, shot)

"""The customer's own check of their signed copy, and the final QC report read back.

On the demo's car that is ready for delivery: the advisor's thanks screen shows the QR
code and the link; the customer opens the link on their own phone with no sign-in and
sees the record intact, in Chinese; someone alters a price behind the app's back and the
customer's page lists the change in Chinese. The QC inspector opens the car's report and
sees every item ticked, the odometer and the fuel as recorded, read-only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

from playwright.sync_api import BrowserContext, expect

from tests.e2e.flows import Shot, execute, query, snap

CJK = re.compile(r"[\u4e00-\u9fff]")


def ready_order(db: Path) -> tuple[int, int]:
    """The demo's car ready for delivery: its order and work-order signature."""
    [(order_id, signature_id)] = query(
        db,
        "SELECT o.id, s.id FROM work_order o JOIN signature s ON s.work_order_id = o.id "
        "WHERE o.status = 'ready' AND s.kind = 'work_order' ORDER BY o.id LIMIT 1",
    )
    return order_id, signature_id


def test_the_customer_checks_their_copy_and_sees_a_change(
    new_context: Callable[..., BrowserContext], shot: Shot, db_path: Path
) -> None:
    order_id, _signature_id = ready_order(db_path)
    advisor = new_context("advisor").new_page()
    advisor.goto(f"/review/{order_id}/thanks")
    expect(advisor.get_by_test_id("verify-qr").locator("svg")).to_be_visible()
    link = advisor.get_by_test_id("customer-verify-link").get_attribute("href")
    assert link is not None
    assert re.search(r"/v/\d+\.[A-Za-z0-9_-]{22}$", link), link
    snap(shot, advisor, "records-1-thanks-qr")

    # The link names WALKAROUND_PUBLIC_URL; the test server listens on a port of its own.
    path = urlparse(link).path
    customer = new_context(None).new_page()  # the customer's phone: no staff session
    customer.goto(path)
    page = customer.get_by_test_id("customer-verify")
    expect(page).to_have_attribute("data-intact", "true")
    expect(customer.get_by_test_id("customer-verify-result")).to_contain_text("完全一致")
    expect(customer.locator("header nav:not(.lang-links), form[action='/sign-out']")).to_have_count(
        0
    )
    snap(shot, customer, "records-2-customer-verify-intact")

    [(line_id, price)] = query(
        db_path,
        "SELECT l.id, l.unit_price FROM job_line l JOIN job j ON j.id = l.job_id "
        "WHERE j.work_order_id = ? ORDER BY l.id LIMIT 1",
        order_id,
    )
    try:
        assert execute(db_path, "UPDATE job_line SET unit_price = 1 WHERE id = ?", line_id) == 1
        customer.reload()
        expect(page).to_have_attribute("data-intact", "false")
        change = customer.locator("[data-testid=customer-change][data-path$='.unit_price']")
        expect(change).to_have_count(1)
        expect(change.locator("td").first).to_have_text(
            re.compile(r"维修项目 \d+ › 明细 \d+ › 单价")
        )
        expect(change.locator("td").nth(2)).to_have_text("¥1.00")
        fields = customer.locator("[data-testid=customer-change] td:first-child").all_inner_texts()
        assert fields
        assert all(CJK.search(f) for f in fields), fields
        snap(shot, customer, "records-3-customer-verify-changed")
    finally:
        execute(db_path, "UPDATE job_line SET unit_price = ? WHERE id = ?", price, line_id)

    # A wrong link gets a plain page for the customer.
    customer.goto(path[:-3] + "abc")
    expect(customer.get_by_test_id("customer-verify-missing")).to_be_visible()


def test_the_inspector_reads_the_recorded_report_back(
    new_context: Callable[..., BrowserContext], shot: Shot, db_path: Path
) -> None:
    order_id, _signature_id = ready_order(db_path)
    [(ticked, odometer, fuel)] = query(
        db_path,
        "SELECT ticked, odometer_km, fuel_eighths FROM inspection WHERE work_order_id = ? "
        "AND passed ORDER BY id DESC LIMIT 1",
        order_id,
    )
    qc = new_context("qc").new_page()
    qc.goto(f"/final-check/{order_id}")
    expect(qc.get_by_test_id("qc-form")).to_have_count(0)
    report = qc.get_by_test_id("qc-recorded").first
    expect(report).to_have_attribute("data-passed", "true")
    items = report.get_by_test_id("qc-recorded-item")
    expect(items).to_have_count(len(json.loads(ticked)))
    expect(report.locator("[data-testid=qc-recorded-item][data-ticked=false]")).to_have_count(0)
    expect(report.get_by_test_id("qc-recorded-odometer")).to_have_text(f"{odometer:,} 公里")
    expect(report.get_by_test_id("qc-recorded-fuel")).to_have_text(f"{fuel}/8")
    expect(qc.get_by_test_id("qc-print")).to_be_visible()
    snap(shot, qc, "records-4-qc-report-read-back")

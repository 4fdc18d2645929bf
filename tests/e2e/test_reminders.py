"""The service manager's reminder list on a tablet: the demo's cars due (an overdue
service, one due by km this week, an inspection, an insurance expiry; the customer who
opted out is not there), a text sent from a row lands in the outbox in Chinese, a "not
now" takes another car off the list. In zh-CN, then in English, portrait and landscape,
screenshots of each."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from tests.e2e.flows import query as db_query
from tests.e2e.flows import set_language, tap

DUE = ("粤BR3K21", "粤BR7M05", "粤BR2D88", "粤BR9P16", "粤BR5E40")
OPTED_OUT = "粤BR1T73"


def _row(page: Page, plate: str, kind: str = "service"):  # type: ignore[no-untyped-def]
    return page.locator(f'[data-testid="rem-row"][data-plate="{plate}"][data-kind="{kind}"]')


def _fits(page: Page, where: str) -> None:
    """No sideways scrolling, and every control big enough for a finger."""
    wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert wide <= 0, f"{where}: {wide} px wider than the screen"
    small = page.evaluate(
        """() => [...document.querySelectorAll(
            'main a.btn, main button, main input, main select, main summary, main .rem-band')]
          .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height < 48)
          .map(e => e.outerHTML.slice(0, 80))"""
    )
    assert small == [], f"{where}: small targets {small}"


def _free_time(db: Path, zone: ZoneInfo, day: date) -> str:
    """A slot on `day` no booking holds (the demo books the coming week)."""
    held = {
        datetime.fromisoformat(at).astimezone(zone).strftime("%H:%M")
        for (at,) in db_query(
            db, "SELECT scheduled_at FROM appointment WHERE status != 'cancelled'"
        )
        if datetime.fromisoformat(at).astimezone(zone).date() == day
    }
    slots = [f"{h:02d}:{m:02d}" for h in range(10, 18) for m in (0, 30)]
    return next(t for t in slots if t not in held)


def test_the_manager_sends_a_text_and_records_not_now(
    new_context, shot, db_path, server_zone
) -> None:
    page = new_context("manager", "portrait").new_page()
    page.goto("/reminders")
    set_language(page, "zh_CN", "/reminders")
    page.goto("/reminders")
    expect(page.get_by_role("heading", name="客户关怀提醒")).to_be_visible()
    _fits(page, "list, zh, portrait")
    shot(page, "reminders-zh-portrait")
    # The demo's months add cars due: each of these is looked for in its band or kind,
    # whose list fits one page, and the customer who opted out is in none.
    for query, plate, kind in (
        ("band=soon", "粤BR2D88", "service"), ("band=week", "粤BR7M05", "service"),
        ("kind=inspection", "粤BR9P16", "inspection"), ("kind=insurance", "粤BR5E40", "insurance"),
        ("band=overdue", "粤BR3K21", "service"),
    ):  # fmt: skip
        page.goto(f"/reminders?{query}")
        expect(_row(page, plate, kind)).to_be_visible()
        expect(page.locator(f'[data-plate="{OPTED_OUT}"]')).to_have_count(0)
    expect(_row(page, "粤BR3K21").get_by_test_id("rem-band")).to_have_text("已逾期")

    # A text from the overdue car's row: the row says so in place.
    row = _row(page, "粤BR3K21")
    tap(row.get_by_role("button", name="发送短信"))
    expect(row.get_by_test_id("rem-note")).to_contain_text("已通过短信发送")
    expect(row.get_by_test_id("rem-sent")).to_be_visible()
    # A second tap is the same reminder: nothing new in the outbox.
    tap(row.get_by_role("button", name="发送短信"))
    expect(row.get_by_test_id("rem-note")).to_contain_text("未重复发送")
    shot(page, "reminders-zh-sent")

    page.goto("/outbox")
    texts = page.locator('[data-testid="message"][data-channel="sms"]').filter(
        has=page.get_by_test_id("recipient").filter(has_text="13902881001")
    )
    expect(texts).to_have_count(1)
    body = texts.get_by_test_id("message-body")
    expect(body).to_contain_text("尊敬的周建国：您的爱车Toyota Camry（粤BR3K21）下次保养日期为")
    expect(body).to_contain_text("如需预约，请致电")

    # "Not now" on the car due this month: off the list after the default 30 days.
    page.goto("/reminders?band=soon")
    row = _row(page, "粤BR2D88")
    tap(row.get_by_test_id("rem-open-answer"))
    expect(row.get_by_role("button", name="暂不需要")).to_be_visible()
    _fits(page, "answer open, zh, portrait")
    shot(page, "reminders-zh-answer")
    tap(row.get_by_role("button", name="暂不需要"))
    expect(row.get_by_test_id("rem-note")).to_contain_text("之后重新提醒")
    page.reload()
    expect(_row(page, "粤BR2D88")).to_have_count(0)

    # A booking refused for a time outside opening hours keeps the time typed.
    page.goto("/reminders?band=week")
    expect(_row(page, "粤BR7M05").get_by_test_id("rem-band")).to_have_text("7天内")
    expect(_row(page, "粤BR7M05")).to_contain_text("按里程先到期")
    row = _row(page, "粤BR7M05")
    tap(row.get_by_test_id("rem-open-book"))
    when = row.locator("input[name=scheduled_at]")
    day = when.input_value()[:10]
    when.fill(f"{day}T20:00")
    tap(row.get_by_test_id("rem-book"))
    expect(page.get_by_role("alert").filter(has_text="营业时间")).not_to_have_count(0)
    expect(when).to_have_value(f"{day}T20:00")
    expect(when).to_have_attribute("aria-invalid", "true")
    shot(page, "reminders-zh-book-refused")
    when.fill(f"{day}T{_free_time(db_path, server_zone, date.fromisoformat(day))}")
    tap(row.get_by_test_id("rem-book"))
    expect(row.get_by_test_id("rem-note")).to_contain_text("已预约")


def test_the_list_reads_in_english_on_both_orientations(new_context, shot) -> None:
    page = new_context("advisor", "landscape").new_page()
    page.goto("/reminders")
    set_language(page, "en", "/reminders")
    page.goto("/reminders?kind=inspection")
    expect(page.get_by_role("heading", name="Service reminders")).to_be_visible()
    expect(_row(page, "粤BR9P16", "inspection").get_by_test_id("rem-kind")).to_have_text(
        "Annual inspection"
    )
    expect(page.get_by_test_id("rem-band-overdue")).to_contain_text("Past due")
    _fits(page, "list, en, landscape")
    shot(page, "reminders-en-landscape")
    page.goto("/reminders?kind=insurance")
    tap(_row(page, "粤BR5E40", "insurance").get_by_test_id("rem-open-book"))
    _fits(page, "booking open, en, landscape")
    shot(page, "reminders-en-book")
    page.set_viewport_size({"width": 834, "height": 1194})
    page.goto("/reminders?kind=insurance")
    expect(page.get_by_test_id("rem-row")).not_to_have_count(0)
    _fits(page, "insurance only, en, portrait")
    shot(page, "reminders-en-portrait")
    set_language(page, "zh_CN", "/reminders")

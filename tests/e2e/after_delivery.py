"""After the car leaves (issue 13), on the order the workshop flow just delivered: the
relations clerk's queue holds its call → a "no" the order's record contradicts, flagged
beside the record → the complaint opens pre-filled in one tap → marked serious, the
manager's lane board is alerted live in another context → listen, facts, decision,
explanation, action → the check call, made from the clerk's queue, finds the customer
satisfied → closed; the month's follow-up report shows the call and the complaint."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.flows import complaint_choice, query, save_complaint_step, tap

REMARK_WALKAROUND = "顾问没有和我一起看车"
REMARK_WORK = "取车后刹车还有异响"
LIVE_MS = 15_000


def _call_row(page: Page, task_id: int) -> Any:
    page.goto("/follow-ups?tab=upcoming")
    row = page.locator(f'[data-testid="fu-row"][data-task="{task_id}"]')
    if row.count() == 0:  # due today when the run crosses the deadline's day
        page.goto("/follow-ups")
    return row


def _answer(page: Page, code: str, value: str) -> None:
    page.locator(f'label:has([data-testid="answer-{code}-{value}"])').click()
    expect(page.get_by_test_id(f"answer-{code}-{value}")).to_be_checked()


def the_call_the_complaint_and_the_report(  # noqa: PLR0915 - one story
    new_context: Callable[..., BrowserContext], db: Path, shot: Any, order_id: int, number: str
) -> None:
    board = new_context("manager", "landscape").new_page()
    board.goto("/lane")
    expect(board.get_by_test_id("live")).to_be_visible()
    clerk = new_context("relations", "portrait").new_page()

    # 1. The delivered order's call in the queue, and the call beside the record.
    (task_id,) = query(
        db,
        "SELECT id FROM follow_up_task WHERE work_order_id = ? AND reason = 'delivery'",
        order_id,
    )[0]
    row = _call_row(clerk, task_id)
    expect(row).to_contain_text(number)
    expect(row.get_by_test_id("fu-rework")).to_be_visible()  # the QC failed it once
    tap(row.get_by_test_id("fu-open"))
    clerk.wait_for_url(re.compile(rf"/follow-ups/{task_id}$"))
    expect(clerk.get_by_test_id("record-walkaround")).to_contain_text("安装防护套")
    for code in ("greeted_promptly", "estimate_before_work", "ready_on_time",
                 "explained_at_delivery", "car_clean", "advice_given"):  # fmt: skip
        _answer(clerk, code, "yes")
    # Covers and walkaround photos are on the record: this "no" is flagged as the clerk taps.
    _answer(clerk, "walkaround", "no")
    flag = clerk.get_by_test_id("flag-walkaround")
    expect(flag).to_have_attribute("data-verdict", "contradicts")
    clerk.get_by_test_id("remark-walkaround").fill(REMARK_WALKAROUND)
    _answer(clerk, "work_as_agreed", "no")
    clerk.get_by_test_id("remark-work_as_agreed").fill(REMARK_WORK)
    clerk.locator('label:has([data-testid="satisfaction-2"])').click()
    clerk.locator('label:has([data-testid="spoke-with-user"])').click()
    shot(clerk, "after-delivery-1-call-zh")
    tap(clerk.get_by_test_id("outcome-reached"))
    expect(clerk.get_by_test_id("saved-walkaround")).to_have_attribute(
        "data-verdict", "contradicts"
    )

    # 2. One tap: the complaint, pre-filled from the call.
    tap(clerk.get_by_test_id("fu-open-complaint"))
    clerk.wait_for_url(re.compile(r"/complaints/\d+$"))
    ident = int(clerk.url.rsplit("/", 1)[-1])
    code, channel, linked = query(
        db, "SELECT number, channel, work_order_id FROM complaint WHERE id = ?", ident
    )[0]
    assert (channel, linked) == ("follow_up_call", order_id)
    record = clerk.get_by_test_id("complaint-record")
    expect(record).to_contain_text(REMARK_WORK)
    expect(clerk.locator("#c-words")).to_contain_text(REMARK_WALKAROUND)
    shot(clerk, "after-delivery-2-complaint-prefilled-zh")

    # 3. Brakes: serious. The manager's lane board shows it without a reload.
    tap(clerk.get_by_test_id("raise-serious"))
    expect(clerk.get_by_test_id("manager-alerted")).to_be_visible()
    expect(board.get_by_test_id(f"banner-{code}")).to_be_visible(timeout=LIVE_MS)
    expect(board.get_by_test_id("complaint-badge")).to_be_visible()
    shot(board, "after-delivery-3-manager-alerted-zh")

    # 4. Listen, facts, decide, explain, act.
    clerk.get_by_test_id("w2h-what").fill("刹车异响")
    clerk.get_by_test_id("w2h-when").fill("取车后第一天")
    clerk.get_by_test_id("read-back").locator("..").click()
    save_complaint_step(clerk, "listen", "facts")
    clerk.get_by_test_id("facts").fill("试车复现：右前制动片安装不到位（见终检报告的返修记录）。")
    complaint_choice(clerk, "form-facts", "维修质量")
    complaint_choice(clerk, "form-facts", "经销商")
    save_complaint_step(clerk, "facts", "decide")
    clerk.get_by_test_id("decision").fill("免费重新安装制动片并试车。")
    clerk.get_by_test_id("amount").fill("0")
    save_complaint_step(clerk, "decide", "explain")
    clerk.get_by_test_id("explanation").fill("当面说明原因和处理方案，客户同意。")
    complaint_choice(clerk, "form-explain", "是")
    save_complaint_step(clerk, "explain", "act")
    complaint_choice(clerk, "form-act", "返修")
    clerk.get_by_test_id("action").fill("重新安装右前制动片，试车确认无异响。")
    save_complaint_step(clerk, "act", "follow_up")
    tap(clerk.get_by_test_id("schedule-call"))
    expect(clerk.get_by_test_id("call-waiting")).to_be_visible()

    # 5. The check call, from the clerk's own queue: satisfied. Then closed.
    (check_id,) = query(
        db, "SELECT id FROM follow_up_task WHERE complaint_id = ? AND reason = 'complaint'", ident
    )[0]
    clerk.goto("/follow-ups")
    check_row = clerk.locator(f'[data-testid="fu-row"][data-task="{check_id}"]')
    expect(check_row.get_by_test_id("fu-complaint")).to_contain_text(code)
    tap(check_row.get_by_test_id("fu-open"))
    clerk.wait_for_url(re.compile(rf"/follow-ups/{check_id}$"))
    clerk.locator('label:has([data-testid="satisfied-yes"])').click()
    clerk.locator('label:has([data-testid="spoke-with-user"])').click()
    shot(clerk, "after-delivery-5-check-call-zh")
    tap(clerk.get_by_test_id("outcome-reached"))
    expect(clerk.get_by_test_id("fu-form")).to_have_count(0)
    clerk.goto(f"/complaints/{ident}")
    expect(clerk.get_by_test_id("form-follow-up")).to_contain_text("客户满意")
    tap(clerk.get_by_test_id("close"))
    expect(clerk.get_by_test_id("closed")).to_be_visible()
    assert query(db, "SELECT step FROM complaint WHERE id = ?", ident) == [("closed",)]
    shot(clerk, "after-delivery-6-closed-zh")

    # 6. The month's report: the call's contradiction and the serious complaint.
    board.goto("/reports/follow-ups")
    contradiction = board.locator('[data-testid="contradiction"]', has_text=number)
    expect(contradiction.first).to_be_attached()
    expect(board.get_by_test_id("by-severity")).to_contain_text("重大")
    shot(board, "after-delivery-7-report-zh")
    board.locator(".lang-switch button[value=en]").click()
    expect(board.get_by_test_id("report-title")).to_contain_text("Follow-up")
    shot(board, "after-delivery-7-report-en")
    board.goto(f"/complaints/{ident}")
    expect(board.get_by_test_id("closed")).to_have_text("Closed")
    shot(board, "after-delivery-6-closed-en")
    board.locator(".lang-switch button[value=zh_CN]").click()
    expect(board.get_by_test_id("closed")).to_have_text("已结案")

"""The relations clerk's follow-up call on a tablet: signed in, the queue (with its count
in the app bar) → a delivered car's call → one "no" the order's record contradicts,
flagged as it is tapped → saved beside the record → the complaint is one tap away.
In zh-CN, then the same screens in English, screenshots of each.

The call is the demo's: a car delivered three days ago whose call
`schedule_follow_up` made when it was delivered (app/demo/follow_ups.py); driving a
delivery to the end is test_workshop_to_delivery's, which checks that call is made."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.flows import query, set_language, tap

QUESTIONS = (
    "greeted_promptly", "walkaround", "estimate_before_work", "ready_on_time", "work_as_agreed",
    "explained_at_delivery", "car_clean", "advice_given", "earlier_issues_resolved",
)  # fmt: skip
REMARK = "到店后等了十分钟才有人接待"


def _demo_task(db: Path, suffix: str) -> tuple[int, str]:
    rows = query(
        db,
        "SELECT t.id, w.number FROM follow_up_task t JOIN work_order w ON w.id = t.work_order_id "
        "WHERE w.number LIKE ? AND t.status = 'open'",
        f"%-F{suffix}",
    )
    assert rows, f"the demo's follow-up {suffix} is missing"
    return rows[0]


def _row(page: Page, task_id: int) -> Any:
    """The task's row, on the today tab or (late in the day) the upcoming one."""
    row = page.locator(f'[data-testid="fu-row"][data-task="{task_id}"]')
    if row.count() == 0:
        page.goto("/follow-ups?tab=upcoming")
    expect(row).to_be_visible()
    return row


def _choose(page: Page, testid: str) -> None:
    page.locator(f'label:has([data-testid="{testid}"])').click()
    expect(page.get_by_test_id(testid)).to_be_checked()


def _fits(page: Page, where: str) -> None:
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height <= 2388, f"{where}: {height} px tall"


def test_a_call_with_a_no_the_record_contradicts_is_saved_and_opens_a_complaint(
    new_context, db_path, shot
) -> None:
    task_id, number = _demo_task(db_path, "001")
    page = new_context("relations", "portrait").new_page()
    other, _other_number = _demo_task(db_path, "003")
    queue_in_chinese(page, task_id, number, shot)
    call_in_chinese(page, task_id, db_path, shot)
    # At a desk or a tablet held sideways: the same call, landscape.
    wide = new_context("relations", "landscape").new_page()
    wide.goto(f"/follow-ups/{other}")
    expect(wide.get_by_test_id("fu-form")).to_be_visible()
    shot(wide, "follow-up-call-landscape-zh")
    in_english(page, task_id, other, shot)


def queue_in_chinese(page: Page, task_id: int, number: str, shot: Any) -> None:
    page.goto("/")
    page.wait_for_url(re.compile(r"/follow-ups$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("回访")
    badge = page.get_by_test_id("fu-badge")
    expect(badge).to_contain_text("逾期")
    row = _row(page, task_id)
    expect(row).to_contain_text(number)
    expect(row.get_by_test_id("fu-rework")).to_be_visible()  # a rework car goes first
    assert (row.get_by_test_id("fu-tel").get_attribute("href") or "").startswith("tel:")
    _fits(page, "queue")
    shot(page, "follow-ups-queue-zh")
    tap(row.get_by_test_id("fu-open"))


def call_in_chinese(page: Page, task_id: int, db_path: Path, shot: Any) -> None:
    page.wait_for_url(re.compile(rf"/follow-ups/{task_id}$"))
    record = page.get_by_test_id("record-greeted_promptly")
    expect(record).to_contain_text("接待（2分钟；标准为5分钟）")
    for code in QUESTIONS:
        _choose(page, f"answer-{code}-yes")
    flag = page.get_by_test_id("flag-greeted_promptly")
    expect(flag).to_have_attribute("data-verdict", "supports")
    # The customer says they waited: the record shows a greeting within two minutes.
    tap(page.locator('label:has([data-testid="answer-greeted_promptly-no"])'))
    expect(flag).to_have_attribute("data-verdict", "contradicts")
    expect(flag).to_contain_text("记录显示相反")
    expect(page.get_by_test_id("flag-walkaround")).to_have_attribute("data-verdict", "unsupported")
    page.get_by_test_id("remark-greeted_promptly").fill(REMARK)
    _choose(page, "satisfaction-3")
    _choose(page, "spoke-with-user")
    _fits(page, "call")
    shot(page, "follow-up-call-zh")

    tap(page.get_by_test_id("outcome-reached"))
    page.wait_for_url(re.compile(rf"/follow-ups/{task_id}$"))
    expect(page.get_by_test_id("fu-form")).to_have_count(0)
    saved = page.get_by_test_id("saved-greeted_promptly")
    expect(saved).to_have_attribute("data-verdict", "contradicts")
    expect(saved).to_contain_text(REMARK)
    (attempt_id, satisfaction), *rest = query(
        db_path,
        "SELECT id, satisfaction FROM follow_up_attempt WHERE task_id = ? AND outcome = 'reached'",
        task_id,
    )
    assert (rest, satisfaction) == ([], 3)
    assert query(
        db_path,
        "SELECT answer, remark, record_verdict FROM follow_up_answer "
        "WHERE attempt_id = ? AND question = 'greeted_promptly'",
        attempt_id,
    ) == [("no", REMARK, "contradicts")]
    assert query(db_path, "SELECT status FROM follow_up_task WHERE id = ?", task_id) == [
        ("reached",)
    ]
    complaint = page.get_by_test_id("fu-complaint-form")
    expect(complaint).to_have_attribute("action", f"/complaints/from-call/{attempt_id}")
    expect(page.get_by_test_id("fu-open-complaint")).to_be_visible()
    shot(page, "follow-up-call-saved-zh")


def in_english(page: Page, task_id: int, other: int, shot: Any) -> None:
    """The same screens in English (the clerk's language is kept on the user: put back)."""
    try:
        set_language(page, "en", "/follow-ups")
        page.goto("/follow-ups?tab=upcoming")
        expect(page.get_by_role("heading", level=1)).to_have_text("Follow-up calls")
        expect(page.get_by_test_id("fu-badge")).to_contain_text("late")
        _fits(page, "queue (en)")
        shot(page, "follow-ups-queue-en")
        page.goto(f"/follow-ups/{other}")
        expect(page.get_by_test_id("record-greeted_promptly")).to_contain_text("Arrived")
        _choose(page, "answer-greeted_promptly-no")
        expect(page.get_by_test_id("flag-greeted_promptly")).to_contain_text(
            "The record says otherwise"
        )
        _fits(page, "call (en)")
        shot(page, "follow-up-call-en")
        page.goto(f"/follow-ups/{task_id}")
        expect(page.get_by_test_id("fu-open-complaint")).to_have_text(
            "Open a complaint from this call"
        )
        shot(page, "follow-up-call-saved-en")
    finally:
        set_language(page, "zh_CN", "/follow-ups")

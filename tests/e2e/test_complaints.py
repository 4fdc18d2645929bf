"""A complaint on a tablet, from receipt to closed: the serious complaint alerts the manager
live on their lane board (another tablet), each step is saved in place, a decision above the
clerk's authority is refused, and closing waits for the follow-up call that finds the
customer satisfied (made here in the database, as the follow-up queue would record it)."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.sync_api import expect

from tests.e2e.flows import complaint_choice, execute, query, save_complaint_step, tap


def test_a_serious_complaint_goes_from_receipt_to_closed_on_a_tablet(  # noqa: PLR0915 - one story
    new_context, db_path, shot
):
    order_id, number = query(db_path, """
        SELECT id, number FROM work_order WHERE status = 'delivered' AND id NOT IN
          (SELECT work_order_id FROM complaint WHERE work_order_id IS NOT NULL)
        ORDER BY delivered_at DESC LIMIT 1""")[0]  # fmt: skip
    board = new_context("manager", "landscape").new_page()
    board.goto("/lane")
    expect(board.get_by_test_id("live")).to_be_visible()

    page = new_context("relations").new_page()
    page.goto(f"/complaints/new?order={order_id}")
    expect(page.locator("input[name=work_order_id]:checked")).to_have_value(str(order_id))
    page.locator("label", has_text="当面").first.click()
    page.get_by_test_id("complaint-words").fill("取车第二天刹车踏板变软，下坡差点刹不住。")
    page.locator("label", has_text="重大").first.click()
    shot(page, "complaint-new-zh")
    tap(page.get_by_test_id("complaint-create"))
    page.wait_for_url("**/complaints/*")
    ident = int(page.url.rstrip("/").rsplit("/", 1)[-1])
    code = query(db_path, "SELECT number FROM complaint WHERE id = ?", ident)[0][0]
    expect(page.get_by_test_id("manager-alerted")).to_be_visible()

    # The manager's board shows it without a reload.
    banner = board.get_by_test_id(f"banner-{code}")
    expect(banner).to_be_visible(timeout=15_000)
    expect(board.get_by_test_id("complaint-badge")).to_be_visible()
    shot(board, "complaint-manager-board-zh")

    # Listen: the summary must be read back before it moves on.
    expect(page.get_by_test_id("step-listen")).to_have_attribute("data-state", "current")
    page.get_by_test_id("w2h-what").fill("刹车踏板变软，制动距离变长")
    page.get_by_test_id("w2h-when").fill("取车第二天，下坡时")
    shot(page, "complaint-listen-zh")
    tap(page.get_by_test_id("save-listen"))
    expect(page.locator("#error-read_back")).to_contain_text("复述")
    expect(page.get_by_test_id("w2h-what")).to_have_value("刹车踏板变软，制动距离变长")
    page.get_by_test_id("read-back").locator("..").click()
    save_complaint_step(page, "listen", "facts")

    page.get_by_test_id("facts").fill("试车复现；制动液液位偏低，排气未彻底（见工单记录）。")
    complaint_choice(page, "form-facts", "维修质量")
    complaint_choice(page, "form-facts", "经销商")
    expect(page.get_by_test_id("evidence").locator("a").first).to_be_visible()
    save_complaint_step(page, "facts", "decide")

    page.get_by_test_id("decision").fill("免费重新排气并更换制动液，赠送一次保养。")
    page.get_by_test_id("amount").fill("800")
    tap(page.get_by_test_id("save-decide"))
    expect(page.locator("#error-amount")).to_contain_text("服务经理")
    shot(page, "complaint-decide-refused-zh")
    page.get_by_test_id("amount").fill("300")
    save_complaint_step(page, "decide", "explain")

    page.get_by_test_id("explanation").fill("当面说明原因、处理方案和补偿。")
    complaint_choice(page, "form-explain", "是")
    save_complaint_step(page, "explain", "act")

    complaint_choice(page, "form-act", "返修")
    page.get_by_test_id("action").fill("重新排气，更换制动液，试车确认。")
    save_complaint_step(page, "act", "follow_up")

    tap(page.get_by_test_id("schedule-call"))
    expect(page.get_by_test_id("call-waiting")).to_be_visible()
    with page.expect_response(lambda r: r.url.endswith("/close")) as refused:
        page.get_by_test_id("close").click()
    assert refused.value.status == 422
    expect(page.locator("#toasts")).to_contain_text("回访")
    expect(page.get_by_test_id("step-follow_up")).to_have_attribute("data-state", "current")
    assert query(db_path, "SELECT step FROM complaint WHERE id = ?", ident)[0][0] == "follow_up"

    # The follow-up clerk's call finds the customer satisfied.
    task_id = query(db_path, "SELECT id FROM follow_up_task WHERE complaint_id = ?", ident)[0][0]
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    execute(db_path, """INSERT INTO follow_up_attempt
        (task_id, called_at, outcome, spoke_with, comment, satisfied, created_at)
        VALUES (?, ?, 'reached', 'user', '', 1, ?)""", task_id, stamp, stamp)  # fmt: skip
    page.reload()
    expect(page.get_by_test_id("form-follow-up")).to_contain_text("客户满意")
    with page.expect_response(lambda r: r.url.endswith("/close")) as closing:
        tap(page.get_by_test_id("close"))
    assert closing.value.status == 200
    expect(page.get_by_test_id("closed")).to_be_visible()
    history = page.get_by_test_id("history")
    expect(history.locator("[data-kind=closed]")).to_have_count(1)
    expect(history.locator("[data-kind=manager_alerted]")).to_have_count(1)
    shot(page, "complaint-closed-zh")
    assert query(db_path, "SELECT step FROM complaint WHERE id = ?", ident)[0][0] == "closed"

    # The same record and the list in English.
    page.locator(".lang-switch button[value=en]").click()
    expect(page.get_by_test_id("closed")).to_have_text("Closed")
    shot(page, "complaint-closed-en")
    page.goto("/complaints?show=closed")
    expect(page.get_by_test_id(f"complaint-{code}")).to_be_visible()
    page.goto("/complaints")
    shot(page, "complaint-list-en")
    mid = query(db_path, "SELECT id FROM complaint WHERE step = 'decide' LIMIT 1")
    if mid:
        page.goto(f"/complaints/{mid[0][0]}")
        expect(page.get_by_test_id("form-decide")).to_be_visible()
        shot(page, "complaint-decide-en")
    page.locator(".lang-switch button[value=zh_CN]").click()
    page.goto("/complaints")
    expect(page.get_by_role("heading", name="投诉")).to_be_visible()
    shot(page, "complaint-list-zh")
    assert number
    # At the desk or a landscape tablet: the manager reads the closed record.
    desk = new_context("manager", "landscape").new_page()
    desk.goto(f"/complaints/{ident}")
    expect(desk.get_by_test_id("closed")).to_be_visible()
    expect(desk.get_by_test_id("complaint-badge")).to_be_visible()
    shot(desk, "complaint-closed-landscape-zh")

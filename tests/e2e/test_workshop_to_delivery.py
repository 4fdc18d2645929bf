"""From the signed order to the delivered car, with every role on its own tablet at once.

The advisor checks the car in (walkaround photos), prices it and the customer signs in
customer mode; the foreman dispatches the job from the live workshop board to 李强; the
technician's 我的工单 shows it without a reload, and his Start moves the card on the
foreman's board through the server-sent events, without a reload there either; finish,
self-check, the foreman's mutual check, and the car is in QC. The QC inspector fails it
for workmanship; the rework note reaches the technician live; the job is redone and
checked again; the inspector ticks every item, reads the odometer and fuel, and passes it.
The advisor delivers it: today's photo of each position photographed at check-in, a new
scratch recorded (escalated, with its photo), the advice, the next service, the old parts
shown, and the customer's touch signature on the advisor's tablet. Then the database: the
order delivered, a follow-up call due within 3 days, and the delivery signature intact.

Refusals along the way, each visible and leaving the database as it was: Finish before
Start, Pass with one item unticked, and a delivery signed with an empty pad.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Page, Request, expect

from tests.e2e.after_delivery import the_call_the_complaint_and_the_report
from tests.e2e.conftest import DEMO_PASSWORD
from tests.e2e.flows import (
    DAMAGE_FILE,
    EXTERIOR,
    EXTERIOR_FILES,
    PHOTOS,
    SWALLOWED_TAPS,
    UPLOAD_TIMEOUT_MS,
    Shot,
    check_in_row,
    posted,
    query,
    sign_on,
    signed_order,
    snap,
    stroke_points,
    tap,
    toast,
    wait_for_outbox_empty,
)

# The board and the technician's list follow the server-sent events; give the swap time.
LIVE_TIMEOUT_MS = 20_000
# The QC queue's timed refresh is a minute apart: a car seen sooner came by the stream.
QC_LIVE_TIMEOUT_MS = 8_000
MIN_TARGET = 48  # CSS px, as test_tablet_layout
CJK = re.compile(r"[\u4e00-\u9fff]")
REWORK_NOTE = "机油滤清器密封圈未更换，有渗油，请重新安装"
DAMAGE_NOTE = "左后车门新划痕约 5 厘米"
ADVICE = "建议 5000 公里后检查刹车片；冬季前检查防冻液。"

# Every page records the board events it hears (from before its own scripts run), so a
# test can tell a swap driven by the stream from a reload.
LIVE_PROBE = """
window.__live = {open: 0, messages: 0};
document.addEventListener('htmx:sseOpen', () => window.__live.open++);
document.addEventListener('htmx:sseMessage', () => window.__live.messages++);
"""

# Controls a finger must hit, measured as the user sees them: an input hidden inside its
# label (a tick box, a chip, the camera button) counts with the label's size.
TARGETS_JS = """
() => {
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, [role=button]';
  const seen = new Set();
  const out = [];
  let measured = 0;
  for (let el of document.querySelectorAll(selector)) {
    let box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    const hiddenInput = el.tagName === 'INPUT' && (style.opacity === '0'
        || box.width <= 2 || box.height <= 2 || el.type === 'file');
    if (hiddenInput) {
      const label = el.closest('label');
      if (!label) continue;
      el = label;
      box = el.getBoundingClientRect();
    }
    if (seen.has(el)) continue;
    seen.add(el);
    const st = getComputedStyle(el);
    if (box.width === 0 || box.height === 0 || st.visibility === 'hidden'
        || st.display === 'none' || el.closest('[hidden]')) continue;
    measured++;
    const label = (el.innerText || el.value || el.getAttribute('aria-label')
                   || el.getAttribute('placeholder') || el.name || el.id || '').trim();
    const type = el.getAttribute('type') || '';
    const text = ['INPUT', 'TEXTAREA'].includes(el.tagName)
        && !['checkbox', 'radio', 'submit', 'button'].includes(type);
    const small = box.height < 48 - 0.01 || (!text && box.width < 48 - 0.01);
    if (small) out.push(`<${el.tagName.toLowerCase()}${type ? ' type=' + type : ''}> "`
        + label.replace(/\\s+/g, ' ').slice(0, 40) + `" ${box.width.toFixed(0)}x`
        + `${box.height.toFixed(0)}`);
  }
  return {measured, small: out};
}
"""
# Wider than the viewport: something is cut off or scrolls sideways.
OVERFLOW_JS = """
() => {
  const width = document.documentElement.clientWidth;
  return [...document.querySelectorAll('body *')].filter((el) => {
    const box = el.getBoundingClientRect();
    if (!box.width || el.closest('.qc-jobs, [style*=overflow]')) return false;
    return box.right > width + 1;
  }).slice(0, 5).map((el) => el.tagName.toLowerCase() + (el.className ? '.' + el.className : '')
      + (el.dataset.testid ? '[' + el.dataset.testid + ']' : ''));
}
"""


# --- small helpers -------------------------------------------------------------------------


def one(db: Path, sql: str, *params: Any) -> Any:
    rows = query(db, sql, *params)
    assert len(rows) == 1, rows
    assert len(rows[0]) == 1, rows
    return rows[0][0]


def user_id(db: Path, username: str) -> int:
    return one(db, "SELECT id FROM staff_user WHERE username = ?", username)


def order_status(db: Path, order_id: int) -> str:
    return one(db, "SELECT status FROM work_order WHERE id = ?", order_id)


def task_row(db: Path, task_id: int) -> tuple[Any, ...]:
    return query(
        db,
        "SELECT status, technician_id, rework, rework_note, self_checked_at, mutual_checked_at, "
        "version, (SELECT count(*) FROM time_entry WHERE task_id = job_task.id) "
        "FROM job_task WHERE id = ?",
        task_id,
    )[0]


def utc(raw: str) -> datetime:
    """A stored DateTimeUTC (naive UTC text in SQLite) as an aware datetime."""
    moment = datetime.fromisoformat(raw)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_navigations: dict[int, list[str]] = {}


def open_live(context: BrowserContext, path: str) -> Page:
    """Open a live page and wait until its event stream is connected; mark the window so
    that a reload (which would lose the mark) shows."""
    page = context.new_page()
    page.goto(path)
    page.wait_for_function("() => window.__live && window.__live.open > 0")
    page.evaluate("() => { window.__notReloaded = true; }")
    navigations = _navigations.setdefault(id(page), [])
    page.on("framenavigated", lambda f: navigations.append(f.url) if f is page.main_frame else None)
    return page


def assert_not_reloaded(page: Page, since: int) -> None:
    """The page is the one that was opened, and heard at least one more board event."""
    assert page.evaluate("() => window.__notReloaded === true"), f"{page.url} was reloaded"
    assert _navigations[id(page)] == [], f"{page.url} navigated: {_navigations[id(page)]}"
    assert page.evaluate("() => window.__live.messages") > since, "no board event arrived"


def heard(page: Page) -> int:
    return page.evaluate("() => window.__live.messages")


def card_in(page: Page, stage: str, number: str, timeout: int = LIVE_TIMEOUT_MS) -> None:
    expect(page.get_by_test_id(f"column-{stage}").get_by_test_id(f"card-{number}")).to_be_visible(
        timeout=timeout
    )


def check_screen(page: Page, name: str, shot: Shot, findings: list[str]) -> None:
    """Screenshot at tablet size, then what can be measured of what the picture shows:
    touch targets, nothing wider than the screen, the page's heading in Chinese."""
    snap(shot, page, name)
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    targets = page.evaluate(TARGETS_JS)
    assert targets["measured"] >= 4, f"{name}: found too few controls to measure: {targets}"
    small = targets["small"]
    if small:
        findings.append(f"{name}: touch targets under {MIN_TARGET}px: {small}")
    wide = page.evaluate(OVERFLOW_JS)
    if wide:
        findings.append(f"{name}: wider than the screen (cut off): {wide}")
    heading = page.locator("main h1, h1").first.inner_text().strip()
    if not CJK.search(heading):
        findings.append(f"{name}: heading not in Chinese: {heading!r}")


def dismiss_toasts(page: Page) -> None:
    """Close the error toast (its × button) so that it covers nothing tapped next."""
    expect(toast(page)).to_have_count(1)
    toast(page).get_by_role("button").last.click()
    expect(toast(page)).to_have_count(0)


def english_left(page: Page, texts: list[str]) -> list[str]:
    """Which of these English source strings a zh-CN page still shows."""
    body = page.locator("body").inner_text()
    return [t for t in texts if t in body]


# --- the workshop ----------------------------------------------------------------------------


def dispatch(board: Page, task_id: int, technician_id: int, db: Path) -> None:
    queued = board.get_by_test_id(f"queue-{task_id}")
    expect(queued).to_be_visible()
    board.get_by_test_id(f"technician-{task_id}").select_option(str(technician_id))
    with posted(board, rf"/workshop/tasks/{task_id}/dispatch$") as sent:
        tap(board.get_by_test_id(f"dispatch-{task_id}"))
    assert sent().ok, f"dispatch: HTTP {sent().status}"
    expect(board.get_by_test_id(f"queue-{task_id}")).to_have_count(0)
    task = board.get_by_test_id(f"task-{task_id}")
    expect(task.get_by_test_id("task-status")).to_have_attribute("data-status", "dispatched")
    expect(task).to_contain_text("李强")
    status, technician, *_rest = task_row(db, task_id)
    assert (status, technician) == ("dispatched", technician_id)


def finish_before_start_is_refused(tech: Page, task_id: int, db: Path) -> None:
    """Finish is greyed out until Start. A stale tablet that still offers it (the button
    enabled again by script) sends it with the page's own htmx and CSRF header: 422, the
    reason in a toast, and nothing stored."""
    finish = tech.get_by_test_id(f"finish-{task_id}")
    expect(finish).to_be_disabled()
    before = task_row(db, task_id)
    finish.evaluate("b => { b.disabled = false; }")
    with posted(tech, rf"/my-jobs/tasks/{task_id}/finish$") as refused:
        tap(finish)
    assert refused().status == 422, refused().status
    expect(toast(tech)).to_be_visible()
    message = toast(tech).first.inner_text()
    assert message.strip(" ×"), "the refusal shows no message"
    assert task_row(db, task_id) == before, "a refused Finish changed the job"
    dismiss_toasts(tech)


def tick_every_item(page: Page, task_id: int, action: str, *, skip_last: bool = False) -> None:
    """The job's check list (自检 / 互检) ticked item by item, a tap on each row."""
    items = page.get_by_test_id(f"{action}-form-{task_id}").locator("li.ws-check")
    expect(items.first).to_be_visible()
    count = items.count()
    assert count >= 3, f"{action}: a list of {count} items"
    for n in range(count - 1 if skip_last else count):
        tap(items.nth(n).locator("label.tick-item"))


def check_list_done(page: Page, task_id: int, action: str) -> None:
    """Every item ticked, then the check sent."""
    tick_every_item(page, task_id, action)
    with posted(page, rf"/my-jobs/tasks/{task_id}/{action}$") as checked:
        tap(page.get_by_test_id(f"{action}-{task_id}"))
    assert checked().ok, f"{action}: HTTP {checked().status}"


def work_the_job(tech: Page, task_id: int, db: Path) -> None:
    """Start, Finish, and the self-check list on the technician's tablet: sent with an
    item open it is refused at that item (marked, what was ticked kept); all ticked, done."""
    for action, status in (("start", "in_progress"), ("finish", "finished")):
        with posted(tech, rf"/my-jobs/tasks/{task_id}/{action}$") as done:
            tap(tech.get_by_test_id(f"{action}-{task_id}"))
        assert done().ok, f"{action}: HTTP {done().status}"
        job = tech.get_by_test_id(f"job-{task_id}")
        expect(job.get_by_test_id("task-status")).to_have_attribute("data-status", status)
    tick_every_item(tech, task_id, "self-check", skip_last=True)
    with posted(tech, rf"/my-jobs/tasks/{task_id}/self-check$") as refused:
        tap(tech.get_by_test_id(f"self-check-{task_id}"))
    assert refused().status == 422, refused().status
    items = tech.get_by_test_id(f"self-check-form-{task_id}").locator("li.ws-check")
    expect(items.last.locator("input[value=ok]")).to_have_attribute("aria-invalid", "true")
    expect(items.first.locator("input[value=ok]")).to_be_checked()
    assert task_row(db, task_id)[4] is None, "a partly ticked self-check was recorded"
    dismiss_toasts(tech)
    tap(items.last.locator("label.tick-item"))
    with posted(tech, rf"/my-jobs/tasks/{task_id}/self-check$") as checked:
        tap(tech.get_by_test_id(f"self-check-{task_id}"))
    assert checked().ok, f"self-check: HTTP {checked().status}"
    # Done with it: the job leaves my list and waits for a colleague's check.
    expect(tech.get_by_test_id(f"job-{task_id}")).to_have_count(0)
    status, _tech, _rework, _note, self_checked, mutual, _v, entries = task_row(db, task_id)
    assert status == "finished", task_row(db, task_id)
    assert self_checked, task_row(db, task_id)
    assert mutual is None, task_row(db, task_id)
    assert entries >= 1


def mutual_check(foreman: Page, task_id: int, db: Path) -> None:
    row = foreman.get_by_test_id(f"check-{task_id}")
    expect(row).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    expect(row).to_contain_text("李强")
    check_list_done(foreman, task_id, "mutual-check")
    expect(foreman.get_by_test_id(f"check-{task_id}")).to_have_count(0)
    assert task_row(db, task_id)[5] is not None


# --- the final check -------------------------------------------------------------------------


def open_report(qc: Page, order_id: int) -> None:
    qc.goto("/final-check")
    car = qc.locator(f"[data-testid=qc-car][data-order='{order_id}']")
    expect(car).to_be_visible()
    tap(car.get_by_test_id("qc-open"))
    qc.wait_for_url(re.compile(rf"/final-check/{order_id}$"))
    expect(qc.get_by_test_id("qc-form")).to_be_visible()


def tick(qc: Page, key: str) -> None:
    item = qc.get_by_test_id(f"qc-item-{key}")
    tap(item)
    expect(item.locator("input")).to_be_checked()


def fail_for_workmanship(qc: Page, db: Path, order_id: int, job_id: int) -> None:
    tap(qc.get_by_test_id("qc-reason-workmanship"))
    expect(qc.locator("input[name=reason_category][value=workmanship]")).to_be_checked()
    qc.get_by_test_id("qc-note").fill(REWORK_NOTE)
    tap(qc.get_by_test_id(f"qc-job-{job_id}"))
    expect(qc.get_by_test_id(f"qc-job-{job_id}").locator("input")).to_be_checked()
    with posted(qc, rf"/final-check/{order_id}$") as sent:
        tap(qc.get_by_test_id("qc-fail"))
    assert sent().ok, f"fail: HTTP {sent().status}: {sent().text()}"
    qc.wait_for_url(re.compile(r"/final-check$"))
    inspections = query(
        db,
        "SELECT round, passed, reason_category, note, rework_job_ids FROM inspection "
        "WHERE work_order_id = ? ORDER BY id",
        order_id,
    )
    assert inspections == [(1, 0, "workmanship", REWORK_NOTE, f"[{job_id}]")], inspections
    assert order_status(db, order_id) == "in_progress"
    assert one(db, "SELECT rework_count FROM work_order WHERE id = ?", order_id) == 1


def pass_with_an_item_unticked_is_refused(
    qc: Page, db: Path, order_id: int, keys: list[str], odometer: int, fuel: int
) -> None:
    for key in keys[:-1]:
        tick(qc, key)
    qc.get_by_test_id("qc-odometer").fill(str(odometer))
    tap(qc.get_by_test_id("qc-fuel").locator(f"label[title='{fuel}/8']"))
    expect(qc.locator(f"input[name=fuel_eighths][value='{fuel}']")).to_be_checked()
    with posted(qc, rf"/final-check/{order_id}$") as refused:
        tap(qc.get_by_test_id("qc-pass"))
    assert refused().status == 422, refused().status
    expect(toast(qc)).to_be_visible()
    expect(qc.locator("#error-items")).not_to_be_empty()
    expect(qc).to_have_url(re.compile(rf"/final-check/{order_id}$"))
    assert order_status(db, order_id) == "qc"
    assert one(db, "SELECT count(*) FROM inspection WHERE work_order_id = ?", order_id) == 1
    # What was entered is still there to correct.
    expect(qc.get_by_test_id("qc-odometer")).to_have_value(str(odometer))
    expect(qc.get_by_test_id(f"qc-item-{keys[0]}").locator("input")).to_be_checked()
    dismiss_toasts(qc)


# --- delivery --------------------------------------------------------------------------------


def delivery_photos(
    page: Page, db: Path, check_in_id: int, expected: tuple[str, ...] = EXTERIOR
) -> list[str]:
    """Today's photo from each position photographed at check-in (`expected`: this flow's
    eight; the demo's cars have the interior, dashboard and boot too), with the same files."""
    positions = [
        p
        for (p,) in query(
            db,
            "SELECT DISTINCT position FROM photo WHERE check_in_id = ? AND stage = 'check_in' "
            "AND position IS NOT NULL AND new_damage_id IS NULL",
            check_in_id,
        )
    ]
    assert sorted(positions) == sorted(expected), positions
    expect(page.locator("[data-testid^='compare-']")).to_have_count(len(positions))
    files = {p: EXTERIOR_FILES[n % len(EXTERIOR_FILES)] for n, p in enumerate(expected)}
    for position in expected:
        # The check-in photo beside it is really there (lazy: it loads when scrolled to).
        before = page.get_by_test_id(f"compare-{position}").get_by_test_id("check-in-photo")
        before.scroll_into_view_if_needed()
        expect(before.locator("img")).to_be_visible()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0",
            arg=before.locator("img").element_handle(),
        )
        slot = page.get_by_test_id(f"delivery-photo-{position}")
        slot.locator("input[data-photo-input]").set_input_files(PHOTOS / files[position])
    wait_for_outbox_empty(page, len(positions))
    for position in expected:
        slot = page.get_by_test_id(f"delivery-photo-{position}")
        expect(slot.locator("img[data-uploaded]")).to_have_count(1)
    stored = query(
        db,
        "SELECT position FROM photo WHERE check_in_id = ? AND stage = 'delivery' "
        "AND new_damage_id IS NULL",
        check_in_id,
    )
    assert sorted(p for (p,) in stored) == sorted(positions), stored
    return positions


def open_step(page: Page, name: str) -> None:
    """The delivery's steps fold; the page opens at the next missing one."""
    step = page.get_by_test_id(f"step-{name}")
    if step.get_attribute("open") is None:
        tap(step.locator("summary"))
    expect(step).to_have_attribute("open", "")


def new_damage(page: Page, db: Path, order_id: int) -> None:
    open_step(page, "damage")
    page.get_by_test_id("new-damage-position").select_option("rear_left")
    page.get_by_test_id("new-damage-note").fill(DAMAGE_NOTE)
    with posted(page, rf"/delivery/{order_id}/damage$") as added:
        tap(page.get_by_test_id("new-damage-add"))
    assert added().ok, f"new damage: HTTP {added().status}: {added().text()}"
    item = page.get_by_test_id("new-damage-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text(DAMAGE_NOTE)
    expect(item.get_by_test_id("escalated")).to_be_visible()
    damage_id = int(item.get_attribute("data-damage") or 0)
    manager = user_id(db, "manager")
    assert query(
        db,
        "SELECT position, note, escalated_to_id FROM new_damage WHERE work_order_id = ?",
        order_id,
    ) == [("rear_left", DAMAGE_NOTE, manager)]
    slot = page.get_by_test_id(f"new-damage-photo-{damage_id}")
    slot.locator("input[data-photo-input]").set_input_files(PHOTOS / DAMAGE_FILE)
    expect(slot.locator("img[data-uploaded]")).to_have_count(1, timeout=UPLOAD_TIMEOUT_MS)
    assert one(db, "SELECT count(*) FROM photo WHERE new_damage_id = ?", damage_id) == 1


def details(page: Page, db: Path, order_id: int, odometer: int) -> tuple[date, int]:
    """Advice, the next service (half a year, 5000 km on), the old parts shown."""
    next_on = datetime.now(UTC).date() + timedelta(days=182)
    next_km = odometer + 5000
    open_step(page, "details")
    page.get_by_test_id("delivery-advice").fill(ADVICE)
    page.get_by_test_id("next-service-on").fill(next_on.isoformat())
    page.get_by_test_id("next-service-km").fill(str(next_km))
    shown = page.get_by_test_id("old-parts-shown")
    tap(shown)  # the customer kept the old oil's parts: P-OIL4 was replaced
    expect(shown.locator("input")).to_be_checked()
    with posted(page, rf"/delivery/{order_id}/details$") as saved:
        tap(page.get_by_test_id("delivery-details-save"))
    assert saved().ok, f"details: HTTP {saved().status}: {saved().text()}"
    expect(page.get_by_test_id("details-saved")).to_be_visible()
    row = query(
        db,
        "SELECT advice, next_service_on, next_service_km, old_parts_shown FROM delivery "
        "WHERE work_order_id = ?",
        order_id,
    )
    assert row == [(ADVICE, next_on.isoformat(), next_km, 1)], row
    return next_on, next_km


def empty_pad_is_refused(page: Page, db: Path, order_id: int, bugs: list[str]) -> None:
    """The customer taps Sign with nothing on the pad: the tablet says so and sends
    nothing; a client that skips that check is refused by the server."""
    pad = page.get_by_test_id("signature-pad")
    assert stroke_points(pad) == []
    sent: list[Request] = []
    page.on("request", lambda r: sent.append(r) if r.url.endswith("/sign") else None)
    tap(page.get_by_test_id("delivery-sign"))
    hint = pad.locator("[data-signature-hint]")
    # signature.js un-hides the hint: the tablet refused.
    expect(hint).not_to_have_attribute("hidden", re.compile(".*"))
    if hint.inner_text().strip() != "请在框内签上您的名字。":
        bugs.append(
            "delivery: Sign with an empty pad shows no message: the hint "
            "[data-signature-hint] is un-hidden but empty (text "
            f"{hint.inner_text()!r}); its static text was wiped by app.js's htmx:afterRequest "
            "handler, which clears every .field-error under evt.detail.elt, and htmx 2 fires "
            "afterRequest on the nearest attached ancestor (<main>) when the requesting "
            "element was swapped out (the problems/new-damage/details sections swap outerHTML)"
        )
    else:
        expect(hint).to_be_visible()
    page.wait_for_timeout(500)  # long enough for a request to have gone out
    assert sent == [], "an empty delivery signature was sent"
    answer = page.evaluate(
        """async (url) => {
            const csrf = JSON.parse(document.body.getAttribute('hx-headers'))['x-csrftoken'];
            const form = document.getElementById('delivery-sign-form');
            const body = new URLSearchParams({
                version: form.querySelector('[name=version]').value,
                signer_name: 'x', strokes: '[]', image: '',
            });
            const r = await fetch(url, {method: 'POST', body,
                headers: {'x-csrftoken': csrf, 'HX-Request': 'true'}});
            return {status: r.status, text: await r.text(),
                    trigger: r.headers.get('HX-Trigger') || ''};
        }""",
        f"/review/{order_id}/delivery/sign",
    )
    assert answer["status"] == 422, answer
    message = answer["text"] + answer["trigger"].encode().decode("unicode_escape")
    assert CJK.search(message), f"the refusal has no message in Chinese: {answer}"
    assert order_status(db, order_id) == "ready"
    assert (
        query(
            db, "SELECT id FROM signature WHERE work_order_id = ? AND kind = 'delivery'", order_id
        )
        == []
    )


def hand_over_for_delivery(advisor: Page, order_id: int) -> None:
    """The advisor hands the tablet over: customer mode, the customer's own screen."""
    tap(advisor.get_by_test_id("delivery-hand-over"))
    advisor.wait_for_url(re.compile(rf"/review/{order_id}/delivery$"))
    expect(advisor.get_by_test_id("customer-delivery")).to_be_visible()


def take_the_tablet_back_delivered(advisor: Page, order_id: int) -> None:
    """After the customer's acceptance: their thanks, then the advisor's password leads
    back to the delivered car."""
    expect(advisor.get_by_test_id("customer-delivered")).to_be_visible()
    tap(advisor.get_by_test_id("staff-exit"))
    advisor.wait_for_url(re.compile(r"/customer-mode/exit$"))
    advisor.get_by_test_id("exit-password").fill(DEMO_PASSWORD)
    tap(advisor.get_by_test_id("exit-submit"))
    advisor.wait_for_url(re.compile(rf"/delivery/{order_id}$"))
    expect(advisor.get_by_test_id("delivered")).to_be_visible()


# --- the phases ------------------------------------------------------------------------------


@dataclass
class Shop:
    """Everyone's tablet, what the flow has made so far, and what was noticed on the way."""

    db: Path
    shot: Shot
    contexts: dict[str, BrowserContext]
    pages: dict[str, Page] = field(default_factory=dict)
    order: dict[str, Any] = field(default_factory=dict)
    tasks: list[tuple[int, int]] = field(default_factory=list)  # (task id, job id)
    odometer: int = 0
    bugs: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)  # touch targets, overflow, language

    @property
    def order_id(self) -> int:
        return self.order["order_id"]

    @property
    def number(self) -> str:
        return self.order["number"]

    def screen(self, role: str, name: str, english: list[str]) -> None:
        page = self.pages[role]
        check_screen(page, name, self.shot, self.findings)
        left = english_left(page, english)
        if left:
            self.findings.append(f"{name}: English on a zh-CN screen: {left}")


def the_managers_board_is_open(shop: Shop) -> int:
    """The service manager's 看板 open on another tablet: the cars delivered today so far,
    none of them this one."""
    board = shop.pages["manager"] = shop.contexts["manager"].new_page()
    board.goto("/board")
    delivered = int(board.get_by_test_id("value-delivered").inner_text().strip())
    board.get_by_test_id("tile-delivered").click()
    drill = board.get_by_test_id("drill-delivered")
    expect(drill.locator(".drill-list li")).to_have_count(delivered)
    expect(drill.get_by_test_id(f"drill-order-{shop.order_id}")).to_have_count(0)
    board.evaluate("window.__sameDocument = true")
    return delivered


def the_board_counted_the_delivery_live(shop: Shop, before: int) -> None:
    """The stream swapped the tiles in place (no reload, sooner than the minute's refresh);
    the drill-down, opened again, lists this car."""
    board = shop.pages["manager"]
    expect(board.get_by_test_id("value-delivered")).to_have_text(
        str(before + 1), timeout=LIVE_TIMEOUT_MS
    )
    board.get_by_test_id("tile-delivered").click()
    drill = board.get_by_test_id("drill-delivered")
    expect(drill.locator(".drill-list li")).to_have_count(before + 1)
    expect(drill.get_by_test_id(f"drill-order-{shop.order_id}")).to_be_visible()
    assert board.evaluate("window.__sameDocument === true"), "the board reloaded the page"
    snap(shop.shot, board, "board-delivered-drill-zh-portrait")


def advisor_signs_up_the_order(shop: Shop) -> None:
    advisor = shop.pages["advisor"] = shop.contexts["advisor"].new_page()
    shop.order = signed_order(advisor, shop.db, shop.bugs)
    rows = query(
        shop.db,
        "SELECT id, job_id, status FROM job_task WHERE work_order_id = ? ORDER BY id",
        shop.order_id,
    )
    assert rows, "signing opened no workshop task"
    assert {status for _t, _j, status in rows} == {"waiting"}, rows
    shop.tasks = [(t, j) for t, j, _s in rows]


def foreman_dispatches(shop: Shop) -> None:
    # The technician's tablet is already open on 我的工单, the foreman's on the board.
    tech = shop.pages["technician"] = open_live(shop.contexts["technician"], "/my-jobs")
    for task_id, _job in shop.tasks:
        expect(tech.get_by_test_id(f"job-{task_id}")).to_have_count(0)
    board = shop.pages["board"] = open_live(shop.contexts["foreman"], "/workshop")
    card_in(board, "waiting", shop.number, timeout=10_000)

    tech_heard = heard(tech)
    technician = user_id(shop.db, "technician")
    for task_id, _job in shop.tasks:
        dispatch(board, task_id, technician, shop.db)
    card_in(board, "waiting", shop.number)  # dispatched, not started yet
    shop.screen(
        "board",
        "workshop-1-board",
        ["Workshop board", "Dispatch queue", "In progress", "Dispatched"],
    )

    # The job appears on the technician's tablet by itself.
    for task_id, _job in shop.tasks:
        expect(tech.get_by_test_id(f"job-{task_id}")).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    assert_not_reloaded(tech, tech_heard)


def technician_starts_and_the_board_follows(shop: Shop) -> None:
    tech, board, db = shop.pages["technician"], shop.pages["board"], shop.db
    first = shop.tasks[0][0]
    shop.screen("technician", "workshop-2-my-jobs", ["My jobs", "Start", "Finish", "Self-check OK"])
    finish_before_start_is_refused(tech, first, db)

    board_heard = heard(board)
    with posted(tech, rf"/my-jobs/tasks/{first}/start$") as started:
        tap(tech.get_by_test_id(f"start-{first}"))
    assert started().ok, f"start: HTTP {started().status}"
    card_in(board, "in_progress", shop.number)
    waiting = board.get_by_test_id("column-waiting")
    expect(waiting.get_by_test_id(f"card-{shop.number}")).to_have_count(0)
    assert_not_reloaded(board, board_heard)
    status = board.get_by_test_id(f"task-{first}").get_by_test_id("task-status")
    expect(status).to_have_attribute("data-status", "in_progress")
    assert order_status(db, shop.order_id) == "in_progress"

    # One job at a time: the clock follows the technician (starting another pauses this one).
    for n, (task_id, _job) in enumerate(shop.tasks):
        if n:
            with posted(tech, rf"/my-jobs/tasks/{task_id}/start$") as started:
                tap(tech.get_by_test_id(f"start-{task_id}"))
            assert started().ok
        with posted(tech, rf"/my-jobs/tasks/{task_id}/finish$") as done:
            tap(tech.get_by_test_id(f"finish-{task_id}"))
        assert done().ok, f"finish: HTTP {done().status}"
        check_list_done(tech, task_id, "self-check")
        expect(tech.get_by_test_id(f"job-{task_id}")).to_have_count(0)


def foreman_checks_into_qc(shop: Shop, task_ids: list[int]) -> None:
    """The foreman's mutual check on his own 我的工单; the last one sends the car to QC."""
    if "foreman_jobs" not in shop.pages:
        shop.pages["foreman_jobs"] = open_live(shop.contexts["foreman"], "/my-jobs")
    board = shop.pages["board"]
    board_heard = heard(board)
    for task_id in task_ids:
        mutual_check(shop.pages["foreman_jobs"], task_id, shop.db)
    assert order_status(shop.db, shop.order_id) == "qc"
    card_in(board, "qc", shop.number)
    assert_not_reloaded(board, board_heard)


def qc_queue_follows_live(shop: Shop) -> None:
    """The inspector's queue is open while the foreman does the last mutual check: the
    car appears through the board's event stream, well before any timed refresh."""
    qc_queue = shop.pages["qc_queue"] = open_live(shop.contexts["qc"], "/final-check")
    cars = qc_queue.locator(f"[data-testid=qc-car][data-order='{shop.order_id}']")
    expect(cars).to_have_count(0)
    qc_heard = heard(qc_queue)
    foreman_checks_into_qc(shop, [t for t, _j in shop.tasks])
    expect(cars).to_be_visible(timeout=QC_LIVE_TIMEOUT_MS)
    assert_not_reloaded(qc_queue, qc_heard)


def qc_fails_and_the_job_is_redone(shop: Shop) -> None:
    qc = shop.pages["qc"] = shop.contexts["qc"].new_page()
    tech, board, db = shop.pages["technician"], shop.pages["board"], shop.db
    open_report(qc, shop.order_id)
    shop.screen(
        "qc",
        "workshop-3-final-check-report",
        ["Final QC report", "Checklist", "Pass the final check", "Workmanship"],
    )
    first, first_job = shop.tasks[0]
    tech_heard, board_heard = heard(tech), heard(board)
    fail_for_workmanship(qc, db, shop.order_id, first_job)
    status, _t, rework, note, self_checked, mutual, _v, _e = task_row(db, first)
    assert (status, rework, note, self_checked, mutual) == (
        "dispatched", 1, REWORK_NOTE, None, None
    )  # fmt: skip

    # The technician sees it come back with the inspector's note, live.
    job = tech.get_by_test_id(f"job-{first}")
    expect(job).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    expect(job.get_by_test_id("rework-note")).to_contain_text(REWORK_NOTE)
    assert_not_reloaded(tech, tech_heard)
    card_in(board, "in_progress", shop.number)
    card = board.get_by_test_id(f"card-{shop.number}")
    expect(card.get_by_test_id("rework")).to_contain_text("1")
    assert_not_reloaded(board, board_heard)
    snap(shop.shot, tech, "workshop-4-rework")

    # Redone, self-checked, and checked again by the foreman: back in QC.
    work_the_job(tech, first, db)
    foreman_checks_into_qc(shop, [first])


def qc_passes(shop: Shop) -> None:
    qc, db, order_id = shop.pages["qc"], shop.db, shop.order_id
    open_report(qc, order_id)
    expect(qc.get_by_test_id("qc-rework-count")).to_have_attribute("data-count", "1")
    keys = [
        k.removeprefix("qc-item-")
        for k in qc.locator("[data-testid^='qc-item-']").evaluate_all(
            "els => els.map(e => e.dataset.testid)"
        )
    ]
    # The customer agreed to a road test and keeps the old parts: all 12 items apply.
    assert len(keys) == 12, keys
    assert {"road_test", "old_parts_bagged"} <= set(keys), keys
    check_in_km, fuel, _version = check_in_row(db, shop.order["check_in_id"])
    shop.odometer = check_in_km + 12  # the road test
    pass_with_an_item_unticked_is_refused(qc, db, order_id, keys, shop.odometer, fuel)
    tick(qc, keys[-1])
    with posted(qc, rf"/final-check/{order_id}$") as passed:
        tap(qc.get_by_test_id("qc-pass"))
    assert passed().ok, f"pass: HTTP {passed().status}: {passed().text()}"
    qc.wait_for_url(re.compile(r"/final-check$"))
    assert order_status(db, order_id) == "ready"
    last = query(
        db,
        "SELECT round, passed, odometer_km, fuel_eighths FROM inspection WHERE work_order_id = ? "
        "ORDER BY id DESC LIMIT 1",
        order_id,
    )
    assert last == [(2, 1, shop.odometer, fuel)], last
    card_in(shop.pages["board"], "ready", shop.number)


def advisor_walks_the_car(shop: Shop) -> None:
    advisor, db, order_id = shop.pages["advisor"], shop.db, shop.order_id
    advisor.goto(f"/delivery/{order_id}")
    expect(advisor.get_by_test_id("delivery-qc-passed")).to_be_visible()
    with posted(advisor, rf"/delivery/{order_id}/begin$") as begun:
        tap(advisor.get_by_test_id("delivery-begin"))
    assert begun().ok, f"begin: HTTP {begun().status}"
    expect(advisor.get_by_test_id("delivery-begin")).to_have_count(0)
    # Photos, the old parts and the next service still to do.
    expect(advisor.get_by_test_id("delivery-problems")).to_have_attribute("data-count", "3")
    delivery_photos(advisor, db, shop.order["check_in_id"])
    expect(advisor.get_by_test_id("delivery-problems")).to_have_attribute("data-count", "2")
    expect(advisor.get_by_test_id("delivery-bill")).to_have_attribute("data-matches", "true")
    shop.screen(
        "advisor",
        "workshop-5-delivery-compare",
        ["Walk the car", "At check-in", "New damage", "Hand the tablet to the customer"],
    )
    new_damage(advisor, db, order_id)
    details(advisor, db, order_id, shop.odometer)
    expect(advisor.get_by_test_id("delivery-problems")).to_have_attribute("data-count", "0")
    # No signature pad on the advisor's screen: the customer signs in customer mode.
    expect(advisor.get_by_test_id("signature-pad")).to_have_count(0)


def customer_signs_the_delivery(shop: Shop) -> None:
    advisor, db, order_id = shop.pages["advisor"], shop.db, shop.order_id
    # The customer's own device, with no staff session, gets no staff page.
    customer = shop.contexts["customer"].new_page()
    customer.goto(f"/delivery/{order_id}")
    expect(customer).to_have_url(re.compile(r"/sign-in"))
    expect(customer.get_by_test_id("delivery-sign")).to_have_count(0)

    hand_over_for_delivery(advisor, order_id)
    expect(advisor.get_by_test_id("signed-in-as")).to_have_count(0)
    expect(advisor.locator("[data-testid^=then-now-]")).to_have_count(len(EXTERIOR))
    expect(advisor.get_by_test_id("bill-now")).to_be_visible()
    shop.screen(
        "advisor",
        "workshop-6-customer-acceptance",
        ["Your car is ready", "At check-in", "Sign and take the car"],
    )
    # First with an empty pad, then with a finger.
    empty_pad_is_refused(advisor, db, order_id, shop.bugs)
    sign_on(advisor, advisor.get_by_test_id("signature-pad"))
    board_heard = heard(shop.pages["board"])
    with posted(advisor, rf"/review/{order_id}/delivery/sign$") as signed:
        tap(advisor.get_by_test_id("delivery-sign"))
    assert signed().ok, f"sign: HTTP {signed().status}: {signed().text()}"
    expect(advisor.get_by_test_id("verify-qr").locator("svg")).to_be_visible()
    take_the_tablet_back_delivered(advisor, order_id)
    expect(advisor.get_by_test_id("follow-up-due")).to_be_visible()
    shop.screen("advisor", "workshop-6-delivered", ["Delivered", "Follow-up call due"])
    card_in(shop.pages["board"], "delivered", shop.number)
    assert_not_reloaded(shop.pages["board"], board_heard)


def delivered_in_the_database(shop: Shop) -> None:
    """Delivered, the follow-up call due within 3 days, the signed record intact."""
    advisor, db, order_id = shop.pages["advisor"], shop.db, shop.order_id
    assert order_status(db, order_id) == "delivered"
    dues = query(db, "SELECT due_at FROM follow_up_task WHERE work_order_id = ?", order_id)
    assert len(dues) == 1, dues
    due, now = utc(dues[0][0]), datetime.now(UTC)
    assert now < due <= now + timedelta(days=3), (now, due)
    signature_id, content_hash = query(
        db,
        "SELECT id, content_hash FROM signature WHERE work_order_id = ? AND kind = 'delivery'",
        order_id,
    )[0]
    assert one(db, "SELECT signature_id FROM delivery WHERE work_order_id = ?", order_id) == (
        signature_id
    )
    expect(advisor.get_by_test_id("content-hash")).to_have_text(content_hash)
    verify = advisor.get_by_test_id("verify-link")
    expect(verify).to_have_attribute("href", f"/verify/{signature_id}")
    tap(verify)
    advisor.wait_for_url(re.compile(rf"/verify/{signature_id}$"))
    result = advisor.get_by_test_id("verify-result")
    expect(result).to_have_attribute("data-intact", "true")
    expect(result).to_contain_text("完好")


# --- the test --------------------------------------------------------------------------------


def test_signed_order_through_the_workshop_qc_rework_and_delivery(
    new_context: Callable[..., BrowserContext], shot: Shot, db_path: Path
) -> None:
    roles = {"advisor": "advisor", "foreman": "foreman", "technician": "technician",
             "qc": "qc", "customer": None, "manager": "manager"}  # fmt: skip
    contexts = {role: new_context(user, "portrait") for role, user in roles.items()}
    for context in contexts.values():
        context.add_init_script(LIVE_PROBE)
    shop = Shop(db_path, shot, contexts)

    advisor_signs_up_the_order(shop)  # 1. check-in, estimate, the customer's signature
    foreman_dispatches(shop)  # 2. the board, and the job on the technician's tablet
    technician_starts_and_the_board_follows(shop)  # 3. start, finish, self-check
    qc_queue_follows_live(shop)  # 4. mutual check; the car reaches the QC queue live
    qc_fails_and_the_job_is_redone(shop)  # 5. rework, checked again
    qc_passes(shop)
    delivered_before = the_managers_board_is_open(shop)
    advisor_walks_the_car(shop)  # 6. delivery
    customer_signs_the_delivery(shop)
    delivered_in_the_database(shop)
    the_board_counted_the_delivery_live(shop, delivered_before)
    # 7. After the car leaves: the follow-up call, a complaint to closed, the report.
    the_call_the_complaint_and_the_report(new_context, db_path, shot, shop.order_id, shop.number)

    if SWALLOWED_TAPS:
        print(f"TAPS TRIED AGAIN (no click from Chromium): {SWALLOWED_TAPS}")
    found = shop.bugs + shop.findings
    assert not found, "\n".join(["found along the way:", *found])

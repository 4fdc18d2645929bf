"""What the advisor enters at the car is never lost to the network or a reload
(app/static/js/field-outbox.js): with the network cut in the browser the odometer, the
fuel, a belonging and a 5W2H answer wait on the tablet ("N 项更改等待网络上传"), survive
a reload, and reach the server once each, in the order they were made, when the network
returns. And an answer lost after the server stored the change adds nothing twice."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, Route, expect

from tests.e2e.flows import (
    UPLOAD_TIMEOUT_MS,
    Shot,
    check_in_row,
    choice,
    posted,
    query,
    snap,
    tap,
    toast,
)

WAITING = "项更改等待网络上传"
PAGES_CACHE = "walkaround-check-in-pages"
ACTIVE_SERVICE_WORKER = """
async () => {
  const registration = await navigator.serviceWorker.ready;
  const worker = registration.active;
  if (worker.state !== 'activated') {
    await new Promise((resolve) => worker.addEventListener('statechange', () => {
      if (worker.state === 'activated') resolve();
    }));
  }
}
"""


def _walk_in(page: Page) -> int:
    """A new customer's car checked in as a walk-in: none of the demo's appointments, which
    other tests start from the lane board, is used up. The check-in's id."""
    plate = "粤B" + "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(5))
    page.goto("/walk-in/new")
    for field, value in (("name", "赵先生"), ("phone", "13800138000"), ("plate", plate),
                         ("make", "Toyota"), ("model", "Corolla")):  # fmt: skip
        page.locator(f"#{field}").fill(value)
    page.get_by_role("button", name="保存并开始接车").click()
    page.wait_for_url(re.compile(r"/check-ins/\d+/greeting$"))
    match = re.search(r"/check-ins/(\d+)/", page.url)
    assert match
    return int(match.group(1))


def _concern(page: Page, db: Path, check_in_id: int) -> int:
    """The customer's concern, added on the symptoms page (online); its id."""
    page.goto(f"/check-ins/{check_in_id}/symptoms")
    page.locator("#new-concern").fill("雨刮器有异响")
    with posted(page, r"/concerns$"):
        page.get_by_role("button", name="添加故障").click()
    expect(page.get_by_test_id("concern")).to_have_count(1)
    return int(query(db, "SELECT id FROM concern WHERE check_in_id = ?", check_in_id)[0][0])


def _controlled(page: Page, path: str) -> None:
    """Open `path` with the service worker in control of the page (as on a tablet that
    has used the app before), so the step page is kept for a reload without network."""
    page.goto(path)
    page.evaluate(ACTIVE_SERVICE_WORKER)
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")


def _audit(db: Path, check_in_id: int) -> list[tuple[str, str]]:
    rows = query(
        db,
        "SELECT action, details FROM audit_event WHERE entity_type = 'check_in' "
        "AND entity_id = ? AND action != 'check_in_started' ORDER BY id",
        str(check_in_id),
    )
    return [(action, json.loads(details).get("step", "")) for action, details in rows]


def _belongings(db: Path, check_in_id: int) -> list[tuple[str, int]]:
    return query(db, "SELECT kind, count FROM belonging WHERE check_in_id = ?", check_in_id)


class LostAnswer:
    """Route handler: the first change reaches the server and is stored, but its answer
    is lost; then the network stays down (every copy fails before the server) until
    `back()`, and after that everything goes through."""

    def __init__(self) -> None:
        self.stored: list[str] = []
        self.down = True

    def __call__(self, route: Route) -> None:
        if self.stored and not self.down:
            route.continue_()
        elif self.stored:
            route.abort("internetdisconnected")
        else:
            route.fetch()  # the server gets the change and stores it ...
            self.stored.append(route.request.url)
            route.abort("connectionreset")  # ... but the tablet never hears back

    def back(self) -> None:
        self.down = False


def _wait_for(condition: Callable[[], bool], page: Page, what: str = "the change arrived") -> None:
    for _ in range(UPLOAD_TIMEOUT_MS // 50):
        if condition():
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"timed out waiting until {what}")


def _walkaround_offline(page: Page, odometer: int, shot: Shot) -> None:
    """Odometer, fuel and a belonging with the network cut, then a reload."""
    status = page.get_by_test_id("changes-waiting")
    page.locator("#odometer_km").fill(str(odometer))
    page.locator("#odometer_km").blur()
    expect(status).to_have_text(f"1 {WAITING}")
    choice(page, "fuel_eighths", "4").click()
    belongings = page.get_by_test_id("belongings")
    belongings.locator("input[name=count]").fill("2")
    belongings.get_by_test_id("belonging-umbrella").click()
    expect(status).to_have_text(f"3 {WAITING}")
    expect(belongings.locator("li[data-pending-change]")).to_contain_text("雨伞 × 2")
    snap(shot, page, "field-outbox-offline-walkaround")

    # A reload without network: the step page comes from the service worker, and what
    # waits is put back where it was typed.
    page.reload()
    expect(page.locator("#odometer_km")).to_have_value(str(odometer))
    expect(page.locator("input[name=fuel_eighths][value='4']")).to_be_checked()
    expect(page.get_by_test_id("belongings").locator("li[data-pending-change]")).to_contain_text(
        "雨伞 × 2"
    )
    expect(status).to_have_text(f"3 {WAITING}")


def _answer_offline(page: Page, concern_id: int, shot: Shot) -> None:
    """A 5W2H answer on the symptoms page, kept by the service worker, then a reload."""
    status = page.get_by_test_id("changes-waiting")
    what = page.locator(f"#what-{concern_id}")
    what.fill("异响")
    what.blur()
    expect(status).to_have_text(f"4 {WAITING}")
    page.reload()
    expect(page.locator(f"#what-{concern_id}")).to_have_value("异响")
    expect(status).to_have_text(f"4 {WAITING}")
    snap(shot, page, "field-outbox-offline-after-reload")


def test_changes_made_offline_survive_a_reload_and_arrive_once_in_order(
    new_context, shot, db_path
) -> None:
    context = new_context("advisor")
    page = context.new_page()
    check_in_id = _walk_in(page)
    base = f"/check-ins/{check_in_id}"
    concern_id = _concern(page, db_path, check_in_id)
    _controlled(page, f"{base}/symptoms")
    page.goto(f"{base}/walkaround")
    odometer = 61234
    version = check_in_row(db_path, check_in_id)[2]

    context.set_offline(True)
    _walkaround_offline(page, odometer, shot)
    page.goto(f"{base}/symptoms")
    _answer_offline(page, concern_id, shot)
    assert check_in_row(db_path, check_in_id) == (None, None, version)
    assert _belongings(db_path, check_in_id) == []

    # The walkaround is done only once its odometer and fuel reached the server: Next
    # waits for the outbox instead of being refused for "no odometer".
    page.goto(f"{base}/walkaround")
    expect(page.locator("#odometer_km")).to_have_value(str(odometer))
    page.get_by_test_id("next-step").click()
    expect(toast(page)).to_contain_text("还有 4 项更改等待网络上传")
    expect(page).to_have_url(re.compile(r"/walkaround$"))

    context.set_offline(False)
    page.wait_for_url(re.compile(r"/symptoms$"), timeout=UPLOAD_TIMEOUT_MS)
    expect(page.get_by_test_id("changes-waiting")).to_be_hidden()
    assert page.evaluate("window.walkaroundFieldOutbox.count()") == 0

    # Each change once, in the order made; each on the version the one before it made.
    assert check_in_row(db_path, check_in_id) == (odometer, 4, version + 5)
    assert _belongings(db_path, check_in_id) == [("umbrella", 2)]
    assert query(db_path, "SELECT what FROM concern WHERE id = ?", concern_id) == [("异响",)]
    assert _audit(db_path, check_in_id)[-5:] == [
        ("check_in_saved", "walkaround"),
        ("check_in_saved", "walkaround"),
        ("belonging_added", ""),
        ("concern_saved", ""),
        ("check_in_step_done", "walkaround"),
    ]
    expect(page.locator(f"#what-{concern_id}")).to_have_value("异响")
    page.goto(f"{base}/walkaround")
    expect(page.locator("#odometer_km")).to_have_value(str(odometer))
    expect(page.get_by_test_id("belongings")).to_contain_text("雨伞 × 2")
    expect(page.get_by_test_id("belongings").locator("li[data-pending-change]")).to_have_count(0)

    # Leaving the check-in drops the kept pages: no staff page is served from the cache
    # anywhere else (customer mode, the lane board, another customer's check-in).
    assert page.evaluate(f"caches.has('{PAGES_CACHE}')")
    page.goto("/lane")
    _wait_for(lambda: not page.evaluate(f"caches.has('{PAGES_CACHE}')"), page, "the cache went")


def test_an_answer_lost_after_the_server_stored_the_change_adds_nothing_twice(
    new_context, shot, db_path
) -> None:
    # Without the service worker: a request it sees may reach the network without passing
    # Playwright's routes, and then the answer this test loses is not lost (a flake under
    # load). Nothing here needs the kept pages: the reload below is online.
    page = new_context("advisor", service_workers="block").new_page()
    check_in_id = _walk_in(page)
    page.goto(f"/check-ins/{check_in_id}/walkaround")
    version = check_in_row(db_path, check_in_id)[2]
    waiting = page.get_by_test_id("changes-waiting")

    # A belonging: stored, its answer lost, the network back on the same page.
    lost = LostAnswer()
    page.route(re.compile(r"/belongings$"), lost)
    belongings = page.get_by_test_id("belongings")
    # A finger's tap, tried again only if it gave no click and no request (a loaded machine).
    tap(belongings.get_by_test_id("belonging-umbrella"))
    _wait_for(lambda: bool(lost.stored), page)
    expect(waiting).to_have_text(f"1 {WAITING}")
    assert _belongings(db_path, check_in_id) == [("umbrella", 1)]
    lost.back()
    page.evaluate("window.walkaroundFieldOutbox.flush()")
    expect(belongings.locator("li:not([data-pending-change])")).to_contain_text("雨伞 × 1")
    expect(waiting).to_be_hidden()
    page.unroute_all(behavior="ignoreErrors")

    # A tap on the car: a mark, stored, its answer lost, sent again after a reload.
    lost = LostAnswer()
    page.route(re.compile(r"/marks$"), lost)
    svg = page.locator("#diagram svg[data-view=top]")
    box = svg.bounding_box()
    assert box
    svg.click(position={"x": box["width"] * 0.3, "y": box["height"] * 0.6})
    _wait_for(lambda: bool(lost.stored), page)
    expect(page.locator("#diagram .pending-mark")).to_have_count(1)
    lost.back()
    page.reload()
    expect(page.get_by_test_id("mark")).to_have_count(1, timeout=UPLOAD_TIMEOUT_MS)
    expect(waiting).to_be_hidden()
    expect(page.locator("#diagram .pending-mark")).to_have_count(0)
    snap(shot, page, "field-outbox-lost-answers")
    page.unroute_all(behavior="ignoreErrors")

    assert _belongings(db_path, check_in_id) == [("umbrella", 1)]
    marks = query(db_path, "SELECT count(*) FROM damage_mark WHERE check_in_id = ?", check_in_id)
    assert marks == [(1,)]
    assert check_in_row(db_path, check_in_id)[2] == version + 2
    # The next change is based on the version the stored one made: no conflict with itself.
    with posted(page, r"/walkaround/save$") as saved:
        choice(page, "fuel_eighths", "6").click()
    assert saved().ok
    assert check_in_row(db_path, check_in_id)[1:] == (6, version + 3)


def test_changes_queued_on_one_tablet_still_conflict_with_another_tablets(
    new_context, shot, db_path
) -> None:
    context_b = new_context("advisor")
    page_b = context_b.new_page()
    check_in_id = _walk_in(page_b)
    url = f"/check-ins/{check_in_id}/walkaround"
    page_b.goto(url)
    version = check_in_row(db_path, check_in_id)[2]

    context_b.set_offline(True)
    choice(page_b, "fuel_eighths", "2").click()
    page_b.locator("#odometer_km").fill("30010")
    page_b.locator("#odometer_km").blur()
    expect(page_b.get_by_test_id("changes-waiting")).to_have_text(f"2 {WAITING}")

    page_a = new_context("advisor").new_page()
    page_a.goto(url)
    with posted(page_a, r"/walkaround/save$") as saved:
        choice(page_a, "fuel_eighths", "6").click()
    assert saved().ok

    with posted(page_b, r"/walkaround/save$") as refused:
        context_b.set_offline(False)
    assert refused().status == 409
    expect(toast(page_b)).to_contain_text("另一台平板")
    expect(toast(page_b).get_by_role("button", name="刷新")).to_be_visible()
    # What tablet B still held was made on a state that is gone: not sent over tablet A's.
    expect(page_b.get_by_test_id("changes-waiting")).to_be_hidden()
    assert page_b.evaluate("window.walkaroundFieldOutbox.count()") == 0
    snap(shot, page_b, "field-outbox-conflict")
    assert check_in_row(db_path, check_in_id) == (None, 6, version + 1)


def test_what_is_being_typed_when_a_late_answer_redraws_its_region_is_kept_and_saved(
    new_context, db_path
) -> None:
    context = new_context("advisor")
    page = context.new_page()
    check_in_id = _walk_in(page)
    concern_id = _concern(page, db_path, check_in_id)

    context.set_offline(True)
    page.locator("#new-concern").fill("刹车时有异响")
    page.get_by_role("button", name="添加故障").click()
    expect(page.get_by_test_id("changes-waiting")).to_have_text(f"1 {WAITING}")
    # Typing, not yet done with the field, when the network returns and the answer to
    # the new concern redraws every concern.
    when = page.locator(f"#when-{concern_id}")
    when.focus()
    when.fill("冷车启动")
    context.set_offline(False)
    expect(page.get_by_test_id("concern")).to_have_count(2, timeout=UPLOAD_TIMEOUT_MS)
    expect(page.locator(f"#when-{concern_id}")).to_have_value("冷车启动")
    saved = lambda: query(db_path, 'SELECT "when" FROM concern WHERE id = ?', concern_id)  # noqa: E731
    _wait_for(lambda: saved() == [("冷车启动",)], page)


def test_a_change_waiting_when_the_session_ended_is_sent_after_signing_in_again(
    new_context, db_path, sign_in
) -> None:
    # A tablet of its own: signing in again ends this tablet's session, not the shared one.
    context = new_context()
    page = context.new_page()
    page.goto("/sign-in")
    sign_in(page, "advisor")
    page.wait_for_url("**/lane")
    check_in_id = _walk_in(page)
    page.goto(f"/check-ins/{check_in_id}/walkaround")
    odometer = 40777

    context.set_offline(True)
    page.locator("#odometer_km").fill(str(odometer))
    page.locator("#odometer_km").blur()
    expect(page.get_by_test_id("changes-waiting")).to_have_text(f"1 {WAITING}")
    context.clear_cookies(name="wa_session")  # the session ended while the network was gone
    context.set_offline(False)

    # The save is answered with "sign in first": the tablet goes to sign-in and back.
    page.wait_for_url(re.compile(r"/sign-in\?next="), timeout=UPLOAD_TIMEOUT_MS)
    assert check_in_row(db_path, check_in_id)[0] is None
    sign_in(page, "advisor")
    page.wait_for_url(re.compile(rf"/check-ins/{check_in_id}/walkaround$"))
    expect(page.get_by_test_id("changes-waiting")).to_be_hidden(timeout=UPLOAD_TIMEOUT_MS)
    expect(page.locator("#odometer_km")).to_have_value(str(odometer))
    _wait_for(lambda: check_in_row(db_path, check_in_id)[0] == odometer, page)


def test_a_change_refused_for_an_expired_form_waits_for_the_reload(new_context, db_path) -> None:
    context = new_context("advisor")
    page = context.new_page()
    check_in_id = _walk_in(page)
    page.goto(f"/check-ins/{check_in_id}/walkaround")

    # This page's form token is from an earlier session: the server no longer takes it.
    page.evaluate(
        "document.body.setAttribute('hx-headers', JSON.stringify({'x-csrftoken': 'stale'}))"
    )
    with posted(page, r"/walkaround/save$") as refused:
        choice(page, "fuel_eighths", "3").click()
    assert refused().status == 403
    expect(toast(page)).to_contain_text("刷新")
    expect(page.get_by_test_id("changes-waiting")).to_have_text(f"1 {WAITING}")
    assert check_in_row(db_path, check_in_id)[1] is None

    page.reload()  # a fresh form token: the change that waited goes now
    expect(page.get_by_test_id("changes-waiting")).to_be_hidden(timeout=UPLOAD_TIMEOUT_MS)
    expect(page.locator("input[name=fuel_eighths][value='3']")).to_be_checked()
    _wait_for(lambda: check_in_row(db_path, check_in_id)[1] == 3, page)

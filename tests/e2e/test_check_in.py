"""The check-in at the car, end to end: lane board → greeting → covers → walkaround with
real photos → 5W2H symptoms → done, plus the photo outbox offline, two tablets on one
check-in, and the odometer plausibility rule. All in zh-CN, as the demo advisor."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, Route, expect

from tests.e2e.flows import (
    EXTERIOR,
    EXTERIOR_FILES,
    SAVED_TEXT,
    UPLOAD_TIMEOUT_MS,
    Taps,
    check_in_row,
    choice,
    client_ids_on_page,
    covers,
    greeting,
    last_odometer,
    photo_rows,
    posted,
    snap,
    start_check_in,
    symptoms,
    take_photo,
    toast,
    wait_for_outbox_empty,
    walkaround,
)

# The dealership's paper check-in sheet (接车单) has about 40 boxes to fill in or tick;
# the tablet flow is only worth it if a standard check-in takes fewer taps than that.
PAPER_SHEET_FIELDS = 40
CONFLICT_TEXT = "另一台平板"


# --- 1. the whole flow ---------------------------------------------------------------------


def _photos_arrived_once(page: Page, db: Path, check_in_id: int) -> None:
    taken = len(EXTERIOR) + 1
    wait_for_outbox_empty(page, taken)
    ids = client_ids_on_page(page)

    page.reload()
    thumbs = page.locator("[data-photo-slot] img[data-uploaded]")
    expect(thumbs).to_have_count(taken)
    for slot in EXTERIOR:
        expect(page.get_by_test_id(f"slot-{slot}").locator("img[data-uploaded]")).to_have_count(1)
    for name in ("interior", "dashboard", "boot"):
        expect(page.get_by_test_id(f"slot-{name}").locator("img")).to_have_count(0)
    expect(page.get_by_test_id("mark").locator("img[data-uploaded]")).to_have_count(1)
    srcs = thumbs.evaluate_all("imgs => imgs.map(i => i.getAttribute('src'))")
    assert all(re.fullmatch(r"/photos/\d+/thumb", s) for s in srcs), srcs
    assert len(set(srcs)) == taken
    page.wait_for_function(
        "() => [...document.querySelectorAll('img[data-uploaded]')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    answer = page.request.get(srcs[0])
    assert answer.ok
    assert answer.headers["content-type"] == "image/jpeg"

    rows = photo_rows(db, check_in_id)
    assert len(rows) == taken, rows
    assert len({r[0] for r in rows}) == taken, "a photo arrived twice"
    assert sorted(r[0] for r in rows) == sorted(ids)
    assert sorted(r[1] for r in rows if r[1]) == sorted(EXTERIOR)
    assert [r[2] is not None for r in rows].count(True) == 1


def test_an_advisor_checks_in_a_booked_car_from_the_lane_board_to_5w2h(new_context, shot, db_path):
    page = new_context("advisor").new_page()
    taps = Taps(page)

    page.goto("/lane")
    snap(shot, page, "check-in-1-lane")
    check_in_id, booked = start_check_in(page, taps)

    greeting(page, taps, shot)
    covers(page, taps, shot)
    odometer = walkaround(page, taps)
    _photos_arrived_once(page, db_path, check_in_id)
    snap(shot, page, "check-in-4-walkaround")

    wide = new_context("advisor", "landscape").new_page()
    wide.goto(f"/check-ins/{check_in_id}/walkaround")
    expect(wide.locator("[data-photo-slot] img[data-uploaded]")).to_have_count(len(EXTERIOR) + 1)
    expect(wide.locator("#odometer_km")).to_have_value(str(odometer))
    snap(shot, wide, "check-in-4-walkaround-landscape")

    taps.tap(page.get_by_test_id("next-step"), "下一步")
    page.wait_for_url(re.compile(r"/symptoms$"))
    bugs: list[str] = []
    symptoms(page, taps, booked["work"], shot, bugs)

    page.wait_for_url(re.compile(rf"/check-ins/{check_in_id}/done$"))
    done = page.get_by_test_id("check-in-done")
    expect(done).to_be_visible()
    expect(done).to_contain_text("接车完成")
    expect(done).to_contain_text(booked["plate"])
    expect(done).to_contain_text(f"{odometer:,}")
    expect(done).to_contain_text("4/8")
    snap(shot, page, "check-in-6-done")
    assert check_in_row(db_path, check_in_id)[:2] == (odometer, 4)

    print(f"TAPS: {taps.count}  ({' / '.join(taps.log)})")
    assert taps.count < PAPER_SHEET_FIELDS
    assert not bugs, bugs


# --- 2. offline photos ---------------------------------------------------------------------


def test_photos_taken_offline_reach_the_server_exactly_once_after_the_network_returns(
    new_context, shot, db_path
):
    # Offline is context.set_offline(True): Chromium's network emulation fails the outbox's
    # XHR POSTs too (the service worker only handles GETs), so no page.route is needed for it.
    context = new_context("advisor")
    page = context.new_page()
    check_in_id, _ = start_check_in(page)
    page.goto(f"/check-ins/{check_in_id}/walkaround")
    status = page.locator("[data-outbox-status]")

    # a) Three photos offline, then the network comes back on the same page.
    context.set_offline(True)
    for slot, filename in zip(("front", "right", "rear"), EXTERIOR_FILES, strict=False):
        take_photo(page, slot, filename)
    expect(status).to_have_text("3 张照片等待网络上传", timeout=UPLOAD_TIMEOUT_MS)
    expect(page.locator("[data-photo-slot] img[data-state=waiting]")).to_have_count(3)
    snap(shot, page, "check-in-offline-3-waiting")
    first = client_ids_on_page(page)
    assert len(first) == 3
    assert photo_rows(db_path, check_in_id) == []

    context.set_offline(False)
    wait_for_outbox_empty(page, 3)
    rows = photo_rows(db_path, check_in_id)
    assert len(rows) == 3, rows
    assert sorted(r[0] for r in rows) == sorted(first)

    # b) Two more offline. When the network returns, the first upload reaches the server
    # but its answer is held back (page.route), and the page is reloaded right then:
    # mid-queue, one photo stored without the tablet knowing, one not sent yet. After the
    # reload the outbox picks up again from IndexedDB.
    context.set_offline(True)
    take_photo(page, "left", EXTERIOR_FILES[6])
    take_photo(page, "interior", EXTERIOR_FILES[7])
    expect(status).to_have_text("2 张照片等待网络上传", timeout=UPLOAD_TIMEOUT_MS)
    second = [i for i in client_ids_on_page(page) if i not in first]
    assert len(second) == 2

    held: list[Route] = []

    def hold_first_answer(route: Route) -> None:
        if held:
            route.continue_()
            return
        route.fetch()  # the server gets the photo and stores it ...
        held.append(route)  # ... but the tablet never hears back

    page.route("**/check-ins/*/photos", hold_first_answer)
    context.set_offline(False)
    for _ in range(UPLOAD_TIMEOUT_MS // 50):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the outbox did not start uploading when the network came back"
    assert len(photo_rows(db_path, check_in_id)) == 4

    answers: list[int] = []
    page.on(
        "response",
        lambda r: answers.append(r.status) if r.url.endswith("/photos") else None,
    )
    page.reload()
    wait_for_outbox_empty(page, 5)
    page.unroute_all(behavior="ignoreErrors")
    snap(shot, page, "check-in-offline-after-reload")
    # 200 = "I have this one already" (the held photo), 201 = stored now.
    assert sorted(answers) == [200, 201], answers

    rows = photo_rows(db_path, check_in_id)
    ids = [r[0] for r in rows]
    assert len(ids) == 5, rows
    assert len(set(ids)) == 5, "a photo arrived twice"
    assert sorted(ids) == sorted(first + second)
    assert sorted(r[1] for r in rows) == sorted(["front", "right", "rear", "left", "interior"])


# --- 3. two tablets ------------------------------------------------------------------------


def test_a_second_tablet_gets_a_conflict_instead_of_overwriting(new_context, shot, db_path):
    page_a = new_context("advisor").new_page()
    check_in_id, _ = start_check_in(page_a)
    url = f"/check-ins/{check_in_id}/walkaround"
    page_a.goto(url)
    page_b = new_context("advisor").new_page()
    page_b.goto(url)
    last = last_odometer(page_b)

    with posted(page_a, r"/walkaround/save$") as saved:
        choice(page_a, "fuel_eighths", "6").click()
    assert saved().ok
    expect(page_a.get_by_test_id("save-state")).to_have_text(SAVED_TEXT)

    odometer_b = page_b.locator("#odometer_km")
    with posted(page_b, r"/walkaround/save$") as refused:
        odometer_b.fill(str(last + 1234))
        odometer_b.blur()
    assert refused().status == 409
    expect(toast(page_b)).to_contain_text(CONFLICT_TEXT)
    expect(page_b.get_by_test_id("save-state")).not_to_have_text(SAVED_TEXT)
    snap(shot, page_b, "check-in-conflict-tablet-b")

    assert check_in_row(db_path, check_in_id)[:2] == (None, 6)
    page_b.reload()
    expect(page_b.locator("input[name=fuel_eighths][value='6']")).to_be_checked()
    expect(page_b.locator("#odometer_km")).to_have_value("")


# --- 4. odometer below the last visit ------------------------------------------------------


def test_an_odometer_below_the_last_visit_is_refused_with_the_last_reading_shown(
    new_context, shot, db_path
):
    page = new_context("advisor").new_page()
    check_in_id, _ = start_check_in(page)
    page.goto(f"/check-ins/{check_in_id}/walkaround")
    last = last_odometer(page)

    field = page.locator("#odometer_km")
    with posted(page, r"/walkaround/save$") as refused:
        field.fill(str(last - 1000))
        field.blur()
    assert refused().status == 422
    expect(toast(page)).to_contain_text(f"{last:,}")
    error = page.locator("#error-odometer_km")
    expect(error).to_contain_text(f"{last:,}")
    expect(error).to_contain_text("上次到店")
    expect(field).to_have_value(str(last - 1000))  # left as typed, to correct it
    snap(shot, page, "check-in-odometer-too-low")

    assert check_in_row(db_path, check_in_id)[0] is None
    page.reload()
    expect(page.locator("#odometer_km")).to_have_value("")

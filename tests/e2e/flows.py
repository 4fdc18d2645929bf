"""Steps of the advisor's work that more than one e2e test drives: the check-in at the car
(lane board → greeting → covers → walkaround with real photos → 5W2H → done) and the small
helpers they share; then the estimate and the customer's touch signature in customer mode
(`signed_order`). All in zh-CN, as the demo advisor. Screenshots are optional: pass
`shot=None` to drive a step without overwriting the check-in test's pictures."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, suppress
from decimal import Decimal
from pathlib import Path
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, Response, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.conftest import DEMO_PASSWORD

PHOTOS = Path(
    os.environ.get("WALKAROUND_TESTDATA")
    or Path(__file__).resolve().parents[3] / "shared" / "testdata" / "photos"
)
EXTERIOR = ("front", "front_right", "right", "rear_right", "rear", "rear_left", "left",
            "front_left")  # fmt: skip
# Eight real files for the eight exterior slots: every EXIF orientation that turns the
# picture, a phone held upright, and a 13 MP phone photo the tablet must downscale.
EXTERIOR_FILES = (
    "orientation_1.jpg",
    "orientation_3.jpg",
    "orientation_5.jpg",
    "orientation_6.jpg",
    "orientation_7.jpg",
    "orientation_8.jpg",
    "samsung_j327t1_orient6.jpg",
    "oppo_r7plus_13mp_gps.jpg",
)
DAMAGE_FILE = "orientation_2.jpg"
UPLOAD_TIMEOUT_MS = 30_000
SAVED_TEXT = "✓ 已保存"

Shot = Callable[[Page, str], Path]


# --- the live server's database ------------------------------------------------------------


def query(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Read the live server's SQLite file (read-only)."""
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as conn:
        return conn.execute(sql, params).fetchall()


def execute(db: Path, sql: str, *params: Any) -> int:
    """Write to the live server's SQLite file behind the app's back; returns rows changed."""
    with closing(sqlite3.connect(db, timeout=10)) as conn, conn:
        return conn.execute(sql, params).rowcount


def photo_rows(db: Path, check_in_id: int) -> list[tuple[str, str | None, int | None]]:
    return query(
        db,
        "SELECT client_id, position, damage_mark_id FROM photo WHERE check_in_id = ?",
        check_in_id,
    )


def check_in_row(db: Path, check_in_id: int) -> tuple[Any, ...]:
    return query(
        db, "SELECT odometer_km, fuel_eighths, version FROM check_in WHERE id = ?", check_in_id
    )[0]


# --- page helpers --------------------------------------------------------------------------


@contextmanager
def posted(page: Page, path: str) -> Iterator[Callable[[], Response]]:
    """Wait for the POST whose URL path matches `path` (a regex) that the block triggers."""
    pattern = re.compile(path)
    with page.expect_response(
        lambda r: r.request.method == "POST" and bool(pattern.search(r.url))
    ) as info:
        yield lambda: info.value
    info.value.finished()


class Taps:
    """Counts what the advisor does with a finger. One tap = one click or tick; typing into
    one field = one action; a dropdown = two taps (open it, pick). Shutter presses
    (set_input_files) are not counted. `saves` waits for the autosave the action causes."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.count = 0
        self.log: list[str] = []
        self.shutters = 0  # photos: the tap that opens the camera is the photo's one tap

    def did(self, what: str, action: Callable[[], None]) -> None:
        """One tap done by another helper (a touch tap, a drawn signature)."""
        self._do(what, 1, action, None)

    def shutter(self, opener: Locator, photo: Path) -> None:
        """One photo: a tap on `opener` must open the camera (the file chooser), which
        answers with `photo`. Counted apart from the taps: the goal is taps beyond these."""
        with self.page.expect_file_chooser() as chooser:
            opener.click()
        chooser.value.set_files(photo)
        self.shutters += 1

    def _do(self, what: str, n: int, action: Callable[[], None], saves: str | None) -> None:
        self.count += n
        self.log.append(what)
        if saves is None:
            action()
            return
        with posted(self.page, saves) as response:
            action()
        assert response().ok, f"{what}: HTTP {response().status}"

    def tap(
        self,
        target: Locator,
        what: str,
        saves: str | None = None,
        position: dict[str, float] | None = None,
    ) -> None:
        self._do(what, 1, lambda: target.click(position=position), saves)

    def type(self, target: Locator, text: str, what: str, saves: str | None = None) -> None:
        def fill_and_leave() -> None:
            target.fill(text)
            target.blur()  # the advisor moves on: `change` fires and the field autosaves

        self._do(what, 1, fill_and_leave, saves)

    def pick(self, target: Locator, label: str, what: str) -> None:
        self._do(what, 2, lambda: target.select_option(label=label), None)


def choice(page: Page, name: str, value: str) -> Locator:
    """The big label around a radio/checkbox (the input itself is visually hidden)."""
    return page.locator(f"label:has(> input[name='{name}'][value='{value}'])")


def toast(page: Page) -> Locator:
    return page.locator("#toasts [role=alert]")


def snap(shot: Shot | None, page: Page, name: str) -> None:
    """Full-page screenshot from the top, so the sticky app bar is where it belongs
    (the sticky step bar still shows at the first screen's bottom edge)."""
    if shot is None:
        return
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, name)


# --- the check-in --------------------------------------------------------------------------


def start_check_in(page: Page, taps: Taps | None = None) -> tuple[int, dict[str, str]]:
    """Open the lane board and tap 开始接车 on the first appointment that still has it."""
    page.goto("/lane")
    row = page.get_by_test_id("appointment").filter(has=page.get_by_test_id("start-check-in"))
    row = row.first
    expect(row).to_be_visible()
    info = {
        "plate": row.locator(".plate").inner_text().strip(),
        "work": row.locator(".muted").first.inner_text().split(" · ", 1)[1].strip(),
    }
    start = row.get_by_test_id("start-check-in")
    if taps is None:
        start.click()
    else:
        taps.tap(start, "开始接车")
    page.wait_for_url(re.compile(r"/check-ins/\d+/greeting$"))
    match = re.search(r"/check-ins/(\d+)/", page.url)
    assert match
    return int(match.group(1)), info


def last_odometer(page: Page) -> int:
    hint = page.locator("p.muted", has_text="上次到店：")
    expect(hint).to_have_text(re.compile(r"^上次到店：[\d,]+ 公里$"))
    return int(re.sub(r"\D", "", hint.inner_text()))


def wait_for_outbox_empty(page: Page, uploaded: int) -> None:
    expect(page.locator("[data-photo-slot] img[data-uploaded]")).to_have_count(
        uploaded, timeout=UPLOAD_TIMEOUT_MS
    )
    expect(page.locator("[data-outbox-status]")).to_be_hidden()
    assert page.evaluate("() => window.walkaroundOutbox.count()")["waiting"] == 0


def client_ids_on_page(page: Page) -> list[str]:
    return page.locator("[data-photo-slot] img[data-client-id]").evaluate_all(
        "imgs => imgs.map(i => i.dataset.clientId)"
    )


def take_photo(page: Page, slot: str, filename: str) -> None:
    page.get_by_test_id(f"slot-{slot}").locator("input[data-photo-input]").set_input_files(
        PHOTOS / filename
    )


def greeting(page: Page, taps: Taps, shot: Shot | None) -> None:
    expect(page.locator("#contact_phone")).to_have_value(re.compile(r"^1\d{10}$"))
    # Not done yet: the next button explains what is missing and stays (not counted).
    page.get_by_test_id("next-step").click()
    expect(toast(page)).to_be_visible()
    expect(toast(page)).to_contain_text("确认")
    expect(page).to_have_url(re.compile(r"/greeting$"))
    toast(page).get_by_role("button").click()

    save = r"/greeting/save$"
    taps.tap(page.locator("label.check", has_text="已与客户确认电话"), "电话已确认", save)
    expect(page.get_by_test_id("save-state")).to_have_text(SAVED_TEXT)
    taps.tap(page.locator("label", has_text="接受回访"), "接受回访", save)
    taps.tap(choice(page, "follow_up_when", "morning"), "上午", save)
    expect(page.locator("input[name=follow_up_accepted][value='1']")).to_be_checked()
    snap(shot, page, "check-in-2-greeting")
    expect(page.get_by_test_id("next-step")).to_contain_text("下一步：")
    taps.tap(page.get_by_test_id("next-step"), "下一步")
    page.wait_for_url(re.compile(r"/covers$"))


def covers(page: Page, taps: Taps, shot: Shot | None) -> None:
    for kind in ("seat", "steering_wheel", "gear_lever", "floor_mat"):
        button = page.locator(f"[data-cover={kind}]")
        expect(button).to_have_attribute("aria-pressed", "false")
        taps.tap(button, f"cover {kind}", r"/cover/" + kind + "$")
        expect(page.locator(f"[data-cover={kind}]")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("[data-cover=fender]")).to_have_attribute("aria-pressed", "false")
    snap(shot, page, "check-in-3-covers")
    taps.tap(page.get_by_test_id("next-step"), "下一步")
    page.wait_for_url(re.compile(r"/walkaround$"))


def walkaround(page: Page, taps: Taps) -> int:
    """Photos, one scratch, checklist, odometer, fuel, one belonging; returns the odometer."""
    for slot, filename in zip(EXTERIOR, EXTERIOR_FILES, strict=True):
        take_photo(page, slot, filename)

    svg = page.locator("#diagram svg[data-view=top]")
    box = svg.bounding_box()
    assert box
    # Front right wing, seen from above (front at the top).
    taps.tap(svg, "划痕位置", r"/marks$", {"x": box["width"] * 0.8, "y": box["height"] * 0.3})
    mark = page.get_by_test_id("mark")
    expect(mark).to_have_count(1)
    expect(mark.locator("h3")).to_contain_text("划痕")
    expect(page.locator("#diagram .mark")).to_have_count(1)
    mark.locator("input[data-photo-input]").set_input_files(PHOTOS / DAMAGE_FILE)

    save = r"/walkaround/save$"
    for field in (
        "exterior_accessories_ok",
        "glass_ok",
        "onboard_tools_present",
        "spare_tyre_present",
        "warning_triangle_present",
    ):
        taps.tap(choice(page, field, "1"), field, save)
    taps.tap(page.locator("label.check:has(input[name=valuables_advised])"), "贵重物品", save)

    odometer = last_odometer(page) + 5000
    taps.type(page.locator("#odometer_km"), str(odometer), "里程", save)
    expect(page.locator("#error-odometer_km")).to_be_empty()
    taps.tap(page.locator(".fuel label[title='4/8']"), "油量 4/8", save)
    expect(page.locator("input[name=fuel_eighths][value='4']")).to_be_checked()

    belongings = page.get_by_test_id("belongings")
    taps.tap(belongings.get_by_test_id("belonging-umbrella"), "物品：雨伞", r"/belongings$")
    expect(page.get_by_test_id("belongings")).to_contain_text("雨伞 × 1")
    return odometer


def symptoms(page: Page, taps: Taps, work: str, shot: Shot | None, bugs: list[str]) -> None:
    """5W2H: two chips, road-test consent, the read-back the customer confirms, then
    完成接车. Soft findings go to `bugs` so that the rest of the flow still runs."""
    concern = page.get_by_test_id("concern")
    expect(concern).to_have_count(1)
    expect(concern.locator("textarea[name=customer_words]")).to_have_value(work)
    concern_id = concern.locator("textarea").get_attribute("id").removeprefix("words-")
    save = rf"/concerns/{concern_id}$"
    taps.tap(concern.locator(f"button.chip[data-append-to='what-{concern_id}']", has_text="异响"),
             "异响", save)  # fmt: skip
    taps.tap(
        concern.locator(f"button.chip[data-append-to='when-{concern_id}']", has_text="冷车启动"),
        "冷车启动",
        save,
    )
    expect(page.locator(f"#what-{concern_id}")).to_have_value("异响")
    expect(page.locator(f"#when-{concern_id}")).to_have_value("冷车启动")
    taps.tap(choice(page, "road_test_consent", "1"), "同意路试", r"/symptoms/save$")

    # What the advisor reads back, before the customer confirms it, must be what was just
    # entered. Checked softly so that the rest of the flow still runs; failed at the end.
    summary = page.get_by_test_id("summary")
    expect(summary).to_contain_text(work)
    shown = summary.inner_text()
    missing = [t for t in ("异响", "冷车启动", "客户同意路试") if t not in shown]
    if missing:
        snap(shot, page, "check-in-5-symptoms-stale-summary")
        bugs.append(f"the read-back summary misses {missing} before confirmation: {shown!r}")
    taps.tap(page.get_by_test_id("confirm-summary"), "客户确认", r"/summary/confirm$")
    expect(page.get_by_test_id("summary-confirmed")).to_be_visible()
    for text in (work, "异响", "冷车启动", "客户同意路试"):
        expect(summary).to_contain_text(text)
    snap(shot, page, "check-in-5-symptoms")
    expect(page.get_by_test_id("next-step")).to_contain_text("完成接车")
    taps.tap(page.get_by_test_id("next-step"), "完成接车")


def complete_check_in(page: Page, bugs: list[str]) -> tuple[int, dict[str, str]]:
    """A whole standard check-in from the lane board to the done page, without screenshots.
    Returns the check-in id and the booked appointment's plate and requested work."""
    taps = Taps(page)
    check_in_id, booked = start_check_in(page, taps)
    greeting(page, taps, None)
    covers(page, taps, None)
    walkaround(page, taps)
    wait_for_outbox_empty(page, len(EXTERIOR) + 1)
    taps.tap(page.get_by_test_id("next-step"), "下一步")
    page.wait_for_url(re.compile(r"/symptoms$"))
    symptoms(page, taps, booked["work"], None, bugs)
    page.wait_for_url(re.compile(rf"/check-ins/{check_in_id}/done$"))
    expect(page.get_by_test_id("check-in-done")).to_contain_text("接车完成")
    return check_in_id, booked


# --- touch, the estimate and the customer's signature --------------------------------------
# Shared by test_estimate_and_signature.py and test_workshop_to_delivery.py.

# A name-like scrawl and an underline, in fractions of the pad's width and height.
SCRAWL = [(0.08 + 0.04 * i, 0.5 + (0.25 if i % 2 else -0.25)) for i in range(20)]
UNDERLINE = [(0.1 + 0.05 * i, 0.85) for i in range(15)]
# Taps at a human pace; see tap().
TAP_GAP_S = 0.4
_last_touch: dict[int, float] = {}
SWALLOWED_TAPS: list[str] = []
COUNT_CLICKS = """() => {
    if (!window.__taps) {
        window.__taps = {n: 0, before: 0};
        document.addEventListener('click', () => window.__taps.n++, true);
    }
    window.__taps.before = window.__taps.n;
}"""
CLICKED = "() => !window.__taps || window.__taps.n > window.__taps.before"


def tap(target: Locator) -> None:
    """A finger's tap on the touch screen (Playwright's tap: CDP touch events), at a human
    pace. Chromium's gesture recogniser sometimes turns a synthetic tap into no click at
    all (reliably so right after a drawn stroke, and now and then after a rotation); that
    is the harness, not the app, so a tap that produced no click event is tried once more
    and counted in SWALLOWED_TAPS."""
    page = target.page
    # A request after the tap also means it was clicked (the page that counted may be gone).
    sent: list[str] = []
    on_request = lambda r: sent.append(r.url)  # noqa: E731
    page.on("request", on_request)
    try:
        for attempt in range(2):
            gap = TAP_GAP_S * (attempt + 1)
            wait = gap - (time.monotonic() - _last_touch.get(id(page), 0.0))
            if wait > 0:
                page.wait_for_timeout(wait * 1000)
            with suppress(PlaywrightError):
                page.evaluate(COUNT_CLICKS)
            sent.clear()
            target.tap()
            _last_touch[id(page)] = time.monotonic()
            try:
                page.wait_for_function(CLICKED, timeout=1000)
            except PlaywrightTimeoutError:
                if sent:
                    return
                SWALLOWED_TAPS.append(f"{page.url} {target}")
                continue
            except PlaywrightError:
                return  # the tap navigated away from the page that counted
            return
    finally:
        page.remove_listener("request", on_request)
    raise AssertionError(f"two taps on {target} gave no click")


def money(text: str) -> Decimal:
    """'¥1,234.50' (or '−¥1.00') as a Decimal."""
    clean = text.strip().replace("−", "-")
    assert clean.replace("-", "").startswith("¥"), f"not a yuan amount: {text!r}"
    return Decimal(re.sub(r"[^\d.\-]", "", clean))


def order_of_check_in(db: Path, check_in_id: int) -> tuple[int, str]:
    return query(
        db,
        "SELECT w.id, w.number FROM check_in c JOIN work_order w ON w.id = c.work_order_id "
        "WHERE c.id = ?",
        check_in_id,
    )[0]


def signatures_of(db: Path, order_id: int) -> list[tuple[Any, ...]]:
    return query(
        db,
        "SELECT id, kind, decision, content_hash FROM signature WHERE work_order_id = ? "
        "ORDER BY id",
        order_id,
    )


def draw_with_touch(page: Page, pad: Locator, strokes: list[list[tuple[float, float]]]) -> None:
    """Draw on the pad's canvas with real touch input: CDP Input.dispatchTouchEvent, from
    which Chromium (touch enabled) synthesises the pointer events signature_pad listens to.
    Moves are spaced beyond signature_pad's 16 ms throttle so that every point counts."""
    canvas = pad.locator("canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box, "the signature canvas is not on screen"
    cdp = page.context.new_cdp_session(page)
    try:
        for stroke in strokes:
            points = [
                {"x": box["x"] + fx * box["width"], "y": box["y"] + fy * box["height"], "id": 1}
                for fx, fy in stroke
            ]
            cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": points[:1]})
            for point in points[1:]:
                page.wait_for_timeout(20)
                cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
            page.wait_for_timeout(20)
            cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    finally:
        cdp.detach()
    _last_touch[id(page)] = time.monotonic()


def stroke_points(pad: Locator) -> list[list[dict[str, float]]]:
    """The strokes the form will send (the hidden input name=strokes), as point lists."""
    raw = pad.locator("input[name=strokes]").input_value()
    return [s["points"] for s in json.loads(raw or "[]")]


def sign_on(page: Page, pad: Locator) -> None:
    draw_with_touch(page, pad, [SCRAWL, UNDERLINE])
    expect(pad).to_have_attribute("data-state", "ok")
    strokes = stroke_points(pad)
    assert len(strokes) == 2, strokes
    assert sum(len(s) for s in strokes) >= 20, "signature_pad kept too few touch points"


def open_estimate(page: Page, order_id: int) -> None:
    """From the check-in's done page to the estimate: by its link, as an advisor would."""
    tap(page.get_by_test_id("go-estimate"))
    page.wait_for_url(re.compile(rf"/work-orders/{order_id}/estimate$"))


def add_hit(page: Page, scope: Locator, query_text: str, code: str) -> None:
    """Type into the job's catalogue search and tap the hit with this code."""
    search = scope.get_by_test_id("catalogue-search").first
    tap(search)
    search.fill(query_text)
    hit = scope.locator(f"[data-testid=hit][data-code='{code}']")
    expect(hit).to_be_visible()
    with posted(page, r"/add-line$") as added:
        tap(hit)
    assert added().ok, f"adding {code}: HTTP {added().status}"


def estimate(page: Page, shot: Shot | None, work: str) -> dict[str, Any]:
    """The booked job gets the oil change's labour and 4 l of oil (in stock) from the
    catalogue search; the totals add up; the proposed promised time is taken."""
    total = page.get_by_test_id("total")
    expect(page.get_by_test_id("job")).to_have_count(1)
    job = page.get_by_test_id("job").first
    expect(job.locator("h2")).to_have_text(work)
    start = money(total.inner_text())

    add_hit(page, job, "机油", "L-OIL")
    job = page.get_by_test_id("job").first  # the region was swapped
    expect(job.locator("[data-testid=line][data-code='L-OIL']")).to_have_count(1)
    expect(job.get_by_test_id("catalogue-search")).to_have_value("")
    after_labour = money(total.inner_text())
    assert after_labour > start, (start, after_labour)

    add_hit(page, job, "机油", "P-OIL4")
    job = page.get_by_test_id("job").first
    expect(job.locator("[data-testid=line]")).to_have_count(2)
    expect(job.locator("[data-testid=line][data-code='P-OIL4']")).to_contain_text(
        "全合成机油 5W-30 4L"
    )
    oil = job.locator("[data-testid=line][data-code='P-OIL4']")
    expect(oil.locator(".badge-ok")).to_have_count(1)  # in stock
    expect(oil.get_by_test_id("to-order")).to_have_count(0)
    after_part = money(total.inner_text())
    assert after_part > after_labour, (after_labour, after_part)

    # The totals add up: labour + parts + 13 % tax, and parts are the oil at list price.
    facts = page.get_by_test_id("totals").locator("dd").all_inner_texts()
    labour, parts, tax = (money(t) for t in facts[:3])
    assert parts == Decimal("368.00"), facts
    assert labour + parts + tax == after_part, facts
    assert tax == ((labour + parts) * Decimal("0.13")).quantize(Decimal("0.01")), facts

    # Not ready to hand over without a promised time.
    problems = page.get_by_test_id("problems")
    expect(problems).to_be_visible()
    expect(page.get_by_test_id("hand-to-customer")).to_be_disabled()
    with posted(page, r"/estimate/promised$") as promised:
        tap(page.get_by_test_id("use-proposal"))
    assert promised().ok
    expect(page.get_by_test_id("promised-at")).to_have_value(re.compile(r"^\d{4}-\d\d-\d\dT"))
    expect(page.get_by_test_id("problems")).to_have_count(0)
    expect(page.get_by_test_id("hand-to-customer")).to_be_enabled()
    snap(shot, page, "estimate")
    return {
        "total": after_part,
        "total_text": total.inner_text().strip(),
        "promised": page.get_by_test_id("promised-at").input_value(),
    }


CONSENTS = ("consent_road_test", "consent_keep_old_parts", "consent_follow_up")


def consents(page: Page) -> bool:
    """Answer yes to each consent question. False when a tap sends nothing at all."""
    for name in CONSENTS:
        button = page.get_by_test_id(f"{name}-yes")
        try:
            with page.expect_response(
                lambda r: r.request.method == "POST" and r.url.endswith("/consent"),
                timeout=3000,
            ) as saved:
                tap(button)
        except PlaywrightTimeoutError:
            return False
        assert saved.value.ok, f"{name}: HTTP {saved.value.status}"
        expect(page.get_by_test_id(f"{name}-yes")).to_have_attribute("aria-pressed", "true")
        expect(page.get_by_test_id(f"{name}-no")).to_have_attribute("aria-pressed", "false")
    return True


def customer_signs_order(page: Page, db: Path, order_id: int) -> str:
    """Customer mode on the advisor's tablet: the review, yes to every consent, a touch
    signature, signed. Returns the work order signature's content hash."""
    page.wait_for_url(re.compile(rf"/review/{order_id}$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    assert consents(page), "a consent tap sent nothing"
    sign_on(page, page.get_by_test_id("signature-pad"))
    with posted(page, rf"/review/{order_id}/sign$") as signed:
        tap(page.get_by_test_id("sign"))
    assert signed().ok, f"sign: HTTP {signed().status}: {signed().text()}"
    page.wait_for_url(re.compile(rf"/review/{order_id}/thanks$"))
    expect(page.get_by_test_id("signed")).to_contain_text("谢谢")
    content_hash = page.get_by_test_id("content-hash").inner_text().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", content_hash), content_hash
    assert [(r[1], r[3]) for r in signatures_of(db, order_id)] == [("work_order", content_hash)]
    return content_hash


def leave_customer_mode(page: Page, order_id: int) -> None:
    """The advisor takes the tablet back with the (demo) password."""
    tap(page.get_by_test_id("staff-exit"))
    page.wait_for_url(re.compile(r"/customer-mode/exit$"))
    page.get_by_test_id("exit-password").fill(DEMO_PASSWORD)
    tap(page.get_by_test_id("exit-submit"))
    page.wait_for_url(re.compile(rf"/work-orders/{order_id}$"))


def signed_order(page: Page, db: Path, bugs: list[str]) -> dict[str, Any]:
    """The advisor's part up to the workshop: a check-in with the walkaround photos, the
    estimate, the customer's signature in customer mode, and the tablet taken back.
    Returns the ids the later steps need."""
    check_in_id, booked = complete_check_in(page, bugs)
    order_id, number = order_of_check_in(db, check_in_id)
    open_estimate(page, order_id)
    priced = estimate(page, None, booked["work"])
    tap(page.get_by_test_id("hand-to-customer"))
    content_hash = customer_signs_order(page, db, order_id)
    leave_customer_mode(page, order_id)
    assert query(db, "SELECT status FROM work_order WHERE id = ?", order_id) == [("signed",)]
    return {
        "check_in_id": check_in_id,
        "order_id": order_id,
        "number": number,
        "booked": booked,
        "estimate": priced,
        "content_hash": content_hash,
    }


def complaint_choice(page: Page, form: str, text: str) -> None:
    """Tap the option labelled `text` in a complaint step's form."""
    page.get_by_test_id(form).locator("label", has_text=text).first.click()


def save_complaint_step(page: Page, step: str, next_step: str) -> None:
    """Save a complaint step; the record opens the next one in place."""
    tap(page.get_by_test_id(f"save-{step}"))
    expect(page.get_by_test_id(f"step-{next_step}")).to_have_attribute("data-state", "current")


def csrf_token(page: Page) -> str:
    """The form token the page hands htmx (the body's hx-headers), for a direct POST."""
    headers = page.locator("body").get_attribute("hx-headers") or "{}"
    found = re.search(r'"x-csrftoken":\s*"([^"]+)"', headers)
    assert found, "no form token on the page"
    return found.group(1)


def set_language(page: Page, locale: str, next_path: str) -> None:
    """The signed-in user's language, as the switch in the app bar posts it."""
    page.request.post(
        "/language", form={"locale": locale, "next": next_path},
        headers={"x-csrftoken": csrf_token(page)},
    )  # fmt: skip

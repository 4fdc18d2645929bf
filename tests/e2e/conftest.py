"""End-to-end fixtures: one live Walkaround server with demo data and one real
Chromium for the whole session, plus signed-in tablet contexts per user.

The server is started the way a person would start it (`python -m app demo`,
then `python -m app serve`) in a throw-away data directory, so these tests
never touch the developer's `var/` database.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError

ROOT = Path(__file__).resolve().parents[2]
E2E_DIR = Path(__file__).resolve().parent
SCREENSHOTS = E2E_DIR / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DEMO_PASSWORD = "demo"
START_TIMEOUT_S = 30.0

# Tablet viewports (iPad Air 11" class) in CSS pixels.
VIEWPORTS = {
    "portrait": {"width": 834, "height": 1194},
    "landscape": {"width": 1194, "height": 834},
}


def _is_e2e(item: pytest.Item) -> bool:
    return E2E_DIR in Path(str(item.fspath)).resolve().parents


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test under tests/e2e `e2e`, and run them after all other tests.

    Playwright's sync API keeps its event loop marked as running in the main thread from
    `start()` until `stop()`, so while the session-scoped browser is up every
    `asyncio.run()` (and every pytest-asyncio test) in the same process fails with
    "cannot be called from a running event loop". Running the e2e tests last keeps the
    browser's lifetime after the async tests. The sort is stable.
    """
    for item in items:
        if _is_e2e(item):
            item.add_marker(pytest.mark.e2e)
    items.sort(key=_is_e2e)


# --- live server ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _timezone_away_from_midnight(preferred: str = "Asia/Shanghai") -> str:
    """The demo data is "today's" appointments in the dealership's time zone. A run that
    straddles local midnight would see an empty board, and one late in the day finds no
    slot left to book today, so outside 01:00–15:00 use a fixed-offset zone where it is
    around ten in the morning instead (Etc/GMT-N means UTC+N)."""
    now = datetime.now(UTC)
    local_hour = now.astimezone(ZoneInfo(preferred)).hour
    if 1 <= local_hour < 15:
        return preferred
    offset = (10 - now.hour + 12) % 24 - 12  # -12 .. +11
    return "Etc/GMT" + (f"{-offset:+d}" if offset else "")


def _read_log(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return "(no log)"


# What this worker's live server was started with.
_SERVER: dict[str, str] = {}


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("walkaround-e2e")
    env = {
        **os.environ,
        "WALKAROUND_ENV": "test",
        "WALKAROUND_DATA_DIR": str(data_dir),
        "WALKAROUND_SECRET_KEY": secrets.token_urlsafe(36)[:48],
        "WALKAROUND_TIMEZONE": _SERVER.setdefault("timezone", _timezone_away_from_midnight()),
        "PYTHONUNBUFFERED": "1",
    }
    # Let the server build its own URL from the data dir.
    env.pop("WALKAROUND_DATABASE_URL", None)
    env.pop("WALKAROUND_PHOTO_DIR", None)

    demo = subprocess.run(
        [sys.executable, "-m", "app", "demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if demo.returncode != 0:
        pytest.fail(
            f"`python -m app demo` failed ({demo.returncode}):\n{demo.stdout}\n{demo.stderr}",
            pytrace=False,
        )

    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    # Never ask a proxy from the environment about our own loopback server.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"server exited with {proc.returncode} before it was healthy:\n"
                    f"{_read_log(log_path)}",
                    pytrace=False,
                )
            try:
                with opener.open(f"{base_url}/healthz", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"server not healthy after {START_TIMEOUT_S:.0f}s:\n{_read_log(log_path)}",
                    pytrace=False,
                )
            time.sleep(0.1)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture(scope="session")
def db_path(live_server: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The live server's SQLite file, for tests that read (or deliberately alter) what the
    app stored. `live_server` yields only its URL; its data dir is
    `tmp_path_factory.mktemp("walkaround-e2e")` and the database is walkaround.db in it."""
    found = sorted(
        tmp_path_factory.getbasetemp().glob("walkaround-e2e*/walkaround.db"),
        key=lambda p: p.stat().st_mtime,
    )
    if not found:
        pytest.fail("cannot find the live server's walkaround.db", pytrace=False)
    return found[-1]


@pytest.fixture
def server_zone(live_server: str) -> ZoneInfo:
    """The dealership's time zone the live server runs in."""
    return ZoneInfo(_SERVER["timezone"])


@pytest.fixture
def appointments_today(db_path: Path, server_zone: ZoneInfo) -> int:
    """How many of today's bookings the lane board lists now: the demo's, and any another
    test file on this server has booked for today (not cancelled)."""
    zone = server_zone
    today = datetime.now(zone).date()
    with closing(sqlite3.connect(db_path)) as conn:
        rows = conn.execute("SELECT scheduled_at FROM appointment WHERE status != 'cancelled'")
        moments = [datetime.fromisoformat(at) for (at,) in rows]
    return sum(1 for at in moments if at.astimezone(zone).date() == today)


# --- browser and contexts ------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    pw = sync_playwright().start()
    try:
        yield pw
    finally:
        pw.stop()


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the e2e tests need the Debian chromium package "
            "(apt-get install chromium)",
            pytrace=False,
        )
    browser = playwright_instance.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    try:
        yield browser
    finally:
        browser.close()


def _context_options(live_server: str, orientation: str) -> dict[str, Any]:
    if orientation not in VIEWPORTS:
        raise ValueError(f"orientation must be one of {sorted(VIEWPORTS)}")
    return {
        "viewport": VIEWPORTS[orientation],
        "screen": VIEWPORTS[orientation],
        "has_touch": True,
        "is_mobile": True,
        "device_scale_factor": 2,
        "locale": "zh-CN",
        "timezone_id": "Asia/Shanghai",
        "base_url": live_server,
    }


def sign_in_through_form(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Fill in and submit the real sign-in form (the page must show it)."""
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("form:has(#username) button[type=submit]").click()


@pytest.fixture(scope="session")
def signed_in_state(browser: Browser, live_server: str) -> Callable[[str], dict[str, Any]]:
    """Storage state (cookies) of a user signed in once through the form, cached per user.

    Every context of a cached user shares one server-side session: never sign out with
    one (that ends the session for all of them), and customer mode entered in one locks
    them all until the advisor's password ends it (`new_context` hands the tablet back)."""
    cache: dict[str, dict[str, Any]] = {}

    def get(username: str) -> dict[str, Any]:
        if username not in cache:
            context = browser.new_context(**_context_options(live_server, "portrait"))
            try:
                page = context.new_page()
                page.goto("/sign-in")
                sign_in_through_form(page, username)
                # Each role lands on its own first page (the relations clerk: the follow-ups).
                page.wait_for_url(re.compile(r"/(lane|follow-ups)$"))
                cache[username] = context.storage_state()
            finally:
                context.close()
        return cache[username]

    return get


ContextFactory = Callable[..., BrowserContext]


@pytest.fixture
def new_context(
    browser: Browser, live_server: str, signed_in_state: Callable[[str], dict[str, Any]]
) -> Iterator[ContextFactory]:
    """`new_context(user=None, orientation="portrait")`: a tablet browser context,
    signed in as `user` when given. Closed at the end of the test."""
    made: list[BrowserContext] = []

    def make(
        user: str | None = None, orientation: str = "portrait", service_workers: str = "allow"
    ) -> BrowserContext:
        options = _context_options(live_server, orientation)
        if user is not None:
            options["storage_state"] = signed_in_state(user)
        context = browser.new_context(**options, service_workers=service_workers)
        context.set_default_timeout(10_000)
        context.set_default_navigation_timeout(15_000)
        made.append(context)
        return context

    yield make
    for context in made:
        hand_back(context)
        context.close()


def hand_back(context: BrowserContext) -> None:
    """If a test stopped with the tablet in the customer's hands, end customer mode with
    the password: it lives on the server, so it would lock the cached user's next tests."""
    try:
        lane = context.request.get("/lane", max_redirects=0)
        if "/review/" not in lane.headers.get("location", ""):
            return
        form = context.request.get("/customer-mode/exit").text()
        token = re.search(r'name="_csrf_token" value="([^"]+)"', form)
        if token:
            context.request.post(
                "/customer-mode/exit",
                form={"password": DEMO_PASSWORD, "_csrf_token": token.group(1)},
            )
    except PlaywrightError:
        pass  # a context the test already broke: nothing to hand back


@pytest.fixture
def new_profile_context(
    playwright_instance: Playwright,
    live_server: str,
    signed_in_state: Callable[[str], dict[str, Any]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ContextFactory]:
    """Like `new_context`, but a Chromium with an on-disk profile (not incognito).

    Chromium never offers to install a PWA from an incognito window, and every
    `browser.new_context()` is one, so installability is checked in a real profile."""
    made: list[BrowserContext] = []

    def make(user: str | None = None, orientation: str = "portrait") -> BrowserContext:
        if not CHROMIUM.exists():
            pytest.fail(f"{CHROMIUM} is missing", pytrace=False)
        context = playwright_instance.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            **_context_options(live_server, orientation),
        )
        made.append(context)
        if user is not None:
            context.add_cookies(signed_in_state(user)["cookies"])
        context.set_default_timeout(10_000)
        context.set_default_navigation_timeout(15_000)
        return context

    yield make
    for context in made:
        context.close()


# --- screenshots ---------------------------------------------------------------------------


def save_shot(page: Page, name: str) -> Path:
    """Save a full-page screenshot to tests/e2e/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def shot() -> Callable[[Page, str], Path]:
    """`shot(page, name)`: full-page screenshot into tests/e2e/screenshots/ (git-ignored)."""
    return save_shot


@pytest.fixture
def sign_in() -> Callable[..., None]:
    """`sign_in(page, username, password="demo")` through the real form."""
    return sign_in_through_form

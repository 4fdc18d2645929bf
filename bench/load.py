"""Under load: simulated tablets doing the lane's work against a real server process.

`python -m bench load` starts `python -m app serve` as a subprocess (a fresh SQLite file
with the demo data, per tablet count) and drives it with N tablets, each its own httpx
client and connection, in one asyncio loop: sign in as the demo advisor, then car after
car: the lane board, a walk-in (new customer and car, which starts the check-in), every
step's autosave and its "done", covers, a damage mark, photos at the size the tablet sends
(a 2000 px JPEG of a few hundred KB, prepared in the browser before upload), a concern,
the estimate (two lines and the promised time), customer mode, the consents, the
customer's signature, and the advisor's password to leave customer mode. Foremen's
workshop boards hold the event stream (SSE) open meanwhile, one per ten tablets.

A tablet sends its next request as soon as the answer to the last arrives (a tablet at
full speed: an advisor takes seconds per tap), and pauses 0-2 x `--think` seconds between
two cars. The tablets arrive over the first seconds; at `--duration` they stop sending,
and the requests in flight finish and are counted. Every request is timed per endpoint
(p50, p99) and counted as an error if it raised, timed out (60 s), or answered another
status than the tablet expects; the server's log is searched for errors too.

Then, in this process and run (`--ratio-seconds`), the lane board and a step save are
served through the whole app (real database, sign-in, session, CSRF) and again with the
same template rendered from the same rows held in memory (the services that read and
write the database replaced by the rows they returned once): the first's throughput as
a share of the second's.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import datetime as dt
import io
import itertools
import json
import logging
import os
import platform
import random
import re
import secrets
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from unittest import mock
from zoneinfo import ZoneInfo

import httpx
from PIL import Image, ImageDraw, ImageFilter

# The signature as the tablet posts it, the same the tests sign with.
from tests.estimate_helpers import ink

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
PASSWORD = "demo"  # noqa: S105 - app.demo.data.DEMO_PASSWORD, the documented demo sign-in
ADVISOR = "advisor"
FOREMAN = "foreman"
START_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 60.0
PHOTOS_PER_CAR = 2
COVERS = ("seat", "steering_wheel", "gear_lever", "floor_mat")
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
PLATE_CHARS = PLATE_LETTERS + "0123456789"

_INPUT = re.compile(r"<input\b[^>]*>", re.S)
_VALUE = re.compile(r'\bvalue="([^"]*)"')


def _input_value(page: str, attribute: str) -> str | None:
    """The value of the first <input> with this attribute (e.g. 'name="_csrf_token"')."""
    for tag in _INPUT.findall(page):
        if attribute in tag:
            found = _VALUE.search(tag)
            return found.group(1) if found else None
    return None


def csrf(page: str) -> str:
    token = _input_value(page, 'name="_csrf_token"')
    if not token:
        raise LookupError("no CSRF field on the page")
    return token


def version(page: str) -> str:
    found = _input_value(page, 'id="version"')
    if not found:
        raise LookupError("no version field on the page")
    return found


# --- what the tablet sends -------------------------------------------------------------------


def tablet_photo(seed: int = 7, size: tuple[int, int] = (2000, 1500)) -> bytes:
    """A JPEG as the tablet sends it after preparing it in the browser: long edge 2000 px,
    quality 0.85, a few hundred KB (a scene with edges and some sensor-like noise)."""
    rng = random.Random(seed)  # noqa: S311 - a drawing, not security
    image = Image.new("RGB", size, (110, 130, 150))
    draw = ImageDraw.Draw(image)
    for _ in range(160):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        w, h = rng.randrange(20, 400), rng.randrange(20, 300)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        if rng.random() < 0.5:
            draw.rectangle((x, y, x + w, y + h), fill=colour)
        else:
            draw.ellipse((x, y, x + w, y + h), outline=colour, width=rng.randrange(2, 12))
    image = image.filter(ImageFilter.GaussianBlur(1.2))
    noise = Image.effect_noise(size, 18).convert("RGB")
    image = Image.blend(image, noise, 0.12)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def unique_jpeg(base: bytes, tag: str) -> bytes:
    """The same picture with a JPEG comment after SOI: other bytes, so another SHA-256,
    and the server processes it as a new photo (it would recognise the same bytes)."""
    comment = tag.encode()
    segment = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
    return base[:2] + segment + base[2:]


# --- measurements ----------------------------------------------------------------------------


@dataclass
class Stats:
    """Latencies (ms) and errors per endpoint for one tablet count."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: list[str] = field(default_factory=list)  # the first few errors, for the reader
    cars: int = 0
    board_events: int = 0

    def error(self, name: str, what: str) -> None:
        self.errors[name] += 1
        if len(self.samples) < 10:
            self.samples.append(f"{name}: {what}")


@dataclass(frozen=True)
class Row:
    endpoint: str
    requests: int
    errors: int
    p50_ms: float
    p99_ms: float


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def rows(stats: Stats) -> list[Row]:
    names = sorted(set(stats.latencies) | set(stats.errors))
    everything = [ms for name in names for ms in stats.latencies[name]]
    out = [
        Row(name, len(stats.latencies[name]), stats.errors[name],
            round(percentile(stats.latencies[name], 50), 1),
            round(percentile(stats.latencies[name], 99), 1))
        for name in names
    ]  # fmt: skip
    out.append(
        Row("ALL", len(everything), sum(stats.errors.values()),
            round(percentile(everything, 50), 1), round(percentile(everything, 99), 1))
    )  # fmt: skip
    return out


# --- the server ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _timezone_away_from_midnight(preferred: str = "Asia/Shanghai") -> str:
    """The demo's appointments are today's: near local midnight use a zone at noon."""
    now = dt.datetime.now(dt.UTC)
    if 1 <= now.astimezone(ZoneInfo(preferred)).hour < 22:
        return preferred
    offset = 12 - now.hour
    return "Etc/GMT" + (f"{-offset:+d}" if offset else "")


@dataclass
class Server:
    """`python -m app serve --demo` in a throw-away data directory."""

    data_dir: Path
    port: int = field(default_factory=_free_port)
    proc: subprocess.Popen[bytes] | None = None
    # Another database than the data directory's SQLite file (bench year-bench: PostgreSQL).
    database_url: str | None = None
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(36)[:48])
    timezone: str = field(default_factory=_timezone_away_from_midnight)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.data_dir / "server.log"

    def env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "WALKAROUND_ENV": "test",
            "WALKAROUND_DATA_DIR": str(self.data_dir),
            "WALKAROUND_SECRET_KEY": self.secret_key,
            "WALKAROUND_TIMEZONE": self.timezone,
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("WALKAROUND_DATABASE_URL", None)
        env.pop("WALKAROUND_PHOTO_DIR", None)
        if self.database_url:
            env["WALKAROUND_DATABASE_URL"] = self.database_url
        return env

    async def start(self) -> None:
        # As `python -m app serve --demo`: the schema, the demo dealership, staff and
        # today's appointments (not its months of history: what is measured is the bench's
        # own data), then the server (one interpreter start, not two).
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(  # noqa: ASYNC220, S603 - returns at once; our argv
                [sys.executable, "-m", "app", "serve", "--demo", "--no-history",
                 "--port", str(self.port)],
                cwd=ROOT, env=self.env(), stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT_S
        async with httpx.AsyncClient(trust_env=False) as probe:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"the server exited:\n{self.log.read_text()[-3000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await probe.get(f"{self.url}/healthz", timeout=2)).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise RuntimeError(f"the server was not healthy:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def query(self, sql: str) -> Any:
        with contextlib.closing(
            sqlite3.connect(f"file:{self.data_dir / 'walkaround.db'}?mode=ro", uri=True)
        ) as conn:
            row = conn.execute(sql).fetchone()
        if row is None:
            raise LookupError(sql)
        return row[0]

    def log_problems(self) -> list[str]:
        """Lines of the server's log at level error (tracebacks, pool timeouts)."""
        lines = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        problems = []
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                entry = {"message": line}
            text = f"{entry.get('message', '')} {entry.get('exc', '')}"
            if str(entry.get("level", "")).upper() in ("ERROR", "CRITICAL") or any(
                w in text.lower()
                for w in ("queuepool", "database is locked", "database unreachable")
            ):
                cause = str(entry.get("exc", "")).strip().splitlines()[-1:] or [""]
                problems.append(f"{entry.get('message', '')[:80]}: {cause[0][:160]}")
        return problems


@contextlib.asynccontextmanager
async def running_server() -> AsyncIterator[Server]:
    with tempfile.TemporaryDirectory(prefix="walkaround-load-") as scratch:
        server = Server(Path(scratch))
        try:
            await server.start()
            yield server
        finally:
            server.stop()


# --- the tablets -----------------------------------------------------------------------------


class Failed(Exception):
    """This car's work cannot go on (the error is counted); the tablet starts another."""


class Stopped(Exception):
    """The time is up: the tablet sends no further request (those in flight finish)."""


@dataclass(frozen=True)
class Fixture:
    photo: bytes
    strokes: str
    image: str
    labour_id: int
    part_id: int


class Tablet:
    HX: ClassVar[dict[str, str]] = {"HX-Request": "true"}

    def __init__(
        self, n: int, server: Server, stats: Stats, fixture: Fixture | None, stream: bool = False
    ) -> None:
        self.n = n
        self.stats = stats
        self._fixture = fixture
        self.rng = random.Random(n)  # noqa: S311 - a replayable load, not security
        # A board's event stream waits for events as long as it is open.
        timeout = httpx.Timeout(REQUEST_TIMEOUT_S, read=None if stream else REQUEST_TIMEOUT_S)
        self.client = httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=timeout)
        self.token = ""
        self.signed_in = False
        self.stop = asyncio.Event()
        self.cars = itertools.count()

    @property
    def fixture(self) -> Fixture:
        assert self._fixture is not None, "a workshop board has no car to check in"
        return self._fixture

    async def call(
        self, name: str, method: str, url: str, expect: tuple[int, ...] = (200,), **kw: Any
    ) -> httpx.Response:
        if self.stop.is_set():
            raise Stopped
        started = time.perf_counter()
        try:
            response = await self.client.request(method, url, **kw)
        except httpx.HTTPError as exc:
            self.stats.error(name, f"{type(exc).__name__} {exc}"[:200])
            raise Failed(name) from exc
        self.stats.latencies[name].append((time.perf_counter() - started) * 1000)
        if response.status_code not in expect:
            self.stats.error(name, f"{method} {url} -> {response.status_code} "
                                   f"{response.text[:160]!r}")  # fmt: skip
            raise Failed(name)
        return response

    def hx(self) -> dict[str, str]:
        return {**self.HX, "x-csrftoken": self.token}

    async def sign_in(self, username: str = ADVISOR) -> None:
        page = await self.call("GET /sign-in", "GET", "/sign-in")
        await self.call(
            "POST /sign-in", "POST", "/sign-in", expect=(303,),
            data={"username": username, "password": PASSWORD, "_csrf_token": csrf(page.text)},
        )  # fmt: skip

    async def save(self, name: str, url: str, data: dict[str, Any], ver: str) -> str:
        """An htmx change on the check-in; the answer carries the version it made."""
        answer = await self.call(name, "POST", url, data={**data, "version": ver},
                                 headers=self.hx())  # fmt: skip
        return answer.headers.get("X-Check-In-Version", ver)

    def plate(self) -> str:
        rng = self.rng
        return (rng.choice(PROVINCES) + rng.choice(PLATE_LETTERS)
                + "".join(rng.choice(PLATE_CHARS) for _ in range(5)))  # fmt: skip

    async def one_car(self) -> None:
        car = next(self.cars)
        lane = await self.call("GET /lane", "GET", "/lane")
        self.token = csrf(lane.text)
        # A walk-in: the customer and car are new; creating them starts the check-in.
        await self.call("GET /walk-in/new", "GET", "/walk-in/new")
        created = await self.call(
            "POST /walk-in/new", "POST", "/walk-in/new", expect=(303,),
            data={"name": f"顾客{self.n}-{car}", "phone": f"139{self.n:04d}{car:04d}",
                  "plate": self.plate(), "make": "大众", "model": "帕萨特", "year": "2021",
                  "colour": "白", "_csrf_token": self.token},
        )  # fmt: skip
        base = created.headers["location"].rsplit("/", 1)[0]  # /check-ins/{id}
        page = await self.call("GET /check-ins/{id}/{step}", "GET", f"{base}/greeting")
        ver = version(page.text)
        ver = await self.save("POST step save", f"{base}/greeting/save",
                              {"contact_confirmed": "1", "follow_up_accepted": "1",
                               "follow_up_when": "any"}, ver)  # fmt: skip
        ver = await self.done(base, "greeting", ver)
        for kind in COVERS:
            ver = await self.save("POST /check-ins/{id}/cover/{kind}",
                                  f"{base}/cover/{kind}", {}, ver)  # fmt: skip
        ver = await self.done(base, "covers", ver)
        ver = await self.save("POST /check-ins/{id}/marks", f"{base}/marks",
                              {"x": "0.3", "y": "0.6"}, ver)  # fmt: skip
        for fuel in ("3", "4"):  # two autosaves: the odometer, then the fuel gauge
            ver = await self.save("POST step save", f"{base}/walkaround/save",
                                  {"odometer_km": "42000", "fuel_eighths": fuel}, ver)  # fmt: skip
        for n, position in enumerate(("front", "rear")[:PHOTOS_PER_CAR]):
            client_id = f"load-{self.n}-{car}-{n}-{secrets.token_hex(4)}"
            await self.call(
                "POST /check-ins/{id}/photos", "POST", f"{base}/photos", expect=(201,),
                data={"client_id": client_id, "position": position},
                files={"file": (f"{client_id}.jpg",
                                unique_jpeg(self.fixture.photo, client_id), "image/jpeg")},
                headers={"x-csrftoken": self.token, "Accept": "application/json"},
            )  # fmt: skip
        ver = await self.done(base, "walkaround", ver)
        ver = await self.save("POST /check-ins/{id}/concerns", f"{base}/concerns",
                              {"customer_words": "冷车启动时前面有异响"}, ver)  # fmt: skip
        ver = await self.save("POST step save", f"{base}/symptoms/save",
                              {"road_test_consent": "1"}, ver)  # fmt: skip
        ver = await self.save("POST /check-ins/{id}/summary/confirm",
                              f"{base}/summary/confirm", {}, ver)  # fmt: skip
        done = await self.done(base, "symptoms", ver)  # the page that the check-in is done
        found = re.search(r"/work-orders/(\d+)/estimate", done)
        if not found:
            self.stats.error("GET /check-ins/{id}/done", "no link to the estimate")
            raise Failed("done")
        await self.estimate_and_sign(int(found.group(1)))
        self.stats.cars += 1

    async def done(self, base: str, step: str, ver: str) -> str:
        """Finish the step; the tablet follows to the next step's page: its version."""
        answer = await self.call("POST /check-ins/{id}/{step}/done", "POST",
                                 f"{base}/{step}/done", expect=(200, 201),
                                 data={"version": ver}, headers=self.hx())  # fmt: skip
        following = answer.headers.get("hx-redirect", "")
        page = await self.call("GET /check-ins/{id}/{step}", "GET", following)
        return version(page.text) if not following.endswith("/done") else page.text

    async def estimate_and_sign(self, order_id: int) -> None:
        url = f"/work-orders/{order_id}/estimate"
        page = await self.call("GET /work-orders/{id}/estimate", "GET", url)
        job = re.search(r'data-job="(\d+)"', page.text)
        if not job:
            self.stats.error("GET /work-orders/{id}/estimate", "no job on the estimate")
            raise Failed("estimate")
        ver = version(page.text)
        for kind, item in (("labour", self.fixture.labour_id), ("part", self.fixture.part_id)):
            answer = await self.call(
                "POST estimate edit", "POST", f"{url}/add-line",
                data={"job": job.group(1), "kind": kind, "item": str(item), "quantity": "1",
                      "version": ver}, headers=self.hx(),
            )  # fmt: skip
            ver = version(answer.text)
        promised = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=5)).astimezone(
            ZoneInfo("Asia/Shanghai")
        )
        answer = await self.call(
            "POST estimate edit", "POST", f"{url}/promised",
            data={"promised_at": promised.strftime("%Y-%m-%dT%H:%M"), "version": ver},
            headers=self.hx(),
        )  # fmt: skip
        await self.call("POST /work-orders/{id}/customer-mode", "POST",
                        f"/work-orders/{order_id}/customer-mode", expect=(303,),
                        data={"_csrf_token": self.token})  # fmt: skip
        review = await self.call("GET /review/{id}", "GET", f"/review/{order_id}")
        ver = version(review.text)
        for name in ("consent_keep_old_parts", "consent_follow_up"):
            answer = await self.call(
                "POST /review/{id}/consent", "POST", f"/review/{order_id}/consent",
                data={"name": name, "value": "1", "version": ver}, headers=self.hx(),
            )  # fmt: skip
            ver = version(answer.text)
        await self.call(
            "POST /review/{id}/sign", "POST", f"/review/{order_id}/sign", expect=(201,),
            data={"signer_name": "张三", "strokes": self.fixture.strokes,
                  "image": self.fixture.image, "version": ver}, headers=self.hx(),
        )  # fmt: skip
        await self.call("GET /review/{id}/thanks", "GET", f"/review/{order_id}/thanks")
        await self.call("POST /customer-mode/exit", "POST", "/customer-mode/exit",
                        expect=(201,), data={"password": PASSWORD}, headers=self.hx())  # fmt: skip

    async def work(self, stop: asyncio.Event, think_s: float) -> None:
        self.stop = stop
        try:
            while not stop.is_set():
                try:
                    if not self.signed_in:
                        await self.sign_in()
                        self.signed_in = True
                    await self.one_car()
                except Failed:
                    await asyncio.sleep(0.5)  # a failed car: start another
                except LookupError as exc:  # a page without what the tablet needs
                    self.stats.error("page content", str(exc))
                    await asyncio.sleep(0.5)
                if think_s:
                    await asyncio.sleep(self.rng.uniform(0, 2 * think_s))
        except Stopped:
            pass
        finally:
            await self.client.aclose()


async def workshop_board(server: Server, stats: Stats, stop: asyncio.Event) -> None:
    """A foreman's board: signed in, holding /workshop/events open until the end."""
    board = Tablet(-1, server, stats, None, stream=True)
    client = board.client
    async with client:
        try:
            await board.sign_in(FOREMAN)
            await board.call("GET /workshop/", "GET", "/workshop/")
            started = time.perf_counter()
            headers = {"Accept": "text/event-stream"}
            async with client.stream("GET", "/workshop/events", headers=headers) as response:
                stats.latencies["GET /workshop/events (open)"].append(
                    (time.perf_counter() - started) * 1000
                )
                if response.status_code != 200:
                    stats.error("GET /workshop/events (open)", str(response.status_code))
                    return
                lines = response.aiter_lines()
                while not stop.is_set():
                    reading = asyncio.ensure_future(anext(lines))
                    stopping = asyncio.ensure_future(stop.wait())
                    done, _ = await asyncio.wait({reading, stopping},
                                                 return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
                    if reading not in done:
                        reading.cancel()
                        break
                    stopping.cancel()
                    if reading.result().startswith("event:"):
                        stats.board_events += 1
        except Failed:
            return
        except (httpx.HTTPError, StopAsyncIteration) as exc:
            if not stop.is_set():
                stats.error("GET /workshop/events (open)", f"the stream ended: {exc!r}")


async def run_level(
    tablets: int, duration_s: float, think_s: float, fixture_for: Callable[[Server], Fixture]
) -> tuple[Stats, list[str], float]:
    stats = Stats()
    async with running_server() as server:
        fixture = fixture_for(server)
        stop = asyncio.Event()
        boards = [asyncio.create_task(workshop_board(server, stats, stop))
                  for _ in range(max(1, tablets // 10))]  # fmt: skip
        work: list[asyncio.Task[None]] = []
        started = time.perf_counter()
        for n in range(tablets):  # they arrive over the first seconds, not in one instant
            tablet = Tablet(n, server, stats, fixture)
            work.append(asyncio.create_task(tablet.work(stop, think_s)))
            await asyncio.sleep(min(2.0, duration_s / 4) / tablets)
        await asyncio.sleep(max(0.0, duration_s - (time.perf_counter() - started)))
        stop.set()
        # Requests in flight finish (and are counted), each within its timeout.
        await asyncio.wait_for(asyncio.gather(*work, *boards), REQUEST_TIMEOUT_S + 30)
        elapsed = time.perf_counter() - started
        return stats, server.log_problems(), elapsed


def fixture_for(photo: bytes) -> Callable[[Server], Fixture]:
    strokes, image = ink()

    def make(server: Server) -> Fixture:
        return Fixture(
            photo=photo,
            strokes=strokes,
            image=image,
            labour_id=int(server.query("SELECT id FROM labour_operation WHERE code = 'L-OIL'")),
            part_id=int(server.query("SELECT id FROM part WHERE number = 'P-OILF'")),
        )

    return make


# --- real database against rows in memory ----------------------------------------------------


@dataclass(frozen=True)
class Ratio:
    endpoint: str
    full_per_s: float  # real database, sign-in, session
    memory_per_s: float  # the same template from the same rows in memory
    ratio: float
    queries_full: float  # SQL statements per request, counted
    queries_memory: float


def _returning(value: Any) -> Callable[..., Awaitable[Any]]:
    async def answer(*_args: Any, **_kwargs: Any) -> Any:
        return value

    return answer


async def measure_ratios(settings: Any, seconds: float, rounds: int = 3) -> list[Ratio]:
    """Both through the whole app in this process (litestar's ASGI test client, so no
    socket in either), one request at a time, in interleaved rounds; medians. SQL
    statements are counted, to show the in-memory side runs none."""
    from litestar.testing import AsyncTestClient
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from app.main import create_app

    statements = [0]

    def count(*_args: Any) -> None:
        statements[0] += 1

    event.listen(Engine, "before_cursor_execute", count)
    try:
        async with AsyncTestClient(app=create_app(settings)) as client:
            return await _compare(client, settings, seconds, rounds, statements)
    finally:
        event.remove(Engine, "before_cursor_execute", count)


async def _compare(  # noqa: PLR0915 - one measurement, read from top to bottom
    client: Any, settings: Any, seconds: float, rounds: int, statements: list[int]
) -> list[Ratio]:
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from app.db import create_engine
    from app.models import Appointment, Step
    from app.routes import check_in as check_in_routes
    from app.services import dealership
    from app.services.check_in import changes as check_in_changes
    from app.services.check_in import steps as check_in_steps
    from app.services.check_in.view import step_context
    from app.services.lane_board import board as lane_board
    from app.services.staff import sessions as staff_sessions

    page = await client.get("/sign-in")
    form = {"username": ADVISOR, "password": PASSWORD, "_csrf_token": csrf(page.text)}
    signed = await client.post("/sign-in", data=form, follow_redirects=False)
    assert signed.status_code == 303, signed.text[:300]
    token = csrf((await client.get("/lane")).text)
    hx = {"HX-Request": "true", "x-csrftoken": token}
    engine = create_engine(settings.database_url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as db:
        appointment = await db.scalar(select(Appointment.id).order_by(Appointment.id))
    started = await client.post(
        f"/check-ins/from-appointment/{appointment}",
        data={"_csrf_token": token},
        follow_redirects=False,
    )
    assert started.status_code == 303, started.text[:300]
    check_in_id = int(started.headers["location"].split("/")[2])
    state = {"version": 1, "fuel": 0, "memory": 0}

    async def lane() -> None:
        answer = await client.get("/lane")
        assert answer.status_code == 200, answer.status_code

    async def save() -> None:
        state["fuel"] = (state["fuel"] + 1) % 9
        answer = await client.post(
            f"/check-ins/{check_in_id}/walkaround/save", headers=hx,
            data={"fuel_eighths": str(state["fuel"]), "version": str(state["version"])},
        )  # fmt: skip
        assert answer.status_code == 200, answer.text[:300]
        if not state["memory"]:  # in memory the version stays the one held
            state["version"] = int(answer.headers["X-Check-In-Version"])

    for send in (lane, save, lane, save):  # warm-up: templates compiled, caches filled
        for _ in range(20):
            await send()

    # The rows the requests read, loaded once through the same services, then held.
    key = client.cookies.get("wa_session")
    assert key, "no session cookie after sign-in"
    db = sessions()
    found = await staff_sessions.find(db, key, dt.datetime.now(dt.UTC))
    dealer = await dealership.current(db)
    board = await lane_board.load(db, settings.tz, dealer.greeting_minutes if dealer else 5)
    check_in = await check_in_steps.get(db, check_in_id)
    context = await step_context(db, check_in, Step.WALKAROUND, settings)
    await db.commit()  # nothing expires (expire_on_commit=False); the connection goes back
    in_memory = (
        (staff_sessions, "find", found),
        (dealership, "current", dealer),
        (lane_board, "load", board),
        (check_in_steps, "get", check_in),
        (check_in_steps, "enter_step", None),
        (check_in_changes, "apply_once", check_in.version),
        (check_in_routes, "step_context", context),
    )

    rates: dict[tuple[str, bool], list[float]] = defaultdict(list)
    queries: dict[tuple[str, bool], list[float]] = defaultdict(list)
    try:
        for _ in range(rounds):
            for name, send in (("GET /lane", lane), ("POST step save", save)):
                for memory in (False, True):
                    state["memory"] = memory
                    with contextlib.ExitStack() as stack:
                        if memory:
                            for module, attribute, value in in_memory:
                                stack.enter_context(
                                    mock.patch.object(module, attribute, _returning(value))
                                )
                        before, n, t0 = statements[0], 0, time.perf_counter()
                        while time.perf_counter() - t0 < seconds:
                            await send()
                            n += 1
                        rates[name, memory].append(n / (time.perf_counter() - t0))
                        queries[name, memory].append((statements[0] - before) / n)
    finally:
        await db.close()
        await engine.dispose()
    out = []
    for name in ("GET /lane", "POST step save"):
        full, ceiling = statistics.median(rates[name, False]), statistics.median(rates[name, True])
        out.append(Ratio(name, round(full, 1), round(ceiling, 1), round(full / ceiling, 3),
                         round(statistics.median(queries[name, False]), 1),
                         round(statistics.median(queries[name, True]), 1)))  # fmt: skip
    return out


# --- the command -----------------------------------------------------------------------------


def level_table(tablets: int, stats: Stats, elapsed: float, think_s: float) -> str:
    lines = [
        f"{tablets} tablets, {elapsed:.0f} s, think time 0-{2 * think_s:g} s, "
        f"{stats.cars} cars checked in and signed, {max(1, tablets // 10)} workshop boards "
        f"on the event stream ({stats.board_events} events read)",
        f"{'endpoint':<40} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p99 ms':>9}",
    ]
    for r in rows(stats):
        lines.append(f"{r.endpoint:<40} {r.requests:>8} {r.errors:>6} {r.p50_ms:>8.1f} "
                     f"{r.p99_ms:>9.1f}")  # fmt: skip
    return "\n".join(lines)


def ratio_table(ratios: list[Ratio]) -> str:
    lines = [
        "Real database, sign-in and session against the same template from the same rows "
        "in memory (one request at a time, in process):",
        f"{'endpoint':<16} {'full req/s':>10} {'memory req/s':>12} {'ratio':>6} "
        f"{'SQL/req full':>12} {'SQL/req memory':>14}",
    ]
    for r in ratios:
        lines.append(
            f"{r.endpoint:<16} {r.full_per_s:>10.1f} {r.memory_per_s:>12.1f} "
            f"{r.ratio:>6.0%} {r.queries_full:>12.1f} {r.queries_memory:>14.1f}"
        )
    return "\n".join(lines)


@dataclass
class Report:
    levels: list[dict[str, Any]] = field(default_factory=list)
    ratios: list[Ratio] = field(default_factory=list)
    text: list[str] = field(default_factory=list)


async def run(args: argparse.Namespace, settings: Any) -> Report:
    report = Report()
    photo = tablet_photo()
    report.text.append(f"photo: {len(photo) // 1024} KB JPEG, 2000 x 1500 px, "
                       f"{PHOTOS_PER_CAR} per car")  # fmt: skip
    print(report.text[-1], flush=True)
    for tablets in args.tablets:
        stats, problems, elapsed = await run_level(
            tablets, args.duration, args.think, fixture_for(photo)
        )
        text = level_table(tablets, stats, elapsed, args.think)
        if stats.samples:
            text += "\nfirst errors:\n  " + "\n  ".join(stats.samples)
        if problems:
            causes = collections.Counter(problems).most_common(6)
            text += "\nserver log errors:\n  " + "\n  ".join(f"{n} x {p}" for p, n in causes)
        print("\n" + text, flush=True)
        report.text.append(text)
        report.levels.append({
            "tablets": tablets, "seconds": round(elapsed, 1), "cars": stats.cars,
            "board_events": stats.board_events, "errors_seen": stats.samples,
            "server_log_errors": problems, "endpoints": [asdict(r) for r in rows(stats)],
        })  # fmt: skip
    if args.ratio_seconds > 0:
        report.ratios = await measure_ratios(settings, args.ratio_seconds, args.ratio_rounds)
        report.text.append(ratio_table(report.ratios))
        print("\n" + report.text[-1], flush=True)
    return report


def _counts(text: str) -> list[int]:
    return [int(n) for n in text.split(",") if n.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--tablets", type=_counts, default=[10, 50, 200],
                        help="tablet counts, one server each (default 10,50,200)")  # fmt: skip
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per count")
    parser.add_argument(
        "--think", type=float, default=1.0, help="mean pause between two cars, seconds"
    )
    parser.add_argument(
        "--ratio-seconds",
        type=float,
        default=3.0,
        help="seconds per timed phase of the in-memory comparison (0: skip it)",
    )
    parser.add_argument("--ratio-rounds", type=int, default=3)
    parser.add_argument("--no-save", action="store_true", help="write nothing to bench/results")
    args = parser.parse_args(argv)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    from bench.sse import scratch_settings

    # The in-memory comparison's database (the schema and the demo), before the loop runs.
    with scratch_settings() as settings:
        report = asyncio.run(run(args, settings))
    errors_at = {lv["tablets"]: lv["endpoints"][-1]["errors"] for lv in report.levels}
    if not args.no_save:
        RESULTS.mkdir(exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        record = {
            "when": stamp, "duration_s": args.duration, "think_s": args.think,
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
            "python": platform.python_version(), "levels": report.levels,
            "ratios": [asdict(r) for r in report.ratios],
        }  # fmt: skip
        (RESULTS / f"load-{stamp}.json").write_text(json.dumps(record, indent=2) + "\n")
        (RESULTS / f"load-{stamp}.txt").write_text("\n\n".join(report.text) + "\n")
        print(f"\nwritten to {RESULTS.relative_to(ROOT)}/load-{stamp}.{{json,txt}}")
    # The goal: no error at up to 50 tablets on one machine.
    return 1 if any(n for tablets, n in errors_at.items() if tablets <= 50) else 0

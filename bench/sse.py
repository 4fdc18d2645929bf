"""Live board fan-out: events per second delivered to 50 open boards against one.

The app is served by uvicorn in this process and event loop, over real HTTP on a free
loopback port, with a throw-away SQLite database. N signed-in streaming clients hold
`GET /workshop/events` open; the bench calls `board_events.broker.publish()` itself and
waits until every client has read that sequence number before it publishes the next
(lockstep: each stream's queue holds one event and coalesces, so only lockstep makes
every event count). The floor is the same run with one board.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import json
import logging
import os
import platform
import socket
import ssl
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from importlib.util import find_spec
from pathlib import Path

import httpx
import uvicorn
from bs4 import BeautifulSoup

from app.cli import load_demo, upgrade
from app.demo.data import DEMO_PASSWORD
from app.main import create_app
from app.services.board_events import broker
from app.settings import Settings

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
EVENTS_PATH = "/workshop/events"
USERNAME = "foreman"  # a demo user with the foreman role
WARM_UP_EVENTS = 20
WAIT_S = 20.0  # for connections, deliveries and hang-ups; a failure, never a measurement
SHUTDOWN_GRACE_S = 5  # as `python -m app serve`


@dataclass(frozen=True)
class Result:
    boards: int
    events: int
    events_per_s: float
    deliveries_per_s: float
    latency_median_ms: float
    latency_p95_ms: float
    ratio: float  # events/s against one board
    throughput_ratio: float  # deliveries/s against one board
    min_events_per_s: float
    max_events_per_s: float
    open_ms: float  # opening the N streams until all are subscribed (not in the rates)
    encoding: str  # of the event streams as the app sent them


@dataclass
class Boards:
    """N open streams, and the round every one of them must see before the next."""

    size: int
    connected: int = 0
    encoding: str = ""  # Content-Encoding of the streams (the app leaves them uncompressed)
    received: list[list[int]] = field(default_factory=list)
    expected: int = 0
    waiting: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def expect(self, sequence: int) -> None:
        self.expected, self.waiting = sequence, self.size
        self.done.clear()

    def delivered(self, board: int, sequence: int) -> None:
        self.received[board].append(sequence)
        if sequence == self.expected:
            self.waiting -= 1
            if self.waiting == 0:
                self.done.set()


@dataclass
class Run:
    events_per_s: float
    latencies_ms: list[float]
    open_ms: float
    encoding: str


async def _until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {WAIT_S:.0f}s for {what}")
        await asyncio.sleep(0.002)


async def read_board(client: httpx.AsyncClient, boards: Boards, board: int) -> None:
    """One tablet: hold the stream open and note every `board` event's sequence."""
    headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
    async with client.stream("GET", EVENTS_PATH, headers=headers) as response:
        if response.status_code != 200:
            raise RuntimeError(f"{EVENTS_PATH} answered {response.status_code}")
        boards.encoding = response.headers.get("content-encoding", "identity")
        kind = ""
        async for line in response.aiter_lines():
            if line.startswith(": connected"):
                boards.connected += 1
            elif line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("data:") and kind == "board":
                boards.delivered(board, int(line[5:].strip()))
            elif not line:
                kind = ""


@contextlib.asynccontextmanager
async def open_boards(base_url: str, cookies: httpx.Cookies, n: int) -> AsyncIterator[Boards]:
    """N tablets, each its own client and connection, all signed in as the foreman."""
    boards = Boards(n, received=[[] for _ in range(n)])
    tls = ssl.create_default_context()  # unused on http://, but each client would load its own
    clients = [
        httpx.AsyncClient(base_url=base_url, cookies=cookies, trust_env=False, verify=tls,
                          timeout=httpx.Timeout(WAIT_S, read=None))
        for _ in range(n)
    ]  # fmt: skip
    tasks = [asyncio.create_task(read_board(c, boards, i)) for i, c in enumerate(clients)]
    try:
        await _until(
            lambda: (
                (broker.listeners == n and boards.connected == n) or any(t.done() for t in tasks)
            ),
            f"{n} streams",
        )
        for task in tasks:
            if task.done():
                task.result()  # a stream that ended early: raise its error
                raise RuntimeError("an event stream ended before the bench did")
        yield boards
    finally:
        for task in tasks:  # the tablets hang up
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for client in clients:
            await client.aclose()
        # The server sees each disconnect, cancels the stream and unsubscribes it.
        await _until(lambda: broker.listeners == 0, "the server to close every stream")


async def lockstep(boards: Boards, events: int) -> tuple[float, list[float]]:
    """Publish `events` one at a time, each once every board has read the one before."""
    for received in boards.received:
        received.clear()
    first = broker.sequence + 1
    latencies: list[float] = []
    gc.collect()
    started = time.perf_counter()
    for _ in range(events):
        published = time.perf_counter()
        boards.expect(broker.sequence + 1)
        broker.publish()
        async with asyncio.timeout(WAIT_S):
            await boards.done.wait()
        latencies.append((time.perf_counter() - published) * 1000)
    elapsed = time.perf_counter() - started
    sent = list(range(first, first + events))
    for board, received in enumerate(boards.received):
        if received != sent:
            raise RuntimeError(
                f"board {board} read {len(received)} of {events} events, or out of order"
            )
    return events / elapsed, latencies


async def one_run(base_url: str, cookies: httpx.Cookies, n: int, events: int) -> Run:
    started = time.perf_counter()
    async with open_boards(base_url, cookies, n) as boards:
        open_ms = (time.perf_counter() - started) * 1000
        rate, latencies = await lockstep(boards, events)
    return Run(rate, latencies, open_ms, boards.encoding)


async def sign_in(base_url: str) -> httpx.Cookies:
    """Sign in once through the form, as a tablet would; every board reuses the cookie."""
    async with httpx.AsyncClient(base_url=base_url, trust_env=False) as client:
        page = BeautifulSoup((await client.get("/sign-in")).text, "html.parser")
        token = page.select_one("input[name=_csrf_token]")
        assert token is not None, "the sign-in page has no CSRF field"
        response = await client.post(
            "/sign-in",
            data={
                "username": USERNAME,
                "password": DEMO_PASSWORD,
                "_csrf_token": str(token["value"]),
            },
        )
        if response.status_code != 303:
            raise RuntimeError(f"sign-in answered {response.status_code}: {response.text[:200]}")
        return httpx.Cookies(client.cookies)


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[str]:
    """The real app under uvicorn, in this event loop; shut down gracefully on exit."""
    config = uvicorn.Config(
        create_app(settings),
        lifespan="on",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
    )
    server = uvicorn.Server(config)
    sock = _free_socket()
    port = sock.getsockname()[1]
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await _until(lambda: server.started or task.done(), "uvicorn to start")
        if not server.started:
            raise RuntimeError("uvicorn did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, SHUTDOWN_GRACE_S + WAIT_S)
        sock.close()


async def measure(settings: Settings, boards: int, events: int, runs: int) -> list[Result]:
    sizes = sorted({1, boards})
    by_size: dict[int, list[Run]] = {n: [] for n in sizes}
    async with serving(settings) as base_url:
        cookies = await sign_in(base_url)
        for n in sizes:  # warm-up
            await one_run(base_url, cookies, n, WARM_UP_EVENTS)
        for _ in range(runs):  # interleaved, so drift in CPU speed hits both alike
            for n in sizes:
                by_size[n].append(await one_run(base_url, cookies, n, events))
    if broker.listeners:
        raise RuntimeError(f"{broker.listeners} streams still subscribed after shutdown")

    floor = statistics.median(r.events_per_s for r in by_size[1])
    results = []
    for n in sizes:
        rates = [r.events_per_s for r in by_size[n]]
        latencies = [ms for r in by_size[n] for ms in r.latencies_ms]
        rate = statistics.median(rates)
        results.append(
            Result(
                boards=n,
                events=events,
                events_per_s=round(rate, 1),
                deliveries_per_s=round(rate * n, 1),
                latency_median_ms=round(statistics.median(latencies), 2),
                latency_p95_ms=round(statistics.quantiles(latencies, n=20)[18], 2),
                ratio=round(rate / floor, 3),
                throughput_ratio=round(rate * n / floor, 2),
                min_events_per_s=round(min(rates), 1),
                max_events_per_s=round(max(rates), 1),
                open_ms=round(statistics.median(r.open_ms for r in by_size[n]), 1),
                encoding=by_size[n][0].encoding,
            )
        )
    return results


def table(results: list[Result], runs: int) -> str:
    header = (
        f"{'boards':>6} {'events':>6} {'events/s':>9} {'deliveries/s':>12} {'fan-out':>8} "
        f"{'p95':>8} {'ratio':>7} {'thruput':>7} {'min ev/s':>9} {'max ev/s':>9} {'open':>8}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(
            f"{r.boards:>6} {r.events:>6} {r.events_per_s:>9.0f} {r.deliveries_per_s:>12.0f} "
            f"{r.latency_median_ms:>6.2f}ms {r.latency_p95_ms:>6.2f}ms {r.ratio:>6.3f}x "
            f"{r.throughput_ratio:>6.1f}x {r.min_events_per_s:>9.0f} {r.max_events_per_s:>9.0f} "
            f"{r.open_ms:>6.0f}ms"
        )
    lines += [
        "",
        f"Median of {runs} interleaved runs, each publishing in lockstep to {EVENTS_PATH} over "
        f"real HTTP (uvicorn and the clients in one event loop; streams {results[0].encoding}).",
        "fan-out = publish() until the last board has read the event (median and p95 of all "
        "events); ratio = events/s against 1 board; thruput = deliveries/s against 1 board; "
        "open = connecting every stream (not timed in the rates).",
    ]
    return "\n".join(lines)


def environment() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "litestar": version("litestar"),
        "uvicorn": version("uvicorn"),
        "h11": version("h11"),
        "httpx": version("httpx"),
        # As `python -m app serve` here: uvicorn picks uvloop and httptools only if installed.
        "uvloop": "installed" if find_spec("uvloop") else "no (asyncio)",
        "httptools": "installed" if find_spec("httptools") else "no (h11)",
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
    }


@contextlib.contextmanager
def scratch_settings() -> Iterator[Settings]:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        settings = Settings(env="test", data_dir=root, secret_key="s" * 48)
        # As `python -m app demo`: the schema, the dealership, the demo staff and today's
        # appointments. Both run their own event loop, so before ours.
        upgrade(settings)
        load_demo(settings)
        yield settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench sse", description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per board count")
    parser.add_argument("-k", "--events", type=int, default=200, help="events per run (>= 2)")
    parser.add_argument("--boards", type=int, default=50, help="open boards to compare with 1")
    args = parser.parse_args(argv)
    if args.events < 2 or args.boards < 1 or args.runs < 1:
        parser.error("use --runs >= 1, -k >= 2 and --boards >= 1")

    with scratch_settings() as settings:
        logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
        results = asyncio.run(measure(settings, args.boards, args.events, args.runs))
    report = table(results, args.runs)
    print(report)

    RESULTS.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    record = {
        "when": stamp,
        "runs": args.runs,
        "events": args.events,
        "environment": environment(),
        "results": [asdict(r) for r in results],
    }
    (RESULTS / f"sse-{stamp}.json").write_text(json.dumps(record, indent=2) + "\n")
    (RESULTS / f"sse-{stamp}.txt").write_text(report + "\n")
    print(f"\nwritten to {RESULTS.relative_to(HERE.parent)}/sse-{stamp}.{{json,txt}}")
    return 0

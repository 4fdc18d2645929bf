"""Latency at a year of data: `python -m bench year-bench`.

For each database (SQLite, and PostgreSQL when reachable) and each of two contents, the
**empty** database (the demo and today's two walk-ins of `bench.year` at scale 0) and
the **one-year** database (`bench.year` at `--scale`, 1.0 by default), it generates the
data (timed), starts a real server on each (`python -m app serve --demo`, bench.load's
`Server`), signs in as the demo advisor on both and sends each page `--requests` times
after `--warmup` requests, one request at a time, to the empty and the one-year server
in turn (so other work on the machine slows both alike): the lane board, the walk-in look-up by
plate, phone, name and VIN prefix, the work order and its estimate (today's walk-in on
the car with the most visits), the workshop board, the customer's check of a signed
order (`/v/{token}`, the demo's order ready for delivery), the dealer system's API
list of orders changed since midnight (`updated_since`, bearer token) and, signed in as
the demo manager, the board (看板) for today and for a day 30 days back in the year
(every figure counted from the records of that day). It prints p50
and p99 per page and the ratio p99(one year) / p99(empty); the goal is 1.5x or less.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.db import create_engine
from app.models import Signature, SignatureKind, Vehicle, WorkOrder, WorkOrderStatus
from app.services.api import clients as api_clients
from app.services.verify import customer as customer_verify
from app.settings import Settings
from bench import year, year_explain
from bench.load import ADVISOR, PASSWORD, RESULTS, Server, csrf, percentile

MANAGER = "manager"  # the demo's service manager: the board is theirs
BACKENDS = ("sqlite", "postgresql")
CONTENTS = ("empty", "year")
GOAL = 1.5


@dataclass(frozen=True)
class Targets:
    """What the pages are asked for, the same kind of thing in both databases."""

    plate: str
    phone: str
    name: str
    vin_prefix: str
    order_id: int
    token: str  # the customer's check of a signed order
    api_token: str
    since: str
    past_day: str  # a day in the generated year, for the board


@dataclass
class Run:
    backend: str
    content: str
    generated_s: float
    rows: dict[str, int]
    latencies: dict[str, list[float]] = field(default_factory=dict)
    plans: dict[str, str] = field(default_factory=dict)


def pages(t: Targets) -> list[tuple[str, str, dict[str, Any]]]:
    """(name, path, request options) of every page measured."""
    api = {"headers": {"Authorization": f"Bearer {t.api_token}"}}
    return [
        ("lane board", "/lane", {}),
        ("walk-in by plate", "/walk-in/", {"params": {"q": t.plate}}),
        ("walk-in by phone", "/walk-in/", {"params": {"q": t.phone}}),
        ("walk-in by name", "/walk-in/", {"params": {"q": t.name}}),
        ("walk-in by VIN prefix", "/walk-in/", {"params": {"q": t.vin_prefix}}),
        ("work order", f"/work-orders/{t.order_id}", {}),
        ("estimate", f"/work-orders/{t.order_id}/estimate", {}),
        ("workshop board", "/workshop/", {}),
        ("customer verify", f"/v/{t.token}", {}),
        ("API list updated_since", "/api/v1/work-orders", {"params": {"updated_since": t.since},
                                                           **api}),
        ("board today", "/board", {}),
        ("board, a day in the year", "/board", {"params": {"day": t.past_day}}),
    ]  # fmt: skip


# Asked for by the manager's client; every other page by the advisor's.
MANAGER_PAGES = frozenset({"board today", "board, a day in the year"})


# --- the databases ---------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def database(backend: str, keep: Path | None, label: str) -> AsyncIterator[str | None]:
    """A database URL for this run (dropped afterwards unless kept); None for SQLite,
    whose file is in the server's data directory."""
    if backend == "sqlite":
        yield None
        return
    from tests.conftest import _pg_exec, _pg_url

    name = f"wa_year_{label}" if keep else f"wa_year_{uuid.uuid4().hex[:10]}"
    if not keep:
        await _pg_exec(f'CREATE DATABASE "{name}"')
    else:
        with contextlib.suppress(asyncpg.DuplicateDatabaseError):
            await _pg_exec(f'CREATE DATABASE "{name}"')
    try:
        yield _pg_url(name)
    finally:
        if not keep:
            await _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def targets(settings: Settings) -> Targets:
    """The look-ups' car (today's walk-in on the car with the most visits), its order,
    the demo's order ready for delivery and a fresh API token."""
    engine = create_engine(settings.database_url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as db:
            order = await db.scalar(
                select(WorkOrder)
                .where(WorkOrder.status == WorkOrderStatus.ESTIMATE)
                .order_by(WorkOrder.id)
            )
            assert order is not None, "no walk-in of today at the estimate"
            car = await db.get(Vehicle, order.vehicle_id)
            assert car is not None
            signed = await db.scalar(
                select(Signature.id)
                .join(WorkOrder, WorkOrder.id == Signature.work_order_id)
                .where(WorkOrder.status == WorkOrderStatus.READY,
                       Signature.kind == SignatureKind.WORK_ORDER.value)
            )  # fmt: skip
            assert signed is not None, "the demo's order ready for delivery is missing"
            _client, api_token = await api_clients.create_client(db, "year-bench")
            await db.commit()
    finally:
        await engine.dispose()
    midnight = dt.datetime.combine(dt.datetime.now(settings.tz).date(), dt.time(), settings.tz)
    return Targets(
        plate=car.plate, phone=car.customer.phone, name=car.customer.name,
        vin_prefix=(car.vin or "")[:11], order_id=order.id,
        token=customer_verify.token(settings.secret_key, signed), api_token=api_token,
        since=midnight.isoformat(),
        past_day=(midnight.date() - dt.timedelta(days=30)).isoformat(),
    )  # fmt: skip


# --- the requests ----------------------------------------------------------------------------


async def sign_in(client: httpx.AsyncClient, username: str = ADVISOR) -> None:
    page = await client.get("/sign-in")
    form = {"username": username, "password": PASSWORD, "_csrf_token": csrf(page.text)}
    answer = await client.post("/sign-in", data=form)
    if answer.status_code != 303:
        raise RuntimeError(f"sign-in answered {answer.status_code}: {answer.text[:300]}")


@dataclass
class Side:
    """One of the two databases of a backend, its server and what its pages ask for."""

    run: Run
    server: Server
    settings: Settings
    targets: Targets
    client: httpx.AsyncClient | None = None
    manager: httpx.AsyncClient | None = None  # signed in as the demo manager (the board)


async def _get(client: httpx.AsyncClient, name: str, path: str, options: dict[str, Any]) -> float:
    started = time.perf_counter()
    answer = await client.get(path, **options)
    elapsed = (time.perf_counter() - started) * 1000
    if answer.status_code != 200:
        raise RuntimeError(f"{name}: {path} answered {answer.status_code}: {answer.text[:300]}")
    return elapsed


async def measure(
    sides: list[Side], requests: int, warmup: int, only: list[str] | None = None
) -> None:
    """Each page (or only those named) on both servers in turn, request by request (empty,
    one year, empty, ...): whatever else the machine does meanwhile slows both alike."""
    for side in sides:
        assert side.client is not None
        assert side.manager is not None
        await sign_in(side.client)
        await sign_in(side.manager, MANAGER)
    for n_page, (name, *_rest) in enumerate(pages(sides[0].targets)):
        if only and name not in only:
            continue
        times: list[list[float]] = [[] for _ in sides]
        for n in range(warmup + requests):
            for k, side in enumerate(sides):
                _name, path, options = pages(side.targets)[n_page]
                client = side.manager if name in MANAGER_PAGES else side.client
                assert client is not None
                elapsed = await _get(client, name, path, options)
                if n >= warmup:
                    times[k].append(elapsed)
        for side, measured in zip(sides, times, strict=True):
            side.run.latencies[name] = measured
        print(f"    {name:<24} " + "   ".join(
            f"{side.run.content}: p50 {percentile(t, 50):6.1f} p99 {percentile(t, 99):6.1f}"
            for side, t in zip(sides, times, strict=True)) + " ms", flush=True)  # fmt: skip


async def prepare(
    backend: str, content: str, scale: float, args: argparse.Namespace, scratch: Path,
    url: str | None,
) -> Side:  # fmt: skip
    """The database generated (or kept from an earlier run) and its server, not started."""
    data_dir = (args.keep or scratch) / f"{backend}-{content}"
    data_dir.mkdir(parents=True, exist_ok=True)
    server = Server(data_dir, database_url=url)
    if args.keep and (data_dir / "secret").exists():
        server.secret_key, server.timezone = (data_dir / "secret").read_text().split()
    settings = Settings(
        env="test", data_dir=data_dir, database_url=url or "", secret_key=server.secret_key,
        timezone=server.timezone,
    )  # fmt: skip
    marker = data_dir / "generated.json"
    if args.keep and marker.exists():
        done = json.loads(marker.read_text())
    else:
        print(f"  generating {content} on {backend} (scale {scale:g}) ...", flush=True)
        counts = await year.generate(settings, scale)
        done = {"seconds": round(counts.seconds, 1), "rows": dict(counts.rows)}
        marker.write_text(json.dumps(done))
        (data_dir / "secret").write_text(f"{server.secret_key} {server.timezone}")
        print(f"  generated in {counts.seconds:.1f} s", flush=True)
    run = Run(backend, content, done["seconds"], done["rows"])
    return Side(run, server, settings, await targets(settings))


async def one_backend(backend: str, args: argparse.Namespace, scratch: Path) -> list[Run]:
    async with (
        database(backend, args.keep, "empty") as empty_url,
        database(backend, args.keep, "year") as year_url,
    ):
        sides = [
            await prepare(backend, "empty", 0.0, args, scratch, empty_url),
            await prepare(backend, "year", args.scale, args, scratch, year_url),
        ]
        async with contextlib.AsyncExitStack() as stack:
            for side in sides:
                await side.server.start()
                stack.callback(side.server.stop)
                side.client = await stack.enter_async_context(httpx.AsyncClient(
                    base_url=side.server.url, trust_env=False, timeout=60))  # fmt: skip
                side.manager = await stack.enter_async_context(httpx.AsyncClient(
                    base_url=side.server.url, trust_env=False, timeout=60))  # fmt: skip
            print(f"  measuring {backend}, empty and one year in turn", flush=True)
            await measure(sides, args.requests, args.warmup, args.page)
        full = sides[1]
        if args.explain:
            t = full.targets
            queries = {"plate": t.plate, "phone": t.phone, "name": t.name,
                       "VIN prefix": t.vin_prefix}  # fmt: skip
            full.run.plans = await year_explain.plans(full.settings, queries, t.since)
            for what, plan in full.run.plans.items():
                print(f"  {backend}, {what}:\n    " + plan.replace("\n", "\n    "))
        for side in sides:
            problems = side.server.log_problems()
            if problems:
                print("  server log errors:\n    " + "\n    ".join(problems[:5]))
    return [side.run for side in sides]


# --- the report ------------------------------------------------------------------------------


def table(runs: list[Run]) -> str:
    """Per page and database: p50 and p99 empty and at one year, and the ratios (p99's
    against the goal; p50's too, steadier on a machine shared with other work)."""
    by = {(r.backend, r.content): r for r in runs}
    lines = []
    for b in BACKENDS:
        if (b, "year") not in by or (b, "empty") not in by:
            continue
        empty_run, year_run = by[b, "empty"], by[b, "year"]
        lines += [
            f"\n{b}: one year generated in {year_run.generated_s:.0f} s "
            f"({year_run.rows.get('work_order', 0)} orders, {year_run.rows.get('photo', 0)} "
            f"photos, {sum(year_run.rows.values())} rows); milliseconds:",
            "",
            "| page | empty p50 | p99 | one year p50 | p99 | p50 ratio | **p99 ratio** |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for name, full in year_run.latencies.items():
            empty = empty_run.latencies[name]
            p50 = percentile(full, 50) / percentile(empty, 50)
            p99 = percentile(full, 99) / percentile(empty, 99)
            mark = "" if p99 <= GOAL else " ✗"
            lines.append(
                f"| {name} | {percentile(empty, 50):.1f} | {percentile(empty, 99):.1f} | "
                f"{percentile(full, 50):.1f} | {percentile(full, 99):.1f} | {p50:.2f}× | "
                f"**{p99:.2f}×**{mark} |"
            )
    return "\n".join(lines).strip()


async def run(args: argparse.Namespace) -> list[Run]:
    runs = []
    with tempfile.TemporaryDirectory(prefix="walkaround-year-") as scratch:
        for backend in args.backends:
            if backend == "postgresql":
                from tests.conftest import pg_available

                reason = await asyncio.to_thread(pg_available)
                if reason:
                    print(f"PostgreSQL skipped: {reason}")
                    continue
            runs += await one_backend(backend, args, Path(scratch))
    return runs


def _names(text: str) -> list[str]:
    return [name for name in text.split(",") if name]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench year-bench", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--scale", type=float, default=1.0, help="the full database (1.0: a year)")
    parser.add_argument(
        "--backends", type=_names, default=list(BACKENDS), help="sqlite,postgresql (both)"
    )
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument(
        "--page", action="append", help='only this page (repeatable), e.g. --page "board today"'
    )
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the databases in this folder")
    parser.add_argument("--explain", action="store_true", help="also the look-ups' query plans")
    parser.add_argument("--no-save", action="store_true", help="write nothing to bench/results")
    parser.add_argument("--report", type=Path, help="only print the table of a saved run (.json)")
    args = parser.parse_args(argv)
    if args.report:
        saved = json.loads(args.report.read_text())["runs"]
        print(table([Run(**{k: v for k, v in r.items() if k in Run.__dataclass_fields__})
                     for r in saved]))  # fmt: skip
        return 0
    runs = asyncio.run(run(args))
    text = table(runs)
    print("\n" + text)
    if not args.no_save:
        RESULTS.mkdir(exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        record = {
            "when": stamp, "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
            "python": platform.python_version(), "requests": args.requests,
            "runs": [asdict(r) | {"latencies": {k: [round(v, 2) for v in vs]
                                                for k, vs in r.latencies.items()}} for r in runs],
        }  # fmt: skip
        (RESULTS / f"year-{stamp}.json").write_text(json.dumps(record) + "\n")
        (RESULTS / f"year-{stamp}.txt").write_text(text + "\n")
        print(f"\nwritten to bench/results/year-{stamp}.{{json,txt}}")
    return 0

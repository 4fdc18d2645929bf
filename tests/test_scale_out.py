"""Two app processes on one PostgreSQL behind a real nginx, started as the README's recipe
starts them (`python -m app scale-out`): any process serves any request, a change made
through one reaches a board connected to the other, a photo uploaded through one is served
by the other, and the webhook dispatchers of both send each event once."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import asyncpg
import httpx
import pytest

from app.operations.scale_out import ScaleOut, find_nginx
from app.settings import Settings
from bench import load
from tests.conftest import PG_SKIP, PG_URL, _pg_admin_dsn, _pg_exec, _pg_url, on_s3
from tests.test_webhooks import Receiver, fx_receiver  # noqa: F401 - the `receiver` fixture

INSTANCE = "x-walkaround-instance"


# make test: the photos in a bucket (nothing shared on disk, the harder case); make faults
# also runs the shared folder.
LONG = bool(os.environ.get("WALKAROUND_FAULTS_LONG"))


@pytest.fixture(name="group", params=["local", "s3"] if LONG else ["s3"])
async def fx_group(
    request: pytest.FixtureRequest, tmp_path: Path, receiver: Receiver, _pg_reason: str | None
) -> AsyncIterator[ScaleOut]:
    """Photos in the folder both processes share, or in a bucket (nothing shared on disk)."""
    if find_nginx() is None:
        pytest.skip("nginx is not installed (scripts/bootstrap.sh test installs it)")
    if _pg_reason:
        pytest.skip(PG_SKIP.format(url=PG_URL, error=_pg_reason))
    store: dict[str, str] = {}
    if request.param == "s3":
        bucket = on_s3(
            Settings(env="test", data_dir=tmp_path), request.getfixturevalue("s3_endpoint")
        )
        store = {
            "WALKAROUND_STORAGE": "s3", "WALKAROUND_S3_BUCKET": bucket.s3_bucket,
            "WALKAROUND_S3_ENDPOINT_URL": bucket.s3_endpoint_url, "WALKAROUND_S3_REGION":
            bucket.s3_region, "WALKAROUND_S3_PREFIX": "photos", "WALKAROUND_S3_ADDRESSING": "path",
        }  # fmt: skip
    database = f"walkaround_scale_{secrets.token_hex(4)}"
    await _pg_exec(f'CREATE DATABASE "{database}"')
    group = ScaleOut(
        _pg_url(database),
        tmp_path / "data",
        processes=2,
        env={
            "WALKAROUND_ENV": "test",
            # The same secret in every process: each checks what another one signed.
            "WALKAROUND_SECRET_KEY": secrets.token_urlsafe(36),
            "WALKAROUND_TIMEZONE": load._timezone_away_from_midnight(),
            "WALKAROUND_WEBHOOK_URL": receiver.url,
            "WALKAROUND_WEBHOOK_SECRET": "whsec-scale-out",
            **store,
        },
    )
    try:
        await asyncio.to_thread(group.prepare, True)
        await asyncio.to_thread(group.start)
        yield group
    finally:
        await asyncio.to_thread(group.stop)
        await _pg_exec(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


async def _fetch(database_url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    dsn = _pg_admin_dsn().rsplit("/", 1)[0] + "/" + database_url.rsplit("/", 1)[1]
    connection = await asyncpg.connect(dsn)
    try:
        return cast(list[asyncpg.Record], await connection.fetch(sql, *args))
    finally:
        await connection.close()


@dataclass
class Board:
    """A foreman's board on one event stream, through nginx: which process holds it and
    the board events it heard, with the time each arrived."""

    instance: str = ""
    heard: list[tuple[float, str]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None


async def _open_board(client: httpx.AsyncClient) -> Board:
    board, opened = Board(), asyncio.Event()

    async def listen() -> None:
        async with client.stream("GET", "/workshop/events") as response:
            assert response.status_code == 200
            board.instance = response.headers[INSTANCE]
            opened.set()
            event = ""
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event == "board":
                    board.heard.append((time.monotonic(), line.split(":", 1)[1].strip()))
                    event = ""

    board.task = asyncio.create_task(listen())
    await asyncio.wait_for(opened.wait(), 10)
    return board


async def _boards_on_both(client: httpx.AsyncClient) -> dict[str, Board]:
    """nginx spreads new requests over the processes: open streams until each holds one."""
    boards: dict[str, Board] = {}
    for _ in range(8):
        board = await _open_board(client)
        if board.instance in boards:
            assert board.task is not None
            board.task.cancel()
        else:
            boards[board.instance] = board
        if len(boards) == 2:
            return boards
    raise AssertionError(f"every stream went to {sorted(boards)}")


async def _until(check: Any, what: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds:.0f} s for {what}")
        await asyncio.sleep(0.1)


@dataclass
class Served:
    """(sent at, method, path, instance) of each request a tablet made."""

    requests: list[tuple[float, str, str, str]] = field(default_factory=list)
    _sent: dict[int, float] = field(default_factory=dict)

    def watch(self, client: httpx.AsyncClient) -> None:
        async def sending(request: httpx.Request) -> None:
            self._sent[id(request)] = time.monotonic()

        async def answered(response: httpx.Response) -> None:
            request = response.request
            instance = response.headers.get(INSTANCE, f"nginx {response.status_code}")
            sent = self._sent.pop(id(request))
            self.requests.append((sent, request.method, request.url.path, instance))

        client.event_hooks["request"].append(sending)
        client.event_hooks["response"].append(answered)


async def _advisor_tablet(group: ScaleOut, stats: load.Stats) -> load.Tablet:
    url = group.database_url
    [(labour,)] = await _fetch(url, "SELECT id FROM labour_operation WHERE code = 'L-OIL'")
    [(part,)] = await _fetch(url, "SELECT id FROM part WHERE number = 'P-OILF'")
    strokes, image = load.ink()
    photo = load.tablet_photo(size=(1000, 750))
    server = cast(load.Server, group)  # a tablet only needs its url: nginx's
    return load.Tablet(1, server, stats, load.Fixture(photo, strokes, image, labour, part))


async def _photos_served_by_both(group: ScaleOut, tablet: load.Tablet, served: Served) -> None:
    """Each photo, uploaded through one process, is served by the other as well."""
    uploads = [s for s in served.requests if s[1] == "POST" and s[2].endswith("/photos")]
    assert len(uploads) == load.PHOTOS_PER_CAR
    rows = await _fetch(group.database_url, "SELECT id FROM photo ORDER BY id")
    assert len(rows) >= load.PHOTOS_PER_CAR
    for (photo_id,) in rows[-load.PHOTOS_PER_CAR :]:
        answers = [await tablet.client.get(f"/photos/{photo_id}/display") for _ in range(4)]
        assert {a.status_code for a in answers} == {200}
        assert {a.headers[INSTANCE] for a in answers} == {"app-1", "app-2"}
        assert len({a.content for a in answers}) == 1
        assert answers[0].content[:3] == b"\xff\xd8\xff"  # a JPEG


async def _each_webhook_sent_once(group: ScaleOut, receiver: Receiver) -> None:
    """Both processes run a webhook dispatcher: every event is sent, and sent once."""
    count = "SELECT count(*) FROM webhook_event"
    deadline = time.monotonic() + 20
    while (await _fetch(group.database_url, count + " WHERE delivered_at IS NULL"))[0][0]:
        assert time.monotonic() < deadline, "webhook events still undelivered after 20 s"
        await asyncio.sleep(0.2)
    [(events,)] = await _fetch(group.database_url, count)
    deliveries = Counter(r.headers["x-walkaround-delivery"] for r in receiver.requests)
    assert events >= 1
    assert len(deliveries) == events
    assert max(deliveries.values()) == 1, deliveries


async def test_two_processes_behind_nginx_serve_one_lane(
    group: ScaleOut, receiver: Receiver
) -> None:
    stats, served = load.Stats(), Served()
    tablet = await _advisor_tablet(group, stats)
    served.watch(tablet.client)
    foreman = load.Tablet(-1, cast(load.Server, group), stats, None, stream=True)
    async with foreman.client:
        await foreman.sign_in(load.FOREMAN)
        boards = await _boards_on_both(foreman.client)
        try:
            # The lane's whole work for one car, every request to whichever process nginx
            # picks: the session, the check-in's versions and the CSRF token hold across them.
            await tablet.sign_in()
            await tablet.one_car()
            assert sum(stats.errors.values()) == 0, stats.samples
            assert {instance for *_, instance in served.requests} == {"app-1", "app-2"}

            # Signing opened the workshop's tasks: the board on the other process hears it.
            [(signed_at, _, _, signer)] = [s for s in served.requests if s[2].endswith("/sign")]
            other = boards["app-2" if signer == "app-1" else "app-1"]
            await _until(
                lambda: any(at >= signed_at for at, _ in other.heard),
                f"the board on the other process than {signer} to hear the signing",
            )
            # Both boards end on the same version: a page from one process and a stream
            # from the other agree whether anything was missed.
            await _until(
                lambda: (
                    all(b.heard for b in boards.values())
                    and len({b.heard[-1][1] for b in boards.values()}) == 1
                ),
                "both boards to hear the same last change",
            )
            await _photos_served_by_both(group, tablet, served)
            on_disk = list((group.data_dir / "photos").glob("*/*/*.jpg"))
            on_s3 = group.env.get("WALKAROUND_STORAGE") == "s3"
            assert (len(on_disk) == 0) if on_s3 else (len(on_disk) >= 2 * load.PHOTOS_PER_CAR)
        finally:
            await tablet.client.aclose()
            for board in boards.values():
                assert board.task is not None
                board.task.cancel()
    await _each_webhook_sent_once(group, receiver)

"""The server process is killed (SIGKILL, no goodbye) at random moments while tablets upload
photos, and restarted each time. Every photo the server acknowledged is in the database and on
disk, whole; no half-written file and no row without its file remains; the tablets' queues
drain after each restart; a signed record still verifies.

`make test` kills it 3 times on SQLite; `make faults` (WALKAROUND_FAULTS_LONG=1) 25 times on
both databases; WALKAROUND_FAULT_KILLS sets the number. The seed is printed, and
WALKAROUND_FAULT_SEED replays a run."""

from __future__ import annotations

import asyncio
import io
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.db import create_engine
from app.models import Appointment, Photo, Role, Signature
from app.services.audit import Actor
from app.services.check_in import steps as check_ins
from app.services.photos import store
from app.services.signing import signatures
from app.settings import Settings
from tests.conftest import PASSWORDS, TEST_SECRET, USERNAMES, csrf_from, html
from tests.estimate_helpers import signed_order

ROOT = Path(__file__).resolve().parents[1]
LONG = bool(os.environ.get("WALKAROUND_FAULTS_LONG"))
KILLS = int(os.environ.get("WALKAROUND_FAULT_KILLS", "25" if LONG else "3"))
TABLETS = 2
PHOTOS_PER_TABLET = 4 + KILLS // 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _jpeg(seed: int) -> bytes:
    rng = random.Random(seed)  # noqa: S311 - a replayable drawing, not security
    image = Image.new("RGB", (1600, 1200), (rng.randrange(256), rng.randrange(256), 90))
    for _ in range(40):  # some detail, so the pipeline has work to do
        x, y = rng.randrange(1500), rng.randrange(1100)
        image.paste((rng.randrange(256), 40, rng.randrange(256)), (x, y, x + 100, y + 100))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


class Server:
    def __init__(self, settings: Settings, log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.env = {
            **os.environ,
            "WALKAROUND_ENV": "test",
            "WALKAROUND_DATA_DIR": str(settings.data_dir),
            "WALKAROUND_DATABASE_URL": settings.database_url,
            "WALKAROUND_SECRET_KEY": TEST_SECRET,
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("WALKAROUND_PHOTO_DIR", None)
        self.proc: subprocess.Popen[bytes] | None = None

    def _spawn(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "app", "serve", "--port", str(self.port)],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    async def start(self) -> None:
        self._spawn()
        assert self.proc is not None
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(trust_env=False) as probe:
            while time.monotonic() < deadline:
                assert self.proc.poll() is None, self.log.read_text()[-3000:]
                try:
                    if (await probe.get(f"{self.url}/healthz", timeout=2)).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"server not healthy:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


async def _tablet(
    server: Server, check_in_id: int, photos: list[tuple[str, bytes]], acked: dict[str, int]
) -> int:
    """Sends its photos in order like the tablet's outbox: retry each until the server
    answers for that very photo. Returns how many attempts failed."""
    failures = 0
    async with httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=30) as tablet:
        while True:  # signed in, with the page's form token (a kill may cut any step)
            try:
                walk = await tablet.get(f"/check-ins/{check_in_id}/walkaround")
                if walk.status_code == 200:
                    token = csrf_from(html(walk))
                    break
                page = await tablet.get("/sign-in")
                if page.status_code == 200:
                    form = {
                        "username": USERNAMES[Role.ADVISOR],
                        "password": PASSWORDS[Role.ADVISOR],
                        "_csrf_token": csrf_from(html(page)),
                    }
                    await tablet.post("/sign-in", data=form)
            except (httpx.HTTPError, AssertionError):
                pass
            failures += 1
            await asyncio.sleep(0.3)
        for client_id, data in photos:
            while True:
                try:
                    answer = await tablet.post(
                        f"/check-ins/{check_in_id}/photos",
                        data={"client_id": client_id, "position": "extra"},
                        files={"file": (f"{client_id}.jpg", data, "image/jpeg")},
                        headers={"x-csrftoken": token, "Accept": "application/json"},
                    )
                    if answer.status_code in (200, 201) and (
                        answer.json().get("client_id") == client_id
                    ):
                        acked[client_id] = answer.status_code
                        break
                    assert answer.status_code >= 500, answer.text  # never refused as bad input
                except httpx.HTTPError:
                    pass
                failures += 1
                await asyncio.sleep(0.3)
    return failures


# SQLite in `make test` (a file the killed process was writing: the case to prove), both
# databases in `make faults`.
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"] if LONG else ["sqlite"], indirect=True)
async def test_photos_survive_the_server_being_killed(db, settings, users, tmp_path) -> None:
    seed = int(os.environ.get("WALKAROUND_FAULT_SEED") or time.time_ns() % 1_000_000)
    print(f"\nfault seed {seed} (WALKAROUND_FAULT_SEED={seed} replays it), kills {KILLS}")
    rng = random.Random(seed)  # noqa: S311 - a replayable drawing, not security
    _order_id, signature_id = await signed_order(db, settings, users)
    # The photos go to another car's check-in, still open (a signed one takes no more).
    second = (await db.scalars(select(Appointment.id).order_by(Appointment.id))).all()[1]
    check_in_id = (
        await check_ins.start_from_appointment(db, second, Actor(users[Role.ADVISOR]))
    ).id
    await db.commit()
    await db.close()

    server = Server(settings, tmp_path / "server.log")
    await server.start()
    acked: dict[str, int] = {}
    photos = [
        [
            (f"kill-{seed}-{t}-{n:03d}", _jpeg(seed * 1000 + t * 100 + n))
            for n in range(PHOTOS_PER_TABLET)
        ]
        for t in range(TABLETS)
    ]
    tablets = [asyncio.create_task(_tablet(server, check_in_id, p, acked)) for p in photos]
    try:
        for _kill in range(KILLS):
            await asyncio.sleep(rng.uniform(0.2, 1.5))
            server.kill()
            await asyncio.sleep(rng.uniform(0.0, 0.5))
            await server.start()
        failures = sum(await asyncio.wait_for(asyncio.gather(*tablets), timeout=300))
    finally:
        server.stop()
        for task in tablets:
            task.cancel()
    print(f"{len(acked)} photos acknowledged, {failures} attempts lost to the kills")
    assert len(acked) == TABLETS * PHOTOS_PER_TABLET

    engine = create_engine(settings.database_url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            rows = {p.client_id: p for p in (await session.scalars(select(Photo))).all()}
            signature = await session.get(Signature, signature_id)
            assert signature is not None
            assert (await signatures.verify(session, signature, settings.currency)).intact
    finally:
        await engine.dispose()
    # Every acknowledged photo has its row, once (client ids are unique), and its files whole.
    assert set(acked) <= set(rows)
    for photo in rows.values():
        for path in (store.display_path(settings.photos, photo.sha256),
                     store.thumb_path(settings.photos, photo.sha256)):  # fmt: skip
            with Image.open(path) as image:
                image.verify()
    leftovers = [p for p in settings.photos.rglob("*") if p.is_file() and p.name.endswith(".tmp")]
    assert leftovers == []
    files = {p.name.split("-")[0] for p in settings.photos.rglob("*.jpg")}
    # A file without a row can remain (killed between the write and the commit; the photo
    # is then sent again and finds it); a row without its file never.
    assert {p.sha256 for p in rows.values()} <= files

"""PostgreSQL unreachable mid-session (the network to it cut, as when it is stopped): every
request gets a clear 503 page or message in the user's language, never a 500 or a trace, and
the app recovers by itself when the database is back, without a restart."""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import threading
from dataclasses import replace

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import make_url

from app import db as db_module
from app.main import create_app
from app.models import Role
from tests.conftest import csrf_from, html, sign_in


class Link:
    """A TCP proxy to PostgreSQL that can be cut (open connections dropped, new ones refused).
    Threads, not this event loop: the test client runs the app on a loop of its own while
    this one waits for the answer."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.up = True
        self.open: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            if not self.up:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.open |= {client, upstream}
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        for end in (src, dst):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.up = False
        with self.lock:
            for end in self.open:
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()
            self.open.clear()

    def mend(self) -> None:
        self.up = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


# PostgreSQL only: SQLite is a file in the app's own folder, with no network to lose.
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_a_lost_database_gets_a_clear_503_and_the_app_recovers(settings, users) -> None:
    url = make_url(settings.database_url)
    link = Link(url.host or "127.0.0.1", url.port or 5432)
    proxied = url.set(host="127.0.0.1", port=link.port).render_as_string(hide_password=False)
    app = create_app(replace(settings, database_url=proxied))
    try:
        async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
            client.follow_redirects = False
            await sign_in(client, Role.ADVISOR)
            assert (await client.get("/lane")).status_code == 200

            link.cut()
            page = await client.get("/lane")
            assert page.status_code == 503, page.text[:300]
            assert "Traceback" not in page.text
            assert html(page).select_one("[data-testid=error-page] h1").get_text(strip=True)
            assert "数据库" in page.text
            fragment = await client.get("/lane", headers={"HX-Request": "true"})
            assert fragment.status_code == 503
            assert "数据库" in fragment.headers["HX-Trigger"].encode().decode("unicode_escape")
            api = await client.get("/healthz")
            assert api.status_code == 503
            assert api.json()["database"]["ok"] is False

            link.mend()
            assert (await client.get("/lane")).status_code == 200
            assert (await client.get("/healthz")).status_code == 200
    finally:
        link.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_write_lock_held_too_long_gets_a_clear_503_and_nothing_is_saved(
    settings, users, monkeypatch
) -> None:
    """SQLite's one write lock held past the busy timeout by another process (the CLI, a
    second server, or more tablets than the server gets through): the tablet is told the
    server is busy and to try again, not 'something went wrong'; nothing is half-saved."""
    monkeypatch.setattr(db_module, "SQLITE_BUSY_TIMEOUT_MS", 300)
    database = make_url(settings.database_url).database
    form = {"name": "周先生", "phone": "13800138000", "plate": "粤BA1234",
            "make": "Toyota", "model": "Camry"}  # fmt: skip
    async with AsyncTestClient(
        app=create_app(settings), base_url="http://testserver.local"
    ) as client:
        client.follow_redirects = False
        await sign_in(client, Role.ADVISOR)
        form["_csrf_token"] = csrf_from(html(await client.get("/walk-in/new")))
        other = sqlite3.connect(str(database), isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            refused = await client.post("/walk-in/new", data=form)
            assert refused.status_code == 503, refused.text[:300]
            assert refused.headers["Retry-After"] == "10"
            assert "服务器正忙" in refused.text
            assert other.execute("SELECT count(*) FROM customer").fetchone() == (0,)
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert (await client.post("/walk-in/new", data=form)).status_code == 303

"""Shared fixtures. Integration tests run on SQLite and, when reachable, PostgreSQL.

Each test starts on a database fresh from a template migrated once per run: a file copy
for SQLite, CREATE DATABASE ... TEMPLATE for PostgreSQL. The `settings` fixture's database
and data folder keep their names for the whole run of a worker and are made anew for each
test, so the app built on those settings is built once per worker (building one costs
half a second) and serves each test from scratch: its connections are closed after each.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("WALKAROUND_ENV", "test")

import asyncpg
import pytest
from bs4 import BeautifulSoup
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import wiring
from app.cli import upgrade
from app.db import create_engine
from app.i18n import set_locale
from app.main import create_app
from app.models import Role, StaffRole, StaffUser
from app.passwords import hash_password
from app.settings import Settings

PG_URL = os.environ.get("WALKAROUND_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_SKIP = (
    "PostgreSQL not reachable at {url} ({error}); the PostgreSQL run of this test is skipped. "
    "Set WALKAROUND_TEST_PG_URL to a server where user may CREATE DATABASE."
)
TEST_SECRET = "t" * 48
PASSWORDS = {role: f"pw-{role.value}" for role in Role}
USERNAMES = {
    Role.ADVISOR: "advisor",
    Role.TECHNICIAN: "technician",
    Role.FOREMAN: "foreman",
    Role.QC_INSPECTOR: "qc",
    Role.CUSTOMER_RELATIONS: "relations",
    Role.SERVICE_MANAGER: "manager",
    Role.ADMIN: "admin",
}


def _pg_admin_dsn() -> str:
    return make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_url(database: str) -> str:
    url = make_url(PG_URL).set(drivername="postgresql+asyncpg", database=database)
    return url.render_as_string(hide_password=False)


async def _pg_exec(*statements: str) -> None:
    conn = await asyncpg.connect(_pg_admin_dsn(), timeout=3)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def _pg_exec_in(database: str, statement: str) -> None:
    dsn = make_url(PG_URL).set(drivername="postgresql", database=database)
    conn = await asyncpg.connect(dsn.render_as_string(hide_password=False), timeout=3)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


# A worker's database keeps a copy of the migrated template's rows (the seeded checklist,
# the alembic version) in schema wa_seed, and wa_seed.reset() puts the tables back to
# them: every other connection ended, every table emptied, the rows copied back with
# foreign keys unchecked for the copy, sequences set past the copied ids.
_PG_KEEP_SEED = """
CREATE SCHEMA wa_seed;
DO $$
DECLARE t text;
BEGIN
  FOR t IN SELECT tablename FROM pg_tables
           WHERE schemaname = 'public' AND tablename <> 'alembic_version' LOOP
    EXECUTE format('CREATE TABLE wa_seed.%I AS SELECT * FROM public.%I', t, t);
  END LOOP;
END $$;
CREATE FUNCTION wa_seed.reset() RETURNS void LANGUAGE plpgsql AS $f$
DECLARE t text; tables text; seq text;
BEGIN
  PERFORM pg_terminate_backend(pid) FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid();
  SELECT string_agg(format('public.%I', tablename), ', ') INTO tables FROM pg_tables
    WHERE schemaname = 'public' AND tablename <> 'alembic_version';
  EXECUTE 'TRUNCATE ' || tables || ' RESTART IDENTITY CASCADE';
  SET LOCAL session_replication_role = replica;
  FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'wa_seed' LOOP
    EXECUTE format('INSERT INTO public.%I SELECT * FROM wa_seed.%I', t, t);
    IF EXISTS (SELECT 1 FROM information_schema.columns
               WHERE table_schema = 'public' AND table_name = t AND column_name = 'id') THEN
      seq := pg_get_serial_sequence(format('public.%I', t), 'id');
      IF seq IS NOT NULL THEN
        EXECUTE format('SELECT setval(%L, COALESCE((SELECT max(id) FROM public.%I), 0) + 1, false)',
                       seq, t);
      END IF;
    END IF;
  END LOOP;
END $f$;
"""


def pg_available() -> str | None:
    """None when PostgreSQL answers, else the reason."""
    try:
        asyncio.run(_pg_exec("SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


class Backend:
    """One database server kind: makes a migrated template, then clones per test."""

    def __init__(self, name: str, root: Path) -> None:
        self.name = name
        self.root = root
        self.template: str | None = None
        self.worker_database: str | None = None

    def fresh_worker_database_url(self) -> str:
        """The worker's own database, made anew from the template (same name each time)."""
        if self.name == "sqlite":
            path = self.root / "worker.db"
            for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                stale.unlink(missing_ok=True)  # a new file: an old connection keeps the old one
            shutil.copyfile(self._template(), path)
            return f"sqlite+aiosqlite:///{path}"
        if self.worker_database is None:
            self.worker_database = f"wa_worker_{uuid.uuid4().hex[:12]}"
            name = self.worker_database
            asyncio.run(
                _pg_exec(
                    f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                    f'CREATE DATABASE "{name}" TEMPLATE {self._template()} STRATEGY FILE_COPY',
                )
            )
            asyncio.run(_pg_exec_in(name, _PG_KEEP_SEED))
        else:
            # Emptied and refilled with the template's rows: a tenth of a second, where
            # dropping and copying the database took half a second for each test.
            asyncio.run(_pg_exec_in(self.worker_database, "SELECT wa_seed.reset()"))
        return _pg_url(self.worker_database)

    def fresh_data_dir(self) -> Path:
        """The worker's own data folder (photos, keys), emptied."""
        path = self.root / f"data-{self.name}"
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir()
        return path

    def new_database_url(self, migrated: bool = True) -> str:
        if self.name == "sqlite":
            path = self.root / f"{uuid.uuid4().hex}.db"
            if migrated:
                shutil.copyfile(self._template(), path)
            return f"sqlite+aiosqlite:///{path}"
        name = f"wa_test_{uuid.uuid4().hex[:12]}"
        # FILE_COPY: a small template copies faster as files than through the WAL.
        source = f" TEMPLATE {self._template()} STRATEGY FILE_COPY" if migrated else ""
        asyncio.run(_pg_exec(f'CREATE DATABASE "{name}"{source}'))
        return _pg_url(name)

    def drop(self, url: str) -> None:
        if self.name == "postgresql":
            name = url.rsplit("/", 1)[1]
            asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def _template(self) -> str:
        if self.template is None:
            if self.name == "sqlite":
                path = self.root / "template.db"
                upgrade(
                    Settings(
                        env="test",
                        data_dir=self.root,
                        secret_key=TEST_SECRET,
                        database_url=f"sqlite+aiosqlite:///{path}",
                    )
                )
                self.template = str(path)
            else:
                name = f"wa_tpl_{uuid.uuid4().hex[:12]}"
                asyncio.run(_pg_exec(f'CREATE DATABASE "{name}"'))
                upgrade(
                    Settings(
                        env="test",
                        data_dir=self.root,
                        secret_key=TEST_SECRET,
                        database_url=_pg_url(name),
                    )
                )
                self.template = name
        return self.template

    def close(self) -> None:
        if self.name == "postgresql":
            for name in (self.worker_database, self.template):
                if name:
                    asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def _backends(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Backend]]:
    root = tmp_path_factory.mktemp("db")
    backends = {"sqlite": Backend("sqlite", root), "postgresql": Backend("postgresql", root)}
    yield backends
    for backend in backends.values():
        backend.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Modules marked `http_layer` test routing, rendering and headers, which do not change with
    the database: they run on SQLite only, and the domain functions' own tests run on both."""
    dropped = [
        item
        for item in items
        if item.get_closest_marker("http_layer")
        and getattr(item, "callspec", None) is not None
        and item.callspec.params.get("backend") == "postgresql"  # type: ignore[attr-defined]
    ]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        gone = set(dropped)
        items[:] = [item for item in items if item not in gone]


@pytest.fixture(scope="session")
def _pg_reason() -> str | None:
    return pg_available()


@pytest.fixture(name="backend", params=["sqlite", "postgresql"])
def fx_backend(
    request: pytest.FixtureRequest, _backends: dict[str, Backend], _pg_reason: str | None
) -> Backend:
    if request.param == "postgresql" and _pg_reason:
        pytest.skip(PG_SKIP.format(url=PG_URL, error=_pg_reason))
    return _backends[request.param]


@pytest.fixture(name="database_url")
def fx_database_url(backend: Backend) -> str:
    return backend.fresh_worker_database_url()


@pytest.fixture(name="settings")
def fx_settings(database_url: str, backend: Backend) -> Settings:
    return Settings(
        env="test",
        data_dir=backend.fresh_data_dir(),
        database_url=database_url,
        secret_key=TEST_SECRET,
    )


@pytest.fixture(scope="session", name="s3_endpoint")
def fx_s3_endpoint() -> Iterator[str]:
    """An S3 API on 127.0.0.1 (moto's server, in a thread of this worker), for the tests that
    run on both stores. It signs nothing itself: any key pair is accepted."""
    from moto.server import ThreadedMotoServer

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "walkaround-test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "walkaround-test-secret")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def on_s3(settings: Settings, endpoint: str) -> Settings:
    """The same settings with photos in a new private bucket of their own."""
    import boto3

    bucket = f"walkaround-{uuid.uuid4().hex[:16]}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    return replace(
        settings,
        storage="s3",
        s3_bucket=bucket,
        s3_endpoint_url=endpoint,
        s3_region="us-east-1",
        s3_prefix="photos",
        s3_addressing="path",
    )


def settings_on_each_store(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """Override `settings` with this in a test module (params=STORES) to run it on both."""
    if request.param == "s3":
        return on_s3(settings, request.getfixturevalue("s3_endpoint"))
    return settings


STORES = ["local", "s3"]


@pytest.fixture(name="session_maker")
async def fx_session_maker(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    # Service-level tests run without the app: wire the hooks and listeners as create_app does.
    wiring.install()
    engine = create_engine(settings.database_url)
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


@pytest.fixture(name="db")
async def fx_db(session_maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session for arranging and checking data. Commit before calling the app:
    SQLite writers take the database lock for the whole transaction."""
    async with session_maker() as session:
        yield session


@pytest.fixture(scope="session")
def _password_hashes() -> dict[Role, str]:
    # argon2 is slow on purpose; hash each test password once per run.
    return {role: hash_password(password) for role, password in PASSWORDS.items()}


@pytest.fixture(name="users")
async def fx_users(
    session_maker: async_sessionmaker[AsyncSession], _password_hashes: dict[Role, str]
) -> dict[Role, int]:
    """One staff user per role (username as in USERNAMES, password in PASSWORDS)."""
    async with session_maker() as session:
        users = {
            role: StaffUser(
                username=username,
                display_name=username.title(),
                password_hash=_password_hashes[role],
                locale="zh_CN",
                role_rows=[StaffRole(role=role)],
            )
            for role, username in USERNAMES.items()
        }
        session.add_all(users.values())
        await session.commit()
    return {role: user.id for role, user in users.items()}


# Apps built in this worker, by their settings (the last few: settings made for one test,
# such as a bucket of its own, are not met again).
_APPS: OrderedDict[Settings, Litestar] = OrderedDict()


def _handler_count(app: Litestar) -> int:
    return sum(len(getattr(route, "route_handlers", ())) for route in app.routes)


@pytest.fixture(name="app")
async def fx_app(settings: Settings) -> AsyncIterator[Litestar]:
    app = _APPS.pop(settings, None) or create_app(settings)
    _APPS[settings] = app
    while len(_APPS) > 4:
        _APPS.popitem(last=False)
    handlers = _handler_count(app)
    yield app
    if _handler_count(app) != handlers:  # the test registered a route of its own
        _APPS.pop(settings, None)
    # The next test's database is a new one under the same name: no connection outlives
    # this test (nor its event loop).
    await app.state.db_config.get_engine().dispose()


@pytest.fixture(name="client")
async def fx_client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        client.follow_redirects = False
        yield client


def html(response: object) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")  # type: ignore[attr-defined]


def csrf_from(page: BeautifulSoup) -> str:
    field = page.select_one("input[name=_csrf_token]")
    assert field is not None, "page has no CSRF field"
    return str(field["value"])


async def sign_in(client: AsyncTestClient[Litestar], role: Role) -> None:
    page = html(await client.get("/sign-in"))
    response = await client.post(
        "/sign-in",
        data={
            "username": USERNAMES[role],
            "password": PASSWORDS[role],
            "_csrf_token": csrf_from(page),
        },
    )
    assert response.status_code == 303, response.text
    # Each role lands on its own first page: the relations clerk on the follow-up queue.
    landing = "/follow-ups" if role == Role.CUSTOMER_RELATIONS else "/lane"
    assert response.headers["location"] == landing


async def csrf_token(client: AsyncTestClient[Litestar], path: str = "/lane") -> str:
    return csrf_from(html(await client.get(path)))


@pytest.fixture(autouse=True)
def _default_locale() -> None:
    """Service-level tests speak zh_CN, the dealership default, whatever ran before."""
    set_locale("zh_CN")

"""`walkaround` command line: migrate, load demo data, create the first admin, serve, back up and
restore, apply retention.

One click command per operation, each a few lines around a service call: the file is long
because the commands are many, not because any one is."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click
from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import wiring
from app.db import create_engine
from app.demo import data as demo_data
from app.demo.data import DemoSummary
from app.models import Role, StaffUser
from app.models.base import utcnow
from app.operations import backup
from app.services.audit import Actor
from app.services.follow_ups import dormant
from app.services.storage.configured import open_store
from app.settings import ROOT, Settings, SettingsError, from_env

T = TypeVar("T")


def alembic_config(database_url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    # Percent signs in a URL (encoded passwords) must be escaped for configparser.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    command.upgrade(alembic_config(settings.database_url), revision)


async def _with_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    wiring.install()  # the demo signs and delivers orders: their after-effects must run
    engine = create_engine(settings.database_url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            result = await work(session)
            await session.commit()
            return result
    finally:
        await engine.dispose()


def load_demo(settings: Settings, *, history: bool = True) -> DemoSummary:
    """The demo, with its two months of history unless `history` is False."""
    return asyncio.run(
        _with_session(
            settings,
            lambda s: demo_data.load(
                s,
                settings.tz,
                currency=settings.currency,
                store=open_store(settings),
                history=history,
                settings=settings,
            ),
        )
    )


def _settings() -> Settings:
    try:
        return from_env()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def cli() -> None:
    """Walkaround service-lane app."""


@cli.command()
def migrate() -> None:
    """Upgrade the database to the newest schema."""
    upgrade(_settings())
    click.echo("database at head")


@cli.command()
def demo() -> None:
    """Load demo data (safe to run again)."""
    settings = _settings()
    upgrade(settings)
    summary = load_demo(settings)
    click.echo(
        f"demo data ready (new: {summary.created_static}, "
        f"appointments added today: {summary.appointments_added})"
    )


@cli.command("follow-ups-dormant")
def follow_ups_dormant() -> None:
    """Add a follow-up call for each customer not seen for the dealership's months (run daily)."""
    settings = _settings()
    added = asyncio.run(
        _with_session(
            settings, lambda s: dormant.create_dormant_tasks(s, utcnow(), Actor(None, "cli"))
        )
    )
    click.echo(f"follow-up calls added for customers not seen for months: {added}")


@cli.command("create-admin")
@click.option("--username", prompt=True)
@click.option("--name", "display_name", default="", help="Name shown in the app")
@click.option("--locale", type=click.Choice(["zh_CN", "en"]), default="zh_CN")
def create_admin(username: str, display_name: str, locale: str) -> None:
    """Create the first admin of a real install (asks for the password)."""
    from app.errors import DomainError
    from app.services.staff import sign_in as auth

    settings = _settings()
    upgrade(settings)
    password = getpass.getpass("Password: ") if sys.stdin.isatty() else sys.stdin.readline().strip()
    if len(password) < 12 and settings.is_production:
        raise click.ClickException("use at least 12 characters for an admin password")

    async def work(session: AsyncSession) -> StaffUser:
        return await auth.create_user(
            session, username, password, display_name, {Role.ADMIN}, locale=locale
        )

    try:
        asyncio.run(_with_session(settings, work))
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"admin {username!r} created")


@cli.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8000, type=int)
@click.option("--demo/--no-demo", "with_demo", default=False, help="Load demo data first")
@click.option(
    "--history/--no-history",
    default=True,
    help="With --demo: also the demo's two months of history (the benches leave it out)",
)
def serve(host: str, port: int, with_demo: bool, history: bool) -> None:
    """Upgrade the database, optionally load demo data, and serve."""
    import uvicorn

    from app.demo.data import DEMO_PASSWORD, DEMO_USERS

    settings = _settings()
    _check_store(settings)
    upgrade(settings)
    if with_demo:
        load_demo(settings, history=history)
        click.echo(f"Demo sign-ins (password for all: {DEMO_PASSWORD}):")
        for username, name, role, _locale in DEMO_USERS:
            click.echo(f"  {username:<11} {role.value:<19} {name}")
    click.echo(f"Walkaround on http://{host}:{port}  (database: {settings.database_url})")
    uvicorn.run(
        "app.main:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        proxy_headers=True,
        log_level="info",
        # Uvicorn's own lines go through the app's logging: JSON, with the request id.
        log_config=None,
        # Open workshop boards hold event streams: don't wait on them for ever at shutdown.
        timeout_graceful_shutdown=5,
    )


@cli.command("scale-out")
@click.option("--processes", default=2, type=int, help="App processes behind nginx")
@click.option("--host", default="127.0.0.1", help="Where nginx listens")
@click.option("--port", default=8080, type=int)
@click.option("--demo/--no-demo", "with_demo", default=False, help="Load demo data first")
def scale_out(processes: int, host: str, port: int, with_demo: bool) -> None:
    """Several app processes on PostgreSQL behind nginx, until Ctrl-C."""
    from app.operations.scale_out import ScaleOut, ScaleOutError

    settings = _settings()
    if processes < 1:
        raise click.ClickException("--processes must be at least 1")
    group = ScaleOut(settings.database_url, settings.data_dir, processes, port, host)
    try:
        group.prepare(demo=with_demo)
        group.start()
    except ScaleOutError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Walkaround on http://{host}:{port}: {processes} processes behind nginx "
               f"(logs in {settings.data_dir})")  # fmt: skip
    # Stopped by a service manager (SIGTERM) as by Ctrl-C: the processes and nginx go too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with contextlib.suppress(KeyboardInterrupt):
        group.wait()


@cli.group("api-client")
def api_client() -> None:
    """Tokens for systems reading the JSON API (the dealer management system)."""


@api_client.command("create")
@click.argument("name")
def api_client_create(name: str) -> None:
    """Create a client and print its token (shown only this once)."""
    from app.errors import DomainError
    from app.services.api import clients as api_clients

    settings = _settings()
    upgrade(settings)
    try:
        client, token = asyncio.run(
            _with_session(settings, lambda s: api_clients.create_client(s, name))
        )
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"API client {client.id} {client.name!r} created. Its token, shown only now:")
    click.echo(token)


@api_client.command("list")
def api_client_list() -> None:
    """List the clients, with when each last used its token."""
    from app.services.api import clients as api_clients

    clients = asyncio.run(_with_session(_settings(), api_clients.list_clients))
    if not clients:
        click.echo("no API clients")
    for client in clients:
        used = f"{client.last_used_at:%Y-%m-%d %H:%M}Z" if client.last_used_at else "never"
        state = f"revoked {client.revoked_at:%Y-%m-%d %H:%M}Z" if client.revoked_at else "active"
        click.echo(f"{client.id:>4}  {client.name:<30} {state:<24} last used: {used}")


@api_client.command("revoke")
@click.argument("client_id", type=int)
def api_client_revoke(client_id: int) -> None:
    """Refuse a client's token from now on."""
    from app.errors import DomainError
    from app.services.api import clients as api_clients

    try:
        client = asyncio.run(_with_session(_settings(), lambda s: api_clients.revoke(s, client_id)))
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"API client {client.id} {client.name!r} revoked")


@cli.group()
def webhooks() -> None:
    """The outbox of status-change webhooks for the dealer management system."""


@webhooks.command("deliver")
def webhooks_deliver() -> None:
    """Send the webhooks that are due, once (the server also does this by itself)."""
    import httpx

    from app.services.outbound import webhooks as outbox

    settings = _settings()
    if not settings.webhook_url:
        raise click.ClickException("WALKAROUND_WEBHOOK_URL is not set: nowhere to deliver to")

    async def run() -> int:
        engine = create_engine(settings.database_url)
        try:
            async with httpx.AsyncClient() as client:
                return await outbox.deliver_due(
                    async_sessionmaker(engine, expire_on_commit=False), settings, client
                )
        finally:
            await engine.dispose()

    delivered = asyncio.run(run())
    status = asyncio.run(_with_session(settings, outbox.outbox_status))
    click.echo(f"delivered {delivered}; still pending {status.pending}")


@webhooks.command("status")
def webhooks_status() -> None:
    """Count the webhooks waiting, failing and delivered."""
    from app.services.outbound import webhooks as outbox

    status = asyncio.run(_with_session(_settings(), outbox.outbox_status))
    oldest = f"{status.oldest_pending_at:%Y-%m-%d %H:%M:%S}Z" if status.oldest_pending_at else "-"
    click.echo(
        f"pending {status.pending} (failing {status.failing}), "
        f"delivered {status.delivered}, oldest pending {oldest}"
    )


@cli.group()
def complaints() -> None:
    """Complaints (投诉): the periodic work on them."""


@complaints.command("escalate")
def complaints_escalate() -> None:
    """Send each overdue complaint to the service manager, once (cron every few minutes)."""
    from app.models.base import utcnow
    from app.services.complaints import alerts

    settings = _settings()
    count = asyncio.run(
        _with_session(settings, lambda s: alerts.escalate_overdue(s, utcnow(), settings))
    )
    click.echo(f"escalated {count}")


@cli.group()
def appointments() -> None:
    """Appointments (预约): the periodic work on them."""


@appointments.command("remind")
@click.option("--at", "at", default="", help="ISO time to act as of (tests); now without it")
def appointments_remind(at: str) -> None:
    """Text (or e-mail) tomorrow's booked customers a reminder, once each, from the
    dealership's appointment_reminder_at on (cron every few minutes, or the app's loop)."""
    from datetime import UTC, datetime

    from app.models.base import utcnow
    from app.services.appointments import messages

    settings = _settings()
    try:
        now = datetime.fromisoformat(at).astimezone(UTC) if at else utcnow()
    except ValueError as exc:
        raise click.ClickException(f"--at {at!r} is not an ISO time") from exc
    count = asyncio.run(
        _with_session(settings, lambda s: messages.send_day_before(s, settings, now))
    )
    click.echo(f"reminded {count}")


@cli.group()
def board() -> None:
    """The daily board (看板): the periodic work on it."""


@board.command("summary")
@click.option("--day", default="", help="YYYY-MM-DD; today where the dealership is without it")
def board_summary(day: str) -> None:
    """E-mail the evening summary (当日总结) to each service manager, once a day
    (cron at the dealership's daily_summary_at, e.g. 18:30)."""
    from app.errors import DomainError, NotFound
    from app.models.base import utcnow
    from app.services import dealership
    from app.services.daily_summary import mail, summary

    settings = _settings()

    async def send(session: AsyncSession) -> mail.Sent:
        now = utcnow()
        shop = await dealership.current(session)
        if shop is None:
            raise NotFound("the dealership is not set up")
        return await mail.send(
            session, settings, shop, summary.parse_day(day, settings.tz, now), now
        )

    try:
        sent = asyncio.run(_with_session(settings, send))
    except mail.AlreadySent as exc:
        click.echo(f"already sent: {exc}")  # a second run the same day is not a failure
        return
    except DomainError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"sent to {len(sent.to)}, already had it {len(sent.before)}, failed {len(sent.failed)}"
    )


def _check_store(settings: Settings) -> None:
    """Start-up: the store must take a write, or we stop here saying what to change,
    rather than refuse the first photo of the morning."""
    from app.services.storage.configured import open_store
    from app.services.storage.files import StoreError

    try:
        open_store(settings).verify()
    except StoreError as exc:
        raise click.ClickException(f"WALKAROUND_STORAGE={settings.storage}: {exc}") from exc


def _archive_operation(
    operation: Callable[[Settings, Path], backup.Summary], archive: Path
) -> backup.Summary:
    """Backing up or restoring, its refusal said as the command's error."""
    try:
        return operation(_settings(), archive)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc


@cli.command("backup")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(archive: Path) -> None:
    """Back up the database and the data folder into one archive, while the app serves."""
    summary = _archive_operation(backup.backup, archive)
    click.echo(
        f"backed up the {summary.database} database and {summary.files} files "
        f"({summary.bytes} bytes) to {summary.archive}"
    )


@cli.command("restore")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
def restore_command(archive: Path) -> None:
    """Restore an archive into the configured database and data folder, which must be empty."""
    summary = _archive_operation(backup.restore, archive)
    click.echo(
        f"restored the {summary.database} database and {summary.files} files from "
        f"{summary.archive}; run `walkaround migrate` if this version is newer"
    )


@cli.command("retention")
@click.option("--apply", "do_it", is_flag=True, help="Delete; without it, only say what would go")
def retention_command(do_it: bool) -> None:
    """Delete the photos no record needs, past WALKAROUND_PHOTO_RETENTION_DAYS."""
    from app.models.base import utcnow
    from app.operations import retention
    from app.services.audit import Actor
    from app.services.storage.configured import open_store

    settings = _settings()

    async def work(session: AsyncSession) -> tuple[retention.Plan, int]:
        files = open_store(settings)
        found = await retention.plan(session, files, settings.photo_retention_days, utcnow())
        size = found.bytes
        if do_it:
            actor = Actor(None, device_id="walkaround retention")
            await retention.apply(session, files, found, actor)
        return found, size

    found, size = asyncio.run(_with_session(settings, work))
    verb = "deleted" if do_it else "would delete (run with --apply)"
    click.echo(
        f"{verb}: {len(found.rows)} photo rows, {len(found.files)} files ({size} bytes); "
        f"kept {found.kept_signed} past the {settings.photo_retention_days} days: "
        "a signed record names them"
    )


if __name__ == "__main__":
    cli()

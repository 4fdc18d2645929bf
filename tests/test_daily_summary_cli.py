"""`walkaround board summary`: the evening summary sent from a scheduler, once a day."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.cli import cli
from app.db import create_engine
from app.models import Dealership, OutboundMessage, Role, StaffRole, StaffUser

pytestmark = pytest.mark.http_layer  # the command's wiring; the summary's own tests run on both


async def _arrange(url: str) -> None:
    engine = create_engine(url)
    async with async_sessionmaker(engine)() as session:
        session.add(Dealership(code="D1", name="测试店", tax_rate=Decimal("0")))
        session.add(
            StaffUser(
                username="boss", display_name="Boss", password_hash="x", locale="en",
                email="boss@example.com", role_rows=[StaffRole(role=Role.SERVICE_MANAGER)],
            )
        )  # fmt: skip
        await session.commit()
    await engine.dispose()


async def _outbox(url: str) -> list[tuple[str, str]]:
    engine = create_engine(url)
    async with async_sessionmaker(engine)() as session:
        rows = await session.execute(select(OutboundMessage.recipient, OutboundMessage.subject))
        found = list(rows.tuples().all())
    await engine.dispose()
    return found


def test_the_command_sends_the_days_summary_once(settings, monkeypatch) -> None:
    monkeypatch.setenv("WALKAROUND_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("WALKAROUND_DATA_DIR", str(settings.data_dir))
    asyncio.run(_arrange(settings.database_url))
    runner = CliRunner()
    first = runner.invoke(cli, ["board", "summary", "--day", "2026-11-10"])
    assert first.exit_code == 0, first.output
    assert first.output.strip() == "sent to 1, already had it 0, failed 0"
    second = runner.invoke(cli, ["board", "summary", "--day", "2026-11-10"])
    assert second.exit_code == 0, second.output
    assert second.output.startswith("already sent:")
    assert asyncio.run(_outbox(settings.database_url)) == [
        ("boss@example.com", "Daily summary 2026-11-10")
    ]


def test_a_day_that_is_not_a_date_is_an_error(settings, monkeypatch) -> None:
    monkeypatch.setenv("WALKAROUND_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("WALKAROUND_DATA_DIR", str(settings.data_dir))
    asyncio.run(_arrange(settings.database_url))
    result = CliRunner().invoke(cli, ["board", "summary", "--day", "tomorrow"])
    assert result.exit_code == 1
    assert asyncio.run(_outbox(settings.database_url)) == []

from __future__ import annotations

import asyncio

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.cli import cli
from app.db import create_engine
from app.models import Role, StaffUser
from app.passwords import verify_password


@pytest.fixture(name="cli_env")
def fx_cli_env(settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("WALKAROUND_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("WALKAROUND_DATA_DIR", str(settings.data_dir))


def test_create_admin_makes_the_first_admin_of_a_real_install(cli_env, settings) -> None:
    result = CliRunner().invoke(
        cli, ["create-admin", "--username", "boss", "--name", "老板"], input="a-long-password\n"
    )
    assert result.exit_code == 0, result.output
    assert "admin 'boss' created" in result.output

    async def check() -> StaffUser:
        engine = create_engine(settings.database_url)
        async with async_sessionmaker(engine)() as session:
            user = (
                await session.scalars(select(StaffUser).where(StaffUser.username == "boss"))
            ).one()
        await engine.dispose()
        return user

    user = asyncio.run(check())
    assert user.roles == {Role.ADMIN}
    assert user.display_name == "老板"
    assert verify_password(user.password_hash, "a-long-password")


def test_create_admin_refuses_a_taken_username(cli_env) -> None:
    runner = CliRunner()
    assert (
        runner.invoke(cli, ["create-admin", "--username", "boss"], input="pw-12345\n").exit_code
        == 0
    )
    again = runner.invoke(cli, ["create-admin", "--username", "boss"], input="other-pw\n")
    assert again.exit_code != 0
    assert "已被使用" in again.output or "taken" in again.output


def test_the_demo_command_is_safe_to_run_twice(cli_env) -> None:
    runner = CliRunner()
    first = runner.invoke(cli, ["demo"])
    assert first.exit_code == 0, first.output
    assert "appointments added today: 12" in first.output
    second = runner.invoke(cli, ["demo"])
    assert "new: False, appointments added today: 0" in second.output

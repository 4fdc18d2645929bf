from __future__ import annotations

from pathlib import Path

import pytest

from app.services import vin
from app.settings import Settings, SettingsError, from_env


def test_development_needs_no_setup_and_keeps_its_generated_secret(tmp_path: Path) -> None:
    first = from_env({"WALKAROUND_DATA_DIR": str(tmp_path)})
    second = from_env({"WALKAROUND_DATA_DIR": str(tmp_path)})
    assert len(first.secret_key) >= 32
    assert first.secret_key == second.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert first.database_url == f"sqlite+aiosqlite:///{tmp_path / 'walkaround.db'}"
    assert first.photos == tmp_path / "photos"
    assert (first.region, first.default_locale, first.currency, first.timezone) == (
        "CN", "zh_CN", "CNY", "Asia/Shanghai",
    )  # fmt: skip


def test_production_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="WALKAROUND_SECRET_KEY"):
        from_env({"WALKAROUND_ENV": "production", "WALKAROUND_DATA_DIR": str(tmp_path)})
    assert not (tmp_path / "secret_key").exists()


def test_settings_come_from_the_environment(tmp_path: Path) -> None:
    settings = from_env({
        "WALKAROUND_ENV": "production", "WALKAROUND_SECRET_KEY": "s" * 40,
        "WALKAROUND_DATABASE_URL": "postgresql+asyncpg://u@db/walkaround",
        "WALKAROUND_PHOTO_DIR": str(tmp_path / "p"), "WALKAROUND_REGION": "de",
        "WALKAROUND_LOCALE": "en", "WALKAROUND_CURRENCY": "eur",
        "WALKAROUND_TIMEZONE": "Europe/Berlin", "WALKAROUND_HTTPS": "true",
    })  # fmt: skip
    assert settings.database_url == "postgresql+asyncpg://u@db/walkaround"
    assert settings.photos == tmp_path / "p"
    assert (settings.region, settings.currency, settings.https) == ("DE", "EUR", True)
    assert not vin.requires_check_digit(settings.region)
    assert vin.requires_check_digit(Settings(data_dir=tmp_path).region)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("WALKAROUND_HTTPS", "maybe", "not a boolean"),
        ("WALKAROUND_TIMEZONE", "Mars/Olympus", "unknown"),
        ("WALKAROUND_LOCALE", "fr", "supported"),
        ("WALKAROUND_CURRENCY", "RMB1", "ISO 4217"),
        ("WALKAROUND_ENV", "staging", "development, test or production"),
    ],
)
def test_a_malformed_setting_stops_start_up_with_a_clear_message(
    tmp_path: Path, name: str, value: str, message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        from_env({"WALKAROUND_DATA_DIR": str(tmp_path), name: value})

"""Settings read once from the environment and validated at start-up.

Every setting has a development default that needs no setup; production
(WALKAROUND_ENV=production) refuses to start without a real secret key.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError

ROOT = Path(__file__).resolve().parent.parent
SUPPORTED_LOCALES = ("zh_CN", "en")


_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_ENDPOINT = re.compile(r"https?://[^\s/]+/?")


class SettingsError(ValueError):
    """A setting in the environment is missing or malformed."""


def env_bool(name: str, default: bool, environ: dict[str, str]) -> bool:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name}={raw!r} is not a boolean (use true/false)")


def _int(name: str, default: int, environ: dict[str, str]) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise SettingsError(f"{name}={raw!r} is not a whole number")
    return int(raw)


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    data_dir: Path = field(default_factory=lambda: ROOT / "var")
    database_url: str = ""
    photo_dir: Path | None = None
    secret_key: str = ""
    region: str = "CN"
    default_locale: str = "zh_CN"
    currency: str = "CNY"
    timezone: str = "Asia/Shanghai"
    https: bool = False
    debug: bool = False
    login_max_failures: int = 5
    # Many usernames tried from one address (tablets behind one NAT share it).
    login_max_failures_per_address: int = 20
    login_lockout_minutes: int = 15
    # Where customers reach the app (approval links in e-mail and SMS).
    public_url: str = "http://127.0.0.1:8000"
    # Outgoing e-mail; an empty host keeps e-mail in the outbox unsent.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "walkaround@localhost"
    # Status changes for the dealer management system; empty URL sends nothing.
    webhook_url: str = ""
    webhook_secret: str = ""
    # Requests slower than this are logged with their time (open event streams aside).
    slow_request_ms: int = 1000
    # Photos no signed record names go this long after their order closed (app/operations).
    photo_retention_days: int = 180
    # How a change reaches the open boards: "process" (one app process) or "postgres"
    # (several processes on one PostgreSQL, through LISTEN/NOTIFY).
    board_events: str = "process"
    # This process's name in the X-Walkaround-Instance header (empty: no header), so
    # that behind a proxy one can tell which process answered.
    instance: str = ""
    # Where photos are kept (app/services/storage): the photo folder, or an S3-compatible
    # bucket; credentials come from boto3's own chain (AWS_ACCESS_KEY_ID, ...), never from here.
    storage: str = "local"
    s3_bucket: str = ""
    s3_endpoint_url: str = ""  # empty: AWS itself
    s3_region: str = ""
    s3_prefix: str = ""
    s3_addressing: str = "auto"  # MinIO wants "path"; OSS and COS want "virtual"
    # The app's own loop sending the day-before appointment reminders (also a CLI command
    # for cron); None: on, except under test, where a reminder must never appear unasked.
    appointment_reminders: bool | None = None

    def __post_init__(self) -> None:
        # Derived defaults live next to the data dir so a fresh checkout needs no setup.
        if not self.database_url:
            object.__setattr__(
                self, "database_url", f"sqlite+aiosqlite:///{self.data_dir / 'walkaround.db'}"
            )
        if self.photo_dir is None:
            object.__setattr__(self, "photo_dir", self.data_dir / "photos")
        if self.appointment_reminders is None:
            object.__setattr__(self, "appointment_reminders", self.env != "test")
        self.validate()

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def photos(self) -> Path:
        return self.photo_dir or self.data_dir / "photos"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def validate(self) -> None:
        if self.env not in {"development", "test", "production"}:
            raise SettingsError(f"WALKAROUND_ENV={self.env!r}: use development, test or production")
        if self.is_production and len(self.secret_key) < 32:
            raise SettingsError(
                "WALKAROUND_SECRET_KEY must be set to at least 32 random characters in production"
            )
        if self.default_locale not in SUPPORTED_LOCALES:
            raise SettingsError(
                f"WALKAROUND_LOCALE={self.default_locale!r}: supported are {SUPPORTED_LOCALES}"
            )
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SettingsError(f"WALKAROUND_TIMEZONE={self.timezone!r} is unknown") from exc
        if self.board_events not in {"process", "postgres"}:
            raise SettingsError(
                f"WALKAROUND_BOARD_EVENTS={self.board_events!r}: use process or postgres"
            )
        if self.board_events == "postgres" and not self.database_url.startswith("postgresql"):
            raise SettingsError(
                "WALKAROUND_BOARD_EVENTS=postgres needs WALKAROUND_DATABASE_URL on PostgreSQL"
            )
        if len(self.currency) != 3 or not self.currency.isalpha():
            raise SettingsError(f"WALKAROUND_CURRENCY={self.currency!r} is not an ISO 4217 code")
        if len(self.region) != 2 or not self.region.isalpha():
            raise SettingsError(f"WALKAROUND_REGION={self.region!r} is not an ISO 3166 code")
        self._validate_storage()
        try:
            Locale.parse(self.default_locale)
        except (UnknownLocaleError, ValueError) as exc:  # pragma: no cover - guarded above
            raise SettingsError(str(exc)) from exc

    def _validate_storage(self) -> None:
        if self.storage not in {"local", "s3"}:
            raise SettingsError(f"WALKAROUND_STORAGE={self.storage!r}: use local or s3")
        if self.storage != "s3":
            return
        if not _BUCKET.fullmatch(self.s3_bucket):
            raise SettingsError(
                f"WALKAROUND_S3_BUCKET={self.s3_bucket!r}: WALKAROUND_STORAGE=s3 needs the name "
                "of an existing private bucket (3-63 lowercase letters, digits, dots, hyphens)"
            )
        if self.s3_endpoint_url and not _ENDPOINT.fullmatch(self.s3_endpoint_url):
            raise SettingsError(
                f"WALKAROUND_S3_ENDPOINT_URL={self.s3_endpoint_url!r} is not an http(s):// URL "
                "(e.g. https://oss-cn-shanghai.aliyuncs.com)"
            )
        if self.s3_addressing not in {"auto", "path", "virtual"}:
            raise SettingsError(
                f"WALKAROUND_S3_ADDRESSING={self.s3_addressing!r}: use auto, path or virtual"
            )
        if ".." in self.s3_prefix.split("/") or self.s3_prefix.startswith("/"):
            raise SettingsError(f"WALKAROUND_S3_PREFIX={self.s3_prefix!r} must be a plain path")

    def with_secret(self) -> Settings:
        """Return settings with a secret: the configured one, or a kept development secret."""
        if self.secret_key:
            return self
        if self.is_production:  # pragma: no cover - validate() already refused
            raise SettingsError("WALKAROUND_SECRET_KEY is required in production")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key_file = self.data_dir / "secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(48))
            key_file.chmod(0o600)
        return replace(self, secret_key=key_file.read_text().strip())


def from_env(environ: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if environ is None else environ)
    data_dir = Path(env.get("WALKAROUND_DATA_DIR") or ROOT / "var")
    photo_dir = env.get("WALKAROUND_PHOTO_DIR")
    settings = Settings(
        env=env.get("WALKAROUND_ENV", "development"),
        data_dir=data_dir,
        database_url=env.get("WALKAROUND_DATABASE_URL", ""),
        photo_dir=Path(photo_dir) if photo_dir else None,
        secret_key=env.get("WALKAROUND_SECRET_KEY", ""),
        region=env.get("WALKAROUND_REGION", "CN").upper(),
        default_locale=env.get("WALKAROUND_LOCALE", "zh_CN"),
        currency=env.get("WALKAROUND_CURRENCY", "CNY").upper(),
        timezone=env.get("WALKAROUND_TIMEZONE", "Asia/Shanghai"),
        https=env_bool("WALKAROUND_HTTPS", False, env),
        debug=env_bool("WALKAROUND_DEBUG", False, env),
        public_url=env.get("WALKAROUND_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
        smtp_host=env.get("WALKAROUND_SMTP_HOST", ""),
        smtp_port=int(env.get("WALKAROUND_SMTP_PORT", "25")),
        smtp_user=env.get("WALKAROUND_SMTP_USER", ""),
        smtp_password=env.get("WALKAROUND_SMTP_PASSWORD", ""),
        smtp_starttls=env_bool("WALKAROUND_SMTP_STARTTLS", False, env),
        mail_from=env.get("WALKAROUND_MAIL_FROM", "walkaround@localhost"),
        webhook_url=env.get("WALKAROUND_WEBHOOK_URL", ""),
        webhook_secret=env.get("WALKAROUND_WEBHOOK_SECRET", ""),
        slow_request_ms=_int("WALKAROUND_SLOW_REQUEST_MS", 1000, env),
        photo_retention_days=_int("WALKAROUND_PHOTO_RETENTION_DAYS", 180, env),
        board_events=env.get("WALKAROUND_BOARD_EVENTS", "process").strip().lower(),
        instance=env.get("WALKAROUND_INSTANCE", "").strip(),
        storage=env.get("WALKAROUND_STORAGE", "local").strip().lower() or "local",
        s3_bucket=env.get("WALKAROUND_S3_BUCKET", "").strip(),
        s3_endpoint_url=env.get("WALKAROUND_S3_ENDPOINT_URL", "").strip(),
        s3_region=env.get("WALKAROUND_S3_REGION", "").strip(),
        s3_prefix=env.get("WALKAROUND_S3_PREFIX", "").strip().strip("/"),
        s3_addressing=env.get("WALKAROUND_S3_ADDRESSING", "auto").strip().lower() or "auto",
        appointment_reminders=env_bool("WALKAROUND_APPOINTMENT_REMINDERS", True, env)
        if env.get("WALKAROUND_APPOINTMENT_REMINDERS", "").strip()
        else None,
    )
    return settings.with_secret()

"""Translations and locale-aware formatting.

The current locale lives in a context variable set once per request by
`LocaleMiddleware`, so the one shared Jinja environment translates each
request in its own language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.core import negotiate_locale
from babel.dates import format_date, format_datetime, format_time, get_timezone_location
from babel.numbers import format_currency, format_decimal
from babel.support import NullTranslations, Translations

from app.settings import SUPPORTED_LOCALES

TRANSLATIONS_DIR = Path(__file__).parent / "translations"
# Each language named in itself, so a reader of either finds their own.
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}

_current_locale: ContextVar[str] = ContextVar("walkaround_locale", default="zh_CN")


@cache
def translations_for(locale: str) -> NullTranslations:
    return Translations.load(str(TRANSLATIONS_DIR), [locale], domain="messages")


def set_locale(locale: str) -> None:
    _current_locale.set(locale if locale in SUPPORTED_LOCALES else SUPPORTED_LOCALES[0])


@contextmanager
def locale_as(locale: str) -> Iterator[None]:
    """Run a block in another language (a customer's document), then restore."""
    token = _current_locale.set(locale)
    try:
        yield
    finally:
        _current_locale.reset(token)


def get_locale() -> str:
    return _current_locale.get()


def gettext(message: str, **variables: object) -> str:
    text = translations_for(get_locale()).gettext(message)
    return text % variables if variables else text


def ngettext_unformatted(singular: str, plural: str, n: int) -> str:
    """For templates: Jinja's newstyle ngettext fills in the template's own variables."""
    return translations_for(get_locale()).ngettext(singular, plural, n)


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    text = translations_for(get_locale()).ngettext(singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


_ = gettext


def normalise_locale(value: str | None) -> str | None:
    if not value:
        return None
    value = value.replace("-", "_")
    if value in SUPPORTED_LOCALES:
        return value
    if value.lower().startswith("zh"):
        return "zh_CN"
    if value.lower().startswith("en"):
        return "en"
    return None


def negotiate(accept_language: str | None) -> str | None:
    if not accept_language:
        return None
    preferred = [
        part.split(";")[0].strip().replace("-", "_") for part in accept_language.split(",")
    ]
    found = negotiate_locale(preferred, list(SUPPORTED_LOCALES), sep="_")
    if found:
        return found
    for candidate in preferred:
        if normalised := normalise_locale(candidate):
            return normalised
    return None


def html_lang(locale: str) -> str:
    return Locale.parse(locale).language + ("-CN" if locale == "zh_CN" else "")


class Formatter:
    """Dates, times and money in the current locale and the dealership's timezone."""

    def __init__(self, timezone: str, currency: str) -> None:
        self.tz = ZoneInfo(timezone)
        self.currency = currency

    def money(self, amount: Decimal | float | int) -> str:
        text = format_currency(amount, self.currency, locale=get_locale())
        # A Chinese dealership's yuan is ¥ in every language of its screens, not "CN¥".
        return text.replace("CN¥", "¥") if self.currency == "CNY" else text

    def zone_name(self) -> str:
        """The time zone as a reader says it: 北京时间 / China (Shanghai) Time, or an
        offset ("UTC+8") for a zone with no place, never its database key."""
        key = self.tz.key
        if key in ("Asia/Shanghai", "PRC") and get_locale() == "zh_CN":
            return "北京时间"
        if key.startswith("Etc/") or key in ("UTC", "GMT"):
            offset = dt.datetime.now(self.tz).utcoffset() or dt.timedelta(0)
            hours, rest = divmod(int(offset.total_seconds()) // 60, 60)
            return f"UTC{hours:+d}" + (f":{rest:02d}" if rest else "") if offset else "UTC"
        return get_timezone_location(self.tz, locale=get_locale())

    def number(self, value: Decimal | float | int) -> str:
        return format_decimal(value, locale=get_locale())

    def datetime(self, value: dt.datetime | None, fmt: str | None = None) -> str:
        """A date and a time of day to the minute (seconds only clutter a promise)."""
        if value is None:
            return ""
        if fmt is not None:
            return format_datetime(value, fmt, tzinfo=self.tz, locale=get_locale())
        return f"{self.date(value)} {self.time(value)}"

    def time(self, value: dt.datetime | None, fmt: str = "short") -> str:
        if value is None:
            return ""
        return format_time(value, fmt, tzinfo=self.tz, locale=get_locale())

    def date(self, value: dt.date | dt.datetime | None, fmt: str = "medium") -> str:
        if value is None:
            return ""
        if isinstance(value, dt.datetime):
            value = value.astimezone(self.tz).date()
        return format_date(value, fmt, locale=get_locale())

"""The Jinja environment every rendering shares (pages and documents alike): the
templates, gettext and the locale's formatting. The web layer adds what only pages
need (asset URLs, form refusals) in `app.web.templating`."""

from __future__ import annotations

import base64
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from app import i18n
from app.settings import Settings

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def build_environment(settings: Settings) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "xml", "js", "webmanifest"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext_unformatted, newstyle=True
    )
    fmt = i18n.Formatter(settings.timezone, settings.currency)
    env.globals.update(
        fmt=fmt,
        get_locale=i18n.get_locale,
        html_lang=i18n.html_lang,
        LANGUAGE_NAMES=i18n.LANGUAGE_NAMES,
        settings=settings,
    )
    env.filters.update(
        money=fmt.money,
        datetime=fmt.datetime,
        time=fmt.time,
        date=fmt.date,
        number=fmt.number,
        b64=lambda data: base64.b64encode(data).decode("ascii"),
    )
    return env

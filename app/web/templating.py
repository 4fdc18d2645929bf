"""The one Jinja environment: i18n, locale formatting and versioned assets."""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from app import i18n
from app.settings import Settings
from app.web.form import refused_for

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


@cache
def asset_version(static_dir: Path = STATIC_DIR) -> str:
    """A hash of every static file: changes whenever the shell changes, so the
    service worker's cache name and every asset URL change with it."""
    digest = hashlib.sha256()
    for path in sorted(p for p in static_dir.rglob("*") if p.is_file()):
        digest.update(path.relative_to(static_dir).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def shell_assets() -> list[str]:
    """The static files the service worker pre-caches (the app shell)."""
    wanted = ("css/", "js/", "icons/", "vendor/")
    return sorted(
        p.relative_to(STATIC_DIR).as_posix()
        for p in STATIC_DIR.rglob("*")
        if p.is_file()
        and p.relative_to(STATIC_DIR).as_posix().startswith(wanted)
        and not p.name.startswith(".")
        # The API docs' UI is for integrators at a desk, not the tablet's shell.
        and not p.relative_to(STATIC_DIR).as_posix().startswith("vendor/swagger-ui/")
    )


def build_environment(settings: Settings) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "xml", "js", "webmanifest"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    fmt = i18n.Formatter(settings.timezone, settings.currency)
    version = asset_version()
    env.globals.update(
        fmt=fmt,
        get_locale=i18n.get_locale,
        html_lang=i18n.html_lang,
        LANGUAGE_NAMES=i18n.LANGUAGE_NAMES,
        asset_version=version,
        asset=lambda path: f"/static/{path}?v={version}",
        settings=settings,
        refused_for=refused_for,
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


def template_config(settings: Settings) -> TemplateConfig[JinjaTemplateEngine]:
    env = build_environment(settings)
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(env))

"""The pages' Jinja environment: the shared one (`app.templating`) with versioned assets."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from jinja2 import Environment
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from app import templating
from app.settings import Settings
from app.web.form import refused_for

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
    """The shared environment plus what only pages use: asset URLs and form refusals."""
    env = templating.build_environment(settings)
    version = asset_version()
    env.globals.update(
        asset_version=version,
        asset=lambda path: f"/static/{path}?v={version}",
        refused_for=refused_for,
    )
    return env


def template_config(settings: Settings) -> TemplateConfig[JinjaTemplateEngine]:
    env = build_environment(settings)
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(env))

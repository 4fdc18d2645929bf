from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.models import Role
from app.web.templating import asset_version
from tests.conftest import html, sign_in

pytestmark = pytest.mark.http_layer

TEMPLATES = Path(__file__).resolve().parents[1] / "app" / "templates"
INLINE = (
    r"<script(?![^>]*\bsrc=)[^>]*>",  # inline script
    r"\son[a-z]+\s*=",  # event handler attribute
    r"\sstyle\s*=",
    r"<style",
    r"\{% block title %\}[^\n]*<script",  # a script inside <title> is never run
)


def _policy(response) -> dict[str, str]:
    header = response.headers["content-security-policy"]
    directives = (d.strip().split(" ", 1) for d in header.split(";"))
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives}


def assert_hardened(response) -> None:
    policy = _policy(response)
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


@pytest.mark.parametrize(
    "path",
    [
        "/sign-in",
        "/offline",
        "/sw.js",
        "/manifest.webmanifest",
        "/healthz",
        "/no/such/page",  # no route matched: the 404 page
        f"/static/css/app.css?v={asset_version()}",
        "/static/no-such-file.js",
    ],
)
async def test_every_response_carries_the_security_headers(client, path) -> None:
    response = await client.get(path)
    assert_hardened(response)
    # Pages allow styles only from the app's files too.
    assert _policy(response)["style-src"] == "'self'"


async def test_signed_in_pages_fragments_and_refusals_carry_them_too(client, users) -> None:
    await sign_in(client, Role.TECHNICIAN)
    for response in (
        await client.get("/lane"),
        await client.get("/lane", headers={"HX-Request": "true"}),
        await client.get("/admin/staff"),  # 403 page
        await client.post("/sign-out"),  # no CSRF token: refused
    ):
        assert_hardened(response)


async def test_the_api_docs_page_loads_nothing_from_other_sites_and_runs_no_inline_script(
    client, users
) -> None:
    await sign_in(client, Role.ADVISOR)
    response = await client.get("/api/docs")
    assert response.status_code == 200
    assert_hardened(response)
    # Swagger UI sets style attributes as it draws; scripts stay the app's own.
    assert _policy(response)["style-src"] == "'self' 'unsafe-inline'"
    page = html(response)
    urls = [tag.get("src") or tag.get("href") for tag in page.select("script, link")]
    assert urls, "the page loads its UI"
    assert all(url.startswith("/static/") for url in urls), urls
    assert all(script.get("src") and not script.string for script in page.select("script"))
    for url in urls:
        assert (await client.get(url)).status_code == 200, url
    spec = page.select_one("#swagger-ui")["data-spec-url"]
    assert (await client.get(spec)).json()["info"]["title"] == "Walkaround"


def test_no_template_has_inline_script_event_handlers_or_style_attributes() -> None:
    """The CSP refuses all three: the page would silently lose them in the browser.
    (The PDF template is rendered by WeasyPrint on the server, not by a browser.)"""
    found = []
    for path in TEMPLATES.rglob("*.html"):
        if path.parent.name == "pdf":
            continue
        text = path.read_text()
        for pattern in INLINE:
            found += [f"{path.relative_to(TEMPLATES)}: {m}" for m in re.findall(pattern, text)]
    assert found == []


def test_htmx_is_told_not_to_inject_styles_or_eval() -> None:
    base = (TEMPLATES / "base.html").read_text()
    config = re.search(r'<meta name="htmx-config" content=\'([^\']*)\'', base)
    assert config is not None
    assert '"includeIndicatorStyles": false' in config.group(1)
    assert '"allowEval": false' in config.group(1)
    # hx-trigger filters ([...]) need eval: none may remain.
    for path in TEMPLATES.rglob("*.html"):
        assert not re.search(r'hx-trigger="[^"]*\[', path.read_text()), path

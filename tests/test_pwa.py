from __future__ import annotations

import re

import pytest

from app.web.templating import asset_version

pytestmark = pytest.mark.http_layer


async def test_the_manifest_makes_the_app_installable(client) -> None:
    response = await client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = response.json()
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == "/lane"
    assert manifest["theme_color"] == "#0b3d91"
    icons = {(i["sizes"], i["purpose"]) for i in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("192x192", "maskable"),
            ("512x512", "maskable")} <= icons  # fmt: skip
    for icon in manifest["icons"]:
        assert (await client.get(icon["src"])).status_code == 200


async def test_the_service_worker_precaches_the_versioned_shell(client) -> None:
    response = await client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "no-cache"
    body = response.text
    version = asset_version()
    assert f'const VERSION = "{version}"' in body
    precache = re.search(r"const PRECACHE = (\[.*?\]);", body).group(1)
    for path in (
        "/offline",
        f"/static/css/app.css?v={version}",
        f"/static/js/app.js?v={version}",
        f"/static/vendor/htmx.min.js?v={version}",
    ):
        assert f'"{path}"' in precache
    for url in re.findall(r'"(/[^"]+)"', precache):
        assert (await client.get(url)).status_code == 200, url


async def test_the_offline_page_speaks_both_languages(client) -> None:
    response = await client.get("/offline")
    assert response.status_code == 200
    assert "网络已断开" in response.text
    assert "You are offline" in response.text


async def test_static_assets_are_served_with_cache_headers_for_versioned_urls(client) -> None:
    response = await client.get(f"/static/css/app.css?v={asset_version()}")
    assert response.status_code == 200
    assert "text/css" in response.headers["content-type"]
    cache = response.headers["cache-control"]
    assert "max-age=31536000" in cache
    assert "immutable" in cache

"""Installable PWA shell: manifest, service worker (served from / for full scope), offline page."""

from __future__ import annotations

from typing import Any

from litestar import Controller, MediaType, Request, Response, get
from litestar.response import Template

from app.i18n import _
from app.web.templating import asset_version, shell_assets

THEME_COLOUR = "#0b3d91"


class PwaController(Controller):
    tags = ["pwa"]  # noqa: RUF012

    @get("/manifest.webmanifest", opt={"public": True}, media_type="application/manifest+json")
    async def manifest(self) -> Response[dict[str, Any]]:
        version = asset_version()
        icon = "/static/icons/{name}?v=" + version
        body = {
            "name": _("Walkaround service check-in"),
            "short_name": "Walkaround",
            "description": _("Vehicle check-in at the car, on a tablet."),
            "id": "/",
            "start_url": "/lane",
            "scope": "/",
            "display": "standalone",
            "orientation": "any",
            "background_color": "#ffffff",
            "theme_color": THEME_COLOUR,
            "icons": [
                {
                    "src": icon.format(name="icon-192.png"),
                    "sizes": "192x192",
                    "type": "image/png",
                    "purpose": "any",
                },
                {
                    "src": icon.format(name="icon-512.png"),
                    "sizes": "512x512",
                    "type": "image/png",
                    "purpose": "any",
                },
                {
                    "src": icon.format(name="maskable-192.png"),
                    "sizes": "192x192",
                    "type": "image/png",
                    "purpose": "maskable",
                },
                {
                    "src": icon.format(name="maskable-512.png"),
                    "sizes": "512x512",
                    "type": "image/png",
                    "purpose": "maskable",
                },
            ],
        }
        return Response(
            body, media_type="application/manifest+json", headers={"Cache-Control": "no-cache"}
        )

    @get("/sw.js", opt={"public": True}, media_type="text/javascript")
    async def service_worker(self) -> Template:
        version = asset_version()
        assets = [f"/static/{path}?v={version}" for path in shell_assets()]
        return Template(
            template_name="pwa/sw.js",
            context={"version": version, "precache": ["/offline", *assets]},
            media_type="text/javascript",
            headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
        )

    @get("/offline", opt={"public": True}, media_type=MediaType.HTML)
    async def offline(self, request: Request[Any, Any, Any]) -> Template:
        return Template(template_name="pwa/offline.html")

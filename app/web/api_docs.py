"""The API docs page (/api/docs): Swagger UI served from the app's own static files.

Litestar's render plugins load their UI from public CDNs, which many dealership
networks cannot reach, and start it with an inline script, which the
Content-Security-Policy refuses. This page does neither.
"""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import Request
from litestar.openapi.plugins import OpenAPIRenderPlugin

from app.web.templating import asset_version


class LocalSwaggerPlugin(OpenAPIRenderPlugin):
    def __init__(self, path: str = "/swagger") -> None:
        super().__init__(path=path, favicon="", style="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        version = asset_version()

        def asset(path: str) -> str:
            return f"/static/{path}?v={version}"

        title = escape(str(openapi_schema["info"]["title"]))
        spec_url = escape(self.get_openapi_json_route(request))
        return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} API</title>
  <link rel="icon" href="{asset("icons/icon-192.png")}">
  <link rel="stylesheet" href="{asset("vendor/swagger-ui/swagger-ui.css")}">
  <link rel="stylesheet" href="{asset("css/api-docs.css")}">
  <script src="{asset("vendor/swagger-ui/swagger-ui-bundle.js")}" defer></script>
  <script src="{asset("js/api-docs.js")}" defer></script>
</head>
<body>
  <div id="swagger-ui" data-spec-url="{spec_url}"></div>
</body>
</html>
""".encode()

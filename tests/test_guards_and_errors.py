from __future__ import annotations

from litestar import Litestar, get
from litestar.handlers import HTTPRouteHandler
from sqlalchemy import select

from app.demo import data as demo_data
from app.models import Appointment, AppointmentStatus, Role
from app.routes.api import require_api_token
from tests.conftest import csrf_token, html, sign_in

# Routes that Litestar itself generates for the OpenAPI schema: signed-in staff only.
OPENAPI_PREFIX = "/api/docs"
# The dealer system's API: no staff session (so `public`), a bearer token instead.
API_PREFIX = "/api/v1"


def _guards(handler: HTTPRouteHandler) -> list[object]:
    return [g for layer in handler.ownership_layers for g in (layer.guards or [])]


def test_every_route_is_public_on_purpose_or_guarded_by_role(app: Litestar) -> None:
    unguarded = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if (
                not isinstance(handler, HTTPRouteHandler)
                or handler.http_methods == {"OPTIONS"}  # Litestar's automatic CORS preflight
                or route.path.startswith(OPENAPI_PREFIX)
            ):
                continue
            has_role_guard = any(hasattr(g, "allowed_roles") for g in _guards(handler))
            if not handler.opt.get("public") and not has_role_guard:
                unguarded.append(route.path)
    assert unguarded == []


def test_every_api_route_needs_a_bearer_token_and_nothing_else_takes_one(app: Litestar) -> None:
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler) or handler.http_methods == {"OPTIONS"}:
                continue
            token_guarded = require_api_token in _guards(handler)
            assert token_guarded == route.path.startswith(API_PREFIX), route.path


def test_public_routes_are_only_the_ones_a_signed_out_tablet_needs(app: Litestar) -> None:
    public = sorted(
        {
            route.path
            for route in app.routes
            for handler in getattr(route, "route_handlers", [])
            if handler.opt.get("public") and require_api_token not in _guards(handler)
        }
    )
    # /approve/{token}: the customer's approval link, its single-use token is the key;
    # /v/{token}: the customer's check of their signed copy and its PDF, its HMAC token
    # is the key; /health/{token}: the health check's single-use link and, once answered,
    # the customer's copy behind it.
    assert public == [
        "/", "/approve/{token:str}", "/health/{token:str}", "/health/{token:str}/copy",
        "/health/{token:str}/copy.pdf", "/healthz", "/language", "/manifest.webmanifest",
        "/offline", "/sign-in", "/static/{file_path:path}", "/sw.js", "/v/{token:str}",
        "/v/{token:str}/pdf",
    ]  # fmt: skip


async def test_a_technician_gets_the_403_page_for_the_staff_list(client, users) -> None:
    await sign_in(client, Role.TECHNICIAN)
    response = await client.get("/admin/staff")
    assert response.status_code == 403
    page = html(response)
    assert page.select_one("[data-testid=error-page] h1").get_text(strip=True) == "无权访问"
    assert "您的岗位无权访问此页面" in page.get_text()
    # The language switch is on the error page too.
    assert [b.get_text(strip=True) for b in page.select(".lang-switch button")] == [
        "中文",
        "English",
    ]


async def test_a_technician_cannot_mark_a_customer_arrived(client, users, db, settings) -> None:
    await demo_data.load(db, settings.tz)
    await db.commit()
    appointment = (await db.scalars(select(Appointment).limit(1))).one()
    await sign_in(client, Role.TECHNICIAN)
    token = await csrf_token(client)
    response = await client.post(
        f"/lane/appointments/{appointment.id}/arrived", data={"_csrf_token": token}
    )
    assert response.status_code == 403
    await db.refresh(appointment)
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.arrived_at is None


async def test_an_unknown_url_gets_a_friendly_404_in_the_users_language(client, users) -> None:
    response = await client.get("/no/such/page", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert response.status_code == 404
    page = html(response)
    assert page.select_one("[data-testid=error-page] h1").get_text(strip=True) == "Page not found"
    assert "This page does not exist." in page.select_one("[data-testid=error-page]").get_text()
    assert page.html["lang"] == "en"
    await sign_in(client, Role.ADVISOR)  # the advisor's language is zh_CN
    page = html(await client.get("/no/such/page"))
    assert page.select_one("[data-testid=error-page] h1").get_text(strip=True) == "页面不存在"


async def test_a_server_error_shows_a_friendly_page_without_a_stack_trace(
    app: Litestar, client, users, caplog
) -> None:
    @get("/boom", opt={"public": True})
    async def boom() -> None:
        raise RuntimeError("secret internals")

    app.register(boom)
    response = await client.get("/boom")
    assert response.status_code == 500
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
    assert (
        html(response).select_one("[data-testid=error-page] h1").get_text(strip=True) == "系统出错"
    )
    assert "secret internals" in caplog.text


async def test_an_htmx_request_that_fails_gets_a_toast_and_swaps_nothing(client, users) -> None:
    await sign_in(client, Role.TECHNICIAN)
    response = await client.get("/admin/staff", headers={"HX-Request": "true"})
    assert response.status_code == 403
    assert response.headers["HX-Reswap"] == "none"
    assert "您的岗位无权访问此页面" in response.headers["HX-Trigger"].encode().decode(
        "unicode_escape"
    )


async def test_an_htmx_request_after_the_session_ended_redirects_the_whole_page(client) -> None:
    response = await client.get("/lane", headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"] == "/sign-in?next=/lane"

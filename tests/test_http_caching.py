"""What browsers may keep: staff screens nothing (no-store), static files for good and
without anyone's cookie; and no response re-sends a session it did not change."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from sqlalchemy import select

from app.demo import data as demo_data
from app.models import Photo, Role
from app.web.templating import asset_version
from tests.checkin_helpers import fresh, started_check_in
from tests.conftest import sign_in
from tests.workshop_helpers import add_photo

pytestmark = pytest.mark.http_layer

# Handlers that choose their own caching; everything else is no-store.
OWN_CACHING = {
    "/static/{file_path:path}": "max-age=31536000",
    "/photos/{photo_id:int}/{size:str}": "private, no-cache",
    "/sw.js": "no-cache",
    "/manifest.webmanifest": "no-cache",
}
# An event stream never ends: requesting it here would hang (it sends no-cache itself).
STREAMS = {"/workshop/events"}
PARAM = re.compile(r"\{(\w+):(\w+)\}")
# Path values that lead to real pages; any other string parameter gets "x", ints 1.
SAMPLES = {"step": "greeting", "kind": "parts", "size": "thumb", "file_path": "css/app.css"}


def _get_routes(app: Litestar) -> list[str]:
    return sorted(
        route.path
        for route in app.routes
        if any(
            isinstance(h, HTTPRouteHandler) and "GET" in h.http_methods
            for h in getattr(route, "route_handlers", [])
        )
        and route.path not in STREAMS
    )


def _url(path: str) -> str:
    return PARAM.sub(lambda m: "1" if m.group(2) == "int" else SAMPLES.get(m.group(1), "x"), path)


async def test_every_get_route_is_no_store_unless_it_chooses_its_own(
    app, client, db, settings, users
) -> None:
    await demo_data.load(db, settings.tz)  # four cars on site: most ids lead to real pages
    await db.commit()
    check_in = await fresh(db, await started_check_in(db, settings, users))
    assert await add_photo(db, settings, users, check_in, "front") == 1
    await db.commit()
    await sign_in(client, Role.SERVICE_MANAGER)
    answered: dict[str, int] = {}
    for path in _get_routes(app):
        response = await client.get(_url(path))
        answered[path] = response.status_code
        ok = response.status_code < 300
        expected = OWN_CACHING.get(path, "no-store") if ok else "no-store"
        assert expected in response.headers.get("cache-control", ""), (path, response.headers)
    assert len(answered) > 40
    for page in ("/lane", "/workshop", "/work-orders/{order_id:int}", "/outbox", *OWN_CACHING):
        assert answered[page] == 200, page
    # Error pages and pages of no route at all too.
    for missing in ("/work-orders/999999", "/no-such-page"):
        response = await client.get(missing)
        assert response.status_code == 404
        assert response.headers["cache-control"] == "no-store"


async def test_the_customer_review_and_the_sign_in_page_are_no_store(client, users) -> None:
    response = await client.get("/sign-in")
    assert response.headers["cache-control"] == "no-store"
    assert (await client.get("/lane")).headers["cache-control"] == "no-store"  # the redirect


async def test_static_files_stay_cacheable_for_good_and_never_carry_a_cookie(client, users) -> None:
    url = f"/static/css/app.css?v={asset_version()}"
    fresh = await client.get(url)  # a browser with no cookie at all
    assert fresh.status_code == 200
    assert "immutable" in fresh.headers["cache-control"]
    assert "public" in fresh.headers["cache-control"]
    assert "set-cookie" not in fresh.headers
    await sign_in(client, Role.ADVISOR)
    signed_in = await client.get(url)
    assert "immutable" in signed_in.headers["cache-control"]
    assert "set-cookie" not in signed_in.headers


async def test_responses_that_do_not_change_the_session_set_no_cookie(
    client, db, settings, users
) -> None:
    check_in = await fresh(db, await started_check_in(db, settings, users))
    await add_photo(db, settings, users, check_in, "front")
    await db.commit()
    photo_id = await db.scalar(select(Photo.id))
    for path in ("/sw.js", "/manifest.webmanifest", "/healthz"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert "set-cookie" not in response.headers, path
    await sign_in(client, Role.ADVISOR)
    for path in (
        f"/static/js/app.js?v={asset_version()}",
        "/sw.js",
        "/manifest.webmanifest",
        f"/photos/{photo_id}/thumb",
        "/healthz",
        "/lane",
        "/offline",
    ):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert "set-cookie" not in response.headers, (path, response.headers["set-cookie"])

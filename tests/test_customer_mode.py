"""Customer mode holds on the server: for every copy of the tablet's cookie, for
photos, and against a customer guessing the advisor's password."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditEvent, CheckIn, LoginThrottle, Photo, Role, StaffSession
from app.models.base import utcnow
from tests.conftest import PASSWORDS, csrf_token, html, sign_in
from tests.estimate_helpers import priced_estimate
from tests.workshop_helpers import add_photo, check_in_of, checked_in_order

Client = AsyncTestClient[Litestar]
ADVISOR_PASSWORD = PASSWORDS[Role.ADVISOR]


def hx(token: str) -> dict[str, str]:
    return {"HX-Request": "true", "x-csrftoken": token}


async def _enter(client: Client, order_id: int) -> str:
    """Hand the tablet to the customer; the session's CSRF token."""
    token = await csrf_token(client, f"/work-orders/{order_id}/estimate")
    entered = await client.post(
        f"/work-orders/{order_id}/customer-mode", data={"_csrf_token": token}
    )
    assert entered.status_code == 303, entered.text
    assert entered.headers["location"] == f"/review/{order_id}"
    return token


def _swap(client: Client, jar: httpx.Cookies) -> httpx.Cookies:
    """Put another cookie jar in the tablet's browser; returns the one it had."""
    before = httpx.Cookies(client.cookies)
    client.cookies = httpx.Cookies(jar)
    return before


async def _exit(client: Client, token: str, password: str) -> httpx.Response:
    return await client.post("/customer-mode/exit", data={"password": password}, headers=hx(token))


async def _sessions(db: AsyncSession) -> list[StaffSession]:
    await db.rollback()
    return list((await db.scalars(select(StaffSession).order_by(StaffSession.id))).all())


async def test_a_copy_of_the_cookie_saved_before_customer_mode_is_locked_too(
    client, db, settings, users
) -> None:
    order_id = await priced_estimate(db, settings, users)
    await sign_in(client, Role.ADVISOR)
    earlier = httpx.Cookies(client.cookies)  # saved before the tablet is handed over
    token = await _enter(client, order_id)

    tablet = _swap(client, earlier)
    lane = await client.get("/lane")
    assert lane.status_code == 303
    assert lane.headers["location"] == f"/review/{order_id}"
    estimate = await client.get(f"/work-orders/{order_id}/estimate")
    assert estimate.headers["location"] == f"/review/{order_id}"
    refused = await client.post("/sign-out", data={"_csrf_token": token})
    assert refused.status_code == 403
    assert "客户模式" in html(refused).select_one("[data-testid=error-page]").get_text()
    [row] = await _sessions(db)
    assert row.customer_mode_order_id == order_id  # nothing changed

    _swap(client, tablet)
    assert (await _exit(client, token, ADVISOR_PASSWORD)).status_code == 201
    _swap(client, earlier)
    assert (await client.get("/lane")).status_code == 200


async def test_a_late_response_from_customer_mode_cannot_undo_the_exit(
    client, db, settings, users
) -> None:
    """A response that left before the advisor's password and arrives after it
    (a photo, the service worker, a static file) must not put the tablet back."""
    order_id = await priced_estimate(db, settings, users)
    await sign_in(client, Role.ADVISOR)
    token = await _enter(client, order_id)
    for path in (f"/review/{order_id}", "/sw.js", "/manifest.webmanifest", "/healthz"):
        assert (await client.get(path)).status_code == 200, path
    in_customer_mode = httpx.Cookies(client.cookies)
    assert (await _exit(client, token, "not-the-password")).status_code == 422
    right = await _exit(client, token, ADVISOR_PASSWORD)
    assert right.headers["hx-redirect"] == f"/work-orders/{order_id}"
    _swap(client, in_customer_mode)  # the late response's cookies win in the browser
    assert (await client.get("/lane")).status_code == 200


async def test_in_customer_mode_only_the_locked_orders_photos_are_served(
    client, db, settings, users
) -> None:
    order_id = await priced_estimate(db, settings, users)
    own = await add_photo(db, settings, users, await check_in_of(db, order_id), "front", seed=7)
    await db.commit()
    other_order = await checked_in_order(db, settings, users, appointment=1,
                                         photo_positions=("front",))  # fmt: skip
    other = await db.scalar(
        select(Photo.id).join(CheckIn).where(CheckIn.work_order_id == other_order)
    )
    await sign_in(client, Role.ADVISOR)
    seen = await client.get(f"/photos/{other}/thumb")  # the advisor took it this morning
    assert seen.status_code == 200
    token = await _enter(client, order_id)

    for size in ("thumb", "display"):
        assert (await client.get(f"/photos/{own}/{size}")).status_code == 200
        refused = await client.get(f"/photos/{other}/{size}")
        assert refused.status_code == 404
        assert refused.headers["content-type"].startswith("text/html")
    # Not from the browser's cache either: it must ask, and the answer is no.
    assert "no-cache" in seen.headers["cache-control"]
    asked_again = await client.get(
        f"/photos/{other}/thumb", headers={"If-None-Match": seen.headers["etag"]}
    )
    assert asked_again.status_code == 404

    assert (await _exit(client, token, ADVISOR_PASSWORD)).status_code == 201
    again = await client.get(
        f"/photos/{other}/thumb", headers={"If-None-Match": seen.headers["etag"]}
    )
    assert again.status_code == 304
    assert (await client.get(f"/photos/{other}/display")).status_code == 200


async def test_wrong_exit_passwords_lock_the_tablet_not_the_advisors_account(
    client, db, settings, users
) -> None:
    order_id = await priced_estimate(db, settings, users)
    await sign_in(client, Role.ADVISOR)
    token = await _enter(client, order_id)
    for _attempt in range(settings.login_max_failures - 1):
        wrong = await _exit(client, token, "guess")
        assert wrong.status_code == 422
        assert toast(wrong) == ("密码错误。", "password")
    locked = await _exit(client, token, "guess")
    assert locked.status_code == 429
    assert toast(locked) == ("这台平板上密码错误次数过多，请 15 分钟后再试。", "password")
    right_too_soon = await _exit(client, token, ADVISOR_PASSWORD)
    assert right_too_soon.status_code == 429
    assert (await client.get("/lane")).headers["location"] == f"/review/{order_id}"

    # The advisor's account is untouched: they sign in on another tablet at once.
    await db.rollback()
    throttles = (await db.scalars(select(LoginThrottle))).all()
    assert all(row.failures == 0 and row.locked_until is None for row in throttles)
    tablet = _swap(client, httpx.Cookies())  # another tablet: a browser of its own
    await sign_in(client, Role.ADVISOR)
    assert (await client.get("/lane")).status_code == 200
    _swap(client, tablet)

    # After the wait the tablet's exit answers the advisor's password again.
    await db.rollback()
    await db.execute(
        update(StaffSession)
        .where(StaffSession.customer_mode_order_id == order_id)
        .values(exit_locked_until=utcnow() - timedelta(seconds=1))
    )
    await db.commit()
    back = await _exit(client, token, ADVISOR_PASSWORD)
    assert back.status_code == 201
    assert (await client.get("/lane")).status_code == 200
    refused = await db.scalars(
        select(AuditEvent.action).where(AuditEvent.action == "customer_mode.exit_refused")
    )
    assert len(refused.all()) == settings.login_max_failures


async def test_a_session_keeps_its_own_exit_count(client, db, settings, users) -> None:
    """Another tablet's guesses do not lock this one, and a good exit clears the count."""
    order_id = await priced_estimate(db, settings, users)
    await sign_in(client, Role.ADVISOR)
    token = await _enter(client, order_id)
    assert (await _exit(client, token, "guess")).status_code == 422
    assert (await _exit(client, token, ADVISOR_PASSWORD)).status_code == 201
    [row] = await _sessions(db)
    assert (row.exit_failures, row.exit_locked_until, row.customer_mode_order_id) == (0, None, None)


def toast(response: httpx.Response) -> tuple[str, str | None]:
    detail = json.loads(response.headers["hx-trigger"])["wa:toast"]
    return detail["message"], detail["field"]

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.models import AuditEvent, LoginThrottle, Role, StaffSession, StaffUser
from app.services.audit import Actor
from app.services.staff import sign_in as auth_service
from tests.conftest import PASSWORDS, USERNAMES, csrf_from, csrf_token, html, sign_in


async def _post_sign_in(client: AsyncTestClient[Litestar], username: str, password: str):  # type: ignore[no-untyped-def]
    token = csrf_from(html(await client.get("/sign-in")))
    return await client.post(
        "/sign-in", data={"username": username, "password": password, "_csrf_token": token}
    )


async def test_a_signed_out_visitor_is_sent_to_the_sign_in_page(client, users) -> None:
    response = await client.get("/lane")
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=/lane"


async def test_an_advisor_signs_in_and_lands_on_the_lane_board(client, users, db) -> None:
    await sign_in(client, Role.ADVISOR)
    page = html(await client.get("/lane"))
    assert page.select_one("h1").get_text(strip=True) == "接车看板"
    assert page.select_one("[data-testid=signed-in-as]").get_text(strip=True) == "Advisor"
    events = (await db.scalars(select(AuditEvent.action))).all()
    assert "signed_in" in events


async def test_the_session_cookie_is_httponly_and_samesite(client, users) -> None:
    await sign_in(client, Role.ADVISOR)
    cookie_headers = list(client.cookies.jar)
    session = next(c for c in cookie_headers if c.name == "wa_session")
    assert session.has_nonstandard_attr("HttpOnly")
    assert session.get_nonstandard_attr("SameSite").lower() == "lax"


async def test_a_wrong_password_gets_a_clear_message_and_no_session(client, users) -> None:
    response = await _post_sign_in(client, "advisor", "not-the-password")
    assert response.status_code == 422
    page = html(response)
    assert (
        page.select_one("[data-testid=sign-in-error]").get_text(strip=True) == "用户名或密码错误。"
    )
    assert page.select_one("#username")["value"] == "advisor"
    assert (await client.get("/lane")).status_code == 303


async def test_an_unknown_username_gets_the_same_message_as_a_wrong_password(client, users) -> None:
    response = await _post_sign_in(client, "nobody", "whatever")
    assert response.status_code == 422
    assert html(response).select_one("[data-testid=sign-in-error]").get_text(strip=True) == (
        "用户名或密码错误。"
    )


async def test_five_wrong_passwords_lock_the_username_even_for_the_right_one(
    client, users, db: AsyncSession
) -> None:
    for _attempt in range(4):
        assert (await _post_sign_in(client, "qc", "wrong")).status_code == 422
    locked = await _post_sign_in(client, "qc", "wrong")
    assert locked.status_code == 429
    assert "分钟后再试" in html(locked).select_one("[data-testid=sign-in-error]").get_text()
    right = await _post_sign_in(client, "qc", PASSWORDS[Role.QC_INSPECTOR])
    assert right.status_code == 429
    assert (await client.get("/lane")).status_code == 303
    row = (
        await db.scalars(
            select(LoginThrottle).where(LoginThrottle.kind == "user", LoginThrottle.subject == "qc")
        )
    ).one()
    assert row.failures == 5
    assert row.locked_until is not None


async def test_a_good_sign_in_resets_the_failure_count(client, users, db: AsyncSession) -> None:
    await _post_sign_in(client, "qc", "wrong")
    assert (await _post_sign_in(client, "qc", PASSWORDS[Role.QC_INSPECTOR])).status_code == 303
    row = (
        await db.scalars(
            select(LoginThrottle).where(LoginThrottle.kind == "user", LoginThrottle.subject == "qc")
        )
    ).one()
    assert row.failures == 0


async def test_sign_out_ends_the_session_and_a_copied_cookie_stops_working(client, users) -> None:
    await sign_in(client, Role.ADVISOR)
    copied = client.cookies.get("wa_session")
    token = await csrf_token(client)
    response = await client.post("/sign-out", data={"_csrf_token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in"
    assert (await client.get("/lane")).status_code == 303
    client.cookies.set("wa_session", copied, domain="testserver.local")
    assert (await client.get("/lane")).status_code == 303


async def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    client, users, db: AsyncSession
) -> None:
    await sign_in(client, Role.ADVISOR)
    response = await client.post("/language", data={"locale": "en", "next": "/lane"})
    assert response.status_code == 403
    assert "表单已过期" in html(response).select_one("[data-testid=error-page]").get_text()
    locale = await db.scalar(select(StaffUser.locale).where(StaffUser.username == "advisor"))
    assert locale == "zh_CN"


async def test_a_post_with_a_forged_csrf_token_is_refused(client, users) -> None:
    await sign_in(client, Role.ADVISOR)
    response = await client.post("/language", data={"locale": "en", "_csrf_token": "0" * 128})
    assert response.status_code == 403


async def test_htmx_requests_pass_csrf_in_the_header(client, users, db: AsyncSession) -> None:
    await sign_in(client, Role.ADVISOR)
    page = html(await client.get("/lane"))
    header_token = page.body["hx-headers"].split('"')[3]
    response = await client.post(
        "/language",
        data={"locale": "en", "next": "/lane"},
        headers={"x-csrftoken": header_token, "HX-Request": "true"},
    )
    assert response.status_code == 303
    count = await db.scalar(
        select(func.count(AuditEvent.id)).where(AuditEvent.action == "language_changed")
    )
    assert count == 1


async def test_the_sign_in_page_redirects_only_to_local_paths(client, users) -> None:
    token = csrf_from(html(await client.get("/sign-in")))
    response = await client.post(
        "/sign-in",
        data={
            "username": USERNAMES[Role.ADVISOR],
            "password": PASSWORDS[Role.ADVISOR],
            "next": "//evil.example/steal",
            "_csrf_token": token,
        },
    )
    assert response.headers["location"] == "/lane"


async def test_usernames_sprayed_from_one_address_are_throttled(
    client, users, db: AsyncSession, settings
) -> None:
    """40 usernames, one wrong password each, from one address: each username saw
    one failure only, but the address is stopped, even for a right password."""
    answers = [
        (await _post_sign_in(client, f"guess{n:02d}", "Winter2026!")).status_code for n in range(40)
    ]
    limit = settings.login_max_failures_per_address
    assert answers[: limit - 1] == [422] * (limit - 1)
    assert set(answers[limit - 1 :]) == {429}
    refused = await _post_sign_in(client, "advisor", PASSWORDS[Role.ADVISOR])
    assert refused.status_code == 429
    assert "分钟后再试" in html(refused).select_one("[data-testid=sign-in-error]").get_text()
    assert (await client.get("/lane")).status_code == 303
    by_user = (await db.scalars(select(LoginThrottle).where(LoginThrottle.kind == "user"))).all()
    assert max(row.failures for row in by_user) == 1
    assert all(row.locked_until is None for row in by_user)
    # The advisor signs in from anywhere else.
    elsewhere = Actor(None, ip="10.1.2.3")
    user = await auth_service.sign_in(db, "advisor", PASSWORDS[Role.ADVISOR], elsewhere)
    assert user.username == "advisor"


async def test_a_good_sign_in_does_not_clear_the_addresss_count(db: AsyncSession, users) -> None:
    """Else a spray could be kept going by signing in with any one account in between."""
    here = Actor(None, ip="10.9.9.9")
    for n in range(3):
        with pytest.raises(InvalidInput):
            await auth_service.sign_in(db, f"nobody{n}", "x", here)
    await auth_service.sign_in(db, "qc", PASSWORDS[Role.QC_INSPECTOR], here)
    row = await db.scalar(
        select(LoginThrottle).where(
            LoginThrottle.kind == "address", LoginThrottle.subject == "10.9.9.9"
        )
    )
    assert row is not None
    assert row.failures == 3


async def test_a_form_token_from_before_sign_in_is_refused_after_it(
    client, users, db: AsyncSession
) -> None:
    before = csrf_from(html(await client.get("/sign-in")))
    response = await client.post(
        "/sign-in",
        data={"username": "advisor", "password": PASSWORDS[Role.ADVISOR], "_csrf_token": before},
    )
    assert response.status_code == 303
    stale = await client.post(
        "/language", data={"locale": "en", "next": "/lane", "_csrf_token": before}
    )
    assert stale.status_code == 403
    assert "表单已过期" in html(stale).select_one("[data-testid=error-page]").get_text()
    locale = await db.scalar(select(StaffUser.locale).where(StaffUser.username == "advisor"))
    assert locale == "zh_CN"
    fresh = await csrf_token(client)
    assert fresh != before
    done = await client.post(
        "/language", data={"locale": "en", "next": "/lane", "_csrf_token": fresh}
    )
    assert done.status_code == 303


async def test_a_token_from_another_session_is_refused(client, users, db: AsyncSession) -> None:
    await sign_in(client, Role.ADVISOR)
    first = httpx.Cookies(client.cookies)
    first_token = await csrf_token(client)
    client.cookies = httpx.Cookies()  # a second tablet, signed in as the same advisor
    await sign_in(client, Role.ADVISOR)
    for name in ("wa_csrf",):  # whatever else the first tablet's browser held
        if first.get(name):
            client.cookies.set(name, first[name], domain="testserver.local")
    refused = await client.post(
        "/language", data={"locale": "en", "next": "/lane", "_csrf_token": first_token}
    )
    assert refused.status_code == 403
    locale = await db.scalar(select(StaffUser.locale).where(StaffUser.username == "advisor"))
    assert locale == "zh_CN"


async def test_sign_out_ends_this_session_only(client, users, db: AsyncSession) -> None:
    await sign_in(client, Role.ADVISOR)
    other_tablet = httpx.Cookies(client.cookies)
    client.cookies = httpx.Cookies()
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client)
    assert (await client.post("/sign-out", data={"_csrf_token": token})).status_code == 303
    assert (await client.get("/lane")).status_code == 303
    client.cookies = other_tablet
    assert (await client.get("/lane")).status_code == 200
    assert await db.scalar(select(func.count(StaffSession.id))) == 1


async def test_signing_in_on_a_tablet_ends_the_session_it_held_before(client, users, db) -> None:
    """An older cookie of the same tablet is no way round a later customer mode."""
    await sign_in(client, Role.ADVISOR)
    older = client.cookies.get("wa_session")
    token = await csrf_token(client)
    response = await client.post(
        "/sign-in",
        data={"username": "manager", "password": PASSWORDS[Role.SERVICE_MANAGER],
              "_csrf_token": token},
    )  # fmt: skip
    assert response.status_code == 303
    client.cookies.set("wa_session", older, domain="testserver.local")
    assert (await client.get("/lane")).status_code == 303
    assert await db.scalar(select(func.count(StaffSession.id))) == 1


async def test_a_save_after_the_session_ended_asks_to_sign_in_not_to_reload(
    client, users, db: AsyncSession
) -> None:
    """The tablet's queued change meets an ended session: "sign in first" (and back),
    never "this form has expired", which a reload would only repeat."""
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client)
    assert (await client.post("/sign-out", data={"_csrf_token": token})).status_code == 303
    before = await db.scalar(select(func.count(AuditEvent.id)))
    response = await client.post(
        "/check-ins/1/walkaround/save",
        data={"fuel_eighths": "3", "version": "1"},
        headers={"HX-Request": "true", "x-csrftoken": token},
    )
    assert response.status_code == 200
    assert response.headers["hx-redirect"].startswith("/sign-in?next=")
    plain = await client.post("/check-ins/1/walkaround/save", data={"_csrf_token": token})
    assert plain.status_code == 303
    assert plain.headers["location"].startswith("/sign-in?next=")
    await db.rollback()
    assert await db.scalar(select(func.count(AuditEvent.id))) == before
    # A public form still needs its token when signed out.
    assert (await client.post("/language", data={"locale": "en"})).status_code == 403

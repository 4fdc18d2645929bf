from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditEvent, LoginThrottle, Role, StaffUser
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

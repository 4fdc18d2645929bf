from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import DomainError
from app.i18n import normalise_locale
from app.models import StaffUser
from app.models.base import utcnow
from app.services.staff import sessions as staff_sessions
from app.services.staff import sign_in as auth_service
from app.settings import Settings
from app.web import csrf
from app.web.auth import (
    ALL_STAFF,
    DEVICE_COOKIE,
    actor_for,
    current_session,
    device_cookie,
    ended_session_cookie,
    home_for,
    lang_cookie,
    roles,
    safe_next,
    session_cookie,
)
from app.web.render import render


@dataclass
class SignInForm:
    username: str = ""
    password: str = ""
    next: str = ""


@dataclass
class LanguageForm:
    locale: str = ""
    next: str = ""


class AuthController(Controller):
    tags = ["auth"]  # noqa: RUF012

    @get("/", opt={"public": True})
    async def root(self, request: Request[Any, Any, Any]) -> Redirect:
        user = request.scope.get("user")
        return Redirect(home_for(user) if user else "/sign-in", status_code=303)

    @get("/sign-in", opt={"public": True})
    async def sign_in_page(
        self,
        request: Request[Any, Any, Any],
        settings: NamedDependency[Settings],
        next: FromQuery[str] = "",
    ) -> Template | Redirect:
        if request.scope.get("user"):
            return Redirect(safe_next(next, home_for(request.scope["user"])), status_code=303)
        return render(
            request,
            "auth/sign_in.html",
            {"next": next, "username": ""},
            cookies=device_cookie(request, settings.https),
        )

    @post("/sign-in", opt={"public": True})
    async def sign_in(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        data: URLEncodedBody[SignInForm],
    ) -> Template | Redirect:
        try:
            user = await auth_service.sign_in(
                db_session,
                data.username,
                data.password,
                actor_for(request),
                max_failures=settings.login_max_failures,
                max_failures_per_address=settings.login_max_failures_per_address,
                lockout_minutes=settings.login_lockout_minutes,
            )
        except DomainError as exc:
            # The failure count must persist even though the answer is an error.
            await db_session.commit()
            return render(
                request,
                "auth/sign_in.html",
                {"next": data.next, "username": data.username, "error": exc.message},
                status_code=exc.status_code,
                cookies=device_cookie(request, settings.https),
            )
        _row, key = await staff_sessions.open_session(
            db_session, user, request.cookies.get(DEVICE_COOKIE, ""), utcnow()
        )
        return Redirect(
            safe_next(data.next, home_for(user)),
            status_code=303,
            cookies=[
                session_cookie(key, settings.https),
                csrf.forget_cookie(settings.https),
                lang_cookie(user.locale, settings.https),
            ],
        )

    @post("/sign-out", guards=[roles(*ALL_STAFF)])
    async def sign_out(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Redirect:
        row = current_session(request)
        if row is not None:
            await auth_service.sign_out(db_session, row, actor_for(request))
        return Redirect("/sign-in", status_code=303, cookies=[ended_session_cookie(settings.https)])

    @post("/language", opt={"public": True})
    async def switch_language(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        data: URLEncodedBody[LanguageForm],
    ) -> Redirect:
        locale = normalise_locale(data.locale) or settings.default_locale
        user: StaffUser | None = request.scope.get("user")
        if user is not None:
            await auth_service.set_locale(db_session, user, locale, actor_for(request))
        return Redirect(
            safe_next(data.next, "/"),
            status_code=303,
            cookies=[lang_cookie(locale, settings.https)],
        )

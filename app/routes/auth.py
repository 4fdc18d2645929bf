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
from app.services import auth as auth_service
from app.settings import Settings
from app.web.auth import ALL_STAFF, actor_for, device_cookie, lang_cookie, roles, safe_next
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
        return Redirect("/lane" if request.scope.get("user") else "/sign-in", status_code=303)

    @get("/sign-in", opt={"public": True})
    async def sign_in_page(
        self,
        request: Request[Any, Any, Any],
        settings: NamedDependency[Settings],
        next: FromQuery[str] = "",
    ) -> Template | Redirect:
        if request.scope.get("user"):
            return Redirect(safe_next(next), status_code=303)
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
        request.set_session({"uid": user.id, "sv": user.session_version})
        return Redirect(
            safe_next(data.next),
            status_code=303,
            cookies=[lang_cookie(user.locale, settings.https)],
        )

    @post("/sign-out", guards=[roles(*ALL_STAFF)])
    async def sign_out(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]
    ) -> Redirect:
        user: StaffUser = request.scope["user"]
        await auth_service.sign_out(db_session, user, actor_for(request))
        request.clear_session()
        return Redirect("/sign-in", status_code=303)

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

"""The customer's copy: the signed work order as a PDF, by download or e-mail; the outbox."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from app.i18n import SUPPORTED_LOCALES, _, locale_as, set_locale
from app.models import Role, Signature, WorkOrder
from app.services.documents import work_order_pdf
from app.services.outbound import mailer
from app.services.records import get_or_404
from app.services.signing import signatures
from app.services.storage.files import FileStore
from app.services.verify import customer as customer_verify
from app.services.verify import view as verify_view
from app.settings import Settings
from app.web.auth import roles
from app.web.render import is_fragment, render, toast_headers

# Everyone who may need to hand a customer their copy or reprint it.
PDF_ROLES = (Role.ADVISOR, Role.SERVICE_MANAGER, Role.FOREMAN, Role.QC_INSPECTOR,
             Role.CUSTOMER_RELATIONS)  # fmt: skip


@dataclass
class EmailForm:
    email: str = ""


async def _signed(session: AsyncSession, order_id: int) -> tuple[WorkOrder, Signature]:
    unsigned = _("This work order has not been signed yet, so there is no copy to give.")
    order = await get_or_404(session, WorkOrder, order_id, unsigned)
    signature = await signatures.work_order_signature(session, order)
    if signature is None:
        raise NotFound(unsigned)
    return order, signature


def _disposition(filename: str, number: str) -> str:
    # An ASCII name for old clients, the customer's-language name (RFC 6266) for the rest.
    fallback = f"work-order-{number}.pdf".encode("ascii", "replace").decode().replace('"', "")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


class DocumentController(Controller):
    tags = ["documents"]  # noqa: RUF012

    @get("/work-orders/{order_id:int}/pdf", guards=[roles(*PDF_ROLES)])
    async def pdf(
        self,
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        store: NamedDependency[FileStore],
        order_id: FromPath[int],
    ) -> Response[bytes]:
        order, signature = await _signed(db_session, order_id)
        content = json.loads(signature.content)
        pdf = await work_order_pdf.render_async(signature, content, store, settings)
        with locale_as(signature.locale):
            filename = mailer.attachment_name(order.number)
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": _disposition(filename, order.number),
                # Customers' names and cars: never kept by a shared cache.
                "Cache-Control": "private, no-store",
            },
        )

    @get("/v/{token:str}/pdf", opt={"public": True})
    async def customer_pdf(
        self,
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        store: NamedDependency[FileStore],
        token: FromPath[str],
    ) -> Response[bytes]:
        """The customer's copy from the QR code or the text message: no staff sign-in, the
        token is the key (a guessed one is refused like on the check page)."""
        signature = await customer_verify.work_order_signature(db_session, settings, token)
        order = await db_session.get(WorkOrder, signature.work_order_id)
        number = order.number if order else ""
        pdf = await work_order_pdf.render_async(
            signature, json.loads(signature.content), store, settings
        )
        with locale_as(signature.locale):
            filename = mailer.attachment_name(number)
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": _disposition(filename, number).replace(
                    "attachment", "inline", 1
                ),
                "Cache-Control": "private, no-store",
                "Referrer-Policy": "no-referrer",
            },
        )

    @get("/v/{token:str}", opt={"public": True})
    async def customer_check(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        token: FromPath[str],
        lang: str | None = None,
    ) -> Template:
        """The customer's own check of their signed copy: no staff sign-in, one order."""
        # The token is the key: never kept by a cache, never sent on as a Referer.
        headers = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"}
        try:
            found = await customer_verify.check(db_session, settings, token)
        except NotFound as missing:
            return render(
                request, "verify/not_found.html", {"message": missing.message, "shop": ""},
                status_code=404, headers=headers,
            )  # fmt: skip
        # The signer's language, unless they chose the other one on the page.
        set_locale(lang if lang in SUPPORTED_LOCALES else found.work_order.locale)
        context = verify_view.customer_page(found, settings) | {"token": token}
        return render(request, "verify/customer.html", context, headers=headers)

    @post(
        "/work-orders/{order_id:int}/email",
        guards=[roles(Role.ADVISOR, Role.SERVICE_MANAGER)],
        status_code=200,
    )
    async def email(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        store: NamedDependency[FileStore],
        order_id: FromPath[int],
        data: URLEncodedBody[EmailForm],
    ) -> Response[str] | Redirect:
        order, signature = await _signed(db_session, order_id)
        to = mailer.check_address(data.email.strip() or order.customer.email)
        content = json.loads(signature.content)
        pdf = await work_order_pdf.render_async(signature, content, store, settings)
        message = await mailer.send_work_order(db_session, settings, signature, pdf, to)
        if message.status == "sent":
            text = _("Work order %(number)s sent to %(address)s.", number=order.number, address=to)
        else:
            text = _("No mail server is set up: the e-mail to %(address)s waits in the outbox.",
                     address=to)  # fmt: skip
        if is_fragment(request):
            return Response("", media_type=MediaType.TEXT, headers=toast_headers(text, level="ok"))
        return Redirect("/outbox", status_code=303)

    @get(
        "/outbox",
        guards=[roles(Role.ADVISOR, Role.SERVICE_MANAGER, Role.CUSTOMER_RELATIONS)],
    )
    async def outbox(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]
    ) -> Template:
        messages = await mailer.recent(db_session)
        return render(request, "outbox/index.html", {"messages": messages})

"""The catalogue for admins and service managers: labour, parts, menu packages, CSV import."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, MultipartBody, URLEncodedBody
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import DomainError, InvalidInput, NotFound
from app.i18n import _
from app.models import Role
from app.models.base import utcnow
from app.services.catalogue import csv_export, csv_file, csv_uploads
from app.services.catalogue import csv_import as imports
from app.services.catalogue import items as cat
from app.services.catalogue import packages as menu
from app.settings import Settings
from app.web.auth import actor_for, roles
from app.web.render import go, is_fragment, refused, render

# Where each import lands afterwards.
IMPORT_LISTS = {"labour": "labour", "parts": "parts", "package_items": "packages"}
NEW_DEFAULTS = {"parts": {"stock_on_hand": "0", "lead_time_days": "2"}}


@dataclass
class ImportUpload:
    kind: str = "labour"
    file: UploadFile | None = None


@dataclass
class ConfirmForm:
    upload_id: str = ""
    mode: str = ""


@dataclass
class ItemForm:
    item_kind: str = "labour"
    item_code: str = ""
    item_quantity: str = "1"


def _uploads(settings: Settings) -> Path:
    return settings.data_dir / "catalogue_imports"


def _as_form(item: Any, kind: cat.Kind[Any]) -> dict[str, str]:
    return {name: str(getattr(item, name)) for name in kind.fields()}


def _import_kind(name: str) -> str:
    if name not in csv_file.COLUMNS:
        raise NotFound(_("This page does not exist."))
    return name


class CatalogueController(Controller):
    path = "/catalogue"
    guards = [roles(Role.ADMIN, Role.SERVICE_MANAGER)]  # noqa: RUF012
    tags = ["catalogue"]  # noqa: RUF012

    @get("/")
    async def index(self) -> Redirect:
        return Redirect("/catalogue/labour", status_code=303)

    # -- CSV import ---------------------------------------------------------------------------

    @get("/import")
    async def import_page(
        self, request: Request[Any, Any, Any], kind: FromQuery[str] = "labour"
    ) -> Template:
        context = {
            "kind": kind if kind in csv_file.COLUMNS else "labour",
            "columns": csv_file.COLUMNS,
        }
        return render(request, "catalogue/import.html", context)

    @get("/export/{kind:str}")
    async def export(
        self, db_session: NamedDependency[AsyncSession], kind: FromPath[str]
    ) -> Response[bytes]:
        body = await csv_export.export_csv(db_session, _import_kind(kind))
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="catalogue-{kind}.csv"'},
        )

    @post("/import")
    async def upload(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        data: MultipartBody[ImportUpload],
    ) -> Template:
        kind = data.kind if data.kind in csv_file.COLUMNS else "labour"
        content = await data.file.read() if data.file else b""
        if not content:
            context = {"kind": kind, "columns": csv_file.COLUMNS,
                       "error": _("Choose a CSV file to import.")}  # fmt: skip
            return render(request, "catalogue/import.html", context, status_code=422)
        report = await imports.resolve(db_session, csv_file.parse_csv(kind, content))
        filename = data.file.filename if data.file else ""
        upload = csv_uploads.store_upload(
            _uploads(settings), report, content, filename, actor_for(request).user_id, utcnow()
        )
        return render(request, "catalogue/preview.html", {"report": report, "upload": upload})

    @post("/import/confirm")
    async def confirm(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        data: URLEncodedBody[ConfirmForm],
    ) -> Template | Redirect:
        try:
            result = await csv_uploads.confirm(
                db_session, _uploads(settings), data.upload_id, data.mode,
                actor_for(request), utcnow(),
            )  # fmt: skip
        except csv_uploads.StalePreview as stale:
            context = {"report": stale.report, "upload": stale.upload, "notice": stale.message}
            return render(request, "catalogue/preview.html", context, status_code=409)
        except DomainError as exc:  # nothing written: the transaction is rolled back
            context = {"kind": "labour", "columns": csv_file.COLUMNS, "error": exc.message}
            return render(request, "catalogue/import.html", context, status_code=exc.status_code)
        kind = IMPORT_LISTS[result.kind]
        query = f"created={result.created}&updated={result.updated}&unchanged={result.unchanged}"
        return Redirect(f"/catalogue/{kind}?{query}&skipped={result.skipped}", status_code=303)

    # -- lists and edit pages -----------------------------------------------------------------

    @get("/{kind:str}")
    async def list_page(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        kind: FromPath[str],
        q: FromQuery[str] = "",
    ) -> Template:
        spec = cat.kind_named(kind)
        listing = await cat.search(db_session, spec, q)
        prices = (
            {p.id: menu.package_price(p) for p in listing.items} if spec is cat.PACKAGES else {}
        )
        imported = {
            k: request.query_params.get(k) for k in ("created", "updated", "unchanged", "skipped")
        }
        context = {"kind": kind, "q": q, "listing": listing, "prices": prices,
                   "imported": imported if imported["created"] is not None else None}  # fmt: skip
        return render(request, "catalogue/list.html", context, fragment="catalogue/_rows.html")

    @get("/{kind:str}/new")
    async def new_page(self, request: Request[Any, Any, Any], kind: FromPath[str]) -> Template:
        cat.kind_named(kind)
        context = {"kind": kind, "item": None, "form": NEW_DEFAULTS.get(kind, {}), "errors": {}}
        return render(request, "catalogue/edit.html", context)

    @post("/{kind:str}/new")
    async def create(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        kind: FromPath[str],
        data: URLEncodedBody[dict[str, str]],
    ) -> Template | Redirect | ClientRedirect:
        spec = cat.kind_named(kind)
        try:
            item = await cat.create(db_session, spec, data, actor_for(request))
        except cat.InvalidFields as exc:
            if is_fragment(request):
                raise  # the one error mapping: a toast and the message under the field
            context = {"kind": kind, "item": None, "form": data, "errors": exc.errors}
            return render(request, "catalogue/edit.html", context, status_code=exc.status_code)
        return go(request, f"/catalogue/{kind}/{item.id}?saved=1")

    @get("/{kind:str}/{item_id:int}")
    async def edit_page(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        kind: FromPath[str],
        item_id: FromPath[int],
        saved: FromQuery[str] = "",
    ) -> Template:
        spec = cat.kind_named(kind)
        item = await cat.get(db_session, spec, item_id)
        context = {"kind": kind, "item": item, "form": _as_form(item, spec), "errors": {},
                   "saved": bool(saved), **self._package_context(spec, item)}  # fmt: skip
        return render(request, "catalogue/edit.html", context)

    @post("/{kind:str}/{item_id:int}")
    async def update(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        kind: FromPath[str],
        item_id: FromPath[int],
        data: URLEncodedBody[dict[str, str]],
    ) -> Template | Redirect:
        spec = cat.kind_named(kind)
        try:
            item = await cat.update(db_session, spec, item_id, data, actor_for(request))
        except cat.InvalidFields as exc:
            if is_fragment(request):
                raise
            item = await cat.get(db_session, spec, item_id)
            context = {"kind": kind, "item": item, "form": data, "errors": exc.errors,
                       **self._package_context(spec, item)}  # fmt: skip
            return render(request, "catalogue/edit.html", context, status_code=exc.status_code)
        if not is_fragment(request):
            return Redirect(f"/catalogue/{kind}/{item.id}?saved=1", status_code=303)
        context = {"kind": kind, "item": item, "form": _as_form(item, spec), "errors": {},
                   "saved": True}  # fmt: skip
        return render(request, "catalogue/_form.html", context)

    # -- menu package items -------------------------------------------------------------------

    @staticmethod
    def _package_context(spec: cat.Kind[Any], item: Any) -> dict[str, Any]:
        if spec is not cat.PACKAGES:
            return {}
        prices = {i.id: menu.item_price(i) for i in item.items}
        total = sum(prices.values(), Decimal("0.00"))
        return {"package": item, "item_prices": prices, "package_total": total}

    def _items(self, request: Request[Any, Any, Any], package: Any) -> Template | Redirect:
        if not is_fragment(request):
            return Redirect(f"/catalogue/packages/{package.id}", status_code=303)
        context = self._package_context(cat.PACKAGES, package)
        return render(request, "catalogue/_items.html", context)

    @post("/{kind:str}/{item_id:int}/items")
    async def add_item(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        kind: FromPath[str],
        item_id: FromPath[int],
        data: URLEncodedBody[ItemForm],
    ) -> Template | Redirect:
        if kind != "packages":
            raise NotFound(_("This page does not exist."))
        try:
            package = await menu.add_package_item(
                db_session, item_id, data.item_kind, data.item_code, data.item_quantity,
                actor_for(request),
            )  # fmt: skip
        except InvalidInput as exc:
            if is_fragment(request):
                raise
            item = await cat.get(db_session, cat.PACKAGES, item_id)
            context = {"kind": kind, "item": item, "form": _as_form(item, cat.PACKAGES),
                       "errors": {}, **self._package_context(cat.PACKAGES, item)}  # fmt: skip
            return refused(request, "catalogue/edit.html", context, exc, asdict(data))
        return self._items(request, package)

    @post("/{kind:str}/{item_id:int}/items/{entry_id:int}/remove")
    async def remove_item(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        kind: FromPath[str],
        item_id: FromPath[int],
        entry_id: FromPath[int],
    ) -> Template | Redirect:
        if kind != "packages":
            raise NotFound(_("This page does not exist."))
        package = await menu.remove_package_item(db_session, item_id, entry_id, actor_for(request))
        return self._items(request, package)

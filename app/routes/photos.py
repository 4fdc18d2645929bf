from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, MultipartBody
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import CheckIn, Role
from app.services.check_in import steps as check_ins
from app.services.delivery import handover as delivery
from app.services.health_check import checks as health_checks
from app.services.photos import receive as photos
from app.services.photos.pipeline import MAX_UPLOAD_BYTES
from app.services.storage.files import FileStore
from app.services.supplements import findings
from app.web.auth import ALL_STAFF, actor_for, customer_mode_order, roles

# Multipart framing around the largest accepted photo.
UPLOAD_BODY_LIMIT = MAX_UPLOAD_BYTES + 256 * 1024


@dataclass
class PhotoUpload:
    file: UploadFile
    client_id: str = ""
    position: str = ""
    damage_mark_id: str = ""


async def _receive(
    request: Request[Any, Any, Any],
    db_session: AsyncSession,
    store: FileStore,
    check_in: CheckIn,
    data: PhotoUpload,
    target: photos.Target | None = None,
) -> Response[dict[str, Any]]:
    received = await photos.receive(
        db_session,
        check_in,
        client_id=data.client_id,
        position=data.position,
        damage_mark_id=data.damage_mark_id,
        data=await data.file.read(),
        store=store,
        actor=actor_for(request),
        target=target,
    )
    photo = received.photo
    body = {
        "id": photo.id, "client_id": photo.client_id, "duplicate": received.duplicate,
        "thumb_url": f"/photos/{photo.id}/thumb", "display_url": f"/photos/{photo.id}/display",
    }  # fmt: skip
    return Response(body, status_code=200 if received.duplicate else 201)


class PhotoController(Controller):
    tags = ["photos"]  # noqa: RUF012

    @post(
        "/check-ins/{check_in_id:int}/photos",
        guards=[roles(Role.ADVISOR, Role.SERVICE_MANAGER)],
        request_max_body_size=UPLOAD_BODY_LIMIT,
        opt={"json_errors": True},
    )
    async def upload(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        store: NamedDependency[FileStore],
        check_in_id: FromPath[int],
        data: MultipartBody[PhotoUpload],
    ) -> Response[dict[str, Any]]:
        check_in = await check_ins.get(db_session, check_in_id)
        return await _receive(request, db_session, store, check_in, data)

    @post(
        "/supplements/{supplement_id:int}/photos",
        guards=[roles(Role.TECHNICIAN, Role.FOREMAN)],
        request_max_body_size=UPLOAD_BODY_LIMIT,
        opt={"json_errors": True},
    )
    async def finding(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        store: NamedDependency[FileStore],
        supplement_id: FromPath[int],
        data: MultipartBody[PhotoUpload],
    ) -> Response[dict[str, Any]]:
        """Photos of what the workshop found, for the added work the customer approves."""
        check_in, target = await findings.photo_target(
            db_session, supplement_id, actor_for(request)
        )
        return await _receive(request, db_session, store, check_in, data, target)

    @post(
        "/health-checks/items/{result_id:int}/photos",
        guards=[roles(Role.TECHNICIAN, Role.FOREMAN, Role.ADVISOR, Role.SERVICE_MANAGER)],
        request_max_body_size=UPLOAD_BODY_LIMIT,
        opt={"json_errors": True},
    )
    async def health_check_item(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        store: NamedDependency[FileStore],
        result_id: FromPath[int],
        data: MultipartBody[PhotoUpload],
    ) -> Response[dict[str, Any]]:
        """What a health-check item looks like (a worn tyre, a leak), for the customer."""
        check_in, target = await health_checks.photo_target(
            db_session, result_id, actor_for(request)
        )
        return await _receive(request, db_session, store, check_in, data, target)

    @post(
        "/work-orders/{order_id:int}/delivery/photos",
        guards=[roles(Role.ADVISOR, Role.SERVICE_MANAGER)],
        request_max_body_size=UPLOAD_BODY_LIMIT,
        opt={"json_errors": True},
    )
    async def delivery(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        store: NamedDependency[FileStore],
        order_id: FromPath[int],
        data: MultipartBody[PhotoUpload],
    ) -> Response[dict[str, Any]]:
        """The walkaround positions again at handover, and any new damage."""
        check_in, target = await delivery.photo_target(db_session, order_id, actor_for(request))
        return await _receive(request, db_session, store, check_in, data, target)

    # The customer reviews the check-in photos on the tablet in customer mode.
    @get(
        "/photos/{photo_id:int}/{size:str}",
        guards=[roles(*ALL_STAFF)],
        opt={"customer_mode": True},
    )
    async def serve(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        store: NamedDependency[FileStore],
        photo_id: FromPath[int],
        size: FromPath[str],
    ) -> Response[bytes | None]:
        served = await photos.serve(
            db_session,
            photo_id,
            size,
            store,
            only_order=customer_mode_order(request),
            if_none_match=request.headers.get("if-none-match", ""),
        )
        # Content-addressed files never change, but the browser asks every time
        # (a cheap 304): a tablet in customer mode must not show from its cache a
        # photo of another order that it took this morning.
        headers = {"Cache-Control": "private, no-cache", "ETag": served.etag}
        if served.data is None:
            return Response(None, status_code=304, headers=headers)
        headers["Content-Disposition"] = "inline"
        return Response(served.data, media_type="image/jpeg", headers=headers)

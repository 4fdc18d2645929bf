from __future__ import annotations

from typing import Any

from litestar import MediaType, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency

from app.services.health import database_ok, store_ok
from app.services.storage.files import FileStore


@get(
    "/healthz",
    opt={"public": True},
    media_type=MediaType.JSON,
    tags=["health"],
    exclude_from_csrf=True,
)
async def healthz(state: State, store: NamedDependency[FileStore]) -> Response[dict[str, Any]]:
    db_ok, db_detail = await database_ok(state.db_config.get_engine())
    photos_ok, photos_detail = await store_ok(store)
    healthy = db_ok and photos_ok
    body = {
        "status": "ok" if healthy else "fail",
        "database": {"ok": db_ok, "detail": db_detail},
        "photos": {"ok": photos_ok, "detail": photos_detail},
    }
    return Response(
        body, status_code=200 if healthy else 503, headers={"Cache-Control": "no-store"}
    )

"""The store the settings choose: the local photo folder or an S3-compatible bucket."""

from __future__ import annotations

from functools import lru_cache

from app.services.storage.files import FileStore
from app.settings import Settings


@lru_cache(maxsize=8)
def open_store(settings: Settings) -> FileStore:
    """The configured store; one per settings, since an S3 client is costly to make and
    safe to share between threads."""
    if settings.storage == "s3":
        from app.services.storage.s3 import S3Store  # boto3 is only loaded when used

        return S3Store.from_settings(settings)
    from app.services.storage.local import LocalStore

    return LocalStore(settings.photos)

"""What every PDF of the app shares: the renderer (WeasyPrint) fetching nothing but data:
URIs, the font, the print templates' environment, and the gate that keeps layouts to
two at a time."""

from __future__ import annotations

import base64
import threading
from functools import lru_cache

from jinja2 import Environment
from PIL import ImageFile
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from app.errors import StorageUnavailable
from app.i18n import _
from app.services.photos.store import thumb_key
from app.services.storage.files import FileStore, StoreError
from app.settings import Settings
from app.templating import TEMPLATES_DIR, build_environment

# WeasyPrint turns on Pillow's LOAD_TRUNCATED_IMAGES for the whole process when
# imported. The photo pipeline must refuse a truncated upload, and the PDFs only
# embed images we made ourselves, so switch it back off.
ImageFile.LOAD_TRUNCATED_IMAGES = False

FONT = "Noto Sans CJK SC"
# WeasyPrint holds the whole layout in memory and keeps a CPU busy for a good
# fraction of a second: at most two documents at once, the rest wait their turn.
_RENDERING = threading.BoundedSemaphore(2)


@lru_cache(maxsize=4)
def environment(settings: Settings) -> Environment:
    return build_environment(settings)


def from_html(document: str) -> bytes:
    """The PDF of `document`. Blocking and CPU-bound: call it from a worker thread.
    Everything it shows is inline (data: URIs): nothing is fetched from the network or
    the disk, whatever a customer typed into a field."""
    with _RENDERING:
        pdf = HTML(
            string=document,
            base_url=str(TEMPLATES_DIR / "pdf"),
            url_fetcher=URLFetcher(allowed_protocols={"data"}),
        ).write_pdf()
    assert pdf is not None  # noqa: S101 - write_pdf() without a target returns the bytes
    return pdf


def thumbnail_uri(store: FileStore, sha256: str) -> str | None:
    """A photo's thumbnail as a data: URI (a PDF, or a page for someone without a staff
    sign-in), or None when the file is not there (any more). Blocking: file or bucket."""
    try:
        data = store.get(thumb_key(sha256))
    except StoreError as exc:  # the bucket is down: no customer copy that silently lacks photos
        message = _("The server cannot reach its photo store right now; try again shortly.")
        raise StorageUnavailable(message, full=False) from exc
    except (OSError, ValueError):
        return None
    return "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")

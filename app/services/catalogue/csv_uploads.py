"""The uploaded catalogue file between the preview and the confirmation.

It waits under the data directory, bound to the user who uploaded it; a preview
whose outcome no longer matches the catalogue is shown again instead of applied.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict
from app.i18n import _
from app.services.audit import Actor
from app.services.catalogue.csv_file import ImportReport, parse_csv
from app.services.catalogue.csv_import import ImportResult, apply_import, resolve

PREVIEW_TTL = timedelta(hours=2)


@dataclass(frozen=True)
class Upload:
    id: str
    kind: str
    filename: str
    content: bytes
    fingerprint: str


class StalePreview(Conflict):
    """The catalogue changed since the preview: here is the preview as it stands now."""

    def __init__(self, report: ImportReport, upload: Upload) -> None:
        super().__init__(
            _(
                "The catalogue changed since this preview. "
                "Check the new preview; nothing was imported."
            )
        )
        self.report = report
        self.upload = upload


_UPLOAD_ID = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def store_upload(
    root: Path,
    report: ImportReport,
    content: bytes,
    filename: str,
    user_id: int | None,
    now: datetime,
) -> Upload:
    root.mkdir(parents=True, exist_ok=True)
    for old in root.glob("*.json"):  # forget previews nobody confirmed
        if now.timestamp() - old.stat().st_mtime > 2 * PREVIEW_TTL.total_seconds():
            old.unlink(missing_ok=True)
            old.with_suffix(".csv").unlink(missing_ok=True)
    upload = Upload(
        secrets.token_urlsafe(24), report.kind, filename[:200], content, report.fingerprint()
    )
    (root / f"{upload.id}.csv").write_bytes(content)
    _write_meta(root, upload, user_id, now)
    return upload


def _write_meta(root: Path, upload: Upload, user_id: int | None, now: datetime) -> None:
    meta = {"kind": upload.kind, "filename": upload.filename, "user_id": user_id,
            "created_at": now.isoformat(), "fingerprint": upload.fingerprint}  # fmt: skip
    (root / f"{upload.id}.json").write_text(json.dumps(meta))


def load_upload(root: Path, upload_id: str, user_id: int | None, now: datetime) -> Upload:
    gone = _("This preview has expired or was already imported. Upload the file again.")
    if not _UPLOAD_ID.match(upload_id or ""):
        raise Conflict(gone)
    try:
        meta = json.loads((root / f"{upload_id}.json").read_text())
        content = (root / f"{upload_id}.csv").read_bytes()
    except (OSError, ValueError) as exc:
        raise Conflict(gone) from exc
    if (
        meta.get("user_id") != user_id
        or now - datetime.fromisoformat(meta["created_at"]) > PREVIEW_TTL
    ):
        raise Conflict(gone)
    return Upload(upload_id, meta["kind"], meta["filename"], content, meta["fingerprint"])


async def confirm(
    session: AsyncSession, root: Path, upload_id: str, mode: str, actor: Actor, now: datetime
) -> ImportResult:
    """Apply a previewed upload, only if confirming still does what the preview showed."""
    upload = load_upload(root, upload_id, actor.user_id, now)
    report = await resolve(session, parse_csv(upload.kind, upload.content))
    if report.fingerprint() != upload.fingerprint:
        fresh = Upload(
            upload.id, upload.kind, upload.filename, upload.content, report.fingerprint()
        )
        _write_meta(root, fresh, actor.user_id, now)
        raise StalePreview(report, fresh)
    result = await apply_import(session, report, mode, actor)
    (root / f"{upload.id}.json").unlink(missing_ok=True)
    (root / f"{upload.id}.csv").unlink(missing_ok=True)
    return result

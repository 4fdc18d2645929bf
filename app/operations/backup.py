"""`walkaround backup` and `walkaround restore`: the database and the files on disk (photos,
catalogue imports, the kept secret) in one tar archive with a manifest of SHA-256 checksums.
With WALKAROUND_STORAGE=s3 the photos are read from the bucket into the archive (as
`bucket/<key>`) and a restore writes them into an empty bucket; an archive restores only into
the kind of store it came from.

The database is copied while the app keeps serving: SQLite through its online backup API (a
consistent snapshot under WAL), PostgreSQL through `pg_dump`. The snapshot is taken before the
files are listed, and a photo's file is written before its row is committed, so every photo
the snapshot knows is in the archive. A restore checks every checksum before it writes
anything, and only into an empty database and empty folders."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy.engine import make_url

from app.services.storage.configured import open_store
from app.services.storage.files import FileStore, StoreError
from app.settings import Settings

FORMAT = "walkaround-backup/1"
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/walkaround.sqlite"
BUCKET = "bucket"  # the archive's folder for the objects of an S3 store
PG_MEMBER = "database/walkaround.pgdump"
# Files that are the live database or half-written: never copied as files.
_SKIP_SUFFIXES = ("-wal", "-shm", "-journal", ".tmp")
_CHUNK = 1 << 20


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class Summary:
    archive: Path
    database: str
    files: int
    bytes: int


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _sqlite_path(settings: Settings) -> Path:
    database = make_url(settings.database_url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database).resolve()


def _libpq_url(settings: Settings) -> str:
    url = make_url(settings.database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _roots(settings: Settings) -> dict[str, Path]:
    """The folders that hold the installation's files, by their name in the archive."""
    roots = {"data": settings.data_dir.resolve()}
    photos = settings.photos.resolve()
    if settings.storage == "local" and not photos.is_relative_to(roots["data"]):
        roots["photos"] = photos
    return roots


def _bucket(settings: Settings) -> FileStore | None:
    return open_store(settings) if settings.storage == "s3" else None


def _files(settings: Settings) -> Iterator[tuple[str, Path]]:
    skip = {_sqlite_path(settings)} if settings.is_sqlite else set()
    for name, root in _roots(settings).items():
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.is_symlink():
                continue
            if path.resolve() in skip or path.name.endswith(_SKIP_SUFFIXES):
                continue
            if path.name.startswith(".healthz-"):
                continue
            yield f"{name}/{path.relative_to(root).as_posix()}", path


def _dump_database(settings: Settings, into: Path) -> tuple[str, Path]:
    if settings.is_sqlite:
        target = into / "walkaround.sqlite"
        source = sqlite3.connect(f"file:{_sqlite_path(settings)}?mode=ro", uri=True)
        try:
            with sqlite3.connect(target) as copy:
                source.backup(copy)
            copy.close()
        finally:
            source.close()
        return SQLITE_MEMBER, target
    target = into / "walkaround.pgdump"
    _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
          f"--file={target}", _libpq_url(settings)], "pg_dump")  # fmt: skip
    return PG_MEMBER, target


def _run(command: list[str], what: str) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    except FileNotFoundError:
        raise BackupError(
            f"{what} is not installed (Debian: apt install postgresql-client)"
        ) from None
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {done.stderr.strip() or done.returncode}")


def _add(archive: tarfile.TarFile, name: str, data: bytes, mtime: float) -> dict[str, Any]:
    """Add one file, hashing the very bytes that go into the archive."""
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(mtime)
    info.mode = 0o600
    archive.addfile(info, io.BytesIO(data))
    return {"path": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def _objects(bucket: FileStore) -> Iterator[tuple[str, bytes, float]]:
    """The bucket's files, listed after the database snapshot like the folder's."""
    try:
        for item in bucket.files():
            try:
                data = bucket.get(item.key)
            except FileNotFoundError:
                continue  # deleted (retention) between the listing and the read
            yield f"{BUCKET}/{item.key}", data, item.modified.timestamp()
    except StoreError as exc:
        raise BackupError(f"cannot read the photos from {bucket.describe()}: {exc}") from exc


def backup(settings: Settings, archive_path: Path, now: datetime | None = None) -> Summary:
    """Write the archive (to a temporary name, renamed when complete)."""
    archive_path = archive_path.resolve()
    archive_path.parent.mkdir(parents=True, exist_ok=True)
    if archive_path.is_relative_to(settings.data_dir.resolve()):
        raise BackupError("write the archive outside the data folder it backs up")
    partial = archive_path.with_name(f".{archive_path.name}.partial")
    entries: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="walkaround-backup-") as scratch:
        member, dumped = _dump_database(settings, Path(scratch))
        bucket = _bucket(settings)
        with tarfile.open(partial, "w") as archive:
            for name, path in [(member, dumped), *_files(settings)]:
                try:
                    data, mtime = path.read_bytes(), path.stat().st_mtime
                except FileNotFoundError:
                    continue  # removed while we listed (a replaced temporary file)
                entries.append(_add(archive, name, data, mtime))
            for name, data, mtime in _objects(bucket) if bucket else ():
                entries.append(_add(archive, name, data, mtime))
            total = sum(int(entry["size"]) for entry in entries)
            manifest = {
                "format": FORMAT,
                "created_at": (now or datetime.now(UTC)).isoformat(),
                "database": "sqlite" if settings.is_sqlite else "postgresql",
                "storage": settings.storage,
                "roots": sorted([*_roots(settings), *([BUCKET] if bucket else [])]),
                "files": entries,
            }
            body = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(body)
            info.mode = 0o600
            archive.addfile(info, io.BytesIO(body))
    os.replace(partial, archive_path)
    return Summary(archive_path, str(manifest["database"]), len(entries) - 1, total)


def _read_manifest(archive: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = archive.getmember(MANIFEST)
        handle = archive.extractfile(member)
        manifest = json.loads(handle.read()) if handle else None
    except (KeyError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(
            "this is not a Walkaround backup (no manifest of format walkaround-backup/1)"
        )
    return manifest


def _safe_name(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or len(path.parts) < 2:
        raise BackupError(f"the archive holds an unsafe path: {name!r}")
    return path


def _check(archive: tarfile.TarFile, manifest: dict[str, Any]) -> list[dict[str, str]]:
    """Every listed member is present, a regular file, and hashes to its checksum."""
    files = manifest.get("files")
    if not isinstance(files, list):
        raise BackupError("the manifest lists no files")
    for entry in files:
        name = str(entry["path"])
        _safe_name(name)
        try:
            member = archive.getmember(name)
        except KeyError:
            raise BackupError(f"the archive is missing {name}") from None
        handle = archive.extractfile(member) if member.isfile() else None
        if handle is None:
            raise BackupError(f"{name} in the archive is not a file")
        digest = hashlib.sha256()
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
        if digest.hexdigest() != entry["sha256"]:
            raise BackupError(f"{name} does not match its checksum: the archive is damaged")
    return files


def _database_is_empty(settings: Settings) -> bool:
    if settings.is_sqlite:
        path = _sqlite_path(settings)
        if not path.exists() or path.stat().st_size == 0:
            return True
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            count = conn.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()
        return not count[0]
    done = subprocess.run(  # noqa: S603
        ["psql", "--no-psqlrc", "--tuples-only", "--no-align", "--command",  # noqa: S607
         "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", _libpq_url(settings)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise BackupError(f"cannot reach the configured database: {done.stderr.strip()}")
    return done.stdout.strip() == "0"


def _folder_is_empty(path: Path) -> bool:
    return not path.exists() or not any(path.iterdir())


@contextmanager
def _opened(archive_path: Path) -> Iterator[tarfile.TarFile]:
    if not archive_path.is_file():
        raise BackupError(f"no archive at {archive_path}")
    try:
        with tarfile.open(archive_path, "r") as archive:
            yield archive
    except tarfile.TarError as exc:
        raise BackupError(f"this is not a readable archive: {exc}") from None


def restore(settings: Settings, archive_path: Path) -> Summary:
    """Restore into the configured database and folders, which must be empty."""
    with _opened(archive_path) as archive:
        manifest = _read_manifest(archive)
        kind = "sqlite" if settings.is_sqlite else "postgresql"
        if manifest.get("database") != kind:
            raise BackupError(
                f"the archive holds a {manifest.get('database')} database; "
                f"the configured one is {kind}"
            )
        files = _check(archive, manifest)
        stored = str(manifest.get("storage") or "local")  # archives from before S3 say nothing
        if stored != settings.storage:
            raise BackupError(
                f"the archive's photos come from WALKAROUND_STORAGE={stored}; restore with that "
                f"setting (the configured one is {settings.storage})"
            )
        roots = _roots(settings)
        bucket = _bucket(settings)
        if not {*roots, *([BUCKET] if bucket else [])} >= {
            str(r) for r in manifest.get("roots") or []
        }:
            raise BackupError("set WALKAROUND_PHOTO_DIR as it was when the backup was made")
        busy = [str(r) for r in roots.values() if not _folder_is_empty(r)]
        if bucket and not _bucket_is_empty(bucket):
            busy.append(bucket.describe())
        if busy or not _database_is_empty(settings):
            where = ", ".join(busy) or settings.database_url
            raise BackupError(
                f"restore needs an empty database and data folder; {where} is not empty. "
                "Point WALKAROUND_DATA_DIR and WALKAROUND_DATABASE_URL at empty ones."
            )
        total = 0
        with tempfile.TemporaryDirectory(prefix="walkaround-restore-") as scratch:
            for entry in files:
                name = _safe_name(str(entry["path"]))
                if name.parts[0] == BUCKET and bucket:
                    _put(archive, str(entry["path"]), bucket, str(entry["sha256"]))
                    total += int(str(entry["size"]))
                    continue
                if name.parts[0] == "database":
                    target = Path(scratch) / name.name
                else:
                    target = roots[name.parts[0]].joinpath(*name.parts[1:])
                _extract(archive, str(entry["path"]), target, str(entry["sha256"]))
                total += int(str(entry["size"]))
                if name.parts[0] == "database":
                    _load_database(settings, target)
    return Summary(archive_path, kind, len(files) - 1, total)


def _bucket_is_empty(bucket: FileStore) -> bool:
    try:
        return next(iter(bucket.files()), None) is None
    except StoreError as exc:
        raise BackupError(f"cannot reach {bucket.describe()}: {exc}") from exc


def _put(archive: tarfile.TarFile, name: str, bucket: FileStore, sha256: str) -> None:
    source = archive.extractfile(name)
    data = source.read() if source else b""
    if hashlib.sha256(data).hexdigest() != sha256:  # checked before; read again from the disk
        raise BackupError(f"{name} does not match its checksum: the archive is damaged")
    try:
        bucket.put(name.split("/", 1)[1], data)
    except StoreError as exc:
        raise BackupError(f"cannot write {name} to {bucket.describe()}: {exc}") from exc


def _extract(archive: tarfile.TarFile, name: str, target: Path, sha256: str) -> None:
    source = archive.extractfile(name)
    if source is None:  # checked before anything was written; kept for the type checker
        raise BackupError(f"{name} in the archive is not a file")
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        shutil.copyfileobj(source, out, _CHUNK)
    if _sha256(target) != sha256:
        raise BackupError(f"{name} was not written whole; the disk may be full")


def _load_database(settings: Settings, dumped: Path) -> None:
    if settings.is_sqlite:
        path = _sqlite_path(settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        staged = path.with_name(f".{path.name}.restoring")
        shutil.copyfile(dumped, staged)
        os.replace(staged, path)
        return
    _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
          f"--dbname={_libpq_url(settings)}", str(dumped)], "pg_restore")  # fmt: skip

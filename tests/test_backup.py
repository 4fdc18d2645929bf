"""`walkaround backup` and `walkaround restore`: a populated instance (signed orders, photos on
disk) round-trips into an empty one, where every signed record still verifies and every photo's
file has its checksum; a non-empty target and a damaged archive are refused, changing nothing."""

from __future__ import annotations

import asyncio
import hashlib
import io
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.cli import cli, upgrade
from app.db import create_engine
from app.models import Photo, Signature
from app.operations import backup
from app.services.photos import store
from app.services.signing import signatures
from app.services.storage.configured import open_store
from app.settings import Settings
from tests.conftest import on_s3, settings_on_each_store
from tests.workshop_helpers import signed_order_with

POSITIONS = ("front", "rear", "left")
# The folder, unless a test asks for the bucket.
fx_settings = pytest.fixture(name="settings", params=["local"])(settings_on_each_store)


def _checksums(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


async def _verified(settings: Settings) -> tuple[dict[int, bool], dict[str, str]]:
    """Each signature's verification, and each photo row's files with their checksums."""
    engine = create_engine(settings.database_url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            intact = {
                s.id: (await signatures.verify(session, s, settings.currency)).intact
                for s in (await session.scalars(select(Signature))).all()
            }
            files: dict[str, str] = {}
            photos = open_store(settings)  # the folder or the bucket
            for photo in (await session.scalars(select(Photo))).all():
                for key in (store.display_key(photo.sha256), store.thumb_key(photo.sha256)):
                    files[key] = hashlib.sha256(photos.get(key)).hexdigest()
    finally:
        await engine.dispose()
    return intact, files


@pytest.fixture(name="populated")
async def fx_populated(db, settings, users) -> Settings:  # type: ignore[no-untyped-def]
    await signed_order_with(db, settings, users, photo_positions=POSITIONS)
    await signed_order_with(db, settings, users, appointment=1, photo_positions=POSITIONS[:1])
    await db.close()
    return settings


@pytest.fixture(name="empty")
def fx_empty(backend, tmp_path_factory) -> Settings:  # type: ignore[no-untyped-def]
    url = backend.new_database_url(migrated=False)
    yield Settings(
        env="test",
        data_dir=tmp_path_factory.mktemp("restored"),
        database_url=url,
        secret_key="another-secret-the-restore-does-not-need",
    )
    backend.drop(url)


async def test_a_backup_restores_into_an_empty_instance_that_verifies(
    populated, empty, tmp_path_factory
) -> None:
    archive = tmp_path_factory.mktemp("archives") / "walkaround.tar"
    before_intact, before_files = await _verified(populated)
    assert len(before_intact) == 2
    assert all(before_intact.values())
    # Four photos, three distinct pictures (files are by content), each with a thumbnail.
    assert len(before_files) == 3 * 2

    made = backup.backup(populated, archive)
    assert made.files == len(_checksums(populated.data_dir))

    restored = backup.restore(empty, archive)
    assert restored.files == made.files
    after_intact, after_files = await _verified(empty)
    assert after_intact == before_intact
    assert after_files == before_files
    assert _checksums(empty.data_dir) == _checksums(populated.data_dir)


@pytest.mark.parametrize("settings", ["s3"], indirect=True)
async def test_on_s3_the_bucket_goes_into_the_archive_and_back_into_an_empty_one(
    populated, empty, s3_endpoint, tmp_path_factory
) -> None:
    archive = tmp_path_factory.mktemp("archives") / "walkaround.tar"
    before_intact, before_files = await _verified(populated)
    assert len(before_files) == 3 * 2
    assert not populated.photos.exists()  # the photos are objects, not files on this disk

    made = backup.backup(populated, archive)
    with tarfile.open(archive) as written:
        names = [n for n in written.getnames() if n.startswith("bucket/")]
    assert sorted(names) == sorted(f"bucket/{key}" for key in before_files)

    with pytest.raises(backup.BackupError, match="WALKAROUND_STORAGE=s3"):
        backup.restore(empty, archive)  # into a folder the app would not read them from
    into_bucket = on_s3(empty, s3_endpoint)
    restored = backup.restore(into_bucket, archive)
    assert restored.files == made.files
    assert await _verified(into_bucket) == (before_intact, before_files)


async def test_restore_refuses_a_target_that_is_not_empty(populated, empty, tmp_path_factory):  # type: ignore[no-untyped-def]
    archive = tmp_path_factory.mktemp("archives") / "walkaround.tar"
    backup.backup(populated, archive)
    await asyncio.to_thread(upgrade, empty)  # migrated, with no rows: already not empty
    with pytest.raises(backup.BackupError, match="needs an empty database"):
        backup.restore(empty, archive)
    assert list(empty.data_dir.iterdir()) == []

    other = replace(populated, photo_dir=None)
    with pytest.raises(backup.BackupError, match="not empty"):
        backup.restore(other, archive)


async def test_a_damaged_archive_is_refused_before_anything_is_written(
    populated, empty, tmp_path_factory
) -> None:
    folder = tmp_path_factory.mktemp("archives")
    archive = folder / "walkaround.tar"
    backup.backup(populated, archive)
    damaged = folder / "damaged.tar"
    with tarfile.open(archive) as source, tarfile.open(damaged, "w") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()  # type: ignore[union-attr]
            if member.name.startswith("data/photos/") and member.name.endswith("-display.jpg"):
                data = data[:-1] + bytes([data[-1] ^ 0xFF])
            target.addfile(member, io.BytesIO(data))
    with pytest.raises(backup.BackupError, match="does not match its checksum"):
        backup.restore(empty, damaged)
    assert list(empty.data_dir.iterdir()) == []
    if empty.is_sqlite:
        assert not backup._sqlite_path(empty).exists()

    with tarfile.open(folder / "notes.tar", "w"):
        pass
    with pytest.raises(backup.BackupError, match="not a Walkaround backup"):
        backup.restore(empty, folder / "notes.tar")


def test_the_commands_back_up_and_refuse_with_a_message(populated, monkeypatch, tmp_path_factory):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("WALKAROUND_DATABASE_URL", populated.database_url)
    monkeypatch.setenv("WALKAROUND_DATA_DIR", str(populated.data_dir))
    archive = tmp_path_factory.mktemp("archives") / "nightly.tar"
    made = CliRunner().invoke(cli, ["backup", str(archive)])
    assert made.exit_code == 0, made.output
    assert "files" in made.output
    assert archive.is_file()
    refused = CliRunner().invoke(cli, ["restore", str(archive)])
    assert refused.exit_code == 1
    assert "needs an empty database and data folder" in refused.output

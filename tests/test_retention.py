"""Photo retention: past the dealership's period, the photos no record needs go (retakes, an
abandoned check-in's, files no row names); every photo a signed record names stays, and the
signed record still verifies."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from app.cli import cli
from app.models import Appointment, CheckIn, Photo, Role, Signature, WorkOrder
from app.models.base import utcnow
from app.operations import retention
from app.services.audit import Actor
from app.services.check_in import steps as check_ins
from app.services.photos import store
from app.services.signing import signatures
from app.services.storage.configured import open_store
from tests.checkin_helpers import fresh
from tests.conftest import STORES, settings_on_each_store
from tests.workshop_helpers import add_photo, check_in_of, signed_order_with

DAYS = 180
# The folder, unless a test asks for the bucket too.
fx_settings = pytest.fixture(name="settings", params=["local"])(settings_on_each_store)


async def _age(db, check_in_id: int, days: int) -> None:  # type: ignore[no-untyped-def]
    then = utcnow() - timedelta(days=days)
    await db.execute(update(Photo).where(Photo.check_in_id == check_in_id).values(uploaded_at=then))
    await db.execute(update(CheckIn).where(CheckIn.id == check_in_id).values(started_at=then))


@pytest.mark.parametrize("settings", STORES, indirect=True)
async def test_past_the_period_only_what_no_record_needs_goes(db, settings, users) -> None:
    advisor = Actor(users[Role.ADVISOR])
    # A delivered car: two photos the signed work order names.
    delivered = await signed_order_with(db, settings, users, photo_positions=("front", "rear"))
    signed_in = (await check_in_of(db, delivered)).id
    await db.execute(update(WorkOrder).where(WorkOrder.id == delivered).values(status="delivered"))
    # A check-in nobody finished, with a photo and its retake.
    second = (await db.scalars(select(Appointment.id).order_by(Appointment.id))).all()[1]
    abandoned = (await check_ins.start_from_appointment(db, second, advisor)).id
    await db.commit()
    unfinished = await fresh(db, abandoned)
    gone = await add_photo(db, settings, users, unfinished, "left", seed=8)
    retake = await add_photo(db, settings, users, unfinished, "left", seed=9)
    await _age(db, signed_in, DAYS + 20)
    await _age(db, abandoned, DAYS + 20)
    await db.commit()
    # A file no row names (a server stopped between the file and its row), looked at two days
    # on (a bucket's objects cannot be made older).
    files = open_store(settings)
    orphan = store.display_key("ab" * 32)
    files.put(orphan, b"\xff\xd8 a photo whose row never committed")
    later = utcnow() + timedelta(days=2)
    assert orphan not in (await retention.plan(db, files, DAYS, utcnow())).files  # a day's grace

    named = {p.sha256: p.id for p in (await db.scalars(select(Photo))).all()}
    found = await retention.plan(db, files, DAYS, later)
    assert sorted(found.rows) == sorted([retake, gone])
    assert found.kept_signed == 2
    assert orphan in found.files
    assert await retention.plan(db, files, DAYS + 30, later) == retention.Plan([], [orphan], 0)

    await retention.apply(db, files, found, Actor(None))
    left = {p.id for p in (await db.scalars(select(Photo))).all()}
    assert left == set(named.values()) - {retake, gone}
    for sha, photo_id in named.items():
        kept = photo_id in left
        assert files.exists(store.display_key(sha)) is kept, sha
        assert files.exists(store.thumb_key(sha)) is kept, sha
    assert not files.exists(orphan)
    for signature in (await db.scalars(select(Signature))).all():
        assert (await signatures.verify(db, signature, settings.currency)).intact


def test_the_command_says_what_would_go_and_deletes_only_with_apply(settings, users, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("WALKAROUND_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("WALKAROUND_DATA_DIR", str(settings.data_dir))
    orphan = store.thumb_path(settings.photos, "cd" * 32)
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"old")
    os.utime(orphan, (time.time() - 3 * 86400, time.time() - 3 * 86400))
    dry = CliRunner().invoke(cli, ["retention"])
    assert dry.exit_code == 0, dry.output
    assert "would delete (run with --apply): 0 photo rows, 1 files" in dry.output
    assert orphan.exists()
    done = CliRunner().invoke(cli, ["retention", "--apply"])
    assert done.exit_code == 0, done.output
    assert "deleted: 0 photo rows, 1 files (3 bytes)" in done.output
    assert not orphan.exists()

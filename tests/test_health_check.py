"""The health check (健康车检) in the bay: the colour rule, the check started from the
checklist of the car's type, items saved one by one with their version, photos per item,
and every refusal changing nothing."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, Forbidden, InvalidInput
from app.models import (
    ChecklistItem,
    HealthCheck,
    HealthCheckResult,
    HealthColour,
    Photo,
    Role,
    VehicleType,
)
from app.models.base import utcnow
from app.services.health_check import checks, rules
from tests.conftest import csrf_token, html, sign_in
from tests.workshop_helpers import actor, another_technician, dispatched, hx, jpeg, toast

TREAD = rules.Limits(
    physical_min=Decimal(0), physical_max=Decimal(20), red_below=Decimal("1.6"),
    yellow_below=Decimal(3),
)  # fmt: skip
Users = dict[Role, int]


# -- the colour rule --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mm", "colour"),
    [("8", "green"), ("3", "green"), ("2.9", "yellow"), ("1.6", "yellow"), ("1.5", "red"),
     ("0", "red")],
)  # fmt: skip
def test_a_measurement_proposes_the_colour_of_the_limit_it_passes(mm: str, colour: str) -> None:
    assert rules.proposed(TREAD, Decimal(mm)) == HealthColour(colour)


def test_no_number_or_no_limits_proposes_nothing() -> None:
    assert rules.proposed(TREAD, None) is None
    assert rules.proposed(rules.Limits(physical_max=Decimal(100)), Decimal(5)) is None


def test_an_upper_limit_proposes_too() -> None:
    moisture = rules.Limits(yellow_above=Decimal(2), red_above=Decimal(3))
    assert rules.proposed(moisture, Decimal("3.5")) == HealthColour.RED
    assert rules.proposed(moisture, Decimal("2.5")) == HealthColour.YELLOW
    assert rules.proposed(moisture, Decimal(1)) == HealthColour.GREEN


@pytest.mark.parametrize("mm", ["40", "-1", "20.01"])
def test_a_measurement_out_of_physical_range_is_refused(mm: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        rules.judge(TREAD, "mm", HealthColour.GREEN, Decimal(mm), "")
    assert caught.value.field == "measurement"
    assert "0" in caught.value.message
    assert "20" in caught.value.message


def test_a_milder_colour_past_the_red_limit_needs_a_note() -> None:
    with pytest.raises(InvalidInput) as caught:
        rules.judge(TREAD, "mm", HealthColour.YELLOW, Decimal(1), "  ")
    assert caught.value.field == "note"
    assert rules.judge(TREAD, "mm", HealthColour.YELLOW, Decimal(1), "新胎已订，明天更换") == (
        HealthColour.RED
    )
    # Harsher than the limits is the technician's call, and needs no note.
    assert rules.judge(TREAD, "mm", HealthColour.RED, Decimal(5), "") == HealthColour.GREEN


def test_typed_numbers_are_read_as_the_tablet_sends_them() -> None:
    assert rules.parse_measurement(" 2,5 ") == Decimal("2.50")
    assert rules.parse_measurement("") is None
    for bad in ("abc", "NaN", "Infinity", "1e999999"):
        with pytest.raises(InvalidInput):
            rules.parse_measurement(bad)
    with pytest.raises(InvalidInput):
        rules.parse_colour("purple")


# -- the check on an order --------------------------------------------------------------


async def _started(db: AsyncSession, settings: Any, users: Users) -> tuple[int, int]:
    """A dispatched order and its check's id, started by the technician; committed."""
    order_id = await dispatched(db, settings, users)
    check = await checks.start(db, order_id, actor(users, Role.TECHNICIAN))
    await db.commit()
    return order_id, check.id


async def _result(db: AsyncSession, check: int, key: str) -> HealthCheckResult:
    """The item as stored now (a fresh transaction)."""
    await db.rollback()
    found = await db.scalar(
        select(HealthCheckResult).where(
            HealthCheckResult.health_check_id == check, HealthCheckResult.key == key
        )
    )
    assert found is not None
    return found


async def test_the_check_is_made_once_from_the_checklist_of_the_cars_type(
    db: AsyncSession, settings: Any, users: Users
) -> None:
    order_id, check = await _started(db, settings, users)
    items = (
        await db.scalars(
            select(ChecklistItem).where(
                ChecklistItem.vehicle_type == VehicleType.CAR.value, ChecklistItem.active
            )
        )
    ).all()
    found = await checks.results(db, check)
    assert [r.key for r in found] == [
        i.key for i in sorted(items, key=lambda i: (i.position, i.id))
    ]
    groups = {r.group for r in found}
    assert {"tyres", "brakes", "fluids", "battery", "lights", "wipers", "belts", "leaks",
            "underbody", "suspension", "exhaust"} <= groups  # fmt: skip
    assert all(r.colour == HealthColour.NOT_CHECKED for r in found)
    # A second tap (or a second tablet) gets the same check.
    again = await checks.start(db, order_id, actor(users, Role.ADVISOR))
    await db.commit()
    assert again.id == check
    assert await db.scalar(select(func.count(HealthCheck.id))) == 1
    # Safety groups come first for the customer.
    assert [g.key for g in checks.grouped(found)][:2] == ["tyres", "brakes"]


async def test_an_item_saved_takes_the_colour_its_measurement_proposes(
    db: AsyncSession, settings: Any, users: Users
) -> None:
    _order_id, check = await _started(db, settings, users)
    tyre = await _result(db, check, "tread_fl")
    saved = await checks.save_item(
        db, tyre.id, colour="", measurement="1.2", note="", version=tyre.version,
        actor=actor(users, Role.TECHNICIAN), now=utcnow(),
    )  # fmt: skip
    await db.commit()
    assert saved.proposed == HealthColour.RED
    tyre = await _result(db, check, "tread_fl")
    assert (tyre.colour, tyre.measurement, tyre.version) == ("red", Decimal("1.20"), 2)
    assert tyre.checked_by_id == users[Role.TECHNICIAN]


async def _refused_unchanged(
    db: AsyncSession, check: int, key: str, error: type[Exception], call: Any
) -> Exception:
    before = await _result(db, check, key)
    state = (before.colour, before.measurement, before.note, before.version)
    with pytest.raises(error) as caught:
        await call(before)
    after = await _result(db, check, key)
    assert (after.colour, after.measurement, after.note, after.version) == state
    return caught.value


async def test_refused_saves_say_why_and_change_nothing(
    db: AsyncSession, settings: Any, users: Users
) -> None:
    _order_id, check = await _started(db, settings, users)
    tech = actor(users, Role.TECHNICIAN)

    def save(**kw: Any) -> Any:
        async def call(r: HealthCheckResult) -> Any:
            args = {"colour": "green", "measurement": "", "note": "", "version": r.version}
            return await checks.save_item(db, r.id, **{**args, **kw}, actor=tech, now=utcnow())

        return call

    # Tread 40 mm, and a negative pad: impossible.
    error = await _refused_unchanged(db, check, "tread_fl", InvalidInput, save(measurement="40"))
    assert error.field == "measurement"  # type: ignore[attr-defined]
    error = await _refused_unchanged(db, check, "pads_front", InvalidInput, save(measurement="-2"))
    assert error.field == "measurement"  # type: ignore[attr-defined]
    # Green with 1 mm of tread and no word why.
    error = await _refused_unchanged(
        db, check, "tread_fl", InvalidInput, save(colour="green", measurement="1")
    )
    assert error.field == "note"  # type: ignore[attr-defined]
    # A stale version: someone saved the item since.
    await _refused_unchanged(
        db, check, "lights", Conflict,
        lambda r: checks.save_item(
            db, r.id, colour="green", measurement="", note="", version=r.version - 1,
            actor=tech, now=utcnow(),
        ),
    )  # fmt: skip
    # A number on an item that takes none.
    error = await _refused_unchanged(db, check, "lights", InvalidInput, save(measurement="3"))
    assert error.field == "measurement"  # type: ignore[attr-defined]


async def test_a_technician_the_car_is_not_dispatched_to_changes_nothing(
    db: AsyncSession, settings: Any, users: Users
) -> None:
    order_id, check = await _started(db, settings, users)
    other = await another_technician(db)
    with pytest.raises(Forbidden):
        await checks.start(db, order_id, other)
    await _refused_unchanged(
        db, check, "lights", Forbidden,
        lambda r: checks.save_item(
            db, r.id, colour="red", measurement="", note="", version=r.version, actor=other,
            now=utcnow(),
        ),
    )  # fmt: skip


async def test_a_complete_check_is_closed(db: AsyncSession, settings: Any, users: Users) -> None:
    order_id, check = await _started(db, settings, users)
    tech = actor(users, Role.TECHNICIAN)
    with pytest.raises(Conflict):  # nothing checked yet
        await checks.complete(db, order_id, tech, utcnow())
    await db.rollback()
    lights = await _result(db, check, "lights")
    await checks.save_item(
        db, lights.id, colour="green", measurement="", note="", version=lights.version,
        actor=tech, now=utcnow(),
    )  # fmt: skip
    done = await checks.complete(db, order_id, tech, utcnow())
    await db.commit()
    assert done.completed_at is not None
    assert done.completed_by_id == users[Role.TECHNICIAN]
    await _refused_unchanged(
        db, check, "wipers", Conflict,
        lambda r: checks.save_item(
            db, r.id, colour="red", measurement="", note="", version=r.version, actor=tech,
            now=utcnow(),
        ),
    )  # fmt: skip


# -- the screens ------------------------------------------------------------------------


# Routing and rendering: on SQLite only (conftest, `http_layer`).
@pytest.mark.http_layer
async def test_the_technician_checks_items_on_the_tablet(client, db, settings, users) -> None:
    order_id = await dispatched(db, settings, users)
    await sign_in(client, Role.TECHNICIAN)
    jobs = html(await client.get("/my-jobs"))
    assert jobs.select_one(f"[data-testid=health-check-{order_id}]")["href"] == (
        f"/health-checks/{order_id}"
    )
    token = await csrf_token(client, f"/health-checks/{order_id}")
    started = await client.post(f"/health-checks/{order_id}/start", headers={"x-csrftoken": token})
    assert started.status_code == 303
    page = html(await client.get(f"/health-checks/{order_id}"))
    assert page.select_one("h1").text.strip() == "健康车检"
    form = page.select_one("[data-testid=hc-form-tread_fl]")
    assert form.select_one("input[name=measurement]")["inputmode"] == "decimal"
    assert [i["value"] for i in form.select("input[name=colour]")] == ["green", "yellow", "red"]
    url = form["hx-post"]
    version = form.select_one("input[name=version]")["value"]

    # Out of range through htmx: 422, the field named, nothing swapped, nothing saved.
    bad = await client.post(
        url, data={"version": version, "measurement": "40", "note": ""}, headers=hx(token)
    )
    assert bad.status_code == 422
    assert toast(bad)["field"] == "measurement"
    check = await checks.of_order(db, order_id)
    assert check is not None
    assert (await _result(db, check.id, "tread_fl")).version == int(version)

    good = await client.post(
        url, data={"version": version, "measurement": "2.5", "note": ""}, headers=hx(token)
    )
    assert good.status_code == 200, good.text
    row = html(good).select_one("form")
    assert row["data-colour"] == "yellow"
    assert row.select_one("input[name=colour][value=yellow]").has_attr("checked")
    assert row.select_one("input[name=version]")["value"] == str(int(version) + 1)

    # A plain post (no script) refused: the page again with what was typed, field marked.
    plain = await client.post(
        url,
        data={"version": str(int(version) + 1), "colour": "green", "measurement": "1",
              "note": "", "order_id": str(order_id)},
        headers={"x-csrftoken": token},
    )  # fmt: skip
    assert plain.status_code == 422
    again = html(plain).select_one("[data-testid=hc-form-tread_fl]")
    assert again.select_one("input[name=measurement]")["value"] == "1"
    assert again.select_one("input[name=note]")["aria-invalid"] == "true"


# Routing and rendering: on SQLite only (conftest, `http_layer`).
@pytest.mark.http_layer
async def test_photos_go_with_their_item(client, db, settings, users) -> None:
    order_id, check = await _started(db, settings, users)
    tyre_id = (await _result(db, check, "tread_fl")).id
    await sign_in(client, Role.TECHNICIAN)
    token = await csrf_token(client, f"/health-checks/{order_id}")

    async def upload(data: bytes) -> Any:
        return await client.post(
            f"/health-checks/items/{tyre_id}/photos",
            data={"client_id": uuid.uuid4().hex, "position": "", "damage_mark_id": ""},
            files={"file": ("tyre.jpg", data, "image/jpeg")},
            headers={"x-csrftoken": token},
        )

    sent = await upload(jpeg(4))
    assert sent.status_code == 201, sent.text
    await db.rollback()
    rows = (await db.execute(select(Photo.stage, Photo.health_check_result_id))).all()
    assert [tuple(r) for r in rows] == [("health_check", tyre_id)]
    page = html(await client.get(f"/health-checks/{order_id}"))
    assert len(page.select("[data-testid=hc-item-tread_fl] [data-photo-thumbs] img")) == 1
    refused = await upload(b"not a photo")
    assert refused.status_code == 422
    await db.rollback()
    assert await db.scalar(select(func.count(Photo.id))) == 1


# Routing and rendering: on SQLite only (conftest, `http_layer`).
@pytest.mark.http_layer
async def test_qc_reads_the_check_and_cannot_change_it(client, db, settings, users) -> None:
    order_id, _check = await _started(db, settings, users)
    await sign_in(client, Role.QC_INSPECTOR)
    page = html(await client.get(f"/health-checks/{order_id}"))
    assert page.select_one("[data-testid=hc-summary]") is not None
    assert page.select_one("[data-testid=hc-finish]") is None
    assert page.select_one("input[name=colour]").has_attr("disabled")


async def test_an_answer_sent_again_after_a_lost_reply_is_taken_as_saved(
    db: AsyncSession, settings: Any, users: Users
) -> None:
    _order_id, check = await _started(db, settings, users)
    tech = actor(users, Role.TECHNICIAN)
    tyre = await _result(db, check, "tread_rr")
    seen = tyre.version
    answer = {"colour": "red", "measurement": "1.2", "note": "外侧磨损"}
    await checks.save_item(db, tyre.id, **answer, version=seen, actor=tech, now=utcnow())
    await db.commit()
    # The reply was lost: the tablet sends the same answer with the version it had.
    again = await checks.save_item(db, tyre.id, **answer, version=seen, actor=tech, now=utcnow())
    await db.commit()
    assert again.result.version == seen + 1
    assert (await _result(db, check, "tread_rr")).version == seen + 1
    # A different answer on that old version is someone else's change: refused.
    await _refused_unchanged(
        db, check, "tread_rr", Conflict,
        lambda r: checks.save_item(db, r.id, colour="yellow", measurement="1.2", note="",
                                   version=seen, actor=tech, now=utcnow()),
    )  # fmt: skip


# -- the manager's checklist --------------------------------------------------------------


# Routing and rendering: on SQLite only (conftest, `http_layer`).
@pytest.mark.http_layer
async def test_the_manager_changes_limits_adds_and_retires_items(client, db, users) -> None:
    await sign_in(client, Role.SERVICE_MANAGER)
    page = html(await client.get("/health-checks/checklist?vehicle_type=suv"))
    assert page.select_one("[data-testid=hc-edit-tread_fl]") is not None
    token = await csrf_token(client, "/health-checks/checklist")
    item = await db.scalar(
        select(ChecklistItem).where(
            ChecklistItem.vehicle_type == "suv", ChecklistItem.key == "tread_fl"
        )
    )
    assert item is not None
    item_id = item.id
    form = {
        "vehicle_type": "suv",
        "label_zh": "左前轮胎花纹深度",
        "label_en": "Tread depth, front left",
        "group": "tyres",
        "unit": "mm",
        "physical_min": "0",
        "red_below": "2",
        "yellow_below": "4",
        "physical_max": "20",
        "safety": "1",
        "active": "1",
        "labour_code": "L-TYRE",
        "part_code": "P-TYRE",
    }
    # Limits out of order: refused on the field, the form shown again as typed, unchanged.
    url = f"/health-checks/checklist/{item_id}"
    headers = {"x-csrftoken": token}
    bad = await client.post(url, data={**form, "yellow_below": "1"}, headers=headers)
    assert bad.status_code == 422
    shown = html(bad).select_one("[data-testid=hc-edit-tread_fl]")
    assert shown.select_one("input[name=yellow_below]")["value"] == "1"
    assert shown.select_one("input[name=yellow_below]")["aria-invalid"] == "true"
    await db.rollback()
    assert (await db.get(ChecklistItem, item_id, populate_existing=True)).red_below == Decimal(
        "1.6"
    )
    good = await client.post(url, data=form, headers=headers)
    assert good.status_code == 303
    await db.rollback()
    changed = await db.get(ChecklistItem, item_id, populate_existing=True)
    assert changed is not None
    assert (changed.red_below, changed.yellow_below) == (Decimal(2), Decimal(4))
    # Retired: not on the next check, kept on the list.
    await client.post(url, data={**form, "active": ""}, headers=headers)
    await db.rollback()
    assert not (await db.get(ChecklistItem, item_id, populate_existing=True)).active
    added = await client.post(
        "/health-checks/checklist/new",
        data={**form, "label_zh": "备胎气压", "label_en": "Spare tyre pressure", "unit": "kPa",
              "physical_min": "", "red_below": "", "yellow_below": "", "physical_max": ""},
        headers={"x-csrftoken": token},
    )  # fmt: skip
    assert added.status_code == 303
    await db.rollback()
    new = await db.scalar(select(ChecklistItem).where(ChecklistItem.key == "spare_tyre_pressure"))
    assert new is not None
    assert (new.vehicle_type, new.group, new.unit) == ("suv", "tyres", "kPa")


# Routing and rendering: on SQLite only (conftest, `http_layer`).
@pytest.mark.http_layer
async def test_only_the_manager_changes_the_checklist(client, db, users) -> None:
    await sign_in(client, Role.ADVISOR)
    assert (await client.get("/health-checks/checklist")).status_code == 403

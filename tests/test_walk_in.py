from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from app.errors import InvalidInput
from app.models import Customer, Role, Vehicle
from app.services import customers, lookup, plates
from app.services.audit import Actor
from tests.conftest import csrf_from, html, sign_in

GOOD = customers.NewVehicle(name="周先生", phone="13800138000", plate="粤B·A1234",
                            vin="1M8GDM9AXKP042788", make="Toyota", model="Camry")  # fmt: skip
WRONG_CHECK_DIGIT = "1M8GDM9A1KP042788"


def test_chinese_plates_are_checked_and_normalised() -> None:
    assert plates.normalise("粤b·a1234") == "粤BA1234"
    assert plates.is_valid("粤BA1234", "CN")
    assert plates.is_valid("粤BD12345", "CN")  # new-energy plates have six characters
    assert not plates.is_valid("粤BI1234", "CN")
    assert not plates.is_valid("AB1234", "CN")
    assert plates.is_valid("B-MW-1234", "DE")


async def test_a_wrong_vin_check_digit_is_an_error_in_china(db) -> None:
    with pytest.raises(InvalidInput, match="X") as refused:
        await customers.create_with_vehicle(
            db, replace(GOOD, vin=WRONG_CHECK_DIGIT), "CN", Actor(None)
        )
    assert refused.value.field == "vin"
    with pytest.raises(InvalidInput):  # an override does not count where the check digit is law
        await customers.create_with_vehicle(
            db, replace(GOOD, vin=WRONG_CHECK_DIGIT, vin_override=True), "CN", Actor(None)
        )
    assert await db.scalar(select(func.count(Vehicle.id))) == 0


async def test_elsewhere_the_advisor_may_keep_a_vin_with_a_wrong_check_digit(db) -> None:
    # A Chinese mobile is dialled from Germany with its country code.
    new = replace(GOOD, vin=WRONG_CHECK_DIGIT, plate="B-MW-1234", phone="+86 138 0013 8000")
    with pytest.raises(InvalidInput, match="已核对 VIN"):
        await customers.create_with_vehicle(db, new, "DE", Actor(None))
    vehicle = await customers.create_with_vehicle(
        db, replace(new, vin_override=True), "DE", Actor(None)
    )
    assert vehicle.vin == WRONG_CHECK_DIGIT


@pytest.mark.parametrize(
    ("field", "value"),
    [("vin", "1M8GDM9AXKP04278O"), ("vin", "SHORT"), ("plate", "ABC"), ("phone", "call me"),
     ("name", " "), ("year", "1850")],
)  # fmt: skip
async def test_bad_walk_in_details_are_refused_by_field(db, field, value) -> None:
    with pytest.raises(InvalidInput) as refused:
        await customers.create_with_vehicle(db, replace(GOOD, **{field: value}), "CN", Actor(None))
    assert refused.value.field == field
    assert await db.scalar(select(func.count(Customer.id))) == 0


async def test_a_new_walk_in_starts_its_check_in(client, db, users) -> None:
    await sign_in(client, Role.ADVISOR)
    token = csrf_from(html(await client.get("/walk-in/new")))
    bad = await client.post("/walk-in/new", data={
        "_csrf_token": token, "name": "周先生", "phone": "13800138000", "plate": "粤BA1234",
        "vin": WRONG_CHECK_DIGIT, "make": "Toyota", "model": "Camry"})  # fmt: skip
    assert bad.status_code == 422
    page = html(bad)
    # At the field, next to what was typed, not at the top of the form.
    assert "第 9 位" in page.select_one("#error-vin").get_text()
    assert page.select_one("#vin")["aria-describedby"] == "error-vin"
    assert page.select_one("[data-testid=form-error]") is None
    assert page.select_one("#name")["value"] == "周先生"
    assert await db.scalar(select(func.count(Customer.id))) == 0
    good = await client.post("/walk-in/new", data={
        "_csrf_token": token, "name": "周先生", "phone": "13800138000", "plate": "粤BA1234",
        "vin": "1m8gdm9axkp042788", "make": "Toyota", "model": "Camry"})  # fmt: skip
    assert good.status_code == 303
    assert good.headers["location"].endswith("/greeting")
    await db.rollback()  # a new snapshot, to see what the app committed
    vehicle = (await db.scalars(select(Vehicle))).one()
    assert vehicle.vin == "1M8GDM9AXKP042788"
    found = html(await client.get("/walk-in?q=BA1234"))
    assert found.select_one("[data-testid=start-walk-in]") is not None


async def test_the_lookup_finds_a_car_by_the_start_or_any_part_of_what_was_typed(db) -> None:
    actor = Actor(user_id=None)
    zhou = await customers.create_with_vehicle(db, GOOD, "CN", actor)
    other = replace(GOOD, name="Smith", phone="13911112222", plate="湘A55555",
                    vin="1HGCM82633A004352")  # fmt: skip
    smith = await customers.create_with_vehicle(db, other, "CN", actor)
    await db.commit()

    async def plates_for(query: str) -> list[str]:
        return [v.plate for v in await lookup.find_vehicles(db, query)]

    # The start of the plate (with or without its province), VIN, phone or name: indexes.
    assert await plates_for("粤B·A12") == [zhou.plate]
    assert await plates_for("BA1234") == [zhou.plate]
    assert await plates_for("1m8gdm") == [zhou.plate]
    assert await plates_for("1380013") == [zhou.plate]
    assert await plates_for("周先") == [zhou.plate]
    # Nothing starts so: any part, as before (the phone's last digits, a name's case).
    assert await plates_for("2222") == [smith.plate]
    assert await plates_for("smi") == [smith.plate]
    assert await plates_for("A1234") == [zhou.plate]
    assert await plates_for("5555") == [smith.plate]
    assert await plates_for("X9") == []


async def test_a_walk_in_s_phone_must_be_callable_in_the_region(client, db, users) -> None:
    await sign_in(client, Role.ADVISOR)
    token = csrf_from(html(await client.get("/walk-in/new")))
    form = {"_csrf_token": token, "name": "周先生", "plate": "粤BA1234", "make": "Toyota",
            "model": "Camry"}  # fmt: skip
    for number in ("8888666", "1380013800", "23800138000"):  # 7 digits; 10; no such prefix
        bad = await client.post("/walk-in/new", data={**form, "phone": number})
        assert bad.status_code == 422, number
        page = html(bad)
        assert page.select_one("#phone")["value"] == number
        assert page.select_one("#phone")["aria-invalid"] == "true"
        assert "11 位手机号码" in page.select_one("#error-phone").get_text()
    assert await db.scalar(select(func.count(Customer.id))) == 0
    good = await client.post("/walk-in/new", data={**form, "phone": "021-5888 6666"})
    assert good.status_code == 303
    await db.rollback()
    assert (await db.scalars(select(Customer.phone))).one() == "021-58886666"


async def test_a_phone_is_checked_for_the_dealership_s_region(db) -> None:
    actor = Actor(user_id=None)
    data = customers.NewVehicle(name="Ann", phone="020 7946 0018", plate="AB12CDE", vin="",
                                make="Ford", model="Focus")  # fmt: skip
    assert (await customers.create_with_vehicle(db, data, "GB", actor)).plate == "AB12CDE"
    with pytest.raises(InvalidInput) as refused:
        await customers.create_with_vehicle(db, replace(data, phone="12345"), "GB", actor)
    assert refused.value.field == "phone"

"""The dealer system books, moves and cancels visits on the JSON API with its bearer token:
201 with the booking, the same booking again for a repeated reference, 409 with two free
slots when the slot is taken, 404 for an unknown car, 422 naming the field for a refused
value, 400 for a body of the wrong shape; nothing is written by a refusal."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    Appointment,
    AppointmentChange,
    Customer,
    Dealership,
    LabourOperation,
    MenuPackage,
    MenuPackageItem,
    Role,
    Vehicle,
    WebhookEvent,
)
from app.models.base import utcnow
from app.services.api import clients as api_clients

pytestmark = pytest.mark.http_layer  # the HTTP wiring; the core's own tests run on both


def _day(days: int = 2) -> str:
    """A local day ahead of the real clock (the API books against the real now)."""
    from zoneinfo import ZoneInfo

    return (utcnow().astimezone(ZoneInfo("Asia/Shanghai")) + timedelta(days=days)).strftime(
        "%Y-%m-%d"
    )


@pytest.fixture(name="api")
async def fx_api(db: AsyncSession, users: dict[Role, int]) -> dict[str, object]:
    db.add(Dealership(code="D1", name="星辰丰田", phone="020-88886666"))
    customer = Customer(name="王先生", phone="13800000001", locale="zh_CN")
    car = Vehicle(customer=customer, vin="LSVAB4BR5EN000001", plate="粤B12345", make="VW",
                  model="Lavida", last_odometer_km=20_000)  # fmt: skip
    op = LabourOperation(code="OIL", name_zh="更换机油", name_en="Oil change",
                         flat_rate_hours=Decimal("1"), labour_rate=Decimal("200"))  # fmt: skip
    db.add_all([car, MenuPackage(code="M20", name_zh="20000公里保养", name_en="20,000 km service",
                                 interval_km=20_000, interval_months=12,
                                 items=[MenuPackageItem(labour_operation=op)])])  # fmt: skip
    _client, token = await api_clients.create_client(db, "DMS")
    await db.commit()
    return {"headers": {"Authorization": f"Bearer {token}"}, "car": car.id,
            "advisor": users[Role.ADVISOR]}  # fmt: skip


async def _count(db: AsyncSession) -> tuple[int, int, int]:
    return (
        await db.scalar(select(func.count(Appointment.id))) or 0,
        await db.scalar(select(func.count(AppointmentChange.id))) or 0,
        await db.scalar(select(func.count(WebhookEvent.id))) or 0,
    )


async def test_the_dealer_system_books_by_plate_and_a_retry_books_once(client, db, api) -> None:
    body = {
        "plate": "粤b 12345",
        "starts_at": f"{_day()}T10:00",
        "jobs": [{"title": "", "menu_package_code": "M20"}, {"title": "空调异味"}],
        "bring": ["service_book"],
        "external_ref": "DMS-778",
        "odometer_km": 20_100,
    }
    first = await client.post("/api/v1/appointments", json=body, headers=api["headers"])
    assert first.status_code == 201, first.text
    booked = first.json()
    assert booked["status"] == "booked"
    assert booked["vehicle"] == {"id": api["car"], "vin": "LSVAB4BR5EN000001", "plate": "粤B12345"}
    assert booked["advisor"] == {"id": api["advisor"], "name": "Advisor"}
    assert [(j["title"], j["menu_package_code"], j["labour_hours"]) for j in booked["jobs"]] == [
        ("20000公里保养", "M20", "1.00"), ("空调异味", None, "0.00"),
    ]  # fmt: skip
    assert (booked["estimate_amount"], booked["channel"], booked["version"]) == ("200.00", "api", 1)
    local = datetime.fromisoformat(booked["starts_at"]).astimezone(
        datetime.now().astimezone().tzinfo
    )
    assert local.utcoffset() is not None
    counts = await _count(db)
    again = await client.post(
        "/api/v1/appointments", json={**body, "starts_at": f"{_day(3)}T11:00"},
        headers=api["headers"],
    )  # fmt: skip
    assert again.status_code == 200
    assert again.json()["id"] == booked["id"]
    assert await _count(db) == counts
    change = await db.scalar(select(AppointmentChange).where(AppointmentChange.kind == "booked"))
    assert change is not None
    assert change.by_label == "DMS"
    listed = await client.get(f"/api/v1/appointments?day={_day()}", headers=api["headers"])
    assert listed.status_code == 200
    assert [a["id"] for a in listed.json()["items"]] == [booked["id"]]


async def test_a_taken_slot_answers_409_with_the_next_two_free_slots(client, db, api) -> None:
    body = {"vehicle_id": api["car"], "advisor_id": api["advisor"],
            "starts_at": f"{_day()}T10:00", "notes": "保养"}  # fmt: skip
    assert (
        await client.post("/api/v1/appointments", json=body, headers=api["headers"])
    ).status_code == 201
    taken = await client.post("/api/v1/appointments", json=body, headers=api["headers"])
    assert taken.status_code == 409
    answer = taken.json()
    assert answer["field"] == "starts_at"
    assert [o["advisor_id"] for o in answer["offers"]] == [api["advisor"]] * 2
    assert [o["starts_at"][11:16] for o in answer["offers"]] == ["02:30", "03:00"]  # UTC
    assert await db.scalar(select(func.count(Appointment.id))) == 1


REFUSED = [
    ({"vin": "LSVAB4BR5EN999999"}, 404, "vin"),
    ({"plate": "粤A00000"}, 404, "plate"),
    ({"vehicle_id": 99_999}, 404, "vehicle_id"),
    ({"starts_at": "2020-01-02T10:00"}, 422, "starts_at"),
    ({"starts_at": "DAYT07:00"}, 422, "starts_at"),  # before opening
    ({"jobs": [{"menu_package_code": "NOPE"}]}, 422, "jobs"),
    ({"odometer_km": 100}, 422, "odometer_km"),  # the car showed 20,000 km
    ({"bring": ["umbrella"]}, 422, "bring"),
    ({"advisor_id": 99_999}, 422, "advisor_id"),
    ({"vin": "LSVAB4BR5EN000001"}, 422, "vin"),  # and vehicle_id: name the car once
    ({"jobs": "oil change"}, 400, "jobs"),  # not a list
    ({"starts_at": 20261203}, 400, "starts_at"),
]


async def test_a_refused_booking_names_its_field_and_writes_nothing(client, db, api) -> None:
    seen = []
    for body, _status, _field in REFUSED:
        sent = {"vehicle_id": api["car"], "starts_at": f"{_day()}T10:00", "notes": "保养", **body}
        if body.get("vin", "LSVAB4BR5EN000001") != "LSVAB4BR5EN000001" or "plate" in body:
            sent.pop("vehicle_id")
        if sent["starts_at"] == "DAYT07:00":
            sent["starts_at"] = f"{_day()}T07:00"
        response = await client.post("/api/v1/appointments", json=sent, headers=api["headers"])
        assert response.headers["content-type"].startswith("application/json"), body
        answer = response.json()
        assert answer["error"], body
        assert answer["status"] == response.status_code
        seen.append((response.status_code, answer["field"]))
    assert seen == [(status, field) for _b, status, field in REFUSED]
    assert await _count(db) == (0, 0, 0)


async def test_moving_and_cancelling_on_the_api_keep_the_version(client, db, api) -> None:
    body = {"vehicle_id": api["car"], "starts_at": f"{_day()}T10:00", "notes": "保养"}
    booked = (await client.post("/api/v1/appointments", json=body, headers=api["headers"])).json()
    url = f"/api/v1/appointments/{booked['id']}"
    moved = await client.post(
        f"{url}/move", json={"starts_at": f"{_day()}T14:00", "version": 1, "reason": "客户要求"},
        headers=api["headers"],
    )  # fmt: skip
    assert moved.status_code == 200, moved.text
    assert (moved.json()["version"], moved.json()["starts_at"][11:16]) == (2, "06:00")
    stale = await client.post(f"{url}/cancel", json={"version": 1}, headers=api["headers"])
    assert stale.status_code == 409
    gone = await client.post(f"{url}/cancel", json={"version": 2, "reason": "出差"},
                             headers=api["headers"])  # fmt: skip
    assert gone.status_code == 200
    assert (gone.json()["status"], gone.json()["cancel_reason"]) == ("cancelled", "出差")
    again = await client.post(f"{url}/cancel", json={}, headers=api["headers"])
    assert again.status_code == 409
    missing = await client.post("/api/v1/appointments/99999/cancel", json={},
                                headers=api["headers"])  # fmt: skip
    assert missing.status_code == 404
    kinds = (await db.scalars(select(WebhookEvent.event_type).order_by(WebhookEvent.id))).all()
    assert kinds == ["appointment.booked", "appointment.moved", "appointment.cancelled"]


async def test_without_the_token_nothing_is_booked(client, db, api) -> None:
    body = {"vehicle_id": api["car"], "starts_at": f"{_day()}T10:00", "notes": "保养"}
    response = await client.post("/api/v1/appointments", json=body)
    assert response.status_code == 401
    listing = await client.get(f"/api/v1/appointments?day={_day()}")
    assert listing.status_code == 401
    assert await db.scalar(select(func.count(Appointment.id))) == 0

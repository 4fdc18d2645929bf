from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.cli import cli
from app.db import create_engine
from app.models import (
    ApiClient,
    CheckIn,
    Customer,
    Dealership,
    Job,
    JobLine,
    Role,
    Signature,
    SignatureKind,
    Supplement,
    SupplementStatus,
    Vehicle,
    WorkOrder,
    WorkOrderStatus,
)
from app.services.api import clients as api_clients
from app.services.estimate import pricing
from tests.conftest import sign_in

SIGNED_AT = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)


@pytest.fixture(name="token")
async def fx_token(db: AsyncSession) -> str:
    _client, token = await api_clients.create_client(db, "DMS")
    await db.commit()
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _line(kind: str, code: str, qty: str, price: str, unit: str | None = None) -> JobLine:
    return JobLine(
        kind=kind, code=code, name_zh=f"{code}中文", name_en=f"{code} en",
        quantity=Decimal(qty), list_price=Decimal(price), unit_price=Decimal(unit or price),
    )  # fmt: skip


async def _customer_car(db: AsyncSession, n: int) -> tuple[Customer, Vehicle]:
    customer = Customer(name=f"王{n}", phone=f"1380000000{n}")
    vehicle = Vehicle(
        vin=f"LSVAB4BR5EN00000{n}", plate=f"粤B1234{n}", make="Volkswagen", model="Lavida",
        year=2019, customer=customer,
    )  # fmt: skip
    db.add_all([customer, vehicle])
    await db.flush()
    return customer, vehicle


@dataclass
class Arranged:
    number: str
    order_id: int


async def _signed_order(db: AsyncSession) -> Arranged:
    """A signed order: a priced job with a manager's price, a warranty job, a
    declined job, approved added work, and added work still waiting."""
    db.add(Dealership(code="D1", name="Demo", tax_rate=Decimal("0.1300")))
    customer, vehicle = await _customer_car(db, 1)
    order = WorkOrder(
        number="WO20261122-0001", status=WorkOrderStatus.IN_PROGRESS,
        customer_id=customer.id, vehicle_id=vehicle.id,
        promised_at=SIGNED_AT + timedelta(hours=6), discount_amount=Decimal("10.00"),
    )  # fmt: skip
    db.add(order)
    await db.flush()
    db.add(CheckIn(work_order_id=order.id, odometer_km=45210, fuel_eighths=5))
    approved = Supplement(work_order_id=order.id, number=1)
    waiting = Supplement(work_order_id=order.id, number=2)
    db.add_all([approved, waiting])
    await db.flush()
    db.add_all([
        Job(work_order_id=order.id, title="刹车片更换", lines=[
            _line("labour", "BRK-01", "1.50", "180.00"),
            _line("part", "P-PAD", "2", "320.00", "300.00"),
        ]),
        Job(work_order_id=order.id, title="召回", warranty=True,
            lines=[_line("labour", "RECALL", "1.00", "180.00")]),
        Job(work_order_id=order.id, title="雨刮", declined_at=SIGNED_AT,
            lines=[_line("part", "P-WIPER", "1", "99.00")]),
        Job(work_order_id=order.id, supplement_id=approved.id, title="空调滤芯",
            source="finding", lines=[_line("labour", "AC-01", "0.50", "180.00")]),
        Job(work_order_id=order.id, supplement_id=waiting.id, title="轮胎", source="finding",
            lines=[_line("part", "P-TYRE", "4", "800.00")]),
    ])  # fmt: skip
    await db.flush()
    # Signed only now: signed content cannot be added to afterwards. (The
    # refresh loads signed_at, so the signed-content guard sees it was empty.)
    await db.refresh(order)
    order.signed_at = SIGNED_AT
    approved.status = SupplementStatus.APPROVED.value
    waiting.status = SupplementStatus.PENDING.value
    db.add(
        Signature(
            work_order_id=order.id, kind=SignatureKind.WORK_ORDER.value, signer_name="王1",
            signed_at=SIGNED_AT, locale="zh_CN", strokes=[], image_png=b"png",
            image_sha256="0" * 64, content="{}", content_hash="c" * 64, seal_hash="s" * 64,
        )
    )  # fmt: skip
    await db.commit()
    return Arranged(order.number, order.id)


# -- authentication -------------------------------------------------------------


async def test_without_a_token_the_api_answers_401_with_a_bearer_challenge(client, token) -> None:
    response = await client.get("/api/v1/work-orders")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["status"] == 401
    assert "Bearer" in response.json()["error"]


@pytest.mark.parametrize(
    "authorization",
    ["Bearer wa_not-a-real-token", "Bearer ", "Basic d2E6cHc=", "wa_no_scheme"],
)
async def test_a_wrong_or_malformed_token_is_refused(client, token, authorization) -> None:
    response = await client.get("/api/v1/work-orders", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers


async def test_a_revoked_token_is_refused(client, db, token) -> None:
    found = await api_clients.authenticate(db, token)
    assert found is not None
    await api_clients.revoke(db, found.id)
    await db.commit()
    response = await client.get("/api/v1/work-orders", headers=bearer(token))
    assert response.status_code == 401


async def test_a_staff_session_does_not_open_the_api(client, users, token) -> None:
    await sign_in(client, Role.ADMIN)
    assert (await client.get("/api/v1/work-orders")).status_code == 401


async def test_a_good_token_opens_the_api_and_its_use_is_noted(client, db, token) -> None:
    response = await client.get("/api/v1/work-orders", headers=bearer(token))
    assert response.status_code == 200
    assert response.json()["items"] == []
    stored = (await db.scalars(select(ApiClient))).one()
    assert stored.last_used_at is not None


async def test_only_the_tokens_hash_is_stored(db) -> None:
    client, token = await api_clients.create_client(db, "  DMS   nightly ")
    await db.commit()
    assert token.startswith("wa_")
    assert len(token) > 40
    assert client.name == "DMS nightly"
    assert client.token_hash == hashlib.sha256(token.encode()).hexdigest()
    row = (await db.execute(select(ApiClient.__table__))).one()
    assert token not in [str(value) for value in row]


# -- reading work orders ---------------------------------------------------------


async def test_the_detail_shows_the_order_as_the_database_has_it(client, db, token) -> None:
    arranged = await _signed_order(db)
    response = await client.get(f"/api/v1/work-orders/{arranged.number}", headers=bearer(token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["number"] == "WO20261122-0001"
    assert body["status"] == "in_progress"
    assert body["signed_at"] == "2026-11-22T02:00:00Z"
    assert body["promised_at"] == "2026-11-22T08:00:00Z"
    assert body["delivered_at"] is None
    assert body["customer"] == {"name": "王1", "phone": "13800000001"}
    assert body["vehicle"] == {
        "vin": "LSVAB4BR5EN000001", "plate": "粤B12341", "make": "Volkswagen",
        "model": "Lavida", "year": 2019,
    }  # fmt: skip
    assert (body["odometer_km"], body["fuel_eighths"]) == (45210, 5)
    assert body["currency"] == "CNY"
    # Approved added work is on the order; added work still waiting for the customer is not.
    assert [j["title"] for j in body["jobs"]] == ["刹车片更换", "召回", "雨刮", "空调滤芯"]
    brakes, recall, wipers, filter_ = body["jobs"]
    assert brakes["lines"][1] == {
        "code": "P-PAD", "name_zh": "P-PAD中文", "name_en": "P-PAD en", "kind": "part",
        "quantity": "2.00", "list_price": "320.00", "unit_price": "300.00", "amount": "600.00",
    }  # fmt: skip
    assert brakes["lines"][0]["amount"] == "270.00"
    assert brakes["amount"] == "870.00"
    assert (brakes["warranty"], brakes["declined"]) == (False, False)
    assert recall["warranty"] is True
    assert wipers["declined"] is True
    assert filter_["added_after_signing"] is True
    assert brakes["added_after_signing"] is False
    # Decimals travel as strings; the totals are the estimate service's own.
    assert body["estimate_totals"] == {
        "labour": "270.00", "parts": "600.00", "warranty": "180.00", "subtotal": "870.00",
        "discount": "10.00", "tax_rate": "0.1300", "tax": "111.80", "total": "971.80",
        "hours": "2.50",
    }  # fmt: skip
    assert body["totals"]["labour"] == "360.00"
    assert body["totals"]["total"] == "1073.50"
    order = await db.get(WorkOrder, arranged.order_id)
    assert order is not None
    expected = await pricing.order_totals(db, order, with_supplements=True)
    assert Decimal(body["totals"]["total"]) == expected.total
    assert body["signature"] == {
        "signed_at": "2026-11-22T02:00:00Z", "signer_name": "王1", "content_hash": "c" * 64,
    }  # fmt: skip


async def test_an_unsigned_order_has_no_signature(client, db, token) -> None:
    db.add(Dealership(code="D1", name="Demo"))
    customer, vehicle = await _customer_car(db, 2)
    db.add(WorkOrder(number="WO-2", customer_id=customer.id, vehicle_id=vehicle.id))
    await db.commit()
    body = (await client.get("/api/v1/work-orders/WO-2", headers=bearer(token))).json()
    assert body["signature"] is None
    assert body["jobs"] == []
    assert body["odometer_km"] is None
    assert body["totals"]["total"] == "0.00"


async def test_an_unknown_number_is_a_json_404(client, token) -> None:
    response = await client.get("/api/v1/work-orders/WO-NOPE", headers=bearer(token))
    assert response.status_code == 404
    assert "WO-NOPE" in response.json()["error"]


async def test_the_list_filters_by_status_and_change_time_and_pages(client, db, token) -> None:
    base = datetime(2026, 11, 20, tzinfo=UTC)
    statuses = [WorkOrderStatus.SIGNED, WorkOrderStatus.QC, WorkOrderStatus.SIGNED]
    for n, status in enumerate(statuses, start=1):
        customer, vehicle = await _customer_car(db, n)
        db.add(
            WorkOrder(
                number=f"WO-{n}", status=status, customer_id=customer.id, vehicle_id=vehicle.id,
                updated_at=base + timedelta(days=n),
            )
        )  # fmt: skip
    await db.commit()

    async def numbers(query: str) -> tuple[list[str], dict]:  # type: ignore[type-arg]
        response = await client.get(f"/api/v1/work-orders?{query}", headers=bearer(token))
        assert response.status_code == 200, response.text
        page = response.json()
        return [item["number"] for item in page["items"]], page

    assert (await numbers(""))[0] == ["WO-1", "WO-2", "WO-3"]
    assert (await numbers("status=signed"))[0] == ["WO-1", "WO-3"]
    assert (await numbers("updated_since=2026-11-22T00:00:00Z"))[0] == ["WO-2", "WO-3"]
    assert (await numbers("status=signed&updated_since=2026-11-22T00:00:00Z"))[0] == ["WO-3"]
    first, page = await numbers("limit=2")
    assert (first, page["total"], page["next_offset"]) == (["WO-1", "WO-2"], 3, 2)
    rest, page = await numbers("limit=2&offset=2")
    assert (rest, page["next_offset"]) == (["WO-3"], None)
    item = page["items"][0]
    assert item["customer"]["name"] == "王3"
    assert item["vehicle"]["plate"] == "粤B12343"
    assert item["updated_at"] == "2026-11-23T00:00:00Z"


@pytest.mark.parametrize(
    "query",
    [
        "limit=201",
        "limit=0",
        "offset=-1",
        "status=parked",
        # Found by the schema check (test_api_schema): a bare number was read as a Unix
        # time, and an unknown parameter (a misspelt filter) was ignored.
        "updated_since=20846",
        "updated_since=2026-11-22",
        "update_since=2026-11-22T00:00:00Z",
    ],
)
async def test_bad_paging_or_filters_are_a_json_400(client, token, query) -> None:
    response = await client.get(f"/api/v1/work-orders?{query}", headers=bearer(token))
    assert response.status_code == 400
    assert response.json()["status"] == 400
    assert response.json()["field"] == query.split("=")[0]


async def test_the_openapi_schema_documents_the_api(client, users) -> None:
    await sign_in(client, Role.ADVISOR)
    response = await client.get("/api/docs/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    assert "/api/v1/work-orders" in paths
    assert "/api/v1/work-orders/{number}" in paths
    detail = paths["/api/v1/work-orders/{number}"]["get"]
    assert detail["security"] == [{"BearerToken": []}]
    ok = detail["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["$ref"].endswith("/ApiWorkOrder")
    components = schema["components"]
    assert components["securitySchemes"]["BearerToken"] == {"type": "http", "scheme": "bearer"}
    shapes = components["schemas"]
    for name in ("ApiWorkOrder", "ApiWorkOrderPage", "ApiJob", "ApiJobLine", "ApiTotals"):
        assert name in shapes, name
    assert shapes["ApiTotals"]["properties"]["total"]["type"] == "string"
    assert "estimate_totals" in shapes["ApiWorkOrder"]["required"]
    params = {p["name"] for p in paths["/api/v1/work-orders"]["get"]["parameters"]}
    assert {"status", "updated_since", "limit", "offset"} <= params


async def test_a_time_utc_cannot_hold_is_before_or_after_every_order(client, db, token) -> None:
    # Found by the schema check (test_api_schema): valid ISO 8601 times at the ends of
    # the calendar overflowed on conversion to UTC, a 500.
    customer, vehicle = await _customer_car(db, 1)
    db.add(WorkOrder(number="WO-1", customer_id=customer.id, vehicle_id=vehicle.id))
    await db.commit()
    for since, expected in [
        ("0001-01-01T00:00:00%2B01:00", ["WO-1"]),
        ("0001-01-01T00:00:00", ["WO-1"]),
        ("9999-12-31T23:59:59-01:00", []),
    ]:
        response = await client.get(
            f"/api/v1/work-orders?updated_since={since}", headers=bearer(token)
        )
        assert response.status_code == 200, (since, response.text)
        assert [item["number"] for item in response.json()["items"]] == expected, since


# -- command line ------------------------------------------------------------------


def test_the_cli_creates_lists_and_revokes_api_clients(settings, monkeypatch) -> None:
    monkeypatch.setenv("WALKAROUND_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("WALKAROUND_DATA_DIR", str(settings.data_dir))
    runner = CliRunner()
    created = runner.invoke(cli, ["api-client", "create", "Dealer system"])
    assert created.exit_code == 0, created.output
    token = created.output.strip().splitlines()[-1]
    assert token.startswith("wa_")

    listed = runner.invoke(cli, ["api-client", "list"])
    assert "Dealer system" in listed.output
    assert "active" in listed.output
    assert token not in listed.output

    revoked = runner.invoke(cli, ["api-client", "revoke", "1"])
    assert revoked.exit_code == 0, revoked.output
    assert "revoked" in runner.invoke(cli, ["api-client", "list"]).output
    assert runner.invoke(cli, ["api-client", "revoke", "99"]).exit_code != 0

    async def check() -> ApiClient | None:
        engine = create_engine(settings.database_url)
        async with async_sessionmaker(engine)() as session:
            found = await api_clients.authenticate(session, token)
        await engine.dispose()
        return found

    assert asyncio.run(check()) is None

"""`python -m bench year` at a tiny scale: the rows it promises, and every page of the
year benchmark answers for an order it made (on SQLite and, when reachable, PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.demo.data import DEMO_PASSWORD
from app.demo.history import orders as year_orders
from app.models import Base, Photo, Signature, SignatureKind, Vehicle, WorkOrder, WorkOrderStatus
from app.services.api import clients as api_clients
from app.services.signing import signatures
from app.services.verify import customer as customer_verify
from app.settings import Settings
from bench import year
from tests.conftest import csrf_from, html

SCALE = 0.002  # 74 orders of 30 cars


async def _sign_in_as_demo_advisor(client: AsyncTestClient[Litestar]) -> None:
    page = html(await client.get("/sign-in"))
    form = {"username": "advisor", "password": DEMO_PASSWORD, "_csrf_token": csrf_from(page)}
    answer = await client.post("/sign-in", data=form)
    assert answer.status_code == 303, answer.text


async def test_a_tiny_year_has_the_rows_it_promised_and_every_page_answers(
    settings: Settings,
    session_maker: async_sessionmaker[AsyncSession],
    client: AsyncTestClient[Litestar],
) -> None:
    counts = await year.generate(settings, SCALE)

    orders, vehicles, customers = year.plan(SCALE)
    assert (orders, vehicles, customers) == (74, 30, 26)
    assert counts.rows["work_order"] == orders
    assert counts.rows["vehicle"] == vehicles
    assert counts.rows["customer"] == customers
    assert counts.rows["check_in"] == orders
    assert 12 * orders <= counts.rows["photo"] <= 15 * orders
    assert counts.rows["today"] == 2
    async with session_maker() as db:
        for table in Base.metadata.sorted_tables:
            if table.name in counts.rows:  # what it says it wrote is in the database
                in_db = await db.scalar(select(func.count()).select_from(table))
                assert (in_db or 0) >= counts.rows[table.name], table.name
        # A car the year signed for more than twice (the demo's own cars have visits too).
        repeat = await db.scalar(
            select(WorkOrder.vehicle_id)
            .join(Signature, Signature.work_order_id == WorkOrder.id)
            .where(Signature.kind == SignatureKind.WORK_ORDER.value)
            .group_by(WorkOrder.vehicle_id)
            .having(func.count(WorkOrder.id.distinct()) > 2).limit(1)
        )  # fmt: skip
        assert repeat is not None, "no car came back"
        old = await db.scalar(
            select(WorkOrder).where(WorkOrder.status == WorkOrderStatus.DELIVERED,
                                    WorkOrder.vehicle_id == repeat).order_by(WorkOrder.id)
        )  # fmt: skip
        assert old is not None
        assert old.created_at < datetime.now(UTC) - timedelta(days=1)
        car = await db.get(Vehicle, repeat)
        assert car is not None
        open_order = await db.scalar(
            select(WorkOrder.id).where(WorkOrder.status == WorkOrderStatus.ESTIMATE)
        )
        signature = await db.scalar(
            select(Signature.id).where(Signature.work_order_id == old.id,
                                       Signature.kind == SignatureKind.WORK_ORDER.value)
        )  # fmt: skip
        photo = await db.scalar(select(Photo.id).where(Photo.check_in_id.is_not(None)).limit(1))
        # Every record the year signed is the one the app rebuilds from its rows.
        generated = (await db.scalars(
            select(Signature).where(Signature.device_id == year_orders.DEVICE)
            .order_by(Signature.id)
        )).all()  # fmt: skip
        # The work order's and the delivery's, and each approved supplement's.
        signed = 2 * counts.rows["delivery"] + counts.rows["supplement"]
        assert len(generated) == counts.rows["signature"] == signed
        for record in generated:
            check = await signatures.verify(db, record, settings.currency)
            assert check.intact, (record.kind, record.work_order_id, check.differences[:3])
        _client, token = await api_clients.create_client(db, "DMS")
        await db.commit()
    assert open_order is not None
    assert signature is not None
    assert photo is not None

    await _sign_in_as_demo_advisor(client)
    for query in (car.plate, car.customer.phone, car.customer.name, (car.vin or "")[:8]):
        found = await client.get("/walk-in/", params={"q": query})
        assert found.status_code == 200, query
        assert car.plate in found.text, query
    since = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    pages = [
        "/lane", f"/work-orders/{old.id}", f"/work-orders/{open_order}/estimate",
        "/workshop/", f"/verify/{signature}",
        f"/v/{customer_verify.token(settings.secret_key, signature)}",
        f"/photos/{photo}/thumb",
    ]  # fmt: skip
    for path in pages:
        assert (await client.get(path)).status_code == 200, path
    listed = await client.get(
        "/api/v1/work-orders", params={"updated_since": since},
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    assert listed.status_code == 200
    assert listed.json()["total"] > 0

"""A GET never changes data: every GET route in the app, with real ids from a
lane in full swing, asked by a user its guard admits, leaves every row as it was.

A route added later with a path parameter this test has no value for fails
here until one is given, so no GET escapes the walk.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.demo import data as demo_data
from app.models import (
    CheckIn,
    Complaint,
    FollowUpTask,
    LabourOperation,
    MenuPackage,
    Part,
    Photo,
    Role,
    Signature,
    WorkOrder,
    WorkOrderStatus,
)
from app.models.base import Base, utcnow
from app.services.api import clients as api_clients
from app.services.check_in import steps as check_ins
from app.services.supplements import added_work as supplements
from app.services.verify import customer as customer_verify
from app.settings import Settings
from tests.conftest import sign_in
from tests.estimate_helpers import advisor, order
from tests.workshop_helpers import (
    add_photo,
    checked_in_order,
    draft_supplement,
    ready_with,
    signed_order_with,
)

# A stream that stays open; tests/test_workshop_routes.py proves it holds no session.
NOT_WALKED = {"/workshop/events"}
# The one column a GET writes: when a dealer-system token was last used (the
# bearer API; no browser can be made to send it), so idle tokens can be revoked.
BOOKKEEPING = {("api_client", "last_used_at")}
# Search-like routes are asked with a query too.
QUERIES = {"q": "机油"}
PARAM = re.compile(r"{(\w+):(\w+)}")


async def _lane_in_full_swing(
    db: AsyncSession, settings: Settings, users: dict[Role, int]
) -> dict[str, list[str]]:
    """The demo's cars in the workshop plus an order at every earlier stage;
    the values each path parameter is tried with."""
    await demo_data.load(db, settings.tz)
    await db.commit()
    estimating = await checked_in_order(db, settings, users, appointment=1)
    signed = await signed_order_with(db, settings, users, appointment=2, photo_positions=["front"])
    ready = await ready_with(db, settings, users, appointment=3)
    supplement_id = await draft_supplement(db, users, signed)
    supplement, wo = await supplements.get(db, supplement_id)
    token = await supplements.send(db, supplement, wo, "tablet", settings, advisor(users), utcnow())
    await db.commit()
    appointment = (await order(db, estimating)).appointment_id
    assert appointment is not None
    # An unfinished check-in, with a photo already taken.
    started = await check_ins.start_from_appointment(db, appointment + 3, advisor(users))
    await add_photo(db, settings, users, started, "front-left", seed=7)
    _client, api_token = await api_clients.create_client(db, "DMS")
    await db.commit()

    orders = {started.work_order_id, estimating, signed, ready}
    for status in WorkOrderStatus:  # one of each stage the demo has (in progress … delivered)
        found = await db.scalar(select(WorkOrder.id).where(WorkOrder.status == status).limit(1))
        if found is not None:
            orders.add(found)
    statuses = set(await db.scalars(select(WorkOrder.status).where(WorkOrder.id.in_(orders))))
    assert statuses >= {
        WorkOrderStatus.CHECK_IN, WorkOrderStatus.ESTIMATE, WorkOrderStatus.SIGNED,
        WorkOrderStatus.READY, WorkOrderStatus.DELIVERED,
    }  # fmt: skip
    check_in_ids = (
        await db.scalars(select(CheckIn.id).where(CheckIn.work_order_id.in_(orders)))
    ).all()
    sig_ids = (await db.scalars(select(Signature.id).order_by(Signature.id))).all()
    verify_tokens = [customer_verify.token(settings.secret_key, i) for i in sig_ids]
    ids = {
        "order_id": sorted(orders),
        "check_in_id": sorted(check_in_ids),
        "photo_id": (await db.scalars(select(Photo.id).order_by(Photo.id))).all()[:3],
        "supplement_id": [supplement_id],
        # The demo's complaints: one in each state.
        "complaint_id": (await db.scalars(select(Complaint.id).order_by(Complaint.id))).all(),
        "signature_id": sig_ids,
        "item_id": [
            *(await db.scalars(select(LabourOperation.id).limit(1))).all(),
            *(await db.scalars(select(Part.id).limit(1))).all(),
            *(await db.scalars(select(MenuPackage.id).limit(1))).all(),
        ],
        "number": (await db.scalars(select(WorkOrder.number).limit(3))).all(),
        # The demo's month of follow-up calls: open, moved, reached, declined.
        "task_id": (await db.scalars(select(FollowUpTask.id).order_by(FollowUpTask.id))).all()[-8:],
        # Bookings: checked in, one whose check-in is under way, one still booked.
        "appointment_id": [appointment, appointment + 3, appointment + 5],
        # The vehicle files of the cars in those orders.
        "vehicle_id": (
            await db.scalars(select(WorkOrder.vehicle_id).where(WorkOrder.id.in_(orders)))
        ).all()[:3],
    }
    return {
        **{name: [str(v) for v in values] for name, values in ids.items()},
        "step": ["greeting", "covers", "walkaround", "symptoms", "done"],
        "size": ["thumb", "display"],
        # The customer's approval link and the customer's verify link (/v/…).
        "token": [token, *verify_tokens[:3], "not-a-token"],
        "kind": ["labour", "parts", "packages"],
        "file_path": ["css/app.css"],
        "path": ["nothing-here"],
        "question": ["car_clean", "greeted_promptly"],
        # The board's figures: a count, a share with its drill-down facts, the bills.
        "code": ["arrivals", "greeted_in_time", "bill_matches", "follow_ups_on_time"],
        "_api_token": [api_token],
    }


def _get_routes(app: Litestar) -> list[tuple[str, HTTPRouteHandler]]:
    return [
        (route.path, handler)
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if isinstance(handler, HTTPRouteHandler)
        and "GET" in handler.http_methods
        and route.path not in NOT_WALKED
    ]


def _role_for(handler: HTTPRouteHandler) -> Role:
    allowed: set[Role] = set(Role)
    for layer in handler.ownership_layers:
        for guard in layer.guards or []:
            allowed &= set(getattr(guard, "allowed_roles", Role))
    for preferred in (Role.ADVISOR, Role.SERVICE_MANAGER, Role.TECHNICIAN, Role.ADMIN):
        if preferred in allowed:
            return preferred
    return sorted(allowed)[0]


def _urls(path: str, values: dict[str, list[str]]) -> list[str]:
    names = [name for name, _type in PARAM.findall(path)]
    missing = [n for n in names if n not in values]
    assert not missing, f"give {path} a value for {missing} in _lane_in_full_swing"
    urls = []
    for combo in itertools.product(*(values[n] for n in names)):
        url = path
        for value in combo:
            url = PARAM.sub(value, url, count=1)
        urls.append(url)
    return urls


async def _rows(session_maker: async_sessionmaker[AsyncSession]) -> dict[str, list[str]]:
    async with session_maker() as session:
        return {
            table.name: sorted(
                repr(tuple(row))
                for row in (
                    await session.execute(
                        select(*(c for c in table.c if (table.name, c.name) not in BOOKKEEPING))
                    )
                ).all()
            )
            for table in Base.metadata.sorted_tables
        }


def _changed(before: dict[str, list[str]], after: dict[str, list[str]]) -> dict[str, Any]:
    return {
        name: {
            "gone": sorted(set(rows) - set(after[name]))[:3],
            "new": sorted(set(after[name]) - set(rows))[:3],
        }
        for name, rows in before.items()
        if rows != after[name]
    }


async def test_no_get_route_changes_a_row(client, db, session_maker, settings, users) -> None:
    values = await _lane_in_full_swing(db, settings, users)
    await db.rollback()
    by_user: dict[Role | None, list[tuple[str, HTTPRouteHandler]]] = {}
    for path, handler in _get_routes(client.app):
        by_user.setdefault(None if handler.opt.get("public") else _role_for(handler), []).append(
            (path, handler)
        )
    headers = {"Authorization": f"Bearer {values['_api_token'][0]}"}
    walked = 0
    for role, routes in by_user.items():
        client.cookies.clear()
        if role is not None:
            await sign_in(client, role)  # a POST: the walk starts after it
        before = await _rows(session_maker)
        for path, handler in routes:
            queries = [{}, QUERIES] if "q" in handler.parsed_fn_signature.parameters else [{}]
            urls = _urls(path, values)
            for url, query in itertools.product(urls, queries):
                response = await client.get(url, params=query, headers=headers)
                assert response.status_code < 500, (url, response.text[:300])
                walked += 1
            # One look at the database per route keeps the walk quick.
            after = await _rows(session_maker)
            assert _changed(before, after) == {}, f"GET {path} as {role} changed rows ({urls})"
    # Every route, each order at every stage of the lane.
    assert walked > 150

"""Admin manages staff and the catalogue; it is not a master key. The QC final check
names a QC inspector and the customer's signatures are taken by the front desk
(separation of duties)."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler

from app.errors import Forbidden
from app.i18n import _
from app.models import Role, WorkOrderStatus
from app.models.base import utcnow
from app.services.delivery import handover as delivery
from app.services.final_check import inspection as final_check
from tests.conftest import csrf_token, html, sign_in
from tests.estimate_helpers import order, priced_estimate
from tests.test_delivery_routes import ready_to_sign, sign_form, unchanged
from tests.test_final_check_routes import nothing_inspected, pass_form
from tests.workshop_helpers import actor, hx, in_qc, toast

pytestmark = pytest.mark.http_layer

# Staff, the catalogue and the board's targets (a setting; the admin reads no figures).
ADMIN_AREAS = ("/admin/", "/catalogue", "/board/targets")
DENIED = "Your role does not give access to this screen."


def test_admin_is_admitted_by_name_only_to_staff_and_catalogue_screens(app: Litestar) -> None:
    stray = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler):
                continue
            for layer in handler.ownership_layers:
                for guard in layer.guards or []:
                    allowed = getattr(guard, "allowed_roles", frozenset())
                    everyone = allowed == frozenset(Role)  # the lane board, sign-out
                    if Role.ADMIN in allowed and not everyone:
                        stray += [] if route.path.startswith(ADMIN_AREAS) else [route.path]
    assert stray == []


async def test_an_admin_cannot_give_the_final_check_verdict(client, db, settings, users) -> None:
    order_id = await in_qc(db, settings, users)
    await sign_in(client, Role.ADMIN)
    assert (await client.get("/final-check")).status_code == 403
    assert (await client.get(f"/final-check/{order_id}")).status_code == 403
    token = await csrf_token(client)
    form = await pass_form(db, order_id)
    refused = await client.post(f"/final-check/{order_id}", data=form, headers=hx(token))
    assert refused.status_code == 403
    assert toast(refused)["message"] == _(DENIED)
    # The service itself asks for the QC inspector, whatever route calls it.
    with pytest.raises(Forbidden):
        await final_check.inspect(
            db, order_id, passed=True, ticked=list(form["items"]),  # type: ignore[call-overload]
            odometer_km=str(form["odometer_km"]), fuel_eighths=str(form["fuel_eighths"]),
            reason_category=None, note=None, rework_job_ids=[],
            actor=actor(users, Role.ADMIN), now=utcnow(),
        )  # fmt: skip
    await db.rollback()
    await nothing_inspected(db, order_id, WorkOrderStatus.QC)


async def test_an_admin_cannot_sign_a_car_out(client, db, settings, users) -> None:
    order_id = await ready_to_sign(db, settings, users)
    await sign_in(client, Role.ADMIN)
    assert (await client.get(f"/delivery/{order_id}")).status_code == 403
    token = await csrf_token(client)
    version = (await order(db, order_id)).version
    handed = await client.post(f"/delivery/{order_id}/customer-mode", headers=hx(token))
    assert handed.status_code == 403
    signed = await client.post(
        f"/review/{order_id}/delivery/sign", data=sign_form(version), headers=hx(token)
    )
    assert signed.status_code == 403
    with pytest.raises(Forbidden):
        await delivery.begin(db, order_id, actor(users, Role.ADMIN))
    await unchanged(db, order_id)


async def test_an_admin_cannot_hand_the_estimate_to_the_customer(
    client, db, settings, users
) -> None:
    order_id = await priced_estimate(db, settings, users)
    await sign_in(client, Role.ADMIN)
    assert (await client.get(f"/work-orders/{order_id}/estimate")).status_code == 403
    token = await csrf_token(client)
    handed = await client.post(f"/work-orders/{order_id}/customer-mode", headers=hx(token))
    assert handed.status_code == 403
    assert (await client.get(f"/review/{order_id}")).status_code == 403
    wo = await order(db, order_id)
    assert wo.status == WorkOrderStatus.ESTIMATE
    assert wo.signed_at is None


async def test_an_admin_still_manages_staff_and_the_catalogue(client, users) -> None:
    await sign_in(client, Role.ADMIN)
    page = html(await client.get("/lane"))
    links = {a["href"] for a in page.select("header.appbar nav a")}
    assert {"/admin/staff", "/catalogue"} <= links
    assert "/final-check" not in links
    assert "/walk-in" not in links
    assert (await client.get("/admin/staff")).status_code == 200
    assert (await client.get("/catalogue/labour")).status_code == 200

"""Input no one types, answered with a clear 4xx instead of a 500: a 60,000-character
search, signature strokes nested 100,000 deep."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.i18n import _
from app.models import Role, Signature, WorkOrderStatus
from tests.conftest import csrf_token, html, sign_in
from tests.estimate_helpers import ink, order, priced_estimate
from tests.test_supplements import priced_supplement, send_link

pytestmark = pytest.mark.http_layer

LONG = "粤" + "A" * 60_000
MAX_SEARCH = 100  # longer than any name, plate, VIN, phone or catalogue entry


def too_long() -> str:
    return _("A search is at most %(n)s characters long.", n=MAX_SEARCH)


async def test_a_search_longer_than_anything_on_file_is_refused_with_a_message(
    client, db, settings, users
) -> None:
    order_id, supplement_id = await priced_supplement(db, settings, users)
    await sign_in(client, Role.SERVICE_MANAGER)
    for url in (
        "/walk-in",
        "/catalogue/labour",
        "/catalogue/parts",
        "/catalogue/packages",
        f"/work-orders/{order_id}/estimate/search",
        f"/supplements/{supplement_id}/search",
    ):
        page = await client.get(url, params={"q": LONG})
        assert page.status_code == 400, url
        assert too_long() in html(page).get_text(), url
        # As-you-type (htmx): a toast with the message, nothing swapped.
        typed = await client.get(url, params={"q": LONG}, headers={"HX-Request": "true"})
        assert typed.status_code == 400, url
        assert json.loads(typed.headers["HX-Trigger"])["wa:toast"]["message"] == too_long()
        # The longest search allowed still runs.
        assert (await client.get(url, params={"q": "A" * MAX_SEARCH})).status_code == 200, url
    assert 'maxlength="100"' in (await client.get("/walk-in")).text


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("strokes", [nested(100_000), '[{"points": ' * 5_000])
async def test_strokes_nested_deep_are_refused_with_the_ink_message_on_the_approval_link(
    client, db, settings, users, strokes
) -> None:
    order_id, supplement_id = await priced_supplement(db, settings, users)
    token = await send_link(db, settings, users, supplement_id)
    page = html(await client.get(f"/approve/{token}"))
    # The token htmx sends with every request from this page.
    csrf = json.loads(str(page.body["hx-headers"]))["x-csrftoken"]
    _strokes, image = ink()
    response = await client.post(
        f"/approve/{token}",
        data={"decision": "approve", "signer_name": "王先生", "strokes": strokes,
              "image": image},
        headers={"HX-Request": "true", "x-csrftoken": csrf},
    )  # fmt: skip
    assert response.status_code == 422
    toast = json.loads(response.headers["HX-Trigger"])["wa:toast"]
    assert toast["message"] == _("The signature could not be read. Please sign again.")
    count = select(func.count(Signature.id)).where(Signature.work_order_id == order_id)
    assert await db.scalar(count) == 1  # the order's own signature only


async def test_strokes_nested_deep_are_refused_on_the_review_tablet(
    client, db, settings, users
) -> None:
    order_id = await priced_estimate(db, settings, users)
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client, f"/work-orders/{order_id}/estimate")
    headers = {"x-csrftoken": token, "HX-Request": "true"}
    entered = await client.post(f"/work-orders/{order_id}/customer-mode", headers=headers)
    assert entered.status_code < 400, entered.text
    wo = await order(db, order_id)
    _strokes, image = ink()
    response = await client.post(
        f"/review/{order_id}/sign",
        data={"signer_name": "王先生", "strokes": nested(100_000), "image": image,
              "version": str(wo.version)},
        headers=headers,
    )  # fmt: skip
    assert response.status_code == 422
    toast = json.loads(response.headers["HX-Trigger"])["wa:toast"]
    assert toast["message"] == _("The signature could not be read. Please sign again.")
    await db.refresh(wo)
    assert wo.status == WorkOrderStatus.ESTIMATE
    assert await db.scalar(select(func.count(Signature.id))) == 0

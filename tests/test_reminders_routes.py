"""The reminder page over HTTP: the list with its bands, a send that swaps its row in
place, a plain form post answered with 303, refusals that keep what was typed."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from app.models import Appointment, OutboundMessage, Role
from tests.conftest import csrf_token, html, sign_in
from tests.reminders_helpers import a_car

pytestmark = pytest.mark.http_layer
HTMX = {"HX-Request": "true"}


async def _cars(db) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Two cars due from today's point of view (the real clock): one overdue inspection,
    one insurance in ten days."""
    from app.models.base import utcnow

    today = utcnow().date()
    one = await a_car(db, 1, inspection_due_on=date.fromordinal(today.toordinal() - 3))
    two = await a_car(db, 2, insurance_due_on=date.fromordinal(today.toordinal() + 10))
    await db.commit()
    return one.id, two.id


async def test_the_list_shows_each_due_with_its_band_and_counts(client, db, users) -> None:
    await _cars(db)
    await sign_in(client, Role.ADVISOR)
    response = await client.get("/reminders")
    assert response.status_code == 200
    page = html(response)
    rows = page.select("[data-testid=rem-row]")
    assert [(r["data-plate"], r["data-kind"]) for r in rows] == [
        ("粤B00001", "inspection"), ("粤B00002", "insurance"),
    ]  # fmt: skip
    assert page.select_one("[data-testid=rem-count-overdue]").text == "1"
    assert page.select_one("[data-testid=rem-count-soon]").text == "1"
    assert rows[0].select_one("[data-testid=rem-band]").text == "已逾期"
    only = html(await client.get("/reminders?kind=insurance"))
    assert [r["data-plate"] for r in only.select("[data-testid=rem-row]")] == ["粤B00002"]


async def test_a_wrong_filter_is_refused_and_marked(client, db, users) -> None:
    await sign_in(client, Role.SERVICE_MANAGER)
    response = await client.get("/reminders?days=abc")
    assert response.status_code == 422
    field = html(response).select_one("select[name=days]")
    assert field is not None
    assert field["aria-invalid"] == "true"


async def test_an_htmx_send_swaps_the_row_with_what_became_of_it(client, db, users) -> None:
    first, _second = await _cars(db)
    await sign_in(client, Role.CUSTOMER_RELATIONS)
    token = await csrf_token(client, "/reminders")
    response = await client.post(
        f"/reminders/{first}/send", data={"kind": "inspection", "channel": "sms"},
        headers={**HTMX, "x-csrftoken": token},
    )  # fmt: skip
    assert response.status_code == 200
    row = html(response).select_one("li[data-testid=rem-row]")
    assert row is not None
    assert row["id"] == f"rem-{first}-inspection"
    assert "短信" in row.select_one("[data-testid=rem-note]").text
    assert row.select_one("[data-testid=rem-sent]") is not None
    assert await db.scalar(select(func.count(OutboundMessage.id))) == 1


async def test_a_plain_post_ends_in_a_redirect_to_the_list(client, db, users) -> None:
    first, _second = await _cars(db)
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client, "/reminders")
    response = await client.post(
        f"/reminders/{first}/answer",
        data={"kind": "inspection", "answer": "not_now", "snooze_until": "", "_csrf_token": token},
    )
    assert (response.status_code, response.headers["location"]) == (303, "/reminders")
    page = html(await client.get("/reminders"))
    assert [r["data-plate"] for r in page.select("[data-testid=rem-row]")] == ["粤B00002"]


async def test_a_refused_booking_comes_back_with_what_was_typed(client, db, users) -> None:
    first, _second = await _cars(db)
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client, "/reminders")
    sent = {"kind": "inspection", "scheduled_at": "2020-01-02T10:00",
            "advisor_id": str(users[Role.ADVISOR]), "_csrf_token": token}  # fmt: skip
    response = await client.post(f"/reminders/{first}/book", data=sent)
    assert response.status_code == 422
    row = html(response).select_one(f"#rem-{first}-inspection")
    field = row.select_one("input[name=scheduled_at]")
    assert (field["value"], field["aria-invalid"]) == ("2020-01-02T10:00", "true")
    assert row.select_one("details[open]") is not None
    assert row.select_one(f"#error-scheduled_at-{first}-inspection").text
    assert await db.scalar(select(func.count(Appointment.id))) == 0


async def test_an_htmx_refusal_is_a_toast_on_the_field_and_swaps_nothing(client, db, users) -> None:
    first, _second = await _cars(db)
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client, "/reminders")
    response = await client.post(
        f"/reminders/{first}/answer", data={"kind": "inspection", "answer": "opt_out"},
        headers={**HTMX, "x-csrftoken": token},
    )  # fmt: skip
    assert response.status_code == 422
    assert response.headers["HX-Reswap"] == "none"
    assert json.loads(response.headers["HX-Trigger"])["wa:toast"]["field"] == "reason"

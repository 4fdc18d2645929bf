"""/board/summary: the manager's page of a day, a refused day, and the send button (once)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.models import OutboundMessage, Role, StaffUser
from tests.conftest import csrf_from, html, sign_in
from tests.test_daily_summary import _the_day

pytestmark = pytest.mark.http_layer
URL = "/board/summary"


async def test_the_manager_reads_the_day_and_its_misses(client, db, users) -> None:
    await _the_day(db, users)
    await sign_in(client, Role.SERVICE_MANAGER)
    response = await client.get(URL, params={"day": "2026-11-10"})
    assert response.status_code == 200
    page = html(response)
    assert "当日总结" in page.select_one("[data-testid=summary-title]").get_text()
    kept = page.select_one("[data-testid=summary-figures] tr[data-code=promise_kept]")
    assert "missed" in kept["class"]
    assert [td.get_text(" ", strip=True) for td in kept.select("td.num")] == [
        "0.0% (0 / 1)", "80.0%",
    ]  # fmt: skip
    late = page.select("[data-testid=late-cars] li")
    assert len(late) == 2
    assert "等待配件到货" in late[1].get_text()
    assert "异响未排除" in page.select_one("[data-testid=reworks]").get_text()
    assert len(page.select("[data-testid=complaints] li")) == 1
    assert len(page.select("[data-testid=bookings] tbody tr")) == 2
    assert "库存不足" in page.select_one("[data-testid=parts]").get_text()
    links = {a["data-testid"]: a["href"] for a in page.select("a[data-testid]")}
    assert links["day-before"] == f"{URL}?day=2026-11-09"


@pytest.mark.parametrize("role", [Role.ADVISOR, Role.CUSTOMER_RELATIONS, Role.ADMIN])
async def test_other_roles_are_refused(client, users, role) -> None:
    await sign_in(client, role)
    assert (await client.get(URL)).status_code == 403


async def test_a_day_that_is_not_a_date_comes_back_marked(client, db, users) -> None:
    await _the_day(db, users)
    await sign_in(client, Role.SERVICE_MANAGER)
    response = await client.get(URL, params={"day": "2026-02-30"})
    assert response.status_code == 422
    field = html(response).select_one("#summary-day")
    assert (field["aria-invalid"], field["value"]) == ("true", "2026-02-30")


async def test_sending_queues_one_message_and_a_second_send_is_refused(client, db, users) -> None:
    await _the_day(db, users)
    manager = await db.get(StaffUser, users[Role.SERVICE_MANAGER])
    manager.email = "manager@example.com"
    await db.commit()
    await sign_in(client, Role.SERVICE_MANAGER)
    page = html(await client.get(URL, params={"day": "2026-11-10"}))
    form = {"_csrf_token": csrf_from(page), "day": "2026-11-10"}
    sent = await client.post(f"{URL}/send", data=form)
    assert (sent.status_code, sent.headers["location"]) == (303, f"{URL}?day=2026-11-10")
    again = await client.post(f"{URL}/send", data=form)
    assert again.status_code == 409
    assert await db.scalar(select(func.count(OutboundMessage.id))) == 1
    shown = html(await client.get(URL, params={"day": "2026-11-10"}))
    assert "manager@example.com" in shown.select_one("[data-testid=summary-sent]").get_text()

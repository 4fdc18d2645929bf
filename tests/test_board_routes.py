"""/board: who may read it and whose figures, the tiles against their targets, the
drill-down, refused days and people, the wall mode and the targets form."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.models import BoardTarget, Role
from tests.board_helpers import third_of_november
from tests.conftest import csrf_token, html, sign_in

pytestmark = pytest.mark.http_layer
DAY = "2026-11-03"


def tile_values(page) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        el["data-testid"].removeprefix("value-"): el.get_text(strip=True)
        for el in page.select("[data-testid^=value-]")
    }


async def test_the_manager_reads_the_days_figures_against_their_targets(client, db, users) -> None:
    await third_of_november(db, users)
    await sign_in(client, Role.SERVICE_MANAGER)
    response = await client.get("/board", params={"day": DAY})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    page = html(response)
    values = tile_values(page)
    assert values["arrivals"] == "3"
    assert values["greeted_in_time"] == "66.7%"
    assert values["greeting_minutes"] == "3.0分钟"
    assert values["labour_revenue"] == "¥500.00"
    assert page.select_one("[data-testid=parts-greeted_in_time]").get_text() == "2 / 3"
    # 66.7 % is below the default 90 %: red, and says so in words.
    greeted = page.select_one("[data-testid=tile-greeted_in_time]")
    assert greeted["data-state"] == "bad"
    assert "未达标" in greeted.get_text()
    assert page.select_one("[data-testid=tile-greeting_minutes]")["data-state"] == "good"
    assert page.select_one("[data-testid=tile-arrivals]")["data-state"] == "none"
    # Live: the workshop's events and every minute; the pickers for a manager.
    board = page.select_one("#board")
    assert board["hx-trigger"] == "every 60s, sse:board"
    assert page.select_one("[sse-connect]")["sse-connect"].startswith("/workshop/events")
    assert page.select_one("select[name=advisor]") is not None
    tile = page.select_one("[data-testid=tile-promise_kept]")
    assert tile["href"] == f"/board/drill/promise_kept?day={DAY}"


async def test_a_fragment_request_gets_the_board_alone(client, db, users) -> None:
    await third_of_november(db, users)
    await sign_in(client, Role.SERVICE_MANAGER)
    response = await client.get("/board", params={"day": DAY}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    page = html(response)
    assert page.select_one("header.appbar") is None
    assert page.select_one("section#board") is not None


async def test_the_drill_down_lists_the_vehicles_behind_a_figure_against_it_first(
    client, db, users
) -> None:
    day = await third_of_november(db, users)
    await sign_in(client, Role.SERVICE_MANAGER)
    response = await client.get(
        "/board/drill/greeted_in_time", params={"day": DAY}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    page = html(response)
    rows = page.select(".drill-list li")
    assert [li.a["href"] for li in rows] == [
        f"/work-orders/{day.orders[n]}" for n in ("o2", "o1", "o3")
    ]
    assert ["drill-against" in (li.get("class") or []) for li in rows] == [True, False, False]
    assert "等候 7 分钟" in rows[0].get_text()
    assert "粤BO288" in rows[0].get_text()
    bills = html(await client.get("/board/drill/bill_matches", params={"day": DAY}))
    first = bills.select(".drill-list li")[0].get_text(" ", strip=True)
    assert "¥150.00" in first
    assert "¥220.00" in first


async def test_an_advisor_sees_their_own_figures_and_no_one_elses(client, db, users) -> None:
    day = await third_of_november(db, users)
    await sign_in(client, Role.ADVISOR)
    page = html(await client.get("/board", params={"day": DAY}))
    assert tile_values(page)["arrivals"] == "2"  # o1 and o2: not o3, advisor B's
    assert page.select_one("select[name=advisor]") is None
    assert page.select_one("[data-testid=targets-link]") is None
    other = await client.get("/board", params={"day": DAY, "advisor": day.advisor_b})
    assert other.status_code == 403
    tech = await client.get("/board/drill/arrivals", params={"technician": day.technician})
    assert tech.status_code == 403
    own = await client.get("/board", params={"day": DAY, "advisor": day.advisor_a})
    assert own.status_code == 200


async def test_the_manager_picks_one_advisor_or_one_technician(client, db, users) -> None:
    day = await third_of_november(db, users)
    await sign_in(client, Role.SERVICE_MANAGER)
    page = html(await client.get("/board", params={"day": DAY, "advisor": day.advisor_b}))
    assert tile_values(page)["arrivals"] == "1"
    page = html(await client.get("/board", params={"day": DAY, "technician": day.technician_2}))
    assert tile_values(page)["hours_sold"] == "2.0小时"
    # A person's count and money are not judged against the dealership's daily target.
    assert page.select_one("[data-testid=tile-hours_sold]")["data-state"] == "none"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"day": "2026-13-01"}, "day"),
        ({"day": "yesterday"}, "day"),
        ({"advisor": "abc"}, "advisor"),
        ({"advisor": "99999"}, "advisor"),
        ({"technician": "1" * 30}, "technician"),
    ],
)
async def test_a_bad_day_or_person_is_refused_with_the_field_marked(
    client, db, users, params: dict[str, str], field: str
) -> None:
    await third_of_november(db, users)
    await sign_in(client, Role.SERVICE_MANAGER)
    response = await client.get("/board", params=params)
    assert response.status_code == 422
    page = html(response)
    assert page.select_one(f"[name={field}]")["aria-invalid"] == "true"
    assert page.select_one(f"[data-testid=error-{field}]").get_text(strip=True)
    assert page.select_one("#board") is None


async def test_an_unknown_figure_is_not_found(client, db, users) -> None:
    await third_of_november(db, users)
    await sign_in(client, Role.SERVICE_MANAGER)
    assert (await client.get("/board/drill/nothing")).status_code == 404


async def test_the_wall_mode_has_no_app_bar_and_no_drill_down(client, db, users) -> None:
    await third_of_november(db, users)
    await sign_in(client, Role.SERVICE_MANAGER)
    page = html(await client.get("/board", params={"day": DAY, "wall": "1"}))
    assert page.select_one("header.appbar") is None
    assert "board-wall" in page.body["class"]
    assert page.select_one("a.tile") is None
    assert len(page.select(".tile")) == 26
    assert page.select_one("#board")["hx-get"] == f"/board?day={DAY}&wall=1"


async def test_other_roles_are_refused(client, db, users) -> None:
    await third_of_november(db, users)
    await sign_in(client, Role.TECHNICIAN)
    assert (await client.get("/board")).status_code == 403


async def test_the_manager_sets_a_months_targets_and_the_board_follows(client, db, users) -> None:
    await third_of_november(db, users)
    await sign_in(client, Role.SERVICE_MANAGER)
    token = await csrf_token(client, "/board/targets?month=2026-11")
    response = await client.post(
        "/board/targets",
        data={"month": "2026-11", "greeted_in_time": "60", "arrivals": "4", "_csrf_token": token},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/board/targets?month=2026-11&saved=1"
    page = html(await client.get("/board", params={"day": DAY}))
    assert page.select_one("[data-testid=tile-greeted_in_time]")["data-state"] == "good"
    assert page.select_one("[data-testid=tile-arrivals]")["data-state"] == "bad"
    form = html(await client.get("/board/targets", params={"month": "2026-11"}))
    assert form.select_one("input[name=greeted_in_time]")["value"] == "60.00"


async def test_a_refused_target_comes_back_as_typed_and_nothing_is_saved(client, db, users) -> None:
    await third_of_november(db, users)
    await sign_in(client, Role.SERVICE_MANAGER)
    token = await csrf_token(client, "/board/targets?month=2026-11")
    response = await client.post(
        "/board/targets",
        data={"month": "2026-11", "arrivals": "4", "rework_rate": "120", "_csrf_token": token},
    )
    assert response.status_code == 422
    page = html(response)
    assert page.select_one("input[name=rework_rate]")["value"] == "120"
    assert page.select_one("input[name=rework_rate]")["aria-invalid"] == "true"
    assert page.select_one("input[name=arrivals]")["value"] == "4"
    assert await db.scalar(select(func.count(BoardTarget.id))) == 0


async def test_a_day_with_nothing_to_count_says_so_rather_than_missing_its_target(
    client, db, users
) -> None:
    await third_of_november(db, users)
    await sign_in(client, Role.SERVICE_MANAGER)
    page = html(await client.get("/board", params={"day": "2026-10-01"}))
    greeted = page.select_one("[data-testid=tile-greeted_in_time]")
    assert greeted["data-state"] == "none"
    assert "暂无数据" in greeted.get_text()
    assert "目标 ≥ 90 %" in greeted.get_text()

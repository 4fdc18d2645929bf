"""The fewer-taps check-in: the greeting and the covers in one tap each, the guided camera's
next position, damage marks on the side views, the checklist and belongings in one tap."""

from __future__ import annotations

from sqlalchemy import select

from app.models import DamageMark, Photo, Role, WorkOrder, WorkOrderStatus
from app.models.base import utcnow
from app.services.audit import Actor
from app.services.check_in import quick
from app.services.check_in import steps as check_ins
from app.services.delivery import handover as delivery
from app.services.estimate import menus
from app.services.photos import receive as photo_service
from app.services.storage.configured import open_store
from tests.checkin_helpers import fresh, started_check_in
from tests.conftest import csrf_token, html, sign_in
from tests.estimate_helpers import advisor
from tests.workshop_helpers import check_in_of, checked_in_order, jpeg


async def _hx(client, check_in_id: int, step: str) -> dict[str, str]:
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client, f"/check-ins/{check_in_id}/{step}")
    return {"HX-Request": "true", "x-csrftoken": token}


async def test_one_tap_confirms_the_number_and_the_follow_up_call_and_opens_the_covers(
    client, db, settings, users
) -> None:
    check_in_id = await started_check_in(db, settings, users)
    hx = await _hx(client, check_in_id, "greeting")
    page = html(await client.get(f"/check-ins/{check_in_id}/greeting"))
    button = page.select_one("[data-testid=confirm-greeting]")
    phone = (await fresh(db, check_in_id)).contact_phone
    assert phone in button.get_text()
    assert "回访" in button.get_text()

    answer = await client.post(
        f"/check-ins/{check_in_id}/greeting/quick", data={"version": "1"}, headers=hx
    )
    assert answer.is_success, answer.text
    assert answer.headers["HX-Redirect"] == f"/check-ins/{check_in_id}/covers"
    check_in = await fresh(db, check_in_id)
    assert check_in.contact_confirmed is True
    assert check_in.follow_up_accepted is True
    assert (check_in.follow_up_phone, check_in.follow_up_when) == (phone, "any")
    assert check_in.step == "covers"
    after = html(await client.get(f"/check-ins/{check_in_id}/greeting"))
    assert after.select_one("[data-testid=confirm-greeting]") is None  # answered: not offered


async def test_the_follow_up_time_offered_is_the_one_the_customer_chose_last_time(
    db, settings, users
) -> None:
    check_in_id = await started_check_in(db, settings, users)
    first = await fresh(db, check_in_id)
    first.follow_up_when = "evening"
    order = await db.get(WorkOrder, first.work_order_id)
    assert order is not None
    order.status = WorkOrderStatus.DELIVERED
    await db.commit()
    second = await check_ins.start_walk_in(db, order.vehicle_id, Actor(users[Role.ADVISOR]))
    await db.commit()
    assert second.id != check_in_id
    assert await quick.usual_follow_up_time(db, second) == "evening"
    await quick.confirm_greeting(db, second, second.version, Actor(users[Role.ADVISOR]))
    assert (second.follow_up_accepted, second.follow_up_when) == (True, "evening")


async def test_one_tap_installs_the_four_covers_and_opens_the_walkaround(
    client, db, settings, users
) -> None:
    check_in_id = await started_check_in(db, settings, users)
    hx = await _hx(client, check_in_id, "covers")
    answer = await client.post(
        f"/check-ins/{check_in_id}/covers/quick", data={"version": "1"}, headers=hx
    )
    assert answer.headers["HX-Redirect"] == f"/check-ins/{check_in_id}/walkaround"
    check_in = await fresh(db, check_in_id)
    assert sorted(c.kind for c in check_in.covers) == sorted(
        ["seat", "steering_wheel", "gear_lever", "floor_mat"]
    )
    assert check_in.step == "walkaround"
    # A step without a one-tap answer has none.
    other = await client.post(
        f"/check-ins/{check_in_id}/walkaround/quick", data={"version": "2"}, headers=hx
    )
    assert other.status_code == 404


async def test_a_mark_keeps_the_view_it_was_placed_on(client, db, settings, users) -> None:
    check_in_id = await started_check_in(db, settings, users)
    hx = await _hx(client, check_in_id, "walkaround")
    door = await client.post(
        f"/check-ins/{check_in_id}/marks",
        data={"version": "1", "x": "0.45", "y": "0.5", "view": "left"},
        headers=hx,
    )
    assert door.status_code == 200
    page = html(door)
    # Drawn on the left side's drawing, which stays the one shown.
    assert page.select_one("svg[data-view=left] .mark") is not None
    assert page.select_one("svg[data-view=top] .mark") is None
    assert page.select_one("input[name=view][value=left]").has_attr("checked")
    assert "左侧" in page.select_one("[data-testid=mark-view]").get_text()

    old_tablet = await client.post(
        f"/check-ins/{check_in_id}/marks", data={"version": "2", "x": "0.5", "y": "0.5"}, headers=hx
    )
    assert old_tablet.status_code == 200
    nowhere = await client.post(
        f"/check-ins/{check_in_id}/marks",
        data={"version": "3", "x": "0.5", "y": "0.5", "view": "underneath"},
        headers=hx,
    )
    assert nowhere.status_code == 422
    marks = (
        await db.scalars(
            select(DamageMark).where(DamageMark.check_in_id == check_in_id).order_by(DamageMark.id)
        )
    ).all()
    assert [m.view for m in marks] == ["left", "top"]


async def test_the_guide_opens_the_first_position_without_a_photo(
    client, db, settings, users
) -> None:
    check_in_id = await started_check_in(db, settings, users)
    await sign_in(client, Role.ADVISOR)
    page = html(await client.get(f"/check-ins/{check_in_id}/walkaround"))
    guide = page.select_one("[data-testid=next-photo]")
    assert (guide["for"], guide["data-position"]) == ("photo-front", "front")
    assert page.select_one("#photo-front")["type"] == "file"  # the label opens this camera

    for n, position in enumerate(("front", "front_right")):
        db.add(Photo(client_id=f"guide-test-{n}", check_in_id=check_in_id, position=position,
                     sha256="0" * 64, width=4, height=3, bytes_received=1,
                     source_format="jpeg"))  # fmt: skip
    await db.commit()
    page = html(await client.get(f"/check-ins/{check_in_id}/walkaround"))
    guide = page.select_one("[data-testid=next-photo]")
    assert (guide["for"], guide["data-position"]) == ("photo-right", "right")
    assert "第 3 张" in guide.get_text()
    # The hint shows where to stand for that position only.
    shown = [g["data-hint"] for g in guide.select("[data-hint]") if g["display"] != "none"]
    assert shown == ["right"]
    # A taken position is retaken from its tile: the tile is the label of its camera.
    tile = page.select_one("[data-testid=slot-front] label.tile-shot")
    assert tile["for"] == "photo-front"
    assert tile.select_one("img[data-uploaded]") is not None


async def test_the_checklist_has_one_tap_for_all_present_and_belongings_are_chips(
    client, db, settings, users
) -> None:
    check_in_id = await started_check_in(db, settings, users)
    hx = await _hx(client, check_in_id, "walkaround")
    page = html(await client.get(f"/check-ins/{check_in_id}/walkaround"))
    assert page.select_one("[data-all-yes]") is not None
    assert len(page.select(".checklist input[value='1']")) == 5
    chip = page.select_one("[data-testid=belonging-umbrella]")
    assert (chip["name"], chip["value"]) == ("kind", "umbrella")
    added = await client.post(
        f"/check-ins/{check_in_id}/belongings",
        data={"version": "1", "kind": "umbrella", "count": "1"},
        headers=hx,
    )
    assert "× 1" in html(added).select_one("#belongings").get_text()


async def test_a_photo_taken_from_a_mark_stays_with_it_at_delivery(db, settings, users) -> None:
    order_id = await checked_in_order(db, settings, users)  # one mark, on the top view
    check_in = await check_in_of(db, order_id)
    mark = check_in.damage_marks[0]
    received = await photo_service.receive(
        db, check_in, client_id="mark-photo-test-1", position="", damage_mark_id=str(mark.id),
        data=jpeg(7), store=open_store(settings), actor=advisor(users),
    )  # fmt: skip
    await db.commit()
    st = await delivery.state(db, order_id)
    assert [(m.id, m.view, [p.id for p in shots]) for m, shots in st.check_in_marks] == [
        (mark.id, "top", [received.photo.id])
    ]
    assert all(c.check_in.id != received.photo.id for c in st.comparisons)


async def test_once_a_bigger_menu_service_is_on_the_order_no_smaller_one_is_offered(
    db, settings, users
) -> None:
    order_id = await checked_in_order(db, settings, users)
    check_in = await check_in_of(db, order_id)
    check_in.odometer_km = 40_000  # the 5,000, 10,000 and 40,000 km services are all due
    await db.commit()
    order = await db.get(WorkOrder, order_id)
    assert order is not None
    offered = [p.code for p in await menus.menu_suggestions(db, order)]
    assert {"M-40K", "M-10K", "M-5K"} <= set(offered)
    biggest = (await menus.menu_suggestions(db, order))[0]
    await menus.add_menu_package(
        db, order, biggest.id, "zh_CN", order.version, advisor(users), utcnow().date()
    )
    assert await menus.menu_suggestions(db, order) == []  # it includes the smaller ones

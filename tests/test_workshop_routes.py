"""The workshop board and the technician's jobs over HTTP, as the tablets drive them."""

from __future__ import annotations

import asyncio
import json
import queue
import uuid
from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from app.demo import data as demo_data
from app.i18n import _
from app.models import (
    JobTask,
    PromiseChange,
    Role,
    StaffRole,
    StaffUser,
    Supplement,
    TaskStatus,
    WorkOrder,
    WorkOrderStatus,
)
from app.models.base import utcnow
from app.services import board_events
from app.services.audit import Actor
from app.services.workshop import jobs as workshop
from tests.conftest import csrf_from, csrf_token, html, sign_in
from tests.estimate_helpers import signed_order
from tests.workshop_helpers import (
    every_item_ticked,
    fail_final_check,
    in_qc,
    jpeg,
    signed_order_with,
    toast,
)

pytestmark = pytest.mark.http_layer

STAGES = ("waiting", "in_progress", "qc", "ready", "delivered")


def hx(token: str) -> dict[str, str]:
    return {"HX-Request": "true", "x-csrftoken": token}


def foreman(users: dict[Role, int]) -> Actor:
    return Actor(users[Role.FOREMAN], roles=frozenset({"foreman"}))


def technician(user_id: int) -> Actor:
    return Actor(user_id, roles=frozenset({"technician"}))


async def fresh_task(db, task_id: int) -> JobTask:  # type: ignore[no-untyped-def]
    await db.rollback()
    db.expire_all()
    task = await db.get(JobTask, task_id)
    assert task is not None
    return task


async def first_task(db, settings, users) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """A signed order, its first job waiting for dispatch: (order id, task id)."""
    order_id, _signature = await signed_order(db, settings, users)
    task_id = (await workshop.order_tasks(db, order_id))[0][0].id
    await db.rollback()  # end the read snapshot: the app writes next
    return order_id, task_id


async def dispatched(db, settings, users, to: int | None = None) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    order_id, task_id = await first_task(db, settings, users)
    await workshop.dispatch(db, task_id, to or users[Role.TECHNICIAN], foreman(users), utcnow())
    await db.commit()
    return order_id, task_id


@pytest.fixture(name="second_technician")
async def fx_second_technician(session_maker, _password_hashes) -> int:  # type: ignore[no-untyped-def]
    """Another technician, password as the first one's."""
    async with session_maker() as session:
        user = StaffUser(
            username="technician2",
            display_name="Technician Two",
            password_hash=_password_hashes[Role.TECHNICIAN],
            locale="zh_CN",
            role_rows=[StaffRole(role=Role.TECHNICIAN)],
        )
        session.add(user)
        await session.commit()
        return user.id


async def sign_in_as(client: AsyncTestClient[Litestar], username: str, password: str) -> None:
    page = html(await client.get("/sign-in"))
    response = await client.post(
        "/sign-in",
        data={"username": username, "password": password, "_csrf_token": csrf_from(page)},
    )
    assert response.status_code == 303, response.text


async def test_the_board_shows_every_stage_and_the_queue_in_priority_order(
    client, db, settings, users
) -> None:
    # The demo's cars on site fill the QC and ready columns.
    await demo_data.load(db, settings.tz)
    await db.commit()
    order_id, task_id = await first_task(db, settings, users)
    wo = await db.get(WorkOrder, order_id)
    assert wo is not None
    # A car delivered today shows in its own column.
    delivered = await db.scalar(
        select(WorkOrder).where(WorkOrder.status == WorkOrderStatus.READY).limit(1)
    )
    assert delivered is not None
    delivered.status, delivered.delivered_at = WorkOrderStatus.DELIVERED, utcnow()
    await db.commit()
    await sign_in(client, Role.FOREMAN)
    response = await client.get("/workshop")
    assert response.status_code == 200
    page = html(response)
    assert [c["data-testid"] for c in page.select("[data-testid^=column-]")] == [
        f"column-{stage}" for stage in STAGES
    ]
    waiting = page.select_one("[data-testid=column-waiting]")
    assert waiting.select_one(f"[data-testid='card-{wo.number}']") is not None
    assert page.select_one("[data-testid=column-qc] article") is not None
    delivered_column = page.select_one("[data-testid=column-delivered]")
    assert delivered_column.select_one(f"[data-testid='card-{delivered.number}']") is not None
    assert page.select_one(f"[data-testid=queue-{task_id}]") is not None
    assert page.select_one(f"[data-testid=dispatch-{task_id}]") is not None
    assert page.select_one("[data-testid=first-time-fix]") is not None
    live = page.select_one("[hx-ext=sse]")
    assert live["sse-connect"].startswith("/workshop/events")
    board = page.select_one("#workshop-board")
    assert board["hx-get"] == "/workshop/board"
    assert "sse:board" in board["hx-trigger"]


async def test_the_board_fragment_is_the_board_alone(client, db, settings, users) -> None:
    await first_task(db, settings, users)
    await sign_in(client, Role.ADVISOR)
    response = await client.get("/workshop/board", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text
    fragment = html(response)
    assert fragment.select_one("section#workshop-board") is not None
    # Advisors see the board but do not dispatch.
    assert fragment.select("button[data-testid^=dispatch-]") == []


@pytest.mark.parametrize("role", [Role.QC_INSPECTOR, Role.TECHNICIAN, Role.SERVICE_MANAGER])
async def test_the_workshop_roles_see_the_board(client, db, settings, users, role) -> None:
    await demo_data.load(db, settings.tz)
    await db.commit()
    await sign_in(client, role)
    assert (await client.get("/workshop")).status_code == 200


async def test_customer_relations_does_not_see_the_board(client, users) -> None:
    await sign_in(client, Role.CUSTOMER_RELATIONS)
    assert (await client.get("/workshop")).status_code == 403


async def test_the_foreman_dispatches_a_job_to_a_technician(client, db, settings, users) -> None:
    _order_id, task_id = await first_task(db, settings, users)
    await sign_in(client, Role.FOREMAN)
    token = await csrf_token(client, "/workshop")
    response = await client.post(
        f"/workshop/tasks/{task_id}/dispatch",
        data={"technician_id": str(users[Role.TECHNICIAN]), "version": "1"},
        headers=hx(token),
    )
    assert response.status_code == 200, response.text
    fragment = html(response)
    assert fragment.select_one(f"[data-testid=queue-{task_id}]") is None
    row = fragment.select_one(f"[data-testid=task-{task_id}]")
    assert row.select_one("[data-testid=task-status]")["data-status"] == "dispatched"
    assert "Technician" in row.text
    task = await fresh_task(db, task_id)
    assert (task.status, task.technician_id) == (
        TaskStatus.DISPATCHED.value, users[Role.TECHNICIAN],
    )  # fmt: skip


async def test_a_plain_form_dispatch_ends_in_a_redirect_to_the_board(
    client, db, settings, users
) -> None:
    _order_id, task_id = await first_task(db, settings, users)
    await sign_in(client, Role.FOREMAN)
    token = await csrf_token(client, "/workshop")
    response = await client.post(
        f"/workshop/tasks/{task_id}/dispatch",
        data={"technician_id": str(users[Role.TECHNICIAN]), "version": "1", "_csrf_token": token},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/workshop"
    assert (await fresh_task(db, task_id)).status == TaskStatus.DISPATCHED.value


@pytest.mark.parametrize("role", [Role.ADVISOR, Role.TECHNICIAN])
async def test_only_the_foreman_dispatches(client, db, settings, users, role) -> None:
    _order_id, task_id = await first_task(db, settings, users)
    await sign_in(client, role)
    token = await csrf_token(client)
    response = await client.post(
        f"/workshop/tasks/{task_id}/dispatch",
        data={"technician_id": str(users[Role.TECHNICIAN]), "version": "1"},
        headers=hx(token),
    )
    assert response.status_code == 403
    assert "wa:toast" in response.headers["hx-trigger"]
    task = await fresh_task(db, task_id)
    assert (task.status, task.technician_id) == (TaskStatus.WAITING.value, None)


async def test_dispatch_without_a_technician_asks_for_one(client, db, settings, users) -> None:
    _order_id, task_id = await first_task(db, settings, users)
    await sign_in(client, Role.FOREMAN)
    token = await csrf_token(client, "/workshop")
    response = await client.post(
        f"/workshop/tasks/{task_id}/dispatch",
        data={"technician_id": "", "version": "1"},
        headers=hx(token),
    )
    assert response.status_code == 422
    assert '"field": "technician_id"' in response.headers["hx-trigger"]
    assert (await fresh_task(db, task_id)).status == TaskStatus.WAITING.value


async def test_a_stale_dispatch_is_a_conflict_and_changes_nothing(
    client, db, settings, users, second_technician
) -> None:
    _order_id, task_id = await dispatched(db, settings, users)
    await sign_in(client, Role.FOREMAN)
    token = await csrf_token(client, "/workshop")
    # The form was rendered before the first dispatch (version 1).
    response = await client.post(
        f"/workshop/tasks/{task_id}/dispatch",
        data={"technician_id": str(second_technician), "version": "1"},
        headers=hx(token),
    )
    assert response.status_code == 409
    assert (await fresh_task(db, task_id)).technician_id == users[Role.TECHNICIAN]


async def test_the_advisor_marks_the_customer_waiting_on_site(client, db, settings, users) -> None:
    order_id, _task_id = await first_task(db, settings, users)
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client, "/workshop")
    response = await client.post(
        f"/workshop/orders/{order_id}/waiting", data={"waiting": "1"}, headers=hx(token)
    )
    assert response.status_code == 200, response.text
    button = html(response).select_one(f"[data-testid=waiting-{order_id}]")
    assert button["aria-pressed"] == "true"
    await db.rollback()
    db.expire_all()
    assert (await db.get(WorkOrder, order_id)).customer_waiting is True


async def test_an_at_risk_order_prompts_the_advisor_to_call_and_records_the_new_time(
    client, db, settings, users
) -> None:
    # Promised in half an hour: the flat-rate hours no longer fit.
    order_id = await signed_order_with(db, settings, users, promised_in=timedelta(minutes=30))
    wo = await db.get(WorkOrder, order_id)
    assert wo is not None
    number = wo.number
    await db.rollback()
    await sign_in(client, Role.ADVISOR)
    page = html(await client.get("/workshop"))
    card = page.select_one(f"[data-testid='card-{number}']")
    assert card.select_one(f"[data-testid='call-{number}']") is not None
    new_time = (utcnow() + timedelta(days=1)).astimezone(settings.tz)
    token = csrf_from(page)
    response = await client.post(
        f"/workshop/orders/{order_id}/promise",
        data={"promised_at": new_time.strftime("%Y-%m-%dT%H:%M"), "reason": "配件明天到"},
        headers=hx(token),
    )
    assert response.status_code == 200, response.text
    card = html(response).select_one(f"[data-testid='card-{number}']")
    assert card.select_one(f"[data-testid='call-{number}']") is None
    change = await db.scalar(select(PromiseChange).where(PromiseChange.work_order_id == order_id))
    assert change is not None
    assert change.reason == "配件明天到"


async def test_a_technician_cannot_record_a_new_promised_time(client, db, settings, users) -> None:
    order_id, _task_id = await first_task(db, settings, users)
    await sign_in(client, Role.TECHNICIAN)
    token = await csrf_token(client)
    response = await client.post(
        f"/workshop/orders/{order_id}/promise",
        data={"promised_at": "2099-01-01T10:00", "reason": "x"},
        headers=hx(token),
    )
    assert response.status_code == 403
    count = await db.scalar(select(func.count(PromiseChange.id)))
    assert count == 0


async def test_the_technician_starts_finishes_and_self_checks_a_job(
    client, db, settings, users
) -> None:
    order_id, task_id = await dispatched(db, settings, users)
    await sign_in(client, Role.TECHNICIAN)
    page = await client.get("/my-jobs")
    assert page.status_code == 200
    job = html(page).select_one(f"[data-testid=job-{task_id}]")
    assert job is not None
    assert "disabled" not in job.select_one(f"[data-testid=start-{task_id}]").attrs
    assert "disabled" in job.select_one(f"[data-testid=finish-{task_id}]").attrs
    token = csrf_from(html(page))
    for action, status in (("start", "in_progress"), ("finish", "finished")):
        version = (await fresh_task(db, task_id)).version
        response = await client.post(
            f"/my-jobs/tasks/{task_id}/{action}", data={"version": str(version)}, headers=hx(token)
        )
        assert response.status_code == 200, response.text
        fragment = html(response)
        assert fragment.select_one("section#my-jobs") is not None
        state = fragment.select_one(f"[data-testid=job-{task_id}] [data-testid=task-status]")
        assert state["data-status"] == status
    # Finished: the self-check is the job's list, each item to tick or mark not applicable.
    form = fragment.select_one(f"[data-testid=self-check-form-{task_id}]")
    items = list(dict.fromkeys(r["name"] for r in form.select("input[type=radio]")))
    assert "check-torque" in items
    assert "check-clean" in items
    version = (await fresh_task(db, task_id)).version
    partial = {"version": str(version), **dict.fromkeys(items[:-1], "ok")}
    response = await client.post(
        f"/my-jobs/tasks/{task_id}/self-check", data=partial, headers=hx(token)
    )
    assert response.status_code == 422
    assert toast(response)["field"] == items[-1]
    assert (await fresh_task(db, task_id)).self_checked_at is None
    ticked = {**partial, items[-1]: "na", "reason-" + items[-1][6:]: "车主自己洗车"}
    response = await client.post(
        f"/my-jobs/tasks/{task_id}/self-check", data=ticked, headers=hx(token)
    )
    assert response.status_code == 200, response.text
    # Finished and self-checked: off my list, waiting for a colleague's mutual check.
    assert html(response).select_one(f"[data-testid=job-{task_id}]") is None
    task = await fresh_task(db, task_id)
    assert task.status == TaskStatus.FINISHED.value
    assert task.self_checked_at is not None
    assert len(task.entries) == 1
    assert task.entries[0].finished_at is not None
    assert (await db.get(WorkOrder, order_id)).status == WorkOrderStatus.IN_PROGRESS


async def test_another_technician_cannot_work_a_job_not_dispatched_to_them(
    client, db, settings, users, second_technician
) -> None:
    _order_id, task_id = await dispatched(db, settings, users)
    await sign_in_as(client, "technician2", "pw-technician")
    page = html(await client.get("/my-jobs"))
    assert page.select_one(f"[data-testid=job-{task_id}]") is None
    response = await client.post(
        f"/my-jobs/tasks/{task_id}/start", data={"version": "2"}, headers=hx(csrf_from(page))
    )
    assert response.status_code == 403
    toast = json.loads(response.headers["hx-trigger"])["wa:toast"]
    assert toast["message"] == _("This job is not dispatched to you. Ask the foreman.")
    task = await fresh_task(db, task_id)
    assert task.status == TaskStatus.DISPATCHED.value
    assert task.entries == []


async def test_finishing_before_starting_is_refused_and_changes_nothing(
    client, db, settings, users
) -> None:
    _order_id, task_id = await dispatched(db, settings, users)
    await sign_in(client, Role.TECHNICIAN)
    token = await csrf_token(client, "/my-jobs")
    response = await client.post(
        f"/my-jobs/tasks/{task_id}/finish", data={"version": "2"}, headers=hx(token)
    )
    assert response.status_code == 422
    task = await fresh_task(db, task_id)
    assert task.status == TaskStatus.DISPATCHED.value
    assert task.entries == []


async def test_a_plain_form_start_returns_to_the_job(client, db, settings, users) -> None:
    _order_id, task_id = await dispatched(db, settings, users)
    await sign_in(client, Role.TECHNICIAN)
    token = await csrf_token(client, "/my-jobs")
    response = await client.post(
        f"/my-jobs/tasks/{task_id}/start", data={"version": "2", "_csrf_token": token}
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/my-jobs#task-{task_id}"
    assert (await fresh_task(db, task_id)).status == TaskStatus.IN_PROGRESS.value


async def test_a_stale_start_is_a_conflict(client, db, settings, users) -> None:
    _order_id, task_id = await dispatched(db, settings, users)
    await sign_in(client, Role.TECHNICIAN)
    token = await csrf_token(client, "/my-jobs")
    response = await client.post(
        f"/my-jobs/tasks/{task_id}/start", data={"version": "1"}, headers=hx(token)
    )
    assert response.status_code == 409
    assert (await fresh_task(db, task_id)).status == TaskStatus.DISPATCHED.value


async def test_an_unknown_action_is_not_found(client, db, settings, users) -> None:
    _order_id, task_id = await dispatched(db, settings, users)
    await sign_in(client, Role.TECHNICIAN)
    token = await csrf_token(client, "/my-jobs")
    response = await client.post(f"/my-jobs/tasks/{task_id}/explode", headers=hx(token))
    assert response.status_code == 404


async def _self_checked(db, settings, users) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    order_id, task_id = await dispatched(db, settings, users)
    me = technician(users[Role.TECHNICIAN])
    await workshop.start(db, task_id, me, utcnow())
    await workshop.finish(db, task_id, me, utcnow())
    await workshop.self_check(db, task_id, me, utcnow(), form=await every_item_ticked(db, task_id))
    await db.commit()
    return order_id, task_id


async def test_the_mutual_check_is_refused_to_the_technician_who_did_the_job(
    client, db, settings, users
) -> None:
    _order_id, task_id = await _self_checked(db, settings, users)
    await sign_in(client, Role.TECHNICIAN)
    page = html(await client.get("/my-jobs"))
    assert page.select_one(f"[data-testid=mutual-check-{task_id}]") is None
    version = (await fresh_task(db, task_id)).version
    response = await client.post(
        f"/my-jobs/tasks/{task_id}/mutual-check",
        data={"version": str(version)},
        headers=hx(csrf_from(page)),
    )
    assert response.status_code == 403
    assert (await fresh_task(db, task_id)).mutual_checked_at is None


async def test_a_colleague_mutual_checks_and_the_car_goes_to_qc(
    client, db, settings, users, second_technician
) -> None:
    order_id, task_id = await _self_checked(db, settings, users)
    # Every other job on the order done and checked too, so this check is the last.
    me = technician(users[Role.TECHNICIAN])
    colleague = Actor(second_technician, roles=frozenset({"technician"}))
    for task, _job in await workshop.order_tasks(db, order_id):
        if task.id != task_id:
            await workshop.dispatch(db, task.id, users[Role.TECHNICIAN], foreman(users), utcnow())
            ticked = await every_item_ticked(db, task.id)
            await workshop.start(db, task.id, me, utcnow())
            await workshop.finish(db, task.id, me, utcnow())
            await workshop.self_check(db, task.id, me, utcnow(), form=ticked)
            await workshop.mutual_check(db, task.id, colleague, utcnow(), form=ticked)
    await db.commit()
    await sign_in_as(client, "technician2", "pw-technician")
    page = html(await client.get("/my-jobs"))
    button = page.select_one(f"[data-testid=mutual-check-{task_id}]")
    assert button is not None
    version = (await fresh_task(db, task_id)).version
    response = await client.post(
        f"/my-jobs/tasks/{task_id}/mutual-check",
        data={"version": str(version), **await every_item_ticked(db, task_id)},
        headers=hx(csrf_from(page)),
    )
    assert response.status_code == 200, response.text
    assert html(response).select_one(f"[data-testid=mutual-check-{task_id}]") is None
    task = await fresh_task(db, task_id)
    assert task.mutual_checked_by_id == second_technician
    assert (await db.get(WorkOrder, order_id)).status == WorkOrderStatus.QC


async def test_a_finding_becomes_added_work_with_a_photo_slot(client, db, settings, users) -> None:
    order_id, _task_id = await dispatched(db, settings, users)
    await sign_in(client, Role.TECHNICIAN)
    page = html(await client.get("/my-jobs"))
    assert page.select_one(f"[data-testid=finding-note-{order_id}]") is not None
    token = csrf_from(page)
    empty = await client.post(
        f"/my-jobs/orders/{order_id}/findings", data={"note": "  "}, headers=hx(token)
    )
    assert empty.status_code == 422
    response = await client.post(
        f"/my-jobs/orders/{order_id}/findings",
        data={"note": "前刹车片磨损到极限", "category": "brakes"},
        headers=hx(token),
    )
    assert response.status_code == 200, response.text
    supplement = await db.scalar(select(Supplement).where(Supplement.work_order_id == order_id))
    assert supplement is not None
    assert supplement.note == "前刹车片磨损到极限"
    assert supplement.requested_by_id == users[Role.TECHNICIAN]
    finding = html(response).select_one(f"[data-testid=finding-{supplement.id}]")
    assert "前刹车片磨损到极限" in finding.text
    slot = finding.select_one("[data-photo-slot]")
    assert slot["data-upload-url"] == f"/supplements/{supplement.id}/photos"
    assert slot.select_one("input[type=file][data-photo-input]") is not None


async def test_a_photo_uploaded_to_a_finding_shows_in_its_slot(client, db, settings, users) -> None:
    order_id, _task_id = await dispatched(db, settings, users)
    await sign_in(client, Role.TECHNICIAN)
    token = await csrf_token(client, "/my-jobs")
    await client.post(
        f"/my-jobs/orders/{order_id}/findings",
        data={"note": "轮胎鼓包", "category": "tyres"},
        headers=hx(token),
    )
    supplement_id = await db.scalar(
        select(Supplement.id).where(Supplement.work_order_id == order_id)
    )
    await db.rollback()
    uploaded = await client.post(
        f"/supplements/{supplement_id}/photos",
        data={"client_id": uuid.uuid4().hex, "position": "", "damage_mark_id": ""},
        files={"file": ("finding.jpg", jpeg(), "image/jpeg")},
        headers={"x-csrftoken": token},
    )
    assert uploaded.status_code == 201, uploaded.text
    photo_id = uploaded.json()["id"]
    page = html(await client.get("/my-jobs"))
    slot = page.select_one(f"[data-testid=finding-{supplement_id}] [data-photo-slot]")
    assert [img["src"] for img in slot.select("[data-photo-thumbs] img")] == [
        f"/photos/{photo_id}/thumb"
    ]


async def test_a_technician_cannot_report_on_a_car_they_do_not_work_on(
    client, db, settings, users, second_technician
) -> None:
    order_id, _task_id = await dispatched(db, settings, users)
    await sign_in_as(client, "technician2", "pw-technician")
    token = await csrf_token(client, "/my-jobs")
    response = await client.post(
        f"/my-jobs/orders/{order_id}/findings",
        data={"note": "异响", "category": "other"},
        headers=hx(token),
    )
    assert response.status_code == 403
    assert await db.scalar(select(func.count(Supplement.id))) == 0


async def test_an_advisor_has_no_jobs_screen(client, users) -> None:
    await sign_in(client, Role.ADVISOR)
    assert (await client.get("/my-jobs")).status_code == 403


# --- the live stream ---------------------------------------------------------


class Stream:
    """An SSE request driven by hand inside the test client's event loop: the
    test client itself buffers whole responses, and this one never ends."""

    def __init__(self, client: AsyncTestClient[Litestar], path: str) -> None:
        self.client = client
        self.path = path
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.portal = client.blocking_portal
        self.gone = self.portal.call(asyncio.Event)
        self.future: Any = None

    def _scope(self) -> dict[str, Any]:
        path, _, query = self.path.partition("?")
        cookie = "; ".join(f"{k}={v}" for k, v in self.client.cookies.items())
        return {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
            "root_path": "", "query_string": query.encode(),
            "headers": [(b"host", b"testserver.local"), (b"accept", b"text/event-stream"),
                        (b"cookie", cookie.encode())],
            "client": ("testclient", 50000), "server": ("testserver.local", 80),
        }  # fmt: skip

    def open(self) -> None:
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await self.gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            self.messages.put(message)

        self.future = self.portal.start_task_soon(self.client.app, self._scope(), receive, send)

    async def next(self, wait: float = 3.0) -> dict[str, Any]:
        return await asyncio.to_thread(self.messages.get, True, wait)

    async def read_until(self, needle: bytes, wait: float = 3.0) -> bytes:
        seen = b""
        while needle not in seen:
            message = await self.next(wait)
            seen += message.get("body", b"")
        return seen

    async def close(self) -> None:
        self.portal.call(self.gone.set)
        await asyncio.to_thread(self.future.result, 3)


async def test_the_event_stream_announces_a_committed_dispatch_and_ends_on_disconnect(
    client, db, settings, users
) -> None:
    _order_id, task_id = await first_task(db, settings, users)
    await sign_in(client, Role.FOREMAN)
    token = await csrf_token(client, "/workshop")
    before = board_events.broker.listeners
    stream = Stream(client, "/workshop/events")
    stream.open()
    try:
        start = await stream.next()
        assert start["type"] == "http.response.start"
        assert start["status"] == 200
        headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
        assert headers["content-type"].startswith("text/event-stream")
        assert headers["cache-control"] == "no-cache"
        assert headers["x-accel-buffering"] == "no"
        await stream.read_until(b"retry:")
        assert board_events.broker.listeners == before + 1
        dispatch = await client.post(
            f"/workshop/tasks/{task_id}/dispatch",
            data={"technician_id": str(users[Role.TECHNICIAN]), "version": "1"},
            headers=hx(token),
        )
        assert dispatch.status_code == 200
        body = await stream.read_until(b"event: board")
        assert f"data: {board_events.broker.sequence}".encode() in body
    finally:
        await stream.close()
    assert board_events.broker.listeners == before


async def test_a_refused_action_announces_nothing(client, db, settings, users) -> None:
    _order_id, task_id = await first_task(db, settings, users)
    await sign_in(client, Role.TECHNICIAN)
    token = await csrf_token(client, "/my-jobs")
    stream = Stream(client, "/workshop/events")
    stream.open()
    try:
        await stream.read_until(b"retry:")
        refused = await client.post(
            f"/my-jobs/tasks/{task_id}/start", data={"version": "1"}, headers=hx(token)
        )
        assert refused.status_code == 403
        with pytest.raises(queue.Empty):
            await stream.next(wait=0.3)
    finally:
        await stream.close()


async def test_a_stream_opened_after_a_change_catches_up_at_once(
    client, db, settings, users
) -> None:
    _order_id, task_id = await first_task(db, settings, users)
    await sign_in(client, Role.TECHNICIAN)
    seen = html(await client.get("/my-jobs")).select_one("#my-jobs")["data-seen"]
    await workshop.dispatch(db, task_id, users[Role.TECHNICIAN], foreman(users), utcnow())
    await db.commit()
    stream = Stream(client, f"/workshop/events?seen={seen}")
    stream.open()
    try:
        await stream.read_until(b"event: board")
    finally:
        await stream.close()


async def test_the_stream_needs_a_workshop_role(client, users) -> None:
    await sign_in(client, Role.CUSTOMER_RELATIONS)
    response = await client.get("/workshop/events")
    assert response.status_code == 403


async def test_a_job_sent_back_by_the_final_check_returns_to_its_technician_as_rework(
    client, db, settings, users
) -> None:
    order_id = await in_qc(db, settings, users)
    task, job = (await workshop.order_tasks(db, order_id))[0]
    task_id, job_id = task.id, job.id
    await fail_final_check(db, users, order_id, [job_id])
    number = (await db.get(WorkOrder, order_id)).number
    await db.rollback()
    await sign_in(client, Role.TECHNICIAN)
    page = html(await client.get("/my-jobs"))
    job_card = page.select_one(f"[data-testid=job-{task_id}]")
    assert "机滤密封圈渗油" in job_card.select_one("[data-testid=rework-note]").text
    assert "disabled" not in job_card.select_one(f"[data-testid=start-{task_id}]").attrs
    board = html(await client.get("/workshop"))
    card = board.select_one(f"[data-testid='card-{number}']")
    assert "×1" in card.select_one("[data-testid=rework]").text


async def test_a_refused_plain_new_time_comes_back_as_typed_with_the_time_marked(
    client, db, settings, users
) -> None:
    order_id = await signed_order_with(db, settings, users, promised_in=timedelta(minutes=30))
    await db.rollback()
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client, "/workshop")
    past = (utcnow() - timedelta(hours=2)).astimezone(settings.tz).strftime("%Y-%m-%dT%H:%M")
    response = await client.post(
        f"/workshop/orders/{order_id}/promise",
        data={"promised_at": past, "reason": "配件明天到", "_csrf_token": token},
    )
    assert response.status_code == 422
    form = html(response).select_one(f"form[action='/workshop/orders/{order_id}/promise']")
    assert form.select_one("input[name=reason]")["value"] == "配件明天到"
    when = form.select_one("input[name=promised_at]")
    assert (when["value"], when["aria-invalid"]) == (past, "true")
    slot = form.select_one(f"#{when['aria-describedby']}")
    assert slot.get_text() == _("The new time must be in the future.")
    assert await db.scalar(select(func.count(PromiseChange.id))) == 0

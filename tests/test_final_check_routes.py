"""The final check (终检) over HTTP: the queue, the final QC report, pass and fail."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.i18n import _
from app.models import Inspection, Role, StaffRole, TaskStatus, WorkOrderStatus
from app.routes import final_check as final_check_routes
from app.routes import workshop as workshop_routes
from app.services import board_events
from app.services.check_in.view import labels
from app.services.final_check import inspection as final_check
from tests.conftest import csrf_token, html, sign_in
from tests.estimate_helpers import order, signed_order
from tests.workshop_helpers import car_in_qc, check_in_of, hx, in_qc, tasks, toast, work_done

pytestmark = pytest.mark.http_layer


async def readings(db: AsyncSession, order_id: int) -> dict[str, str]:
    """Today's odometer and fuel, consistent with check-in."""
    check_in = await check_in_of(db, order_id)
    return {"odometer_km": str((check_in.odometer_km or 0) + 2),
            "fuel_eighths": str(check_in.fuel_eighths)}  # fmt: skip


async def pass_form(db: AsyncSession, order_id: int, *, skip: str = "") -> dict[str, object]:
    st = await final_check.state(db, order_id)
    ticked = [item for item in st.items if item != skip]
    return {"passed": "1", "items": ticked, "version": str(st.order.version),
            **(await readings(db, order_id))}  # fmt: skip


async def nothing_inspected(db: AsyncSession, order_id: int, status: WorkOrderStatus) -> None:
    wo = await order(db, order_id)
    assert wo.status == status
    assert wo.rework_count == 0
    count = select(func.count(Inspection.id)).where(Inspection.work_order_id == order_id)
    assert await db.scalar(count) == 0
    assert not any(t.rework for t in await tasks(db, order_id))


async def test_the_queue_lists_the_cars_waiting_for_the_final_check(
    client, db, settings, users
) -> None:
    order_id = await in_qc(db, settings, users)
    await sign_in(client, Role.QC_INSPECTOR)
    page = html(await client.get("/final-check"))
    car = page.select_one(f"[data-testid=qc-car][data-order='{order_id}']")
    assert car.select_one("[data-testid=qc-open]")["href"] == f"/final-check/{order_id}"
    cars = page.select("[data-testid=qc-car]")
    assert page.select_one("[data-testid=qc-waiting-count]").get_text() == str(len(cars))
    # The polling refresh gets the queue alone.
    polled = await client.get("/final-check", headers={"HX-Request": "true"})
    fragment = html(polled)
    assert fragment.select_one("header.appbar") is None
    assert fragment.select_one("#qc-queue") is not None


async def test_the_report_lists_what_applies_with_the_belongings_and_the_work(
    client, db, settings, users
) -> None:
    order_id = await car_in_qc(db, settings, users, belongings=(("umbrella", 2),))
    await sign_in(client, Role.QC_INSPECTOR)
    page = html(await client.get(f"/final-check/{order_id}"))
    st = await final_check.state(db, order_id)
    shown = [el["data-testid"].removeprefix("qc-item-")
             for el in page.select("[data-testid^=qc-item-]")]  # fmt: skip
    assert shown == st.items
    assert page.select_one("[data-testid=qc-belongings]").get_text(strip=True) == (
        f"{labels()['belongings']['umbrella']} × 2"
    )
    job_ids = [job.id for _task, job in st.tasks]
    assert [int(r["data-job"]) for r in page.select("[data-testid=qc-job-row]")] == job_ids
    for job_id in job_ids:
        assert page.select_one(f"[data-testid=qc-job-{job_id}] input")["name"] == "rework_job_ids"
    reasons = [el["data-testid"].removeprefix("qc-reason-")
               for el in page.select("[data-testid^=qc-reason-]")]  # fmt: skip
    assert reasons == list(final_check.REASONS)
    for testid in ("qc-odometer", "qc-fuel", "qc-note", "qc-pass", "qc-fail"):
        assert page.select_one(f"[data-testid={testid}]") is not None, testid
    assert page.select_one("[data-testid=qc-rework-count]")["data-count"] == "0"


async def test_passing_with_an_unticked_item_names_it_and_changes_nothing(
    client, db, settings, users
) -> None:
    order_id = await in_qc(db, settings, users)
    await sign_in(client, Role.QC_INSPECTOR)
    token = await csrf_token(client, f"/final-check/{order_id}")
    form = await pass_form(db, order_id, skip="washed_clean")
    response = await client.post(f"/final-check/{order_id}", data=form, headers=hx(token))
    assert response.status_code == 422
    detail = toast(response)
    assert detail["field"] == "items"
    assert final_check.item_labels()["washed_clean"] in detail["message"]
    await nothing_inspected(db, order_id, WorkOrderStatus.QC)


async def test_the_technician_who_did_the_work_may_not_inspect_it(
    client, db, settings, users
) -> None:
    order_id = await in_qc(db, settings, users)
    # The technician also holds the QC role: the rule is about the car, not the role.
    db.add(StaffRole(user_id=users[Role.TECHNICIAN], role=Role.QC_INSPECTOR))
    await db.commit()
    await sign_in(client, Role.TECHNICIAN)
    page = html(await client.get(f"/final-check/{order_id}"))
    assert page.select_one("[data-testid=qc-worked-on]") is not None
    assert page.select_one("[data-testid=qc-pass]") is None
    token = await csrf_token(client, f"/final-check/{order_id}")
    form = await pass_form(db, order_id)
    response = await client.post(f"/final-check/{order_id}", data=form, headers=hx(token))
    assert response.status_code == 403
    assert toast(response)["message"] == _(
        "You worked on this car. The final check is done by someone who did not."
    )
    await nothing_inspected(db, order_id, WorkOrderStatus.QC)


async def test_an_order_not_in_qc_cannot_be_inspected(client, db, settings, users) -> None:
    order_id, _sig = await signed_order(db, settings, users)
    await sign_in(client, Role.QC_INSPECTOR)
    page = html(await client.get(f"/final-check/{order_id}"))
    assert page.select_one("[data-testid=qc-not-waiting]") is not None
    assert page.select_one("[data-testid=qc-pass]") is None
    token = await csrf_token(client, f"/final-check/{order_id}")
    form = await pass_form(db, order_id)
    response = await client.post(f"/final-check/{order_id}", data=form, headers=hx(token))
    assert response.status_code == 409
    assert toast(response)["message"] == _("This car is not waiting for the final check.")
    await nothing_inspected(db, order_id, WorkOrderStatus.SIGNED)


@pytest.mark.parametrize(
    ("missing", "field", "message"),
    [
        ("reason_category", "reason_category", "Choose why the check failed."),
        ("note", "note", "Note what must be redone."),
        ("rework_job_ids", "rework_job_ids", "Choose the jobs to redo."),
    ],
)
async def test_a_fail_needs_a_reason_a_note_and_the_jobs_to_redo(
    client, db, settings, users, missing, field, message
) -> None:
    order_id = await in_qc(db, settings, users)
    st = await final_check.state(db, order_id)
    form: dict[str, object] = {
        "passed": "0", "reason_category": "workmanship", "note": "机油滤清器渗油",
        "rework_job_ids": [str(job.id) for _task, job in st.tasks],
        "version": str(st.order.version),
    }  # fmt: skip
    del form[missing]
    await sign_in(client, Role.QC_INSPECTOR)
    token = await csrf_token(client, f"/final-check/{order_id}")
    response = await client.post(f"/final-check/{order_id}", data=form, headers=hx(token))
    assert response.status_code == 422
    assert (toast(response)["field"], toast(response)["message"]) == (field, _(message))
    await nothing_inspected(db, order_id, WorkOrderStatus.QC)


async def test_a_stale_report_is_a_conflict(client, db, settings, users) -> None:
    order_id = await in_qc(db, settings, users)
    await sign_in(client, Role.QC_INSPECTOR)
    token = await csrf_token(client, f"/final-check/{order_id}")
    form = await pass_form(db, order_id)
    form["version"] = str(int(str(form["version"])) - 1)
    response = await client.post(f"/final-check/{order_id}", data=form, headers=hx(token))
    assert response.status_code == 409
    assert toast(response)["reload"] is True
    await nothing_inspected(db, order_id, WorkOrderStatus.QC)


async def test_only_the_qc_inspector_gives_the_verdict(client, db, settings, users) -> None:
    order_id = await in_qc(db, settings, users)
    await sign_in(client, Role.ADVISOR)
    assert (await client.get("/final-check")).status_code == 403
    token = await csrf_token(client)
    form = await pass_form(db, order_id)
    refused = await client.post(f"/final-check/{order_id}", data=form, headers=hx(token))
    assert refused.status_code == 403
    assert toast(refused)["message"] == _("Your role does not give access to this screen.")
    # The service manager may look at the report, not give the verdict.
    client.cookies.clear()
    await sign_in(client, Role.SERVICE_MANAGER)
    page = html(await client.get(f"/final-check/{order_id}"))
    assert page.select_one("[data-testid=qc-pass]") is None
    token = await csrf_token(client, f"/final-check/{order_id}")
    refused = await client.post(f"/final-check/{order_id}", data=form, headers=hx(token))
    assert refused.status_code == 403
    assert toast(refused)["message"] == _("The final check is done by the QC inspector.")
    await nothing_inspected(db, order_id, WorkOrderStatus.QC)


async def test_a_fail_sends_the_job_back_and_a_pass_makes_the_car_ready(
    client, db, settings, users
) -> None:
    order_id = await in_qc(db, settings, users)
    st = await final_check.state(db, order_id)
    redo = st.tasks[0][1].id
    await sign_in(client, Role.QC_INSPECTOR)
    token = await csrf_token(client, f"/final-check/{order_id}")
    failed = await client.post(
        f"/final-check/{order_id}",
        data={"passed": "0", "reason_category": "workmanship", "note": "机油滤清器渗油",
              "rework_job_ids": [str(redo)], "version": str(st.order.version),
              "_csrf_token": token},
    )  # fmt: skip
    assert failed.status_code == 303
    assert failed.headers["location"] == "/final-check"
    wo = await order(db, order_id)
    assert (wo.status, wo.rework_count) == (WorkOrderStatus.IN_PROGRESS, 1)
    again = [t for t in await tasks(db, order_id) if t.rework]
    assert [t.job_id for t in again] == [redo]
    assert again[0].status == TaskStatus.DISPATCHED.value

    await work_done(db, users, order_id)
    form = await pass_form(db, order_id)
    passed = await client.post(f"/final-check/{order_id}", data=form, headers=hx(token))
    assert passed.headers["hx-redirect"] == "/final-check"
    assert (await order(db, order_id)).status == WorkOrderStatus.READY

    page = html(await client.get(f"/final-check/{order_id}"))
    rows = page.select("[data-testid=qc-recorded]")
    assert [r["data-passed"] for r in rows] == ["true", "false"]
    assert page.select_one("[data-testid=qc-rework-count]")["data-count"] == "1"
    assert page.select_one("[data-testid=qc-not-waiting]") is not None
    queue = html(await client.get("/final-check"))
    recent = queue.select(f"[data-testid=qc-inspection][data-order='{order_id}']")
    assert [r["data-passed"] for r in recent] == ["true"]


async def test_the_queue_follows_the_workshop_boards_event_stream(
    client, db, settings, users
) -> None:
    """A car reaches the queue when its last mutual check commits, not at the next poll."""
    await in_qc(db, settings, users)
    await sign_in(client, Role.QC_INSPECTOR)
    page = html(await client.get("/final-check"))
    live = page.select_one("[hx-ext=sse]")
    assert live is not None
    seen = board_events.broker.sequence
    assert live["sse-connect"] == f"/workshop/events?seen={seen}"
    queue = page.select_one("#qc-queue")
    assert live in queue.parents
    assert queue["hx-get"] == "/final-check"
    assert queue["hx-trigger"].startswith("sse:board")
    assert "every 30s" not in queue["hx-trigger"]
    # Everyone who may open the queue may listen to the stream.
    assert set(final_check_routes.VIEWERS) <= set(workshop_routes.VIEWERS)

"""The final QC report read back as recorded: on the report page (every round in
full, read-only, printable), on the work order, at delivery, and in the signed
delivery record the customer can verify."""

from __future__ import annotations

import json
from typing import Any

from bs4 import BeautifulSoup
from sqlalchemy import select

from app.i18n import locale_as
from app.models import Inspection, Role, Signature, StaffUser
from app.models.base import utcnow
from app.services.delivery import acceptance as delivery_signing
from app.services.final_check import inspection as final_check
from app.services.signing import signatures
from app.services.workshop import checklist
from app.services.workshop import jobs as workshop
from tests.conftest import html, sign_in
from tests.test_delivery import ready_to_sign, sign
from tests.workshop_helpers import (
    actor,
    check_in_of,
    dispatched,
    every_item_ticked,
    fail_final_check,
    in_qc,
    pass_final_check,
    ready,
    tasks,
    work_done,
)


def recorded_rounds(page: BeautifulSoup) -> list[dict[str, Any]]:
    """Each recorded round as the page shows it."""
    rounds = []
    for card in page.select("[data-testid=qc-recorded]"):
        rounds.append(
            {
                "round": card["data-round"],
                "passed": card["data-passed"],
                "items": {
                    li["data-item"]: li["data-ticked"] == "true"
                    for li in card.select("[data-testid=qc-recorded-item]")
                },
                "odometer": card.select_one("[data-testid=qc-recorded-odometer]").get_text(
                    strip=True
                ),
                "fuel": card.select_one("[data-testid=qc-recorded-fuel]").get_text(strip=True),
                "inspector": card.select_one("[data-testid=qc-inspector]").get_text(strip=True),
                "note": card.select_one("[data-testid=qc-recorded-note]").get_text(strip=True),
                "reason": (r.get_text(strip=True) if (r := card.select_one(
                    "[data-testid=qc-recorded-reason]")) else None),
            }
        )  # fmt: skip
    return rounds


async def last_inspection(db, order_id: int) -> Inspection:  # type: ignore[no-untyped-def]
    await db.rollback()
    found = await db.scalar(
        select(Inspection)
        .where(Inspection.work_order_id == order_id)
        .order_by(Inspection.id.desc())
        .limit(1)
    )
    assert found is not None
    return found


async def test_a_passed_report_reads_back_as_recorded(client, db, settings, users) -> None:
    order_id = await ready(db, settings, users)
    inspection = await last_inspection(db, order_id)
    applicable = (await final_check.state(db, order_id)).items
    assert len(applicable) == 12
    await sign_in(client, Role.QC_INSPECTOR)

    page = html(await client.get(f"/final-check/{order_id}"))

    # Read-only: no tick box, no reading to type, no verdict to give.
    assert page.select_one("[data-testid=qc-form]") is None
    assert page.select("input[name=items], input[name=odometer_km]") == []
    [shown] = recorded_rounds(page)
    assert shown["round"] == "1"
    assert shown["passed"] == "true"
    assert shown["items"] == dict.fromkeys(applicable, True)
    assert shown["odometer"] == f"{inspection.odometer_km:,} 公里"
    assert shown["fuel"] == f"{inspection.fuel_eighths}/8"
    assert shown["inspector"].startswith("Qc ·")
    assert page.select_one("[data-testid=qc-print][data-print]") is not None


async def test_the_report_shows_what_the_self_check_and_the_mutual_check_ticked(
    client, db, settings, users
) -> None:
    order_id = await dispatched(db, settings, users)
    tech, foreman = actor(users, Role.TECHNICIAN), actor(users, Role.FOREMAN)
    reason = "客户自行洗车"
    for task in await tasks(db, order_id):
        ticked = await every_item_ticked(db, task.id)
        await workshop.start(db, task.id, tech, utcnow())
        await workshop.finish(db, task.id, tech, utcnow())
        own = {**ticked, checklist.field("clean"): checklist.NOT_APPLICABLE,
               checklist.reason_field("clean"): reason}  # fmt: skip
        await workshop.self_check(db, task.id, tech, utcnow(), form=own)
        await workshop.mutual_check(db, task.id, foreman, utcnow(), form=ticked)
    await db.commit()
    names = {
        role: (await db.get(StaffUser, users[role])).display_name
        for role in (Role.TECHNICIAN, Role.FOREMAN)
    }
    job_id, task = (await tasks(db, order_id))[0].job_id, (await tasks(db, order_id))[0]
    expected = await every_item_ticked(db, task.id)
    await sign_in(client, Role.QC_INSPECTOR)

    page = html(await client.get(f"/final-check/{order_id}"))

    rows = page.select(f"[data-testid=qc-ticks-{job_id}] [data-testid=qc-tick]")
    assert len(rows) == len(expected)
    with locale_as("zh_CN"):
        labels = [checklist.label(key[len("check-") :]) for key in expected]
    assert [r.select("td")[0].text.strip() for r in rows] == labels
    for row, key in zip(rows, expected, strict=True):
        self_cell, mutual_cell = row.select("td")[1:]
        assert names[Role.TECHNICIAN] in self_cell.text
        assert names[Role.FOREMAN] in mutual_cell.text
        assert "✓" in mutual_cell.text
        assert (reason in self_cell.text) == (key == "check-clean")


async def test_every_round_in_the_history_shows_its_full_report(
    client, db, settings, users
) -> None:
    order_id = await in_qc(db, settings, users)
    job_ids = [t.job_id for t in await tasks(db, order_id)]
    await fail_final_check(db, users, order_id, job_ids)
    await work_done(db, users, order_id)
    await pass_final_check(db, users, order_id)
    check_in = await check_in_of(db, order_id)
    await sign_in(client, Role.SERVICE_MANAGER)

    page = html(await client.get(f"/final-check/{order_id}"))

    passed, failed = recorded_rounds(page)
    assert (passed["round"], passed["passed"]) == ("2", "true")
    assert all(passed["items"].values())
    assert passed["odometer"] == f"{(check_in.odometer_km or 0) + 3:,} 公里"
    assert (failed["round"], failed["passed"]) == ("1", "false")
    assert failed["items"]
    assert not any(failed["items"].values())
    assert failed["reason"] == "维修工艺"
    assert failed["note"] == "机滤密封圈渗油"
    assert failed["odometer"] == "—"


async def test_the_work_order_shows_the_final_qc_report(client, db, settings, users) -> None:
    order_id = await ready(db, settings, users)
    await sign_in(client, Role.ADVISOR)
    page = html(await client.get(f"/work-orders/{order_id}"))
    section = page.select_one("[data-testid=qc-reports]")
    assert section is not None
    [shown] = recorded_rounds(section)
    assert shown["passed"] == "true"
    assert len(shown["items"]) == 12


async def test_the_delivery_shows_the_report_and_the_customer_signs_it(
    client, db, settings, users
) -> None:
    order_id = await ready_to_sign(db, settings, users)
    inspection = await last_inspection(db, order_id)
    await sign_in(client, Role.ADVISOR)
    page = html(await client.get(f"/delivery/{order_id}"))
    report = page.select_one("[data-testid=delivery-qc-report]")
    assert report is not None
    assert all(recorded_rounds(report)[0]["items"].values())

    await db.rollback()  # a fresh transaction: the app has written since (the sign-in)
    signature = await sign(db, settings, users, order_id)
    await db.commit()

    signed = json.loads(signature.content)
    assert signed["schema"] == "walkaround.delivery/2"
    assert signed["final_check"]["passed"] is True
    assert signed["final_check"]["items"] == dict.fromkeys(inspection.ticked, True)
    assert signed["final_check"]["odometer_km"] == inspection.odometer_km
    check = await signatures.verify(db, signature, settings.currency)
    assert check.intact, check.differences


async def test_a_delivery_signed_before_the_report_was_added_still_verifies(
    db, settings, users, monkeypatch
) -> None:
    order_id = await ready_to_sign(db, settings, users)
    monkeypatch.setattr(delivery_signing, "DELIVERY_SCHEMA", delivery_signing.DELIVERY_SCHEMA_V1)
    signature_id = (await sign(db, settings, users, order_id)).id
    await db.commit()
    monkeypatch.undo()

    stored = await db.get(Signature, signature_id)
    assert stored is not None
    signed = json.loads(stored.content)
    assert signed["schema"] == "walkaround.delivery/1"
    assert "items" not in signed["final_check"]
    check = await signatures.verify(db, stored, settings.currency)
    assert check.intact, check.differences

    # A changed inspector name still shows, in the v1 record's own terms.
    inspector = await db.get(StaffUser, users[Role.QC_INSPECTOR])
    assert inspector is not None
    inspector.display_name = "Someone else"
    await db.commit()
    check = await signatures.verify(db, stored, settings.currency)
    assert [d.path for d in check.differences] == ["final_check.inspector"]

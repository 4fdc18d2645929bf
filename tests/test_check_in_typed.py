"""Nothing typed at the car is lost, over HTTP: a change the tablet's outbox sends again
after a lost answer is applied once, and a plain form post the server refuses comes back
as typed with the refused field marked."""

from __future__ import annotations

from typing import Any

from app.i18n import _
from app.models import Role
from tests.checkin_helpers import fresh, started_check_in
from tests.conftest import csrf_token, html, sign_in

VERSION = "X-Check-In-Version"


async def _advisor(client: Any, db: Any, settings: Any, users: Any) -> tuple[int, dict[str, str]]:
    check_in_id = await started_check_in(db, settings, users)
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client, f"/check-ins/{check_in_id}/walkaround")
    return check_in_id, {"HX-Request": "true", "x-csrftoken": token}


async def test_a_change_sent_again_after_a_lost_answer_is_applied_once(
    client, db, settings, users
) -> None:
    check_in_id, hx = await _advisor(client, db, settings, users)
    base = f"/check-ins/{check_in_id}"
    sends = [
        (f"{base}/belongings", {"kind": "phone", "count": "1"}),
        (f"{base}/marks", {"x": "0.25", "y": "0.5"}),
        (f"{base}/walkaround/save", {"fuel_eighths": "5"}),
        (f"{base}/cover/seat", {}),
    ]
    for n, (url, fields) in enumerate(sends, start=1):
        data = {**fields, "version": str(n), "change_id": f"tablet-change-{n}"}
        first = await client.post(url, data=data, headers=hx)
        assert first.status_code == 200, first.text
        assert first.headers[VERSION] == str(n + 1)
        # The answer was lost: the outbox sends the very same change again.
        again = await client.post(url, data=data, headers=hx)
        assert again.status_code == 200, again.text
        assert again.headers[VERSION] == str(n + 1)

    check_in = await fresh(db, check_in_id)
    assert check_in.version == 5
    assert [(b.kind, b.count) for b in check_in.belongings] == [("phone", 1)]
    assert len(check_in.damage_marks) == 1
    assert check_in.fuel_eighths == 5
    assert [c.kind for c in check_in.covers] == ["seat"]  # a toggle, toggled once

    # A new change on an old version is still a conflict.
    stale = await client.post(
        f"{base}/belongings",
        data={"kind": "bag", "count": "1", "version": "4", "change_id": "tablet-change-9"},
        headers=hx,
    )
    assert stale.status_code == 409
    assert len((await fresh(db, check_in_id)).belongings) == 1


async def test_a_change_sent_again_answers_with_the_version_it_made(
    client, db, settings, users
) -> None:
    # Between the lost answer and the second copy another tablet saved: the tablet must
    # learn the version its own change made, so that its next queued change conflicts
    # with the other tablet's instead of overwriting it.
    check_in_id, hx = await _advisor(client, db, settings, users)
    save = f"/check-ins/{check_in_id}/walkaround/save"
    mine = {"fuel_eighths": "3", "version": "1", "change_id": "tablet-a-1"}
    assert (await client.post(save, data=mine, headers=hx)).headers[VERSION] == "2"
    other = await client.post(save, data={"fuel_eighths": "7", "version": "2"}, headers=hx)
    assert other.headers[VERSION] == "3"

    again = await client.post(save, data=mine, headers=hx)
    assert again.status_code == 200
    assert again.headers[VERSION] == "2"
    following = await client.post(
        save, data={"fuel_eighths": "4", "version": "2", "change_id": "tablet-a-2"}, headers=hx
    )
    assert following.status_code == 409
    check_in = await fresh(db, check_in_id)
    assert (check_in.fuel_eighths, check_in.version) == (7, 3)


async def test_a_change_id_longer_than_an_id_is_refused(client, db, settings, users) -> None:
    check_in_id, hx = await _advisor(client, db, settings, users)
    refused = await client.post(
        f"/check-ins/{check_in_id}/belongings",
        data={"kind": "phone", "version": "1", "change_id": "x" * 65},
        headers=hx,
    )
    assert refused.status_code == 422
    assert (await fresh(db, check_in_id)).belongings == []


async def test_a_refused_plain_walkaround_save_comes_back_as_typed(
    client, db, settings, users
) -> None:
    check_in_id, hx = await _advisor(client, db, settings, users)
    last = (await fresh(db, check_in_id)).work_order.vehicle.last_odometer_km
    typed = {"odometer_km": str(last - 1000), "fuel_eighths": "5", "glass_ok": "0",
             "warning_lights": ["abs", "oil"], "valuables_advised": "1"}  # fmt: skip
    refused = await client.post(
        f"/check-ins/{check_in_id}/walkaround/save",
        data={**typed, "version": "1", "_csrf_token": hx["x-csrftoken"]},
    )
    assert refused.status_code == 422
    form = html(refused).select_one(f"form[action='/check-ins/{check_in_id}/walkaround/save']")
    odometer = form.select_one("#odometer_km")
    assert odometer["value"] == typed["odometer_km"]
    assert odometer["aria-invalid"] == "true"
    assert f"{last:,}" in form.select_one("#error-odometer_km").get_text()
    checked = {(i["name"], i["value"]) for i in form.select("input[checked]")}
    assert {("fuel_eighths", "5"), ("glass_ok", "0"), ("warning_lights", "abs"),
            ("warning_lights", "oil"), ("valuables_advised", "1")} <= checked  # fmt: skip
    assert ("glass_ok", "1") not in checked
    check_in = await fresh(db, check_in_id)
    assert (check_in.odometer_km, check_in.fuel_eighths, check_in.version) == (None, None, 1)


async def test_a_refused_plain_belonging_or_concern_keeps_what_was_typed(
    client, db, settings, users
) -> None:
    check_in_id, hx = await _advisor(client, db, settings, users)
    token = hx["x-csrftoken"]
    belonging = await client.post(
        f"/check-ins/{check_in_id}/belongings",
        data={"kind": "umbrella", "count": "0", "version": "1", "_csrf_token": token},
    )
    assert belonging.status_code == 422
    form = html(belonging).select_one(f"form[action='/check-ins/{check_in_id}/belongings']")
    # The item was a chip: the one tapped stays marked.
    assert form.select_one("button[name=kind][aria-pressed=true]")["value"] == "umbrella"
    count = form.select_one("input[name=count]")
    assert (count["value"], count["aria-invalid"]) == ("0", "true")
    assert form.select_one("#error-count").get_text() == _("Enter how many.")

    concern = (await fresh(db, check_in_id)).concerns[0]
    typed = {"customer_words": " ", "what": "异响", "when": "冷车启动"}
    words = await client.post(
        f"/check-ins/{check_in_id}/concerns/{concern.id}",
        data={**typed, "version": "1", "_csrf_token": token},
    )
    assert words.status_code == 422
    page = html(words)
    form = page.select_one(f"form[action='/check-ins/{check_in_id}/concerns/{concern.id}']")
    assert form.select_one(f"#what-{concern.id}")["value"] == "异响"
    assert form.select_one(f"#when-{concern.id}")["value"] == "冷车启动"
    textarea = form.select_one("textarea[name=customer_words]")
    assert textarea["aria-describedby"] == f"error-customer_words-{concern.id}"
    slot = page.select_one(f"#error-customer_words-{concern.id}")
    assert slot.get_text() == _("Write the concern in the customer's own words.")
    # The form for a new concern, on the same page, is not the one refused.
    new = page.select_one(f"form[action='/check-ins/{check_in_id}/concerns']")
    assert new.select_one("textarea").get_text() == ""
    assert new.select_one("#error-customer_words").get_text() == ""

    check_in = await fresh(db, check_in_id)
    assert (check_in.belongings, check_in.version) == ([], 1)
    assert (check_in.concerns[0].what, check_in.concerns[0].customer_words) == (
        "",
        concern.customer_words,
    )


async def test_a_refusal_no_field_of_the_step_shows_is_shown_once_on_the_page(
    client, db, settings, users
) -> None:
    check_in_id, hx = await _advisor(client, db, settings, users)
    concern = (await fresh(db, check_in_id)).concerns[0]
    removed = await client.post(
        f"/check-ins/{check_in_id}/concerns/{concern.id}/delete",
        data={"version": "1", "_csrf_token": hx["x-csrftoken"]},
    )
    assert removed.status_code == 303
    refused = await client.post(
        f"/check-ins/{check_in_id}/summary/confirm",
        data={"version": "2", "_csrf_token": hx["x-csrftoken"]},
    )
    assert refused.status_code == 422
    alerts = html(refused).select("[data-testid=form-error]")
    assert [a.get_text() for a in alerts] == [
        _("Add at least one concern in the customer's words.")
    ]
    assert (await fresh(db, check_in_id)).summary_confirmed_at is None


async def test_a_contact_number_that_cannot_be_called_is_refused_at_its_field(
    client, db, settings, users
) -> None:
    """Seven digits is a landline without its area code: no one can call it back from the
    dealership's line, and no text message reaches it. An 11-digit mobile, or a landline
    with its area code, is kept; a number already on file is not refused on every save."""
    check_in_id, hx = await _advisor(client, db, settings, users)
    url, token = f"/check-ins/{check_in_id}/greeting/save", hx["x-csrftoken"]
    refused = await client.post(
        url, data={"contact_phone": "8888666", "version": "1", "_csrf_token": token}
    )
    assert refused.status_code == 422
    form = html(refused).select_one(f"form[action='{url}']")
    phone = form.select_one("#contact_phone")
    assert (phone["value"], phone["aria-invalid"]) == ("8888666", "true")
    assert "11 位手机号码" in form.select_one("#error-contact_phone").get_text()
    before = await fresh(db, check_in_id)
    assert (before.contact_phone, before.version) != ("8888666", 2)

    for n, number in enumerate(("0755-8888 6666", "139 1111 2222"), start=1):
        saved = await client.post(
            url, data={"contact_phone": number, "version": str(n)}, headers=hx
        )
        assert saved.status_code == 200, saved.text
    await db.rollback()
    assert (await fresh(db, check_in_id)).contact_phone == "13911112222"

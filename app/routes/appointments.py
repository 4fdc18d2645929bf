"""Appointments (预约): the booking calendar, taking a booking on the phone or at the desk,
and one booking (move, cancel, start the check-in)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, DomainError, InvalidInput
from app.i18n import Formatter, _
from app.models import Role, Vehicle
from app.models.appointment import BRING_ITEMS, Appointment, AppointmentStatus
from app.models.base import utcnow
from app.routes.walk_in import NewVehicleForm, customer_form, new_customer
from app.services import lookup
from app.services.appointments import booking, estimate, slots, view
from app.services.appointments import requests as wanted
from app.services.catalogue import search as catalogue
from app.services.check_in.symptoms import w2h_labels
from app.services.records import get_or_404
from app.services.reminders.view import advisors as advisor_list
from app.settings import Settings
from app.text import clean_fields
from app.web.auth import actor_for, roles
from app.web.form import Refusal, form_data, form_version
from app.web.render import go, is_fragment, render

USERS = (Role.ADVISOR, Role.CUSTOMER_RELATIONS, Role.SERVICE_MANAGER)
# The booking form's regions htmx refreshes, by the id of the element swapped.
NEW_FRAGMENTS = {
    "results": "appointments/_lookup.html",
    "estimate": "appointments/_estimate_oob.html",
    "offers": "appointments/_offers_region.html",
    "item-hits": "appointments/_items.html",
}
MAX_OFFERS = 6


def _query(request: Request[Any, Any, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in request.query_params.multi_items():
        found[key] = (
            [*found[key], value]
            if key in found and isinstance(found[key], list)
            else ([found[key], value] if key in found else value)
        )
    return clean_fields(found)


def _target(request: Request[Any, Any, Any]) -> str:
    htmx = getattr(request, "htmx", None)
    return str(htmx.target or "") if htmx and is_fragment(request) else ""


def _form_state(form: dict[str, Any], exc: DomainError | None = None) -> Refusal:
    values = dict(form)
    if not values.get("sent"):
        values.setdefault("bring", list(wanted.DEFAULT_BRING))
        values.setdefault("channel", "phone")
    return Refusal("/appointments", values, exc.field if exc else None, exc.message if exc else "")


def _preset(
    raw: str, advisor_id: int | None, advisors: list[tuple[int, str]], settings: Settings
) -> dict[str, Any] | None:
    """The slot picked on the calendar, offered first (the core checks it when booked)."""
    try:
        at = datetime.strptime(raw, "%Y-%m-%dT%H:%M").replace(tzinfo=settings.tz)
    except ValueError:
        return None
    fmt = Formatter(settings.timezone, settings.currency)
    return {
        "starts_at": raw,
        "advisor_id": advisor_id,
        "advisor_name": dict(advisors).get(advisor_id) if advisor_id else None,
        "label": f"{fmt.date(at, view.day_pattern())} {fmt.time(at)}",
    }


class AppointmentController(Controller):
    path = "/appointments"
    guards = [roles(*USERS)]  # noqa: RUF012
    tags = ["appointments"]  # noqa: RUF012

    # ---- the calendar -------------------------------------------------------------------

    @get("/")
    async def calendar(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Template:
        """`?day=YYYY-MM-DD` (today), `?view=week` and `&advisor=ID` for the week."""
        now = utcnow()
        today = now.astimezone(settings.tz).date()
        q = request.query_params
        status = 200
        error = ""
        try:
            day = view.parse_day(q.get("day", ""), today)
            advisor = wanted.advisor({"advisor": q.get("advisor", "")}, "advisor")
        except InvalidInput as exc:
            day, advisor, error, status = today, None, exc.message, exc.status_code
        ctx: dict[str, Any] = {
            "day": day,
            "today": today,
            "advisor": advisor,
            "advisors": await advisor_list(db_session),
            "status_labels": view.status_labels(),
            "error": error,
            "tz": settings.tz,
            "day_pattern": view.day_pattern(),
        }
        if q.get("view") == "week":
            monday = view.monday_of(day)
            week = await slots.week_grid(db_session, settings, monday, now)
            if advisor is not None:
                week = [
                    replace(g, advisors=[a for a in g.advisors if a.advisor_id == advisor])
                    for g in week
                ]
            ctx |= {"week": week, "monday": monday, "step": timedelta(days=7)}
            return render(request, "appointments/week.html", ctx, status_code=status)
        grid = await slots.day_grid(db_session, settings, day, now)
        ctx |= {
            "grid": grid,
            "step": timedelta(days=1),
            "off_grid": await view.off_grid(db_session, settings.tz, day),
        }
        return render(request, "appointments/page.html", ctx, status_code=status)

    # ---- taking a booking ---------------------------------------------------------------

    async def _new_context(
        self,
        session: AsyncSession,
        settings: Settings,
        form: dict[str, Any],
        exc: DomainError | None = None,
        offers: list[slots.Slot] | None = None,
    ) -> dict[str, Any]:
        now = utcnow()
        today = now.astimezone(settings.tz).date()
        f = _form_state(form, exc)
        ctx: dict[str, Any] = {
            "f": f,
            "q": wanted.one(form, "q"),
            "vehicles": [],
            "min_query": lookup.MIN_QUERY,
            "vehicle": None,
            "advisors": await advisor_list(session),
            "bring_items": BRING_ITEMS,
            "bring_labels": view.bring_labels(),
            "channel_labels": view.channel_labels(),
            "channels": wanted.FORM_CHANNELS,
            "chip_groups": wanted.chip_groups(),
            "w2h_labels": w2h_labels(),
            "source_labels": view.source_labels(),
            "today": today,
            "tz": settings.tz,
            "day_pattern": view.day_pattern(),
            "offers": offers,
            "preset": None,
            "rough": None,
            "picked": [],
            "hits": [],
            "item_q": wanted.one(form, "item_q"),
        }
        vehicle_raw = wanted.one(form, "vehicle_id")
        if not vehicle_raw:
            ctx["vehicles"] = await lookup.find_vehicles(session, ctx["q"]) if ctx["q"] else []
            return ctx
        problem: DomainError | None = None
        try:
            vehicle = await session.get(Vehicle, wanted.ident(vehicle_raw, "vehicle_id"))
            if vehicle is None:
                raise InvalidInput(_("This vehicle does not exist."), field="vehicle_id")
            ctx["vehicle"] = vehicle
            after = view.parse_day(wanted.one(form, "after"), today, "after")
            ctx["after"] = max(after, today)
            ctx["wanted"] = await wanted.offers(session, settings, vehicle, ctx["after"])
            ctx["picked"] = await wanted.items(session, wanted.values(form, "item"))
            picked_keys = {i.key for i in ctx["picked"]}
            if ctx["item_q"]:
                hits = await catalogue.search(session, ctx["item_q"], today)
                ctx["hits"] = [h for h in hits if f"{h.kind}:{h.id}" not in picked_keys]
            jobs = await wanted.jobs(session, vehicle.id, form)
            ctx["rough"] = await estimate.rough(session, jobs)
            advisor_id = wanted.advisor(form, "advisor")
            starts_raw = wanted.one(form, "starts_at")
            if starts_raw and offers is None:
                ctx["preset"] = _preset(starts_raw, advisor_id, ctx["advisors"], settings)
            if wanted.one(form, "find") and offers is None:
                count = 4 if wanted.one(form, "more") else 2
                start = datetime.combine(ctx["after"], datetime.min.time(), settings.tz)
                ctx["offers"] = await slots.free_slots(
                    session, settings, after=max(start, now), advisor_id=advisor_id,
                    labour_hours=ctx["rough"].hours, now=now, count=min(count, MAX_OFFERS),
                )  # fmt: skip
        except DomainError as found:
            problem = found
        if problem is not None and exc is None:
            ctx["f"] = _form_state(form, problem)
        return ctx

    @get("/new")
    async def new_page(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Template:
        """The booking form. `?q=` finds the customer, `?vehicle_id=` picks the car; the
        rest is the form as typed so far (`find=1` offers the next free slots)."""
        form = _query(request)
        ctx = await self._new_context(db_session, settings, form)
        fragment = NEW_FRAGMENTS.get(_target(request))
        # A swapped region says what stopped it (the page shows it below the form).
        ctx["region_error"] = bool(fragment) and bool(ctx["f"].message)
        return render(request, "appointments/new.html", ctx, fragment=fragment)

    @post("/")
    async def create(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Template | Redirect | Any:
        """Book the slot in `starts_at` (local) with `advisor_id` ("" any) for the form's
        vehicle and requested work."""
        form = await form_data(request)
        form["sent"] = "1"
        try:
            if not wanted.one(form, "vehicle_id"):
                raise InvalidInput(_("Find the customer's vehicle first."), field="q")
            vehicle_id = wanted.ident(wanted.one(form, "vehicle_id"), "vehicle_id")
            data = booking.BookingInput(
                vehicle_id=vehicle_id,
                advisor_id=wanted.advisor(form),
                starts_at=wanted.one(form, "starts_at"),
                channel=wanted.channel(form),
                jobs=await wanted.jobs(db_session, vehicle_id, form),
                bring=wanted.bring(form, sent=True),
                notes=wanted.notes(form),
                odometer_km=wanted.odometer(form),
            )
            made = await booking.book(db_session, settings, data, actor_for(request), utcnow())
        except booking.SlotTaken as exc:
            ctx = await self._new_context(db_session, settings, form, exc, offers=exc.offers)
            return render(request, "appointments/new.html", ctx, status_code=exc.status_code)
        except (InvalidInput, Conflict) as exc:
            if exc.field == "advisor_id":
                exc.field = "advisor"  # the form's choice; the slot's own is hidden
            ctx = await self._new_context(db_session, settings, form, exc)
            return render(request, "appointments/new.html", ctx, status_code=exc.status_code)
        return go(request, f"/appointments/{made.id}")

    @get("/customers/new")
    async def new_customer_page(
        self, request: Request[Any, Any, Any], settings: NamedDependency[Settings]
    ) -> Template:
        ctx = customer_form(settings, "/appointments/customers/new", submit=_("Save and book"))
        return render(request, "walk_in/new.html", ctx)

    @post("/customers/new")
    async def create_customer(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        data: URLEncodedBody[NewVehicleForm],
    ) -> Template | Redirect:
        """A new customer and vehicle (the walk-in's form and checks), then their booking."""
        vehicle = await new_customer(
            request, db_session, settings, data, "/appointments/customers/new", _("Save and book")
        )
        if isinstance(vehicle, Template):
            return vehicle
        return Redirect(f"/appointments/new?vehicle_id={vehicle.id}", status_code=303)

    # ---- one booking --------------------------------------------------------------------

    async def _show_context(
        self,
        session: AsyncSession,
        settings: Settings,
        appointment_id: int,
        form: dict[str, Any] | None = None,
        exc: DomainError | None = None,
        offers: list[slots.Slot] | None = None,
    ) -> dict[str, Any]:
        now = utcnow()
        appt = await get_or_404(
            session, Appointment, appointment_id, _("This appointment does not exist.")
        )
        history = await booking.history(session, appt.id)
        ids = {appt.advisor_id, appt.created_by_id}
        for change in history:
            ids |= {change.by_id, change.from_advisor_id, change.to_advisor_id}
        today = now.astimezone(settings.tz).date()
        live = appt.status in (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED)
        return {
            "appt": appt,
            "history": history,
            "names": await view.staff_names(session, ids),
            "messages": await view.messages(session, appt),
            "advisors": await advisor_list(session),
            "status_labels": view.status_labels(),
            "bring_labels": view.bring_labels(),
            "channel_labels": view.channel_labels(),
            "change_labels": view.change_labels(),
            "source_labels": view.source_labels(),
            "bring": [b for b in appt.bring.split(",") if b],
            "live": live,
            "today_visit": live and appt.scheduled_at.astimezone(settings.tz).date() == today,
            "f": Refusal(
                f"/appointments/{appt.id}",
                form or {},
                exc.field if exc else None,
                exc.message if exc else "",
            ),
            "offers": offers,
            "tz": settings.tz,
            "day_pattern": view.day_pattern(),
            "default_at": view.local_input(appt.scheduled_at, settings.tz),
        }

    @get("/{appointment_id:int}")
    async def show(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        appointment_id: FromPath[int],
    ) -> Template:
        """The booking; `?offers=same|any` lists free slots to move it to."""
        ctx = await self._show_context(db_session, settings, appointment_id)
        which = request.query_params.get("offers", "")
        appt: Appointment = ctx["appt"]
        if which in ("same", "any") and ctx["live"]:
            now = utcnow()
            found = await slots.free_slots(
                db_session, settings, after=now,
                advisor_id=appt.advisor_id if which == "same" else None,
                labour_hours=appt.labour_hours, now=now, count=5, leave_out=appt.id,
            )  # fmt: skip
            # Its own hours count once; its own slot is no place to move to.
            here = (appt.advisor_id, appt.scheduled_at)
            ctx["offers"] = [o for o in found if (o.advisor_id, o.starts_at) != here][:4]
        return render(
            request, "appointments/show.html", ctx, fragment="appointments/_move_offers.html"
        )

    @post("/{appointment_id:int}/move")
    async def move(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        appointment_id: FromPath[int],
    ) -> Template | Redirect | Any:
        """To `slot` ("<local time>|<advisor id>") or, `slot=manual`, `starts_at` with
        `advisor_id`; `reason` and the page's `version`."""
        form = await form_data(request)
        slot = wanted.one(form, "slot")
        try:
            if slot and slot != "manual":
                starts_at, _sep, who = slot.partition("|")
                advisor_id = wanted.advisor({"a": who}, "a")
            else:
                starts_at, advisor_id = wanted.one(form, "starts_at"), wanted.advisor(form)
            await booking.move(
                db_session, settings, appointment_id, form_version(form), starts_at, advisor_id,
                wanted.one(form, "reason"), actor_for(request), utcnow(),
            )  # fmt: skip
        except booking.SlotTaken as exc:
            return await self._refused(request, db_session, settings, appointment_id, form, exc,
                                       exc.offers)  # fmt: skip
        except (InvalidInput, Conflict) as exc:
            return await self._refused(request, db_session, settings, appointment_id, form, exc)
        return go(request, f"/appointments/{appointment_id}")

    @post("/{appointment_id:int}/cancel")
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        appointment_id: FromPath[int],
    ) -> Template | Redirect | Any:
        """Cancel with the customer's `reason` and the page's `version`."""
        form = await form_data(request)
        try:
            await booking.cancel(
                db_session, appointment_id, form_version(form), wanted.one(form, "cancel_reason"),
                actor_for(request), utcnow(), settings=settings,
            )  # fmt: skip
        except (InvalidInput, Conflict) as exc:
            if isinstance(exc, InvalidInput) and exc.field == "reason":
                exc.field = "cancel_reason"
            return await self._refused(request, db_session, settings, appointment_id, form, exc)
        return go(request, f"/appointments/{appointment_id}")

    async def _refused(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        settings: Settings,
        appointment_id: int,
        form: dict[str, Any],
        exc: DomainError,
        offers: list[slots.Slot] | None = None,
    ) -> Template:
        # Nothing was written (the core refuses before writing, a taken slot in a savepoint);
        # the refusal's status rolls the transaction back at the end anyway.
        ctx = await self._show_context(session, settings, appointment_id, form, exc, offers)
        return render(request, "appointments/show.html", ctx, status_code=exc.status_code)

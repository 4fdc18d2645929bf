"""Who may call what: every route the app has (read from the app itself) against a table written
here, for each role, a signed-out browser, the dealer system's API client and a tablet in customer
mode. A route added without a row here fails the test, so a new screen's audience is a decision.

Authorisation does not depend on the database kind, so this runs on SQLite only. Ids in paths
name nothing (999999): an admitted caller gets a 404 or a refusal of the empty form, never a 403,
and nothing is changed."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.testing import AsyncTestClient

from app.models import Role
from app.services.api import clients as api_clients
from tests.conftest import csrf_token, sign_in
from tests.estimate_helpers import priced_estimate

ADVISOR, TECHNICIAN, FOREMAN = Role.ADVISOR, Role.TECHNICIAN, Role.FOREMAN
QC, RELATIONS, MANAGER, ADMIN = (
    Role.QC_INSPECTOR, Role.CUSTOMER_RELATIONS, Role.SERVICE_MANAGER, Role.ADMIN,
)  # fmt: skip
STAFF = frozenset(Role)
HEALTH_CHECKERS = {ADVISOR, TECHNICIAN, FOREMAN, MANAGER}  # the bay's and the desk's quick check
PUBLIC = "public"  # anyone, signed in or not (the customer's links, sign-in, static files)
API = "api"  # the dealer system's bearer token, nothing else

ROUTES: dict[tuple[str, str], Any] = {
    ("GET", "/"): PUBLIC,
    ("GET", "/admin/staff"): {ADMIN, MANAGER},
    ("GET", "/api/v1/appointments"): API,
    ("POST", "/api/v1/appointments"): API,
    ("POST", "/api/v1/appointments/{appointment_id:int}/cancel"): API,
    ("POST", "/api/v1/appointments/{appointment_id:int}/move"): API,
    ("GET", "/api/v1/work-orders"): API,
    ("GET", "/api/v1/work-orders/{number:str}"): API,
    ("GET", "/approve/{token:str}"): PUBLIC,
    ("POST", "/approve/{token:str}"): PUBLIC,
    # The board (看板): the manager and admin read everyone's figures, an advisor their own;
    # the targets are the manager's (and admin's, as settings).
    ("GET", "/board"): {MANAGER, ADVISOR},
    ("GET", "/board/drill/{code:str}"): {MANAGER, ADVISOR},
    ("GET", "/board/targets"): {MANAGER, ADMIN},
    ("POST", "/board/targets"): {MANAGER, ADMIN},
    ("GET", "/catalogue"): {ADMIN, MANAGER},
    ("GET", "/catalogue/export/{kind:str}"): {ADMIN, MANAGER},
    ("GET", "/catalogue/import"): {ADMIN, MANAGER},
    ("POST", "/catalogue/import"): {ADMIN, MANAGER},
    ("POST", "/catalogue/import/confirm"): {ADMIN, MANAGER},
    ("GET", "/catalogue/{kind:str}"): {ADMIN, MANAGER},
    ("GET", "/catalogue/{kind:str}/new"): {ADMIN, MANAGER},
    ("POST", "/catalogue/{kind:str}/new"): {ADMIN, MANAGER},
    ("GET", "/catalogue/{kind:str}/{item_id:int}"): {ADMIN, MANAGER},
    ("POST", "/catalogue/{kind:str}/{item_id:int}"): {ADMIN, MANAGER},
    ("POST", "/catalogue/{kind:str}/{item_id:int}/items"): {ADMIN, MANAGER},
    ("POST", "/catalogue/{kind:str}/{item_id:int}/items/{entry_id:int}/remove"): {ADMIN, MANAGER},
    # Appointments (预约): advisors, relations and the manager read the calendar and book.
    ("GET", "/appointments"): {ADVISOR, RELATIONS, MANAGER},
    ("POST", "/appointments"): {ADVISOR, RELATIONS, MANAGER},
    ("GET", "/appointments/new"): {ADVISOR, RELATIONS, MANAGER},
    ("GET", "/appointments/customers/new"): {ADVISOR, RELATIONS, MANAGER},
    ("POST", "/appointments/customers/new"): {ADVISOR, RELATIONS, MANAGER},
    ("GET", "/appointments/{appointment_id:int}"): {ADVISOR, RELATIONS, MANAGER},
    ("POST", "/appointments/{appointment_id:int}/move"): {ADVISOR, RELATIONS, MANAGER},
    ("POST", "/appointments/{appointment_id:int}/cancel"): {ADVISOR, RELATIONS, MANAGER},
    ("POST", "/check-ins/from-appointment/{appointment_id:int}"): {ADVISOR, MANAGER},
    # Complaints: relations and the manager handle them; advisors read their own customers'.
    ("GET", "/complaints"): {RELATIONS, MANAGER, ADVISOR},
    ("GET", "/complaints/badge"): {RELATIONS, MANAGER},
    ("POST", "/complaints/escalate"): {RELATIONS, MANAGER},
    ("POST", "/complaints/from-call/{attempt_id:int}"): {RELATIONS, MANAGER},
    ("GET", "/complaints/new"): {RELATIONS, MANAGER},
    ("POST", "/complaints/new"): {RELATIONS, MANAGER},
    ("GET", "/complaints/{complaint_id:int}"): {RELATIONS, MANAGER, ADVISOR},
    ("POST", "/complaints/{complaint_id:int}/actions"): {RELATIONS, MANAGER},
    ("POST", "/complaints/{complaint_id:int}/actions/{action_id:int}/done"): {RELATIONS, MANAGER},
    ("POST", "/complaints/{complaint_id:int}/listen"): {RELATIONS, MANAGER},
    ("POST", "/complaints/{complaint_id:int}/facts"): {RELATIONS, MANAGER},
    ("POST", "/complaints/{complaint_id:int}/decide"): {RELATIONS, MANAGER},
    ("POST", "/complaints/{complaint_id:int}/explain"): {RELATIONS, MANAGER},
    ("POST", "/complaints/{complaint_id:int}/act"): {RELATIONS, MANAGER},
    ("POST", "/complaints/{complaint_id:int}/follow-up"): {RELATIONS, MANAGER},
    ("POST", "/complaints/{complaint_id:int}/close"): {RELATIONS, MANAGER},
    ("POST", "/complaints/{complaint_id:int}/send-back"): {RELATIONS, MANAGER},
    ("POST", "/complaints/{complaint_id:int}/acknowledge"): {RELATIONS, MANAGER},
    ("POST", "/complaints/{complaint_id:int}/pause"): {RELATIONS, MANAGER},
    ("POST", "/complaints/{complaint_id:int}/resume"): {RELATIONS, MANAGER},
    ("POST", "/complaints/{complaint_id:int}/severity"): {RELATIONS, MANAGER},
    ("POST", "/check-ins/walk-in/{vehicle_id:int}"): {ADVISOR, MANAGER},
    ("GET", "/check-ins/{check_in_id:int}"): {ADVISOR, MANAGER},
    ("POST", "/check-ins/{check_in_id:int}/belongings"): {ADVISOR, MANAGER},
    ("POST", "/check-ins/{check_in_id:int}/belongings/{belonging_id:int}/delete"): {
        ADVISOR,
        MANAGER,
    },
    ("POST", "/check-ins/{check_in_id:int}/concerns"): {ADVISOR, MANAGER},
    ("POST", "/check-ins/{check_in_id:int}/concerns/{concern_id:int}"): {ADVISOR, MANAGER},
    ("POST", "/check-ins/{check_in_id:int}/concerns/{concern_id:int}/delete"): {ADVISOR, MANAGER},
    ("POST", "/check-ins/{check_in_id:int}/cover/{kind:str}"): {ADVISOR, MANAGER},
    ("GET", "/check-ins/{check_in_id:int}/done"): {ADVISOR, MANAGER},
    ("POST", "/check-ins/{check_in_id:int}/marks"): {ADVISOR, MANAGER},
    ("POST", "/check-ins/{check_in_id:int}/marks/{mark_id:int}"): {ADVISOR, MANAGER},
    ("POST", "/check-ins/{check_in_id:int}/marks/{mark_id:int}/delete"): {ADVISOR, MANAGER},
    ("POST", "/check-ins/{check_in_id:int}/photos"): {ADVISOR, MANAGER},
    ("POST", "/check-ins/{check_in_id:int}/summary/confirm"): {ADVISOR, MANAGER},
    ("GET", "/check-ins/{check_in_id:int}/{step:str}"): {ADVISOR, MANAGER},
    ("POST", "/check-ins/{check_in_id:int}/{step:str}/done"): {ADVISOR, MANAGER},
    ("POST", "/check-ins/{check_in_id:int}/{step:str}/save"): {ADVISOR, MANAGER},
    ("POST", "/check-ins/{check_in_id:int}/{step:str}/quick"): {ADVISOR, MANAGER},
    ("GET", "/customer-mode/exit"): {ADVISOR, MANAGER},
    ("POST", "/customer-mode/exit"): {ADVISOR, MANAGER},
    ("GET", "/delivery/{order_id:int}"): {ADVISOR, MANAGER},
    ("POST", "/delivery/{order_id:int}/begin"): {ADVISOR, MANAGER},
    ("POST", "/delivery/{order_id:int}/damage"): {ADVISOR, MANAGER},
    ("POST", "/delivery/{order_id:int}/details"): {ADVISOR, MANAGER},
    ("GET", "/delivery/{order_id:int}/problems"): {ADVISOR, MANAGER},
    ("POST", "/delivery/{order_id:int}/customer-mode"): {ADVISOR, MANAGER},
    ("GET", "/final-check"): {QC, MANAGER},
    ("GET", "/follow-ups"): {RELATIONS, MANAGER},
    ("GET", "/follow-ups/badge"): {RELATIONS, MANAGER},
    ("POST", "/follow-ups/dormant"): {RELATIONS, MANAGER},
    ("GET", "/follow-ups/{task_id:int}"): {RELATIONS, MANAGER},
    ("POST", "/follow-ups/{task_id:int}"): {RELATIONS, MANAGER},
    ("GET", "/follow-ups/{task_id:int}/flag/{question:str}"): {RELATIONS, MANAGER},
    ("GET", "/final-check/{order_id:int}"): {QC, MANAGER},
    # The verdict names a QC inspector (separation of duties): the service refuses the others
    # the screen admits.
    ("POST", "/final-check/{order_id:int}"): {QC},
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/lane"): STAFF,
    ("POST", "/lane/appointments/{appointment_id:int}/arrived"): {ADVISOR, MANAGER},
    ("POST", "/lane/appointments/{appointment_id:int}/no-show"): {ADVISOR, MANAGER},
    ("GET", "/lane/search"): {ADVISOR, MANAGER},
    ("POST", "/language"): PUBLIC,
    ("GET", "/manifest.webmanifest"): PUBLIC,
    ("GET", "/my-jobs"): {FOREMAN, TECHNICIAN},
    ("GET", "/my-jobs/jobs"): {FOREMAN, TECHNICIAN},
    ("POST", "/my-jobs/orders/{order_id:int}/findings"): {FOREMAN, TECHNICIAN},
    ("POST", "/my-jobs/tasks/{task_id:int}/finish"): {FOREMAN, TECHNICIAN},
    ("POST", "/my-jobs/tasks/{task_id:int}/mutual-check"): {FOREMAN, TECHNICIAN},
    ("POST", "/my-jobs/tasks/{task_id:int}/self-check"): {FOREMAN, TECHNICIAN},
    ("POST", "/my-jobs/tasks/{task_id:int}/start"): {FOREMAN, TECHNICIAN},
    ("GET", "/offline"): PUBLIC,
    ("GET", "/outbox"): {ADVISOR, RELATIONS, MANAGER},
    ("GET", "/photos/{photo_id:int}/{size:str}"): STAFF,
    ("GET", "/reports/follow-ups"): {RELATIONS, MANAGER},
    # The monthly management report: the service manager's.
    ("GET", "/reports/monthly"): {MANAGER},
    # The evening summary (当日总结): the service manager reads and sends it.
    ("GET", "/board/summary"): {MANAGER},
    # The day before (预约后的准备): who books and who receives prepare it; no parts role.
    ("GET", "/appointments/tomorrow"): {ADVISOR, RELATIONS, MANAGER},
    ("POST", "/board/summary/send"): {MANAGER},
    # Service reminders (客户关怀): advisors, relations and the manager call customers due.
    ("GET", "/reminders"): {ADVISOR, RELATIONS, MANAGER},
    ("POST", "/reminders/{vehicle_id:int}/answer"): {ADVISOR, RELATIONS, MANAGER},
    ("POST", "/reminders/{vehicle_id:int}/book"): {ADVISOR, RELATIONS, MANAGER},
    ("POST", "/reminders/{vehicle_id:int}/send"): {ADVISOR, RELATIONS, MANAGER},
    ("GET", "/review/{order_id:int}"): {ADVISOR, MANAGER},
    ("POST", "/review/{order_id:int}/consent"): {ADVISOR, MANAGER},
    ("POST", "/review/{order_id:int}/language"): {ADVISOR, MANAGER},
    ("POST", "/review/{order_id:int}/sign"): {ADVISOR, MANAGER},
    ("GET", "/review/{order_id:int}/thanks"): {ADVISOR, MANAGER},
    ("GET", "/review/{order_id:int}/delivery"): {ADVISOR, MANAGER},
    ("POST", "/review/{order_id:int}/delivery/sign"): {ADVISOR, MANAGER},
    ("POST", "/review/{order_id:int}/send-copy"): {ADVISOR, MANAGER},
    ("GET", "/sign-in"): PUBLIC,
    ("POST", "/sign-in"): PUBLIC,
    ("POST", "/sign-out"): STAFF,
    ("GET", "/static/{file_path:path}"): PUBLIC,
    ("HEAD", "/static/{file_path:path}"): PUBLIC,
    ("GET", "/supplements/{supplement_id:int}"): {ADVISOR, MANAGER},
    ("POST", "/supplements/{supplement_id:int}/add-job"): {ADVISOR, MANAGER},
    ("POST", "/supplements/{supplement_id:int}/add-line"): {ADVISOR, MANAGER},
    ("POST", "/supplements/{supplement_id:int}/photos"): {FOREMAN, TECHNICIAN},
    ("GET", "/health-checks/{order_id:int}"): {ADVISOR, TECHNICIAN, FOREMAN, QC, MANAGER},
    ("POST", "/health-checks/{order_id:int}/start"): HEALTH_CHECKERS,
    ("POST", "/health-checks/{order_id:int}/complete"): HEALTH_CHECKERS,
    ("POST", "/health-checks/items/{result_id:int}"): HEALTH_CHECKERS,
    ("POST", "/health-checks/items/{result_id:int}/photos"): HEALTH_CHECKERS,
    ("POST", "/health-checks/{order_id:int}/price"): {ADVISOR, MANAGER},
    ("POST", "/health-checks/{order_id:int}/send"): {ADVISOR, MANAGER},
    ("GET", "/health/{token:str}"): PUBLIC,
    ("GET", "/health/{token:str}/copy"): PUBLIC,
    ("GET", "/health/{token:str}/copy.pdf"): PUBLIC,
    ("GET", "/health-checks/checklist"): {MANAGER},
    ("POST", "/health-checks/checklist/{item_id:int}"): {MANAGER},
    ("POST", "/health-checks/checklist/new"): {MANAGER},
    ("GET", "/vehicles/{vehicle_id:int}"): STAFF - {ADMIN},
    ("POST", "/health/{token:str}"): PUBLIC,
    ("POST", "/supplements/{supplement_id:int}/promised"): {ADVISOR, MANAGER},
    ("POST", "/supplements/{supplement_id:int}/remove-line"): {ADVISOR, MANAGER},
    ("GET", "/supplements/{supplement_id:int}/search"): {ADVISOR, MANAGER},
    ("POST", "/supplements/{supplement_id:int}/send"): {ADVISOR, MANAGER},
    ("POST", "/supplements/{supplement_id:int}/withdraw"): {ADVISOR, MANAGER},
    ("GET", "/sw.js"): PUBLIC,
    ("GET", "/v/{token:str}"): PUBLIC,
    ("GET", "/v/{token:str}/pdf"): PUBLIC,
    ("GET", "/verify/{signature_id:int}"): {ADVISOR, RELATIONS, FOREMAN, QC, MANAGER},
    ("GET", "/walk-in"): {ADVISOR, MANAGER},
    ("GET", "/walk-in/new"): {ADVISOR, MANAGER},
    ("POST", "/walk-in/new"): {ADVISOR, MANAGER},
    ("GET", "/work-orders/{order_id:int}"): {ADVISOR, RELATIONS, FOREMAN, QC, MANAGER},
    ("GET", "/work-orders/{order_id:int}/audit"): {ADVISOR, RELATIONS, FOREMAN, QC, MANAGER},
    ("GET", "/work-orders/{order_id:int}/audit.csv"): {ADVISOR, RELATIONS, FOREMAN, QC, MANAGER},
    ("POST", "/work-orders/{order_id:int}/customer-mode"): {ADVISOR, MANAGER},
    ("POST", "/work-orders/{order_id:int}/delivery/photos"): {ADVISOR, MANAGER},
    ("POST", "/work-orders/{order_id:int}/email"): {ADVISOR, MANAGER},
    ("GET", "/work-orders/{order_id:int}/estimate"): {ADVISOR, MANAGER},
    ("POST", "/work-orders/{order_id:int}/estimate/add-job"): {ADVISOR, MANAGER},
    ("POST", "/work-orders/{order_id:int}/estimate/add-line"): {ADVISOR, MANAGER},
    ("POST", "/work-orders/{order_id:int}/estimate/decline"): {ADVISOR, MANAGER},
    ("POST", "/work-orders/{order_id:int}/estimate/discount"): {ADVISOR, MANAGER},
    ("POST", "/work-orders/{order_id:int}/estimate/menu"): {ADVISOR, MANAGER},
    ("POST", "/work-orders/{order_id:int}/estimate/price"): {ADVISOR, MANAGER},
    ("POST", "/work-orders/{order_id:int}/estimate/promised"): {ADVISOR, MANAGER},
    ("POST", "/work-orders/{order_id:int}/estimate/quantity"): {ADVISOR, MANAGER},
    ("POST", "/work-orders/{order_id:int}/estimate/remove-job"): {ADVISOR, MANAGER},
    ("POST", "/work-orders/{order_id:int}/estimate/remove-line"): {ADVISOR, MANAGER},
    ("POST", "/work-orders/{order_id:int}/estimate/return-visit"): {ADVISOR, MANAGER},
    ("GET", "/work-orders/{order_id:int}/estimate/search"): {ADVISOR, MANAGER},
    ("POST", "/work-orders/{order_id:int}/estimate/start"): {ADVISOR, MANAGER},
    ("POST", "/work-orders/{order_id:int}/estimate/warranty"): {ADVISOR, MANAGER},
    ("GET", "/work-orders/{order_id:int}/pdf"): {ADVISOR, RELATIONS, FOREMAN, QC, MANAGER},
    ("POST", "/work-orders/{order_id:int}/supplements"): {ADVISOR, MANAGER},
    ("GET", "/workshop"): {ADVISOR, FOREMAN, QC, MANAGER, TECHNICIAN},
    ("GET", "/workshop/board"): {ADVISOR, FOREMAN, QC, MANAGER, TECHNICIAN},
    ("GET", "/workshop/events"): {ADVISOR, FOREMAN, QC, MANAGER, TECHNICIAN},
    ("POST", "/workshop/orders/{order_id:int}/promise"): {ADVISOR, MANAGER},
    ("POST", "/workshop/orders/{order_id:int}/waiting"): {ADVISOR, FOREMAN, MANAGER},
    ("POST", "/workshop/tasks/{task_id:int}/dispatch"): {FOREMAN, MANAGER},
}

NO_ID = "999999"
# Event streams stay open for as long as the board is shown: only their refusals are asked.
STREAMS = {("GET", "/workshop/events")}
# Called last: they end the session the rest are called in.
SESSION_ENDING = [("POST", "/sign-out"), ("POST", "/sign-in")]


def _in_order() -> list[tuple[tuple[str, str], Any]]:
    return sorted(ROUTES.items(), key=lambda row: row[0] in SESSION_ENDING)


def _routes(app: Litestar) -> list[tuple[str, str]]:
    found = []
    for route in app.routes:
        if route.path.startswith("/api/docs"):  # Litestar's own schema pages
            continue
        for handler in getattr(route, "route_handlers", []):
            if isinstance(handler, HTTPRouteHandler) and handler.http_methods != {"OPTIONS"}:
                found += [(method, route.path) for method in handler.http_methods]
    return sorted(found)


def _url(path: str) -> str:
    def fill(match: re.Match[str]) -> str:
        kind = match.group(2)
        return {"int": NO_ID, "path": "css/app.css"}.get(kind, "nothing-here")

    return re.sub(r"\{(\w+):(\w+)\}", fill, path)


def test_every_route_has_a_row_and_every_row_a_route(app: Litestar) -> None:
    routes = set(_routes(app))
    assert sorted(routes - set(ROUTES)) == [], "new routes: add a row saying who may call them"
    assert sorted(set(ROUTES) - routes) == [], "rows for routes that are gone"


async def _call(client: AsyncTestClient[Litestar], method: str, path: str, token: str | None,
                headers: dict[str, str] | None = None) -> int:  # fmt: skip
    """The status, with a redirect to sign in counted as 401 (a signed-out browser's refusal)."""
    sent = {"x-csrftoken": token} if token else {}
    response = await client.request(method, _url(path), headers={**sent, **(headers or {})})
    if response.status_code == 303 and response.headers["location"].startswith("/sign-in"):
        return 401
    return response.status_code


async def _token(client: AsyncTestClient[Litestar], role: Role) -> str:
    """The form token from the first screen of the role's (every staff page carries it)."""
    path = next(
        p for (m, p), who in ROUTES.items()
        if m == "GET" and "{" not in p and isinstance(who, frozenset | set) and role in who
    )  # fmt: skip
    found = re.search(r'"x-csrftoken": "([^"]+)"', (await client.get(path)).text)
    assert found, f"no form token on {path}"
    return found.group(1)


async def _anonymous_token(client: AsyncTestClient[Litestar]) -> str:
    """A signed-out browser's form token (the sign-in page sets it), so a refusal below is
    about who calls, not a missing token."""
    found = re.search(r'name="_csrf_token" value="([^"]+)"', (await client.get("/sign-in")).text)
    assert found, "no form token on the sign-in page"
    return found.group(1)


def _refused(status: int) -> bool:
    return status in (401, 403)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
async def test_each_role_is_admitted_exactly_where_the_table_says(app, users, role) -> None:
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        client.follow_redirects = False
        await sign_in(client, role)
        token = await _token(client, role)
        wrong = []
        for (method, path), who in _in_order():
            admitted = who == PUBLIC or (who != API and role in who)
            if admitted and (method, path) in STREAMS:
                continue
            status = await _call(client, method, path, token)
            if who == API:
                ok = status == 401  # a staff session is not a bearer token
            elif admitted:
                # Signing out succeeds by sending the browser to sign in.
                out = (method, path) == ("POST", "/sign-out")
                ok = status < 500 and status != 403 and (status != 401 or out)
            else:
                ok = status == 403
            if not ok:
                wrong.append((method, path, status))
        assert wrong == [], "\n".join(map(str, wrong))


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_signed_out_only_public_routes_answer(client) -> None:
    token = await _anonymous_token(client)
    wrong = []
    for (method, path), who in _in_order():
        status = await _call(client, method, path, token)
        if status >= 500 or (_refused(status) == (who == PUBLIC) and path != "/"):
            wrong.append((method, path, status))
    assert wrong == []


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_the_api_client_reaches_the_api_and_nothing_else(client, db) -> None:
    _client, secret = await api_clients.create_client(db, "DMS")
    await db.commit()
    bearer = {"Authorization": f"Bearer {secret}"}
    token = await _anonymous_token(client)
    wrong = []
    for (method, path), who in _in_order():
        status = await _call(client, method, path, token, bearer)
        if status >= 500 or (_refused(status) == (who in (API, PUBLIC)) and path != "/"):
            wrong.append((method, path, status))
    assert wrong == []


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_tablet_in_customer_mode_reaches_its_review_and_nothing_of_the_staffs(
    client, db, settings, users
) -> None:
    order_id = await priced_estimate(db, settings, users)
    await sign_in(client, Role.ADVISOR)
    token = await csrf_token(client, f"/work-orders/{order_id}/estimate")
    entered = await client.post(
        f"/work-orders/{order_id}/customer-mode", data={"_csrf_token": token}
    )
    assert entered.headers["location"] == f"/review/{order_id}"
    wrong = []
    for (method, path), who in _in_order():
        if (method, path) in SESSION_ENDING or who in (PUBLIC, API):
            continue  # the exit needs the advisor's password; public is public
        response = await client.request(
            method, _url(path).replace(NO_ID, str(order_id), 1) if "review" in path else _url(path),
            headers={"x-csrftoken": token},
        )  # fmt: skip
        status = response.status_code
        if path.startswith("/photos/"):
            ok = status == 404  # another order's photo is as if it did not exist
        else:
            # Its own review, and the exit, where the advisor's password ends customer mode.
            own = path.startswith(("/review/", "/customer-mode/exit"))
            back = status == 403 or (
                status == 303 and response.headers["location"] == f"/review/{order_id}"
            )
            ok = status < 500 and back != own
        if not ok:
            wrong.append((method, path, status))
    assert wrong == [], "\n".join(map(str, wrong))

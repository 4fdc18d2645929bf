"""The Content-Security-Policy in a real Chromium: every screen of the lane, from sign-in
through check-in, estimate, the customer's signature, the workshop, the final check and
delivery, the catalogue, the outbox and the API docs, runs without one refused script,
style, image, connection or worker."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import BrowserContext, ConsoleMessage, Page, expect

from tests.e2e.flows import query, signed_order, snap

# Before any of the page's own scripts: every refusal the browser reports.
RECORD_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"}`
    + ` at ${e.sourceFile}:${e.lineNumber} on ${location.pathname}`);
});
"""
SETTLE_MS = 400  # htmx processes the page and any fragment it loads on start


class Violations:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def watch(self, context: BrowserContext) -> BrowserContext:
        context.add_init_script(RECORD_VIOLATIONS)
        context.on("console", self._console)
        return context

    def _console(self, message: ConsoleMessage) -> None:
        text = message.text
        if "CSP violation" in text or "Content Security Policy" in text:
            self.seen.append(text)


def visit(page: Page, path: str) -> None:
    response = page.goto(path)
    assert response is not None
    assert response.ok, f"{path}: HTTP {response.status}"
    assert "script-src 'self'" in response.headers.get("content-security-policy", ""), path
    page.wait_for_load_state("load")
    page.wait_for_timeout(SETTLE_MS)


def _order_in(db: Path, status: str) -> int:
    rows = query(db, "SELECT id FROM work_order WHERE status = ? ORDER BY id", status)
    assert rows, f"the demo has no order in {status}"
    return int(rows[0][0])


def test_no_screen_of_the_lane_breaks_the_content_security_policy(
    new_context, db_path, shot
) -> None:
    violations = Violations()

    # Before sign-in.
    page = violations.watch(new_context()).new_page()
    for path in ("/sign-in", "/offline"):
        visit(page, path)

    # The advisor: check-in with photos, the estimate and its search, customer mode and
    # the touch signature, the tablet taken back (flows.signed_order drives it all).
    advisor = violations.watch(new_context("advisor")).new_page()
    bugs: list[str] = []
    order = signed_order(advisor, db_path, bugs)
    for path in (
        "/lane",
        f"/work-orders/{order['order_id']}",
        f"/work-orders/{order['order_id']}/audit",
        "/walk-in",
        "/walk-in?q=13",
        "/walk-in/new",
        "/outbox",
        f"/delivery/{_order_in(db_path, 'ready')}",
        "/workshop",
    ):
        visit(advisor, path)
    visit(advisor, "/api/docs")
    # Swagger UI drew the schema from the app's own files.
    expect(advisor.locator(".swagger-ui .info .title")).to_contain_text("Walkaround")
    expect(advisor.locator(".opblock-summary").first).to_be_visible()
    snap(shot, advisor, "api-docs")

    qc_order = _order_in(db_path, "qc")
    for user, paths in (
        ("foreman", ["/workshop"]),
        ("technician", ["/my-jobs"]),
        ("qc", ["/final-check", f"/final-check/{qc_order}"]),
        ("manager", ["/catalogue/labour", "/catalogue/parts/new", "/catalogue/packages",
                     "/catalogue/import"]),
        ("admin", ["/admin/staff"]),
    ):  # fmt: skip
        page = violations.watch(new_context(user)).new_page()
        for path in paths:
            visit(page, path)

    assert violations.seen == []


def test_the_live_board_still_waits_for_a_half_made_choice_without_eval(new_context) -> None:
    """The board's refresh used an hx-trigger filter, which htmx evals (the CSP forbids
    eval); a listener in app.js holds the refresh instead, while a choice is made."""
    violations = Violations()
    page = violations.watch(new_context("foreman")).new_page()
    visit(page, "/workshop")
    board = "#workshop-board"
    select = page.locator(f"{board} select[name=technician_id]").first
    expect(select).to_be_visible()
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/workshop/board" in r.url else None)
    technician = select.locator("option").nth(1).get_attribute("value")
    assert technician
    select.select_option(technician)
    page.evaluate(f"htmx.trigger('{board}', 'sse:board')")
    page.wait_for_timeout(1_000)
    assert asked == []
    expect(select).to_have_value(technician)
    # The choice taken back and the focus gone: the next event refreshes the board.
    select.select_option("")
    select.evaluate("el => el.blur()")
    with page.expect_request(lambda r: "/workshop/board" in r.url):
        page.evaluate(f"htmx.trigger('{board}', 'sse:board')")
    assert violations.seen == []

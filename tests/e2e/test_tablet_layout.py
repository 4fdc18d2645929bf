"""Layout at tablet size: gloved fingers need big controls in predictable places."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

MIN_TARGET = 48  # CSS px, WCAG 2.5.5 / Material minimum; the design system aims for 56

CONTROLS_JS = """
() => {
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, [role=button]';
  return [...document.querySelectorAll(selector)].flatMap((el) => {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (box.width === 0 || box.height === 0 || style.visibility === 'hidden'
        || style.display === 'none') return [];
    const label = (el.innerText || el.value || el.getAttribute('aria-label')
                   || el.getAttribute('placeholder') || el.name || el.id || '').trim();
    return [{
      tag: el.tagName.toLowerCase(), type: el.getAttribute('type') || '',
      text: label.replace(/\\s+/g, ' ').slice(0, 40),
      width: box.width, height: box.height,
    }];
  });
}
"""


def _violations(controls: list[dict]) -> list[str]:
    found = []
    for c in controls:
        text_entry = c["tag"] in {"input", "textarea"} and c["type"] not in {
            "checkbox",
            "radio",
            "submit",
            "button",
            "reset",
            "image",
        }
        too_small = c["height"] < MIN_TARGET - 0.01 or (
            not text_entry and c["width"] < MIN_TARGET - 0.01
        )
        if too_small:
            found.append(
                f"<{c['tag']}{' type=' + c['type'] if c['type'] else ''}> "
                f'"{c["text"]}" is {c["width"]:.1f}x{c["height"]:.1f}'
            )
    return found


@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
@pytest.mark.parametrize(
    ("user", "path"), [(None, "/sign-in"), ("advisor", "/lane")], ids=["sign-in", "lane-board"]
)
def test_every_control_is_big_enough_for_a_gloved_finger(
    new_context, shot, user, path, orientation
):
    page = new_context(user, orientation).new_page()
    page.goto(path)
    page.wait_for_load_state("load")

    controls = page.evaluate(CONTROLS_JS)

    assert len(controls) >= 4, f"found too few controls on {path}: {controls}"
    violations = _violations(controls)
    if violations:
        shot(page, f"touch-targets-{path.strip('/')}-{orientation}")
    assert not violations, f"touch targets under {MIN_TARGET}px on {path} ({orientation}):\n" + (
        "\n".join(violations)
    )


def test_the_action_column_lines_up_at_the_end_of_every_appointment_row(
    new_context, shot, appointments_today
):
    """The Arrived button (or the status badge that replaces it) sits at the same place in
    every row, at the row's end, so the advisor's thumb finds it without reading."""
    page = new_context("advisor", "portrait").new_page()
    page.goto("/lane")
    expect(page.get_by_test_id("appointment")).to_have_count(appointments_today)

    rows = page.evaluate("""() => [...document.querySelectorAll('[data-testid=appointment]')]
        .map((li) => {
          const row = li.getBoundingClientRect();
          const padding = parseFloat(getComputedStyle(li).paddingRight)
                          + parseFloat(getComputedStyle(li).borderRightWidth);
          const action = li.lastElementChild.getBoundingClientRect();
          return { plate: li.querySelector('.plate').innerText, rowRight: row.right,
                   padding, actionRight: action.right };
        })""")

    misplaced = [
        f"{r['plate']}: action ends {r['rowRight'] - r['padding'] - r['actionRight']:.0f}px "
        "before the row's end"
        for r in rows
        if r["rowRight"] - r["padding"] - r["actionRight"] > 2
    ]
    if misplaced:
        shot(page, "lane-board-ragged-actions")
    assert not misplaced, "\n".join(misplaced)

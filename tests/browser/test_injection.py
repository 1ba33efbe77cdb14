"""Script-injection payloads in an instructor's own case file and in a learner's justification are
shown as inert text in the browser: no dialog fires, no script runs, the layout holds (
section 3). The instructor's case (``tests/browser/payloads.py``) is ``cosmetics.md`` with payloads
in its title, option labels, vignette, rationale and discussion, served from ``DUALROLE_CASES``.
"""

from __future__ import annotations

import pytest

from widgets.store import open_store

from .jlab import error_outputs, open_notebook, run_all, screenshot, widget_problems
from .payloads import JUSTIFICATION, JUSTIFICATION_VISIBLE, PROBE_ID

CARD = ".dualrole-card"

# Elements that could run script or load from elsewhere, inside a view (the card, or the dashboard's
# outputs). Images are allowed only as inline PNG plots (the dashboard's matplotlib figures).
ACTIVE_CONTENT = """(card) => {
    const found = [];
    const active = 'script, iframe, object, embed, svg, img:not([src^="data:image/png"]), '
        + '[onerror], [onload], [onmouseover]';
    for (const el of card.querySelectorAll(active))
        found.push(el.outerHTML.slice(0, 120));
    for (const a of card.querySelectorAll('a[href]')) {
        const scheme = new URL(a.getAttribute('href'), location.href).protocol;
        if (!['http:', 'https:', 'mailto:'].includes(scheme)) found.push(a.outerHTML.slice(0, 120));
    }
    return found;
}"""

OVERFLOW = """(card) => {
    const wide = [];
    // ipywidgets give each child a 2 px margin beside a 100% width: allow those few pixels.
    const limit = card.getBoundingClientRect().right + 4;
    for (const el of [card, ...card.querySelectorAll('*')]) {
        const r = el.getBoundingClientRect();
        if (r.right > limit) wide.push(`${el.tagName}.${el.className} ends at ${Math.round(r.right)}`);
    }
    if (card.scrollWidth > card.clientWidth + 4) wide.push('card scrolls sideways');
    const out = card.closest('.jp-OutputArea-output');
    if (out && out.scrollWidth > out.clientWidth + 4) wide.push('output area scrolls sideways');
    return wide.slice(0, 10);
}"""


def assert_inert(page, stage: str) -> None:
    card = page.locator(CARD)
    assert page.watch.dialogs == [], f"a dialog fired ({stage})"
    assert page.evaluate("() => typeof window.__pw") == "undefined", f"a payload ran ({stage})"
    assert card.evaluate(ACTIVE_CONTENT) == [], f"active content in the card ({stage})"
    wide = card.evaluate(OVERFLOW)
    assert wide == [], f"the card overflows sideways ({stage}): " + " | ".join(wide)


@pytest.mark.browser
def test_payloads_in_case_file_and_justification_are_inert(page, lab, learner_home):
    path = lab.notebook("injection", ["from widgets import CaseCard", f'CaseCard("{PROBE_ID}")'], learner_home)
    open_notebook(page, lab, path)
    run_all(page)
    assert error_outputs(page) == [] and widget_problems(page) == []
    card = page.locator(CARD)

    # The author's markup reads as text: title, option labels and vignette.
    assert "<script>" in card.locator("h3").first.inner_text()
    assert card.get_by_role("radio", name="Decline <img src=x onerror=", exact=False).count() == 1
    vignette = card.inner_text()
    for shown in ("<script>", "<img src=x onerror=", '<a href="javascript:', "<iframe"):
        assert shown in vignette, shown
    # Markdown links with script URLs lose their link; every remaining anchor is clicked.
    for anchor in card.locator("a").all():
        anchor.click()
    assert_inert(page, "before the reveal")
    screenshot(card, "injection-1-case")

    card.get_by_role("radio").first.check()
    card.get_by_role("textbox", name="Your reasoning:").fill(JUSTIFICATION)
    submit = card.get_by_role("button", name="Commit my answer")
    page.wait_for_function("b => !b.disabled", arg=submit.element_handle())
    submit.click()
    card.get_by_role("button", name="Keep my answer").click()
    card.get_by_role("button", name="Show the reference").click()
    reveal = card.locator(".dualrole-reveal")
    reveal.wait_for()
    for section in reveal.locator("summary").all():
        section.click()  # open every section, so every piece of text is on show
    text = reveal.inner_text()
    for shown in JUSTIFICATION_VISIBLE:
        assert shown in text, shown
    for anchor in card.locator("a").all():
        anchor.click()
    # Any surviving onmouseover or onfocus handler would run on these events (dispatched in the page:
    # hovering element by element waits for each to stand still, seconds apiece).
    card.evaluate("c => c.querySelectorAll('b, td, li, span, p').forEach(e => ['mouseover', 'mouseenter', 'focus']"
                  ".forEach(t => e.dispatchEvent(new Event(t, {bubbles: true}))))")
    assert_inert(page, "after the reveal")
    screenshot(card, "injection-2-revealed")

    rows = open_store(f"sqlite:///{learner_home / 'responses.sqlite'}").responses(case_id=PROBE_ID)
    assert [r["justification"] for r in rows] == [JUSTIFICATION.strip()]  # stored as typed, escaped only on display
    assert page.watch.console_errors == [] and page.watch.page_errors == []

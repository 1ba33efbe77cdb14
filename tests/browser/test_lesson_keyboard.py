"""A learner opens the first lesson in JupyterLab, answers a case with the keyboard only, and the
answer is in the store.
"""

from __future__ import annotations

import pytest

from widgets.cases.library import load_case
from widgets.store import open_store

from .conftest import NOTEBOOKS
from .jlab import error_outputs, open_notebook, run_all, screenshot, tab_until, widget_problems

LESSON = NOTEBOOKS / "01_confidentiality.ipynb"
JUSTIFICATION = "Confirming she is a client would breach her confidentiality."

IS_OPTION = "el.closest('.dualrole-card') && el.matches('input[type=radio]')"
IS_CONFIDENCE = "el.closest('.dualrole-card') && el.matches('input[type=range], [role=slider]')"
IS_REASONING = "el.closest('.dualrole-card') && el.matches('textarea')"
IS_SUBMIT = "el.closest('.dualrole-card') && el.matches('button') && /Commit/.test(el.textContent)"


def first_card_focus_start(page) -> None:
    """Put the focus just before the first card, where a learner tabbing down the page arrives."""
    page.locator(".dualrole-card").first.evaluate(
        "el => { const h = el.querySelector('h3'); h.tabIndex = -1; h.focus(); }"
    )


def answer_by_keyboard(page, justification: str = JUSTIFICATION, confidence_steps: int = 3) -> None:
    """Choose the second option, set confidence, type the reasoning and commit, by key presses alone."""
    tab_until(page, IS_OPTION)  # Tab enters the radio group once, on its first option
    page.keyboard.press("ArrowDown")  # the arrow key moves the choice to the second option
    tab_until(page, IS_CONFIDENCE)
    for _ in range(confidence_steps):
        page.keyboard.press("ArrowRight")
    tab_until(page, IS_REASONING)
    page.keyboard.type(justification)
    card = page.locator(".dualrole-card").first
    # The kernel enables the button once the reasoning is long enough; wait for it, then tab to it.
    submit = card.get_by_role("button", name="Commit my answer")
    submit.wait_for(state="visible")
    page.wait_for_function("b => !b.disabled", arg=submit.element_handle())
    tab_until(page, IS_SUBMIT)
    page.keyboard.press("Enter")


@pytest.mark.browser
def test_lesson_answered_by_keyboard_is_stored(page, lab, learner_home):
    if not LESSON.exists():
        pytest.fail(f"{LESSON.name} is missing: the first lesson must exist")
    path = lab.notebook("keyboard-lesson", [], learner_home, source=LESSON)
    open_notebook(page, lab, path)
    run_all(page)
    assert error_outputs(page) == []
    assert widget_problems(page) == []

    card = page.locator(".dualrole-card").first
    case_title = card.locator("h3").first.text_content()
    first_card_focus_start(page)
    answer_by_keyboard(page)

    # The class step comes first; the learner keeps the answer, then opens the reference.
    keep = card.get_by_role("button", name="Keep my answer")
    keep.wait_for(state="visible", timeout=30_000)
    tab_until(page, "el.matches('button') && /Keep my answer/.test(el.textContent)")
    page.keyboard.press("Enter")
    show = card.get_by_role("button", name="Show the reference")
    show.wait_for(state="visible", timeout=30_000)
    page.wait_for_function("() => document.activeElement && /Show the reference/.test(document.activeElement.textContent)")
    page.keyboard.press("Enter")
    reveal = card.locator(".dualrole-reveal")
    reveal.wait_for(state="visible", timeout=30_000)
    assert "Reference answer" in reveal.inner_text()
    screenshot(card, "lesson-keyboard-after-reveal")

    store = open_store(f"sqlite:///{learner_home / 'responses.sqlite'}")
    rows = store.responses()
    assert len(rows) == 1, rows
    row = rows[0]
    assert row["attempt"] == 1
    assert row["justification"] == JUSTIFICATION
    assert row["confidence"] == 65  # 50, then three steps of 5 to the right
    assert row["client"] == "lab"
    case = load_case(row["case_id"])
    assert case.title == case_title  # the row belongs to the card answered
    assert row["option_id"] == case.order_for(row["learner"])[1]  # the second option in this learner's order

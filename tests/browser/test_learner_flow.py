"""The learner's whole flow on one case, by keyboard only, checked for accessibility at each stage
: answer, reveal (focus moves to it and the status is announced), revote,
then reload and rerun in a new kernel and find the committed answers and the reveal again.

axe-core runs the WCAG 2.1 A and AA rules (tags ``wcag2a``, ``wcag2aa``, ``wcag21a``, ``wcag21aa``)
on the card before and after the reveal; the rules below must be among those that ran:

- ``label``, ``select-name``, ``aria-input-field-name``, ``button-name``, ``link-name``: every control
  has an accessible name (the ipywidgets slider's handle failed ``aria-input-field-name``);
- ``color-contrast``: text contrast meets AA;
- ``link-in-text-block``: links are not told apart by colour alone;
- ``aria-allowed-attr``, ``aria-required-attr``, ``aria-valid-attr``, ``aria-valid-attr-value``,
  ``aria-roles``, ``aria-hidden-focus``, ``nested-interactive``: ARIA is used correctly;
- ``role-img-alt``, ``image-alt``: the reveal's symbols (★ preferred, ◆ acceptable) carry text;
- ``list``, ``listitem``, ``td-headers-attr``, ``th-has-data-cells``: lists and tables are real ones.

Beyond axe, the test reads the accessibility tree Playwright computes (every radio, slider,
combobox, textbox and button has a name; the options form a named group) and checks that nothing
is conveyed by colour alone (the reference option is marked "Preferred" in text).
"""

from __future__ import annotations

import re

import pytest

from widgets.store import open_store

from .conftest import ARTIFACTS, AXE
from .jlab import (
    aria_snapshot,
    docs_image,
    error_outputs,
    open_notebook,
    run_all,
    run_axe,
    screenshot,
    serious,
    tab_until,
    widget_problems,
)
from .test_lesson_keyboard import IS_OPTION, IS_REASONING, IS_SUBMIT, first_card_focus_start

REQUIRED_RULES = {
    "label", "select-name", "aria-input-field-name", "button-name", "link-name", "color-contrast",
    "link-in-text-block", "aria-allowed-attr", "aria-required-attr", "aria-valid-attr",
    "aria-valid-attr-value", "aria-roles", "aria-hidden-focus", "nested-interactive", "role-img-alt",
    "image-alt", "list", "listitem", "td-headers-attr", "th-has-data-cells",
}
NAMED_ROLES = ("radio", "slider", "combobox", "textbox", "button", "checkbox", "group")
FIRST = "She is at risk of hearing a refusal as rejection; decline warmly and explore it."
CARD = ".dualrole-card"


def assert_accessible(page, stage: str) -> None:
    result = run_axe(page, CARD, AXE)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"axe-{stage}.txt").write_text(
        "rules run:\n" + "\n".join(result["rules"]) + "\n\nviolations:\n"
        + "\n".join(f"{v['impact']} {v['id']}: {v['help']} {v['nodes']}" for v in result["violations"]),
        encoding="utf-8",
    )
    missing = REQUIRED_RULES - set(result["rules"])
    assert not missing, f"axe did not run {sorted(missing)}"
    assert serious(result["violations"]) == [], result["violations"]
    tree = aria_snapshot(page.locator(CARD))
    unnamed = [line.strip() for line in tree.splitlines()
               if re.match(rf"\s*- ({'|'.join(NAMED_ROLES)})\b", line) and '"' not in line.split(":")[0]]
    assert unnamed == [], f"controls without an accessible name at {stage}:\n{tree}"


@pytest.mark.browser
def test_answer_reveal_revote_and_resume_by_keyboard(page, lab, learner_home):
    path = lab.notebook("learner-flow", ["from widgets import CaseCard", 'CaseCard("cosmetics")'], learner_home)
    open_notebook(page, lab, path)
    run_all(page)
    assert error_outputs(page) == [] and widget_problems(page) == []
    card = page.locator(CARD)
    assert_accessible(page, "before-reveal")
    tree = aria_snapshot(card)
    assert 'group "Your decision:"' in tree and 'slider "Confidence:"' in tree
    screenshot(card, "flow-1-fresh")
    docs_image(card, "case-card")

    # 1-4: choose, set confidence, type, commit, by keys alone.
    first_card_focus_start(page)
    tab_until(page, IS_OPTION)
    page.keyboard.press("Space")  # the first option: decline and explore
    page.keyboard.press("Tab")
    page.keyboard.press("End")  # confidence 100
    for _ in range(2):
        page.keyboard.press("ArrowLeft")  # 90
    tab_until(page, IS_REASONING)
    page.keyboard.type(FIRST)
    reasoning = card.get_by_role("textbox", name="Your reasoning:")
    assert reasoning.input_value() == FIRST, "keystrokes were lost while the kernel synced them"
    status = card.get_by_role("status")
    status.filter(has_text="Ready to commit").wait_for()
    status_node = status.element_handle()
    tab_until(page, IS_SUBMIT)
    page.keyboard.press("Enter")

    # 5: the reveal appears, the focus moves to it, and the same live region announces it.
    reveal = card.locator(".dualrole-reveal")
    reveal.wait_for()
    page.wait_for_function("() => document.activeElement && document.activeElement.closest('.dualrole-reveal')")
    assert status_node.evaluate("el => el.isConnected && el.textContent") == "Saved. The reference is shown below."
    assert reveal.get_attribute("role") == "region" and reveal.get_attribute("aria-label")
    preferred_row = reveal.locator("tr", has_text="Decline kindly, and explore")
    assert "Preferred" in preferred_row.inner_text() and "Your choice" in preferred_row.inner_text()
    assert_accessible(page, "after-reveal")
    screenshot(card, "flow-2-revealed")
    docs_image(card, "case-reveal")

    store = open_store(f"sqlite:///{learner_home / 'responses.sqlite'}")
    rows = store.responses(case_id="cosmetics")
    assert [(r["attempt"], r["option_id"], r["confidence"]) for r in rows] == [(1, "decline_explore", 90)]

    # 6: revote. Shift+Tab back from the reveal to "Change my answer", press it: focus lands on the
    # options, an arrow key moves the choice, Tab reaches the commit button.
    tab_until(page, "el.matches('button') && /Change my answer/.test(el.textContent)", shift=True)
    page.keyboard.press("Enter")
    page.wait_for_function("() => { const el = document.activeElement;"
                           " return !!(el && el.matches('.dualrole-card input[type=radio]:checked')); }")
    assert "second attempt" in status.inner_text()
    page.keyboard.press("ArrowDown")  # decline kindly and move on (decline_only)
    card.get_by_role("button", name="Commit my revised answer").wait_for()
    page.wait_for_function("() => ![...document.querySelectorAll('.dualrole-card button')]"
                           ".find(b => /revised/.test(b.textContent)).disabled")
    tab_until(page, "el.matches('button') && /Commit my revised answer/.test(el.textContent)")
    page.keyboard.press("Enter")
    reveal.filter(has_text="Your revised answer").wait_for()
    page.wait_for_function("() => document.activeElement && document.activeElement.closest('.dualrole-reveal')")
    screenshot(card, "flow-3-revised")

    rows = store.responses(case_id="cosmetics")
    assert [(r["attempt"], r["option_id"]) for r in rows] == [(1, "decline_explore"), (2, "decline_only")]
    assert [r["justification"] for r in rows] == [FIRST, FIRST]

    # Resume: a new kernel, the page reloaded, the notebook rerun: the answers come from the store.
    lab.shutdown_kernels()
    page.goto("about:blank")
    open_notebook(page, lab, path)
    run_all(page)
    card = page.locator(CARD)
    reveal = card.locator(".dualrole-reveal")
    reveal.wait_for()
    assert "Your first answer" in reveal.inner_text() and "Your revised answer" in reveal.inner_text()
    checked = card.locator("input[type=radio]:checked")
    assert checked.count() == 1 and checked.is_disabled()
    assert card.get_by_role("radio", name="Decline kindly and move on to the agenda you had planned for the session").is_checked()
    assert card.get_by_role("textbox", name="Your reasoning:").input_value() == FIRST
    assert card.get_by_role("button", name="Change my answer (once)").count() == 0 or \
        not card.get_by_role("button", name="Change my answer (once)").is_visible()
    assert page.watch.console_errors == [] and page.watch.page_errors == [] and page.watch.dialogs == []
    screenshot(card, "flow-4-resumed")

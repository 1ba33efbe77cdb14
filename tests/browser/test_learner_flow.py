"""The learner's whole flow on one case, by keyboard only, checked for accessibility at each stage:
commit, see the class, reconsider with new reasoning, show the reference (focus moves to it and the
status is announced), then reload and rerun in a new kernel and find the answers and the reveal again.
A draft typed but not committed comes back after a reload.

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

from widgets.cases import load_case
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
    wait_for_idle,
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
SECOND = "Seeing how the class split, a plain and kind refusal protects her from a customer role."
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


def _order(learner_home) -> tuple[str, ...]:
    """The option order this browser's learner sees (each learner has their own)."""
    learner = (learner_home / "learner_id").read_text(encoding="utf-8").strip()
    return load_case("cosmetics").order_for(learner)


def _kernel_has_draft(learner_home, reasoning: str) -> None:
    """Wait until the kernel has saved the whole reasoning as a draft (it saves each update it receives).

    Only a restart needs this: keystrokes still on their way when the kernel stops never reach it, while
    a commit carries them itself (test_commit_race.py).
    """
    import json
    import time

    path = learner_home / "scratch.json"
    for _ in range(300):  # a readiness poll, not a timed assertion
        try:
            drafts = json.loads(path.read_text(encoding="utf-8"))["drafts"].values()
        except (OSError, ValueError, KeyError):
            drafts = []
        if any(d["fields"]["justification"] == reasoning for d in drafts):
            return
        time.sleep(0.1)
    raise AssertionError(f"the kernel never received the whole reasoning {reasoning!r}")


def _choose(page, order: tuple[str, ...], option_id: str) -> None:
    """From the checked (or first) radio, move the choice with arrow keys to ``option_id``."""
    page.keyboard.press("Space")
    for _ in range(order.index(option_id)):
        page.keyboard.press("ArrowDown")


@pytest.mark.browser
def test_commit_see_the_class_reconsider_and_show_the_reference_by_keyboard(page, lab, learner_home):
    path = lab.notebook("learner-flow", ["from widgets import CaseCard", 'CaseCard("cosmetics")'], learner_home)
    open_notebook(page, lab, path)
    run_all(page)
    assert error_outputs(page) == [] and widget_problems(page) == []
    card = page.locator(CARD)
    assert_accessible(page, "before-commit")
    tree = aria_snapshot(card)
    assert 'group "Your decision:"' in tree and 'slider "Confidence:"' in tree
    screenshot(card, "flow-1-fresh")
    docs_image(card, "case-card")
    order = _order(learner_home)

    # Choose, set confidence, type, commit, by keys alone.
    first_card_focus_start(page)
    tab_until(page, IS_OPTION)
    _choose(page, order, "decline_explore")
    page.keyboard.press("Tab")
    page.keyboard.press("End")  # confidence 100
    for _ in range(2):
        page.keyboard.press("ArrowLeft")  # 90
    tab_until(page, IS_REASONING)
    page.keyboard.type(FIRST)
    reasoning = card.get_by_role("textbox", name="Your reasoning:")
    assert reasoning.input_value() == FIRST, "keystrokes were lost while the kernel synced them"
    status = card.get_by_role("status").first  # the card's own; a case's say step has a status line of its own
    status.filter(has_text="Ready to commit").wait_for()
    status_node = status.element_handle()
    tab_until(page, IS_SUBMIT)
    page.keyboard.press("Enter")

    # The class comes first: no reference yet, the focus on "Change my answer", the status announced.
    page.wait_for_function("() => document.activeElement && /Change my answer/.test(document.activeElement.textContent)")
    status.filter(has_text="Saved. See how the class").wait_for()
    assert status_node.evaluate("el => el.isConnected")  # the same live region announced it
    assert "How the class answered" in card.inner_text()
    assert card.locator(".dualrole-reveal").count() == 0 or not card.locator(".dualrole-reveal").is_visible()
    assert card.get_by_role("button", name="Show the reference").is_hidden()
    assert_accessible(page, "class-step")
    screenshot(card, "flow-2-class")
    store = open_store(f"sqlite:///{learner_home / 'responses.sqlite'}")
    rows = store.responses(case_id="cosmetics")
    assert [(r["attempt"], r["option_id"], r["confidence"]) for r in rows] == [(1, "decline_explore", 90)]

    # Reconsider: the first reasoning stays on show, read-only; the new answer needs new reasoning.
    page.keyboard.press("Enter")
    page.wait_for_function("() => { const el = document.activeElement;"
                           " return !!(el && el.matches('.dualrole-card input[type=radio]:checked')); }")
    assert "second attempt" in status.inner_text()
    assert "Your first reasoning" in card.inner_text() and FIRST in card.inner_text()
    assert reasoning.input_value() == ""  # not pre-filled
    page.keyboard.press("ArrowDown")
    second = order[(order.index("decline_explore") + 1) % len(order)]
    tab_until(page, IS_REASONING)
    page.keyboard.type(SECOND)
    page.wait_for_function("() => ![...document.querySelectorAll('.dualrole-card button')]"
                           ".find(b => /revised/.test(b.textContent)).disabled")
    tab_until(page, "el.matches('button') && /Commit my revised answer/.test(el.textContent)")
    page.keyboard.press("Enter")

    # Settled: "Show the reference" takes the focus; Enter reveals, and the focus moves to the reveal.
    status.filter(has_text="Your answer is settled").wait_for()
    page.wait_for_function("() => document.activeElement && /Show the reference/.test(document.activeElement.textContent)")
    page.keyboard.press("Enter")
    reveal = card.locator(".dualrole-reveal")
    reveal.wait_for(timeout=60_000)
    page.wait_for_function("() => document.activeElement && document.activeElement.closest('.dualrole-reveal')")
    assert status_node.evaluate("el => el.textContent") == "Saved. The reference is shown below."
    text = reveal.inner_text()
    # A contested case: its positions, not a starred key; who holds them is one section away.
    assert "Ethicists disagree" in text and "Your revised answer" in text and "Lazarus and Zur" not in text
    assert "differs from the reference" not in text
    holders = reveal.locator("summary", has_text="The positions in full, and who holds them")
    holders.focus()
    page.keyboard.press("Enter")
    assert "Lazarus and Zur" in reveal.inner_text()
    # The rest is in sections that open from the keyboard.
    options = reveal.locator("summary", has_text="Every option and why")
    options.focus()
    page.keyboard.press("Enter")
    assert reveal.locator("details", has_text="Every option and why").get_attribute("open") is not None
    assert_accessible(page, "after-reveal")
    screenshot(card, "flow-3-revealed")
    docs_image(card, "case-reveal")

    rows = store.responses(case_id="cosmetics")
    assert [(r["attempt"], r["option_id"], r["justification"], r["reference_seen"]) for r in rows] == [
        (1, "decline_explore", FIRST, False), (2, second, SECOND, False)]

    # Resume: a new kernel, the page reloaded, the notebook rerun: answers and steps come back.
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
    assert card.get_by_role("textbox", name="Your reasoning:").input_value() == SECOND
    assert card.get_by_role("button", name="Change my answer").is_hidden()
    assert page.watch.console_errors == [] and page.watch.page_errors == [] and page.watch.dialogs == []
    screenshot(card, "flow-4-resumed")


@pytest.mark.browser
def test_a_learner_writes_what_they_would_say_ticks_the_checklist_and_finds_the_model(page, lab, learner_home,
                                                                                     instructor_cases):
    """The "what would you say" step in Lab: once the answer is kept (not before: its checklist would point
    to the key while the answer may still change), words typed in its box (keys that are
    notebook shortcuts in command mode stay in the box), a checklist item ticked from the keyboard, Save,
    and the model script in the reveal beside the saved words."""
    from say_case_file import SAY_ID

    from widgets.cases import parse_case

    path = lab.notebook("say-step", ["from widgets import CaseCard", f'CaseCard("{SAY_ID}")'], learner_home)
    open_notebook(page, lab, path)
    run_all(page)
    assert error_outputs(page) == [] and widget_problems(page) == []
    card = page.locator(CARD)
    case = parse_case(instructor_cases / f"{SAY_ID}.md")
    assert card.get_by_role("textbox", name="Your words:").is_hidden()  # nothing to say before choosing
    card.get_by_role("radio", name=case.option("decline_explore").label).check()
    card.get_by_role("textbox", name="Your reasoning:").fill(FIRST)
    card.get_by_role("status").filter(has_text="Ready to commit").wait_for()
    card.get_by_role("button", name="Commit my answer").click()
    # The commit moves the focus to "Change my answer": take it into the box only once that has happened and
    # the kernel has finished with the click (a focus message still on its way would take it back mid-word).
    page.wait_for_function("() => document.activeElement && /Change my answer/.test(document.activeElement.textContent)")
    wait_for_idle(page)
    words = card.get_by_role("textbox", name="Your words:")
    assert words.is_hidden()  # the answer may still change
    card.get_by_role("button", name="Keep my answer").click()
    words.wait_for()
    wait_for_idle(page)
    assert "What would you say?" in card.inner_text() and "Marisol is waiting" in card.inner_text()
    cells = page.locator(".jp-Notebook .jp-Cell").count()
    words.focus()
    typed = "Thank you, I can see what it means to you. I don't buy from clients: our time stays about you."
    page.keyboard.type(typed)  # a, b, d, m, y are notebook shortcuts outside a text box
    assert words.input_value() == typed and page.locator(".jp-Notebook .jp-Cell").count() == cells
    box = card.get_by_role("checkbox", name=case.say.checklist[1])
    box.focus()
    page.keyboard.press("Space")
    assert box.is_checked()
    card.get_by_role("button", name="Save my words").click()
    card.get_by_role("status").filter(has_text="Saved, with 1 of 4 points ticked").wait_for()
    assert_accessible(page, "say-step")
    screenshot(card, "say-1-saved")
    [row] = open_store(f"sqlite:///{learner_home / 'responses.sqlite'}").scripts()
    assert (row["text"], row["checks"], row["case_id"]) == (typed, [1], SAY_ID)

    card.get_by_role("button", name="Show the reference").click()
    reveal = card.locator(".dualrole-reveal")
    reveal.wait_for(timeout=60_000)
    assert words.is_hidden()  # the step closes with the reveal
    model = reveal.locator("summary", has_text="A model script")
    model.focus()
    page.keyboard.press("Enter")
    section = reveal.locator("details", has_text="A model script").inner_text()
    assert "I don't buy from the people I see" in section and typed in section
    assert f"Ticked: {case.say.checklist[1]}" in section
    assert page.watch.console_errors == [] and page.watch.page_errors == []
    screenshot(card, "say-2-model")


@pytest.mark.browser
def test_a_draft_is_restored_after_a_reload(page, lab, learner_home):
    path = lab.notebook("draft", ["from widgets import CaseCard", 'CaseCard("cosmetics")'], learner_home)
    open_notebook(page, lab, path)
    run_all(page)
    card = page.locator(CARD)
    order = _order(learner_home)
    first_card_focus_start(page)
    tab_until(page, IS_OPTION)
    _choose(page, order, "one_small_order")
    tab_until(page, IS_REASONING)
    page.keyboard.type(FIRST)
    card.get_by_role("status").filter(has_text="Ready to commit").wait_for()
    _kernel_has_draft(learner_home, FIRST)

    lab.shutdown_kernels()
    page.goto("about:blank")
    open_notebook(page, lab, path)
    run_all(page)
    card = page.locator(CARD)
    card.get_by_role("status").filter(has_text="draft was restored").wait_for()
    assert card.get_by_role("textbox", name="Your reasoning:").input_value() == FIRST
    label = load_case("cosmetics").option("one_small_order").label
    assert card.get_by_role("radio", name=label).is_checked()
    assert open_store(f"sqlite:///{learner_home / 'responses.sqlite'}").responses() == []  # never a response

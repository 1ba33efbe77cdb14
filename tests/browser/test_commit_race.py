"""A learner who types fast and commits at once commits every character they typed.

ipywidgets 8 throttles a widget's state updates (one message in flight per widget; later keystrokes
wait in the browser until the kernel reports idle), but a button's click is a message of its own,
sent at once. So a click right after the last keystroke could reach the kernel before the text box's
last update, and the answer would be stored without its last words. The commit button carries what
the boxes hold in the browser with its click (``widgets.ui.a11y.CommitButton``), so the stored
reasoning is exactly what was typed, however soon the learner commits.

Each card is committed twice (the first answer, then a change of answer): once by Tab then Enter
from the text box, once by a mouse click, on two cards (so each way commits a first answer and a
revised one), with no pause after the last keystroke and no waiting for the kernel to catch up. A reflection saved straight after typing is saved whole too.
"""

from __future__ import annotations

import pytest

from widgets.cases import load_case
from widgets.store import open_store

from .jlab import error_outputs, open_notebook, run_all, widget_problems

CASES = ("cosmetics", "friend_request")  # two cases: each way of committing, first and revised
SENTENCE = ("{n}: the roles would blur if I said yes, so I name the risk, decline warmly and keep the "
            "work on her goals; a second role changes what she can safely tell me in session. ")


def _reasoning(n: str) -> str:
    """A reasoning of about 350 characters, different for every commit. Its length is not what races:
    the last 60 characters, typed once the button is enabled, race the commit however long the rest is
    (typing 800 characters took 3 s a commit, for nothing more)."""
    return "".join(SENTENCE.format(n=f"{n}.{i}") for i in range(2)).strip()


def _answer(page, card, option_label: str, reasoning: str, how: str) -> None:
    """Choose, type the reasoning with no delay between keys, and commit right after the last keystroke:
    Tab then Enter from the text box, or a mouse click on the button."""
    card.get_by_role("radio", name=option_label).check()
    submit = card.locator("button", has_text="Commit")
    box = card.get_by_role("textbox", name="Your reasoning:")
    box.click()
    head, tail = reasoning[:-60], reasoning[-60:]
    page.keyboard.type(head)
    # The kernel enables the button once the reasoning is long enough, as a learner sees it (Tab skips a
    # disabled button). The last words are typed after this, so they race the commit.
    page.wait_for_function("b => !b.disabled", arg=submit.element_handle())
    submit.scroll_into_view_if_needed()
    target = submit.bounding_box()
    page.keyboard.type(tail)
    if how == "keyboard":
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
    else:
        page.mouse.click(target["x"] + target["width"] / 2, target["y"] + target["height"] / 2)


@pytest.mark.browser
def test_a_fast_commit_stores_every_character_typed(page, lab, learner_home):
    path = lab.notebook("commit-race", ["from widgets import CaseCard"]
                        + [f'CaseCard("{case}")' for case in CASES], learner_home)
    open_notebook(page, lab, path)
    run_all(page)
    assert error_outputs(page) == [] and widget_problems(page) == []

    typed: dict[tuple[str, int], tuple[str, str]] = {}
    for i, case_id in enumerate(CASES):
        case = load_case(case_id)
        card = page.locator(".dualrole-card").nth(i)
        card.scroll_into_view_if_needed()
        first, second = _reasoning(f"{case_id} first"), _reasoning(f"{case_id} changed")
        # Alternate which way each commit is made, so both ways commit a first answer and a revised one.
        ways = ("keyboard", "mouse") if i % 2 == 0 else ("mouse", "keyboard")
        _answer(page, card, case.options[0].label, first, ways[0])
        change = card.get_by_role("button", name="Change my answer")
        change.wait_for(state="visible")
        change.click()
        card.get_by_role("button", name="Commit my revised answer").wait_for()
        _answer(page, card, case.options[1].label, second, ways[1])
        card.get_by_role("status").filter(has_text="settled").wait_for()
        typed[case_id, 1], typed[case_id, 2] = (ways[0], first), (ways[1], second)

    store = open_store(f"sqlite:///{learner_home / 'responses.sqlite'}")
    stored = {(r["case_id"], r["attempt"]): r["justification"] for r in store.responses()}
    lost = [f"{case_id} attempt {attempt} ({how}): stored {len(stored.get((case_id, attempt), ''))} of "
            f"{len(reasoning)} characters, ending {stored.get((case_id, attempt), '')[-30:]!r}"
            for (case_id, attempt), (how, reasoning) in typed.items() if stored.get((case_id, attempt)) != reasoning]
    assert lost == [], "committed reasoning lost what was typed last:\n" + "\n".join(lost)
    assert page.watch.console_errors == [] and page.watch.page_errors == []


@pytest.mark.browser
def test_a_reflection_saved_straight_after_typing_is_saved_whole(page, lab, learner_home):
    path = lab.notebook("reflection-race", ["from widgets import ReflectionBox", 'ReflectionBox("01_confidentiality")'],
                        learner_home)
    open_notebook(page, lab, path)
    run_all(page)
    assert error_outputs(page) == [] and widget_problems(page) == []
    box = page.get_by_role("textbox", name="My reflection:")
    save = page.get_by_role("button", name="Save my reflection")
    status = page.locator(".dualrole-status").first
    store = open_store(f"sqlite:///{learner_home / 'responses.sqlite'}")
    typed = []
    for n, how in enumerate(("keyboard", "mouse")):
        reflection = _reasoning(f"reflection {n}")
        save.scroll_into_view_if_needed()
        target = save.bounding_box()
        box.click()
        page.keyboard.press("Control+A")
        page.keyboard.type(reflection)  # no delay, then save at once
        if how == "keyboard":
            page.keyboard.press("Tab")
            page.keyboard.press("Enter")
        else:
            page.mouse.click(target["x"] + target["width"] / 2, target["y"] + target["height"] / 2)
        typed.append(reflection)
        _wait_for_rows(lambda: store.reflections(), len(typed))
    assert [r["text"] for r in store.reflections()] == typed
    assert "Saved" in status.inner_text()


def _wait_for_rows(rows, count: int) -> None:
    """Wait until the store holds ``count`` rows (each save is a new row), then go on."""
    import time

    for _ in range(300):  # a readiness poll, not a timed assertion
        if len(rows()) >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"the store never held {count} rows")

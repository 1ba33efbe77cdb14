"""The review app's coding mode as a Voila app: a coder codes two answers of the SYNTHETIC sample with the
keyboard alone (Tab into the answer's text, a number key for a code on the whole answer, Shift and the
arrow keys to select a span and a number key for a code on it, "n" for the next answer), the codes land
in the store, and axe-core finds no serious or critical violation.
"""

from __future__ import annotations

import getpass
from pathlib import Path

import pytest

from .conftest import ARTIFACTS, AXE, NOTEBOOKS, harness_copy, new_watched_page, save_failure_screenshot
from .jlab import run_axe, screenshot, serious
from .test_dashboard import render

REVIEW = "instructor_review.ipynb"
IN_TEXT = "() => document.activeElement && document.activeElement.classList.contains('dualrole-codepad-text')"
CODING_SAYS = "(n) => [...document.querySelectorAll('.dualrole-coding')].some((e) => e.innerText.includes(`Answer ${n} of`))"


def tab_into_the_answer(page, limit: int = 160) -> None:
    for _ in range(limit):
        if page.evaluate(IN_TEXT):
            return
        page.keyboard.press("Tab")
    raise AssertionError("Tab never reached the answer's text on the coding screen")


@pytest.mark.browser
def test_two_answers_are_coded_with_the_keyboard_alone(request, chromium, tmp_path):
    voila = request.getfixturevalue("voila")
    home = tmp_path / "instructor-home"
    harness_copy(NOTEBOOKS / REVIEW, Path(voila.root) / "keyboard-coding.ipynb", DUALROLE_HOME=str(home))  # off a hub the grader is this machine's account
    page = new_watched_page(chromium)
    try:
        text = render(page, voila.render_url("keyboard-coding.ipynb"))
        assert "synthetic" in text.lower()
        # The page runs both review screens and the coding screen: on a loaded machine that takes a while.
        page.wait_for_selector(".dualrole-codepad-text", timeout=120_000)
        page.wait_for_function(CODING_SAYS, arg=1, timeout=120_000)
        tab_into_the_answer(page)
        page.keyboard.press("1")          # autonomy, on the whole answer
        page.keyboard.press("5")          # fidelity, on the whole answer
        page.wait_for_function("() => document.querySelectorAll('.dualrole-codes input:checked').length === 2")
        page.keyboard.press("n")
        page.wait_for_function(CODING_SAYS, arg=2)
        page.wait_for_function(IN_TEXT)
        page.keyboard.press("Home")
        for _ in range(11):               # select "[synthetic]"
            page.keyboard.press("Shift+ArrowRight")
        page.keyboard.press("6")          # names the roles, on that span
        page.wait_for_function("() => document.querySelectorAll('.dualrole-codepad-spans li').length === 1")
        page.keyboard.press("n")
        page.wait_for_function(CODING_SAYS, arg=3)
        screenshot(page, "coding-voila")
        result = run_axe(page, "body", AXE)
        (ARTIFACTS / "axe-coding.txt").write_text("\n".join(result["rules"]), encoding="utf-8")
        assert serious(result["violations"]) == [], result["violations"]
        assert page.watch.console_errors == [] and page.watch.page_errors == [], page.watch.console_errors
    except BaseException:
        save_failure_screenshot(page, "coding")
        raise
    finally:
        page.context.close()

    from widgets.store import open_store
    from widgets.store.codings import CodingBook

    sheets = CodingBook(open_store(f"sqlite:///{home / 'review-sample.sqlite'}")).sheets(coder=getpass.getuser())
    assert len(sheets) == 2 and all(s["case_id"] == "cosmetics" for s in sheets)
    assert [g["code"] for g in sheets[0]["segments"]] == ["autonomy", "fidelity"]
    assert all(g["start"] is None for g in sheets[0]["segments"])
    assert sheets[1]["segments"] == [{"code": "names_roles", "start": 0, "end": 11}]

"""The review screen as a Voila app: an instructor scores three answers of the SYNTHETIC sample with
the keyboard alone (Tab into the rubric, number keys per criterion, "n" for the next answer), the
scores land in the store, and axe-core finds no serious or critical violation.
"""

from __future__ import annotations

import getpass
from pathlib import Path

import pytest

from .conftest import ARTIFACTS, AXE, NOTEBOOKS, harness_copy, new_watched_page, save_failure_screenshot
from .jlab import run_axe, screenshot, serious
from .test_dashboard import render

REVIEW = "instructor_review.ipynb"
KEYS = "21021"  # roles, risks, standard, action, alternative
EXPECTED = {"roles": 2, "risks": 1, "standard": 0, "action": 2, "alternative": 1}
IN_CRITERION = """(index) => {
    const sets = [...document.querySelectorAll('.dualrole-criterion')];
    return sets.length > index && sets[index].contains(document.activeElement);
}"""


def tab_into_the_rubric(page, limit: int = 80) -> None:
    for _ in range(limit):
        if page.evaluate(IN_CRITERION, 0):
            return
        page.keyboard.press("Tab")
    raise AssertionError("Tab never reached the rubric's first criterion")


@pytest.mark.browser
def test_three_answers_are_scored_with_the_keyboard_alone(request, chromium, tmp_path):
    if not (NOTEBOOKS / REVIEW).exists():
        pytest.skip(f"{REVIEW} does not exist")
    voila = request.getfixturevalue("voila")
    home = tmp_path / "instructor-home"
    harness_copy(NOTEBOOKS / REVIEW, Path(voila.root) / "keyboard-review.ipynb", DUALROLE_HOME=str(home))  # off a hub the grader is this machine's account
    page = new_watched_page(chromium)
    try:
        text = render(page, voila.render_url("keyboard-review.ipynb"))
        assert "synthetic" in text.lower()
        page.wait_for_selector(".dualrole-criterion")
        tab_into_the_rubric(page)
        for answer in range(1, 4):
            page.wait_for_function("(n) => document.body.innerText.includes(`Answer ${n} of`)", arg=answer)
            page.wait_for_function(IN_CRITERION, arg=0)
            for key in KEYS:
                page.keyboard.press(key)
            page.wait_for_function(IN_CRITERION, arg=4)
            page.keyboard.press("n")
        page.wait_for_function("() => document.body.innerText.includes('Answer 4 of')")
        screenshot(page, "review-voila")
        result = run_axe(page, "body", AXE)
        (ARTIFACTS / "axe-review.txt").write_text("\n".join(result["rules"]), encoding="utf-8")
        assert serious(result["violations"]) == [], result["violations"]
        assert page.watch.console_errors == [] and page.watch.page_errors == [], page.watch.console_errors
    except BaseException:
        save_failure_screenshot(page, "review")
        raise
    finally:
        page.context.close()

    from widgets.store import open_store
    from widgets.store.scores import ScoreBook

    sheets = ScoreBook(open_store(f"sqlite:///{home / 'review-sample.sqlite'}")).sheets(scorer=getpass.getuser())
    assert len(sheets) == 3 and len({s["response_id"] for s in sheets}) == 3
    assert all(s["levels"] == EXPECTED and s["case_id"] == "cosmetics" for s in sheets)


@pytest.mark.browser
def test_two_graders_score_one_answer_in_jupyterlab_and_the_second_sheet_starts_blank(page, lab, tmp_path):
    """The review notebook in JupyterLab, on the class store DUALROLE_STORE names: one answer scored as
    the professor, then "Scoring as" changed to the TA, whose sheet for the same answer is blank."""
    import nbformat

    from widgets.reporting.simulate import into_store, simulate
    from widgets.store import open_store
    from widgets.store.scores import ScoreBook

    from .jlab import open_notebook, run_all

    class_path = tmp_path / "class.sqlite"
    into_store(simulate(learners=4, cohorts=1, seed=3), open_store(f"sqlite:///{class_path}"))
    path = lab.notebook("two-graders-review", [], tmp_path / "instructor-home", source=NOTEBOOKS / REVIEW)
    nb = nbformat.read(lab.root / path, as_version=4)
    nb.cells[0].source += (f"; os.environ['DUALROLE_STORE'] = {str(class_path)!r}"
                           "; os.environ['JUPYTERHUB_USER'] = 'prof.alvarez'")
    nbformat.write(nb, lab.root / path)

    open_notebook(page, lab, path)
    run_all(page)
    page.wait_for_selector(".dualrole-criterion")
    checked = "() => document.querySelectorAll('.dualrole-criterion input:checked').length"
    assert page.evaluate(checked) == 0
    tab_into_the_rubric(page)
    for key in KEYS:
        page.keyboard.press(key)
    page.wait_for_function(f"() => ({checked})() === 5")

    scorer = page.locator(".dualrole-review .widget-text input").first
    assert scorer.input_value() == "prof.alvarez"
    scorer.fill("ta.kim")
    scorer.press("Enter")  # the name syncs when it is entered; the professor's sheet is saved first
    page.wait_for_function("() => document.body.innerText.includes('(not yet scored)')")
    page.wait_for_function(f"() => ({checked})() === 0")  # the TA starts on a blank sheet
    tab_into_the_rubric(page)
    for key in "11111":
        page.keyboard.press(key)
    page.wait_for_function(f"() => ({checked})() === 5")
    page.keyboard.press("n")
    page.wait_for_function("() => document.body.innerText.includes('Answer 2 of')")

    sheets = {s["scorer"]: s for s in ScoreBook(open_store(f"sqlite:///{class_path}")).sheets()}
    assert set(sheets) == {"prof.alvarez", "ta.kim"}
    assert sheets["prof.alvarez"]["response_id"] == sheets["ta.kim"]["response_id"]
    assert sheets["prof.alvarez"]["levels"] == EXPECTED
    assert sheets["ta.kim"]["levels"] == {c: 1 for c in EXPECTED}

"""The review screen driven as an instructor would: keys, next and previous, filters, release.

The keys go through ``ScorePad.press``, the one place their rules live; tests/browser/test_review.py
presses the same keys in Chromium. Every learner here is synthetic.
"""

from __future__ import annotations

import pytest

from widgets.reporting.simulate import into_store, simulate
from widgets.store import open_store
from widgets.ui.review import ReviewScreen

CASE = "cosmetics"


@pytest.fixture
def store(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'class.sqlite'}")
    into_store(simulate(learners=6, cohorts=2, seed=5), store)
    return store


@pytest.fixture
def screen(store):
    """A grader's review screen on the class's answers to CASE: ``screen("dr-kim")``, Dr. Lee's by default."""
    return lambda scorer="dr-lee", **options: ReviewScreen(store, scorer=scorer, case=CASE, **options)


def press(review: ReviewScreen, keys: str) -> None:
    """Press each key in turn, as a grader types them."""
    for key in keys:
        review.pad.press(key)


def test_number_keys_score_each_criterion_in_turn_and_n_saves_and_moves_on(screen):
    review = screen()
    first = review.current["response_id"]
    press(review, "21021")
    review.comment.value = "Name the code section."

    review.pad.press("n")

    sheets = review.book.sheets(case_id=CASE, scorer="dr-lee")
    assert [(s["response_id"], s["levels"], s["comment"]) for s in sheets] == [
        (first, {"roles": 2, "risks": 1, "standard": 0, "action": 2, "alternative": 1}, "Name the code section.")]
    assert review.index == 1 and review.pad.levels == {} and review.comment.value == ""
    review.pad.press("p")
    assert review.current["response_id"] == first and review.pad.levels["roles"] == 2
    assert review.comment.value == "Name the code section."
    assert len(review.book.sheets(latest=False)) == 1  # going back and forth saves nothing unchanged


def test_a_key_beyond_the_rubric_does_nothing_and_arrows_choose_without_moving_on(screen):
    review = screen()
    review.pad.press("7")
    assert review.pad.levels == {} and review.pad.active == 0
    review.pad.press("1", criterion=3, advance=False)  # a radio chosen with the arrow keys
    assert review.pad.levels == {"action": 1} and review.pad.active == 3


def test_filters_by_option_cohort_and_not_yet_scored(screen):
    review = screen()
    everyone = len(review.items)
    option = review.current["option_id"]
    review.option_filter.value = option
    assert review.items and all(r["option_id"] == option for r in review.items)
    review.option_filter.value = "(all)"
    review.cohort_filter.value = "synthetic-cohort-2"
    assert review.items and {r["cohort"] for r in review.items} == {"synthetic-cohort-2"}
    review.cohort_filter.value = "(all)"
    review.pad.press("2")
    review.pad.press("n")
    review.unscored.value = True
    assert len(review.items) == everyone - 1


def test_both_attempts_are_shown_and_the_reasoning_is_text(store):
    row = next(r for r in store.responses() if r["attempt"] == 2)
    first = next(r for r in store.responses(learner=row["learner"], case_id=row["case_id"], phase=row["phase"])
                 if r["attempt"] == 1)
    review = ReviewScreen(store, scorer="dr-lee", case=row["case_id"])
    review.show(next(i for i, r in enumerate(review.items) if r["response_id"] == row["response_id"]))
    assert "First attempt" in review.answer.value and "Revote (after the reveal)" not in review.answer.value
    assert "Revote (after seeing the class's answers, before the reference)" in review.answer.value  # self-paced
    assert "◀ scoring this one" in review.answer.value and first["justification"][:20] in review.answer.value


def test_a_class_mode_revote_is_labelled_as_class_mode_orders_it(tmp_path):
    from widgets.cases.library import load_case
    from widgets.responses.contract import Response

    store = open_store(f"sqlite:///{tmp_path / 'x.sqlite'}")
    case = load_case(CASE)
    for attempt, stage in ((1, "voting"), (2, "revote")):
        store.add(Response(learner="synthetic-x", cohort="synthetic-c", case_id=CASE, case_version=case.case_version,
                           option_id=case.options[attempt - 1].id, stance=case.options[attempt - 1].stance,
                           confidence=50, attempt=attempt, stage=stage,
                           justification=f"Reasoning for attempt {attempt}: the roles conflict."))
    review = ReviewScreen(store, scorer="dr-lee")
    assert "Revote (after the class histogram, before the reveal)" in review.answer.value


def test_a_reasoning_with_markup_is_shown_as_text(tmp_path):
    from widgets.cases.library import load_case
    from widgets.responses.contract import Response

    store = open_store(f"sqlite:///{tmp_path / 'x.sqlite'}")
    case = load_case(CASE)
    store.add(Response(learner="synthetic-x", cohort="synthetic-c", case_id=CASE, case_version=case.case_version,
                       option_id=case.options[0].id, stance=case.options[0].stance, confidence=50,
                       justification='<img src=x onerror="alert(1)"> decline'))
    review = ReviewScreen(store, scorer="dr-lee")
    assert "&lt;img src=x onerror=" in review.answer.value and "<img" not in review.answer.value


def test_release_puts_each_scored_answers_feedback_on_its_learners_card(screen, store):
    review = screen()
    learner = review.current["learner"]
    press(review, "21021")
    review.comment.value = "Clear roles."
    assert review.release_case() == 1
    assert [f["comment"] for f in store.feedback(learner, CASE)] == ["Clear roles."]
    n = len(review.items)
    # No class service here: the feedback is in this store (for feedback files), and said to be not sent.
    assert review.status.value.startswith(f"Released feedback on 1 of {n} answer(s): kept locally, not sent")
    assert review.status.value.endswith(f"Not released: {n - 1} not scored yet.")


def test_release_says_why_an_unfinished_sheet_or_an_edited_rubric_releases_nothing(screen, tmp_path):
    review = screen()
    review.pad.press("2")  # one criterion of five
    assert review.release_case() == 0
    assert "Not released: 1 a grader's sheet is unfinished" in review.status.value
    press(review, "1021")
    review.save()
    edited = tmp_path / "rubric.yaml"
    from widgets.paths import data_dir

    edited.write_text((data_dir() / "rubrics" / "ethical_reasoning.yaml").read_text()
                      .replace("No role is named.", "No role is named at all."))
    again = screen(rubric=edited)
    assert again.release_case() == 0
    assert "1 scored only under another version of the rubric" in again.status.value


def test_a_second_grader_at_the_same_screen_starts_blank_and_keeps_the_first_graders_sheet(screen):
    review = screen("prof.alvarez")
    first = review.current["response_id"]
    press(review, "21021")
    review.scorer.value = "ta.kim"  # the first sheet is saved under its grader as the name changes
    assert review.current["response_id"] == first
    assert review.pad.levels == {} and review.comment.value == ""
    review.pad.press("1", criterion=4)
    review.save()
    sheets = {s["scorer"]: s["levels"] for s in review.book.sheets(case_id=CASE)}
    assert sheets["prof.alvarez"] == {"roles": 2, "risks": 1, "standard": 0, "action": 2, "alternative": 1}
    assert sheets["ta.kim"] == {"alternative": 1}


def test_graders_who_differ_are_reconciled_and_the_final_score_is_what_is_released(screen, store):
    lee = screen()
    kim = screen("dr-kim")
    learner = lee.current["learner"]
    for review, keys in ((lee, "22222"), (kim, "11111")):
        press(review, keys)
        review.save()
    assert lee.release_case() == 0 and "the graders differ: reconcile them" in lee.status.value
    lee.reconciling.value = True
    assert "dr-kim" in lee.others.value and lee.pad.levels == {}
    press(lee, "21212")
    lee.comment.value = "Agreed after discussion."
    lee.save()
    assert lee.release_case() == 1
    [shown] = store.feedback(learner, CASE)
    assert [level["level"] for level in shown["levels"]] == [2, 1, 2, 1, 2]
    # The graders' own sheets are untouched: agreement is measured on them.
    assert sorted(lee.scores()["roles"].tolist()) == [1, 2]


def test_two_instructors_score_independently(screen):
    lee = screen()
    kim = screen("dr-kim")
    for review, key in ((lee, "2"), (kim, "1")):
        review.pad.press(key)
        review.save()
    table = lee.scores()
    assert sorted(zip(table["scorer"], table["roles"])) == [("dr-kim", 1), ("dr-lee", 2)]


def test_alpha_across_three_graders_counts_their_own_sheets(screen):
    for name, key in (("dr-lee", "2"), ("dr-kim", "1"), ("dr-ray", "1")):
        review = screen(name)
        for _ in range(2):
            review.pad.press(key, criterion=0)
            review.move(1)
    table = review.alpha().set_index("criterion")
    assert table.loc["roles", "graders"] == 3 and table.loc["roles", "n"] == 2


def test_the_review_notebook_opens_the_store_dualrole_store_names(store, tmp_path, monkeypatch):
    """As Lab and Voila start it: the kernel inherits DUALROLE_STORE, and no cell needs editing."""
    import os
    from pathlib import Path

    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    from tests.reporting.test_notebook_tables import ThisEnvironment

    def kernel():
        return KernelManager(kernel_name="python3", kernel_spec_manager=ThisEnvironment())

    repo = Path(__file__).resolve().parents[2]
    nb = nbformat.read(repo / "notebooks" / "instructor_review.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("print(store.url, review.current['learner'].startswith('synthetic'))"))
    monkeypatch.setenv("DUALROLE_STORE", str(tmp_path / "class.sqlite"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    NotebookClient(nb, timeout=600, km=kernel(),
                   resources={"metadata": {"path": str(repo / "notebooks")}}).execute()
    assert nb.cells[-1].outputs[0]["text"] == f"sqlite:///{tmp_path / 'class.sqlite'} True\n"
    # and a mistyped store is an error naming it, with nothing created
    monkeypatch.setenv("DUALROLE_STORE", str(tmp_path / "clas.sqlite"))
    from nbclient.exceptions import CellExecutionError

    with pytest.raises(CellExecutionError, match="there is no class store at"):
        NotebookClient(nbformat.read(repo / "notebooks" / "instructor_review.ipynb", as_version=4), timeout=600,
                       km=kernel(), resources={"metadata": {"path": str(repo / "notebooks")}}).execute()
    assert not (tmp_path / "clas.sqlite").exists()

"""A written case analysis: kept privately after the answer, handed in, and scored on its own rubric."""

from __future__ import annotations

import pytest

from widgets.exchange.bundle import read_bundle, write_bundle
from widgets.grading.files import default_rubric, shipped_rubric
from widgets.responses.contract import ANALYSIS_SECTIONS, analysis_sections
from widgets.store.scores import ScoreBook
from widgets.ui.case_analysis import CaseAnalysis
from widgets.ui.review import ReviewScreen

CASE = "small_holiday_gift"
PARTS = {"facts": "Bà Lan offers home-made sweets before Tết, two sessions before we end.",
         "standards": "ACA A.10.f: weigh the relationship, the value, her motive and mine.",
         "say": "Thank you, Bà Lan; please thank your granddaughter for her card."}


@pytest.fixture
def ana(monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_USER", "ana")
    return "ana"


def commit(card, option="accept_graciously"):
    card.options.value = option
    card.justification.value = "A token gift at a holiday; accepting honours her and her culture."
    card.submit.click()


def write(analysis, parts=PARTS):
    for key, value in parts.items():
        analysis.parts[key].value = value
    analysis.save.click()


def test_the_analysis_is_saved_only_after_the_answer_and_comes_back_when_reopened(fresh_store, ana):
    analysis = CaseAnalysis(CASE, store=fresh_store, analyses=fresh_store)
    assert [key for key, _, _ in ANALYSIS_SECTIONS] == list(analysis.parts)
    write(analysis)
    assert "commit your answer on the card first" in analysis.status.value
    assert not fresh_store.reflections(kind="case_analysis")

    commit(analysis.card)
    write(analysis)
    [row] = fresh_store.reflections(learner="ana", kind="case_analysis")
    assert row["case_id"] == CASE and row["lesson"] == "case_analysis"
    assert analysis_sections(row["text"]) == PARTS
    assert "Saved (" in analysis.status.value and "Still empty: Roles and stakeholders" in analysis.status.value

    again = CaseAnalysis(CASE, store=fresh_store, analyses=fresh_store)
    assert again.parts["say"].value == PARTS["say"] and again.parts["roles"].value == ""
    assert "last saved analysis" in again.status.value


def test_an_empty_analysis_is_not_saved(fresh_store, ana):
    analysis = CaseAnalysis(CASE, store=fresh_store, analyses=fresh_store)
    commit(analysis.card)
    write(analysis, {"facts": "   "})
    assert "write something first" in analysis.status.value
    assert not fresh_store.reflections(kind="case_analysis")


def test_the_analysis_is_handed_in_with_the_learners_bundle(fresh_store, ana, tmp_path):
    analysis = CaseAnalysis(CASE, store=fresh_store, analyses=fresh_store)
    commit(analysis.card)
    write(analysis)
    path = tmp_path / "ana.jsonl"
    write_bundle(fresh_store, "ana", path)
    read = read_bundle(path)
    assert read.rejected is None and not any(line.problem for line in read.lines)
    assert any(line.data.get("kind") == "case_analysis" for line in read.lines)


def test_the_grader_reads_the_analysis_beside_the_last_answer_and_scores_it_on_its_own_rubric(fresh_store, ana):
    analysis = CaseAnalysis(CASE, store=fresh_store, analyses=fresh_store)
    commit(analysis.card)
    analysis.card.revote_button.click()  # a revote: the analysis is scored with this last answer only
    analysis.card.options.value = "interpret_first"
    analysis.card.justification.value = "On reflection I would ask what the gift means before taking it."
    analysis.card.submit.click()
    write(analysis)
    last = fresh_store.responses(learner="ana", case_id=CASE)[-1]
    assert last["attempt"] == 2
    rubric = shipped_rubric("case_analysis")
    review = ReviewScreen(fresh_store, rubric=rubric, scorer="dr-lee", case=CASE)
    assert [r["response_id"] for r in review.items] == [last["response_id"]]
    assert "Written analysis" in review.answer.value and "granddaughter" in review.answer.value
    for key in "323123":
        review.pad.press(key)
    review.save()

    reasoning = ReviewScreen(fresh_store, scorer="dr-lee", case=CASE)  # the same answer on the card's rubric
    assert "Written analysis" not in reasoning.answer.value and reasoning.pad.levels == {}
    for key in "21021":
        reasoning.pad.press(key)
    reasoning.save()

    book = ScoreBook(fresh_store)
    assert {s["rubric_id"] for s in book.sheets(case_id=CASE, scorer="dr-lee")} == {"case_analysis",
                                                                                    "ethical_reasoning"}
    review = ReviewScreen(fresh_store, rubric=rubric, scorer="dr-lee", case=CASE)
    review.unscored.value = True  # the scored last answer is gone, and no earlier attempt takes its place
    assert review.items == []
    [final] = book.finals(rubric).values()
    assert final.levels["issue"] == 3 and final.share == pytest.approx(14 / 18)
    assert next(iter(book.finals(default_rubric()).values())).share == pytest.approx(6 / 10)
    assert ReviewScreen(fresh_store, rubric=rubric, scorer="dr-lee", case=CASE).pad.levels["self_awareness"] == 1


def test_feedback_on_the_analysis_and_on_the_reasoning_both_reach_the_card(fresh_store, ana):
    from widgets.ui.feedback_panel import FeedbackPanel

    analysis = CaseAnalysis(CASE, store=fresh_store, analyses=fresh_store)
    commit(analysis.card)
    write(analysis)
    book = ScoreBook(fresh_store)
    [answer] = fresh_store.responses(learner="ana", case_id=CASE)
    for rubric, level in ((shipped_rubric("case_analysis"), 3), (default_rubric(), 1)):
        book.record(answer["response_id"], "dr-lee", rubric, {c.id: level for c in rubric.criteria})
        book.release(answer["response_id"], "dr-lee", rubric)
    shown = FeedbackPanel(CASE, fresh_store, "ana").value
    assert "(rubric: case analysis)" in shown and "(rubric: ethical reasoning)" in shown
    assert "3 of 3" in shown and "1 of 2" in shown

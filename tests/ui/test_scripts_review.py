"""Scripts in the instructor's review app: the grader reads a learner's script and ticks under the answer it
follows (a rubric criterion ``script`` scores those words), and coders code scripts as they code reasoning,
blind to each other, as sheets of their own. Every learner here is synthetic."""

from __future__ import annotations

import pytest

from widgets.grading.codebook import default_codebook
from widgets.grading.files import load_rubric
from widgets.responses.contract import Script
from widgets.store import open_store
from widgets.store.codings import CodingBook
from widgets.store.scores import ScoreBook
from widgets.ui.coding import CodingScreen
from widgets.ui.review import ReviewScreen

RUBRIC = """id: with_script
title: Reasoning and words
version: 1
criteria:
  - id: action
    label: States a concrete action
    levels: [None, Some, Clear]
  - id: script
    label: The words would work with this client
    levels: [Would not, Partly, Would]
"""


@pytest.fixture
def class_store(tmp_path, say_case, make_response):
    """Two learners answered the say case; Ana then wrote her words twice (the second counts), Ben wrote none."""
    store = open_store(f"sqlite:///{tmp_path / 'class.sqlite'}")
    ana = store.add(make_response("synthetic-ana", case_id=say_case.id))
    store.add(make_response("synthetic-ana", case_id=say_case.id, attempt=2,
                            justification="I keep my answer after seeing the class's answers."))
    store.add(make_response("synthetic-ben", case_id=say_case.id))
    for text, checks in (("An early draft of what I would say to her.", [0]),
                         ("Thank you for thinking of me. I don't buy from the people I see, so our time stays "
                          "about you; can we talk about it next week?", [0, 1, 3])):
        store.save_script(Script(learner="synthetic-ana", cohort="synthetic-class", case_id=say_case.id,
                                 case_version=say_case.case_version, response_id=ana.response_id, kind="script",
                                 text=text, checks=checks))
    return store, ana


def test_the_grader_sees_the_latest_script_and_its_ticks_under_the_first_answer(class_store, say_case):
    store, ana = class_store
    screen = ReviewScreen(store, scorer="synthetic-grader")
    shown = {}
    for index in range(len(screen.items)):
        screen.show(index)
        shown[screen.current["learner"]] = screen.answer.value
    screen.show(0)
    html = screen.answer.value
    assert screen.current["learner"] == "synthetic-ana"
    assert "What they would say" in html and "Thank you for thinking of me." in html
    assert "An early draft" not in html  # only the latest save counts
    ticks = html[html.index("Checklist"):]
    assert "(3 of 4 ticked by the learner)." in ticks and "The case has changed" not in ticks
    for i, item in enumerate(say_case.say.checklist):
        mark = "☑ ticked" if i in (0, 1, 3) else "☐ not ticked"
        assert f"{mark}: {item.replace(chr(39), '&#x27;')}" in ticks
    assert html.index("First attempt") < html.index("What they would say") < html.index("Revote")
    assert "What they would say" not in shown["synthetic-ben"]


def test_a_script_criterion_scores_the_words_on_the_first_answer(class_store, tmp_path):
    store, ana = class_store
    (tmp_path / "rubric.yaml").write_text(RUBRIC, encoding="utf-8")
    screen = ReviewScreen(store, scorer="synthetic-grader", rubric=tmp_path / "rubric.yaml")
    assert screen.current["response_id"] == ana.response_id
    assert "(scored by the criterion “The words would work with this client”)" in screen.answer.value
    screen.pad.press("2", criterion=0)
    screen.pad.press("1", criterion=1)
    assert screen.save()
    [sheet] = ScoreBook(store).sheets(scorer="synthetic-grader")
    assert sheet["response_id"] == ana.response_id and sheet["levels"] == {"action": 2, "script": 1}
    assert load_rubric(tmp_path / "rubric.yaml").criterion("script").top == 2


def test_coders_code_a_script_beside_its_answer_as_a_sheet_of_its_own(class_store):
    store, ana = class_store
    codebook = default_codebook()
    [latest] = store.latest_scripts(learner="synthetic-ana")
    screen = CodingScreen(store, coder="synthetic-coder-1", codebook=codebook)
    assert {r["learner"] for r in screen.items} == {"synthetic-ana", "synthetic-ben"}  # the reasoning first
    screen.unit.value = "script"
    assert [r["learner"] for r in screen.items] == ["synthetic-ana"]
    assert screen.pad.text == latest["text"]
    assert "what they would say" in screen.answer.value and "Their reasoning:" in screen.answer.value
    screen.pad.press("1", 0, 8)  # a span of the script: "Thank yo"
    screen.pad.press("5")  # a code on the whole script
    assert screen.save()
    [sheet] = CodingBook(store).sheets(unit="script")
    assert sheet["response_id"] == latest["script_id"] and sheet["unit"] == "script"
    assert sheet["segments"] == [{"code": "autonomy", "start": 0, "end": 8},
                                 {"code": "fidelity", "start": None, "end": None}]
    assert CodingBook(store).sheets(unit="reasoning") == []

    # A second coder sees none of the first coder's codes on the script, and agreement counts the script.
    other = CodingScreen(store, coder="synthetic-coder-2", codebook=codebook)
    other.unit.value = "script"
    assert other.pad.segments == []
    other.pad.press("5")
    other.save()
    agreement = other.agreement().set_index("code")
    assert agreement.loc["fidelity", "answers"] == 1


def test_a_span_outside_the_script_is_refused(class_store):
    store, _ = class_store
    [latest] = store.latest_scripts(learner="synthetic-ana")
    from widgets.errors import DualroleError

    with pytest.raises(DualroleError, match="not inside the answer"):
        CodingBook(store).record(latest["script_id"], "synthetic-coder", default_codebook(),
                                 [{"code": "autonomy", "start": 0, "end": len(latest["text"]) + 1}], unit="script")

"""The one rule of a valid script (``check_script``): its length, its checks, its case and the first
answer it follows. The learner's session, the class service and collect all ask it."""

from __future__ import annotations

from uuid import uuid4

import pytest

from widgets.cases.library import Library, load_case
from widgets.responses.contract import check_script

WORDS = "Thank you for thinking of me. I don't buy from the people I see."


@pytest.fixture
def answer(say_case, make_response):
    return make_response("synthetic-ana", case_id=say_case.id).row()


def body(case, answer, **changes) -> dict:
    return {"script_id": str(uuid4()), "response_id": answer["response_id"], "cohort": answer["cohort"],
            "case_id": case.id, "case_version": case.case_version, "text": WORDS, "checks": [0, 3],
            "created_at": "2026-03-02T09:00:00+00:00", **changes}


def test_a_good_script_is_accepted_with_the_kind_its_case_asks(say_case, answer):
    script, problems = check_script(body(say_case, answer, text=f"  {WORDS}  "), learner="synthetic-ana",
                                    answer=answer)
    assert problems == {}
    assert (script.kind, script.text, script.checks) == ("script", WORDS, [0, 3])


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"text": "   Too short.   "}, "text", "shorter than 20 characters (10 more)"),
    ({"text": "x" * 20001}, "text", "longer than 20000 characters"),
    ({"checks": [4]}, "checks", "has 4 checklist items"),
    ({"checks": [0, 0]}, "checks", ""),
    ({"checks": ["first"]}, "checks", ""),
    ({"kind": "chart_note"}, "kind", "asks for a script"),
    ({"case_id": "no_such_case"}, "case_id", "no case 'no_such_case'"),
    ({"learner": "synthetic-ben"}, "learner", "is not the learner sending it"),
    ({"created_at": "2999-01-01T00:00:00+00:00"}, "created_at", "in the future"),
    ({"mood": "calm"}, "mood", "unknown field"),
])
def test_each_bad_field_is_named(say_case, answer, changes, field, words):
    script, problems = check_script(body(say_case, answer, **changes), learner="synthetic-ana", answer=answer)
    assert script is None
    assert field in problems and words in problems[field], problems


def test_a_script_follows_the_learners_own_first_answer(say_case, answer, make_response):
    good = body(say_case, answer)
    _, problems = check_script(good, learner="synthetic-ana", answer=None)
    assert "a script follows your first answer" in problems["response_id"]
    other = make_response("synthetic-ben", case_id=say_case.id).row() | {"response_id": answer["response_id"]}
    _, problems = check_script(good, learner="synthetic-ana", answer=other)
    assert "names another answer" in problems["response_id"]


def test_a_case_without_a_say_block_takes_no_script(answer, make_response):
    plain = load_case("cosmetics")
    if plain.say is not None:  # the shipped case has gained its block: strip it for this test
        from dataclasses import replace
        plain = replace(plain, say=None)
    first = make_response("synthetic-ana").row()
    _, problems = check_script(body(plain, first), learner="synthetic-ana", answer=first,
                               library=Library.of([plain]))
    assert problems["case_id"] == "case 'cosmetics' asks for no script (its file has no say: block)"

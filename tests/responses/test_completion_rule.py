"""One completion rule: what the card accepts is exactly what grading counts as done.

The rule is the response contract's (``reasoning_length``): characters as a reader sees them, so a
Japanese sentence, a hyphenated phrase and an emoji count fairly, not by whitespace words.
"""

from __future__ import annotations

import pandas as pd
import pytest

from widgets import analysis
from widgets.analysis.grades import grades
from widgets.cases.library import load_library
from widgets.grading.files import Assignment, GradingPolicy, assessment_cases
from widgets.responses.contract import min_reasoning, reasoning_length, reasoning_shortfall
from widgets.store.schema import COLUMNS
from widgets.ui.card import CaseCard

ACCEPTED = [
    "Offer a sliding scale.",                          # four words: docked by a five-word rule
    "Decline, too expensive.",
    "贈り物は断り、その意味を一緒に話し合います。",        # one "word" split on whitespace
    "Decline-kindly-and-explore-the-meaning",          # one hyphenated token
    "Decline 🙏 and explore why 👩‍⚕️ feels owed.",
    "Refuser le cadeau, expliquer pourquoi.",
    "Zoë would decline: the gift binds her.",
]


@pytest.mark.parametrize("text, length", [
    ("Offer a sliding scale.", 22),
    ("贈り物は断ります", 8),
    ("e\u0301te\u0301", 3),                             # decomposed accents count once each
    ("👩‍⚕️", 1),                                        # woman health worker: one emoji of four code points
    ("👍🏽", 1),                                          # a skin tone adds nothing
    ("   spaced   ", 6),
])
def test_reasoning_is_counted_as_a_reader_sees_it(text, length):
    assert reasoning_length(text) == length


def test_a_short_reasoning_shows_the_characters_still_needed_as_the_learner_types(fresh_store):
    card = CaseCard("cosmetics", store=fresh_store, learner="synthetic-ana", cohort="synthetic-seminar")
    card.options.value = card.case.options[0].id
    card.justification.value = "Decline it."
    assert card.submit.disabled
    assert card.status.value == "Explain your reasoning in at least 20 characters: 9 more characters."
    card.justification.value = "👩‍⚕️" * 19
    assert "1 more character." in card.status.value
    card.justification.value += "👩‍⚕️"
    assert not card.submit.disabled and reasoning_shortfall(card.justification.value) == 0


def test_every_answer_the_card_accepts_counts_as_done_in_grading(fresh_store):
    library = load_library()
    cases = [*library.module("business"), *library.module("gifts")][:len(ACCEPTED)]
    assert len(cases) == len(ACCEPTED)
    for case, reasoning in zip(cases, ACCEPTED):
        card = CaseCard(case, store=fresh_store, learner="synthetic-kaito", cohort="synthetic-seminar")
        card.options.value = case.options[0].id
        card.justification.value = reasoning
        assert not card.submit.disabled, (reasoning, card.status.value)
        card.submit.click()
    assert fresh_store.count() == len(ACCEPTED)
    rows = analysis.responses(pd.DataFrame(fresh_store.responses(), columns=COLUMNS))
    policy = GradingPolicy((Assignment("Business and gifts", ("business", "gifts"), completion_points=10),),
                           taught=("business", "gifts"))
    table = grades(rows, pd.DataFrame(columns=["response_id", "share"]), policy, library, assessment_cases())
    [row] = table.to_dict("records")
    assert row["done"] == len(ACCEPTED)


def test_the_contract_refuses_what_the_card_would_not_accept():
    from widgets.responses.contract import check_response

    case = load_library()["cosmetics"]
    body = {"response_id": "0f8fad5b-d9cb-469f-a165-70867728950e", "cohort": "psy501", "case_id": case.id,
            "case_version": case.case_version, "option_id": case.options[0].id, "confidence": 70,
            "justification": "👍🏽" * 12, "attempt": 1, "phase": "practice",
            "submitted_at": "2025-03-01T09:30:00+00:00"}  # 24 code points, 12 characters as read
    _, problems = check_response(body, learner="ana")
    assert problems["justification"].startswith("shorter than 20 characters (8 more)")


@pytest.mark.parametrize("text", ["", "Too short.", "e\u0301" * 19, "e\u0301" * 20, "e\u0301" * 400,
                                  "\U0001F469\u200d\U0001F4BB" * 25, "  " + "Offer a sliding scale." * 30])
def test_counting_stops_at_the_minimum_and_the_verdict_is_the_full_counts(text):
    """Collect counts only as far as the minimum; the shortfall is the one the whole count gives."""
    shortest = min_reasoning()
    assert reasoning_length(text, at_most=shortest) == min(reasoning_length(text), shortest)
    assert reasoning_shortfall(text) == max(0, shortest - reasoning_length(text))

"""Each learner sees the options in an order of their own, so position gives nothing away."""

from __future__ import annotations

from collections import Counter

import pytest

from widgets.cases import load_library, parse_case

LEARNERS = [f"learner-{i:03d}" for i in range(200)]


def test_the_preferred_option_holds_no_position_too_often_for_200_learners():
    four = [c for c in load_library() if len(c.options) == 4 and c.use == "lesson"]
    at = Counter()
    for case in four:
        for learner in LEARNERS:
            order = case.order_for(learner)
            at.update(i for i, option in enumerate(order) if option in case.preferred)
    shown = len(four) * len(LEARNERS)
    shares = [at[i] / shown for i in range(4)]
    assert all(0.10 <= share <= 0.45 for share in shares), shares


def test_the_order_is_stable_per_learner_and_differs_between_learners():
    case = load_library()["cosmetics"]
    assert case.order_for("ana") == case.order_for("ana")
    assert len({case.order_for(learner) for learner in LEARNERS}) == 24  # every order of four occurs


def test_a_pinned_option_keeps_its_place(tmp_path):
    text = (load_library()["cosmetics"].path).read_text(encoding="utf-8")
    text = text.replace("  - id: buy_regularly\n", "  - id: buy_regularly\n    pinned: true\n", 1)
    path = tmp_path / "cosmetics.md"
    path.write_text(text, encoding="utf-8")
    case = parse_case(path)
    place = case.option_ids.index("buy_regularly")
    assert {case.order_for(learner)[place] for learner in LEARNERS} == {"buy_regularly"}


@pytest.mark.parametrize("learner", ["ana", "ben"])
def test_the_card_shows_and_records_the_learners_order(fresh_store, learner):
    from widgets.ui.card import CaseCard

    card = CaseCard("cosmetics", store=fresh_store, learner=learner)
    shown = tuple(value for _label, value in card.options.options)
    assert shown == card.case.order_for(learner)
    card.options.value = "decline_only"
    card.justification.value = "A customer role would tangle money and approval."
    card.submit.click()
    assert fresh_store.responses()[0]["option_order"] == ",".join(shown)

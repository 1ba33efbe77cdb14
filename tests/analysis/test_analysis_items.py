"""Item analysis: difficulty, corrected point-biserial, distractors by score group, contested key."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy.stats import pearsonr

from widgets.analysis import distractors, item_analysis, score_groups, tidy
from widgets.cases.library import load_library
from widgets.errors import DualroleError


def cases(k=3):
    """k library cases that each have a non-preferred, non-acceptable option."""
    chosen = [c for c in load_library() if any(o.id not in c.preferred + c.acceptable for o in c.options)]
    return chosen[:k]


def frame(choices: dict[str, dict[str, str]]) -> pd.DataFrame:
    """choices[learner][case_id] = option id → a tidy frame of first answers in the pre phase."""
    library = {c.id: c for c in load_library()}
    rows = []
    for learner, answers in choices.items():
        for case_id, option_id in answers.items():
            case = library[case_id]
            rows.append({"learner": learner, "cohort": "c", "case_id": case_id, "case_version": case.case_version,
                         "phase": "pre", "attempt": 1, "option_id": option_id,
                         "stance": case.option(option_id).stance, "confidence": 50, "justification": "x" * 20,
                         "submitted_at": "2025-01-01T00:00:00Z", "consent": True})
    return tidy(pd.DataFrame(rows))


def right(case):
    return case.preferred[0]


def wrong(case, k=0):
    others = [o.id for o in case.options if o.id not in case.preferred + case.acceptable]
    return others[k % len(others)]


def test_difficulty_is_the_share_matching_and_the_point_biserial_leaves_the_item_out():
    a, b, c = cases(3)
    # Learner i gets case b and c right according to a fixed pattern; case a is right for the
    # learners whose rest score is high. Hand-computed expectation from the rest scores.
    pattern = {"l1": (1, 1, 1), "l2": (1, 1, 0), "l3": (0, 1, 1), "l4": (0, 0, 0), "l5": (1, 0, 1), "l6": (0, 0, 1)}
    df = frame({learner: {a.id: right(a) if x else wrong(a), b.id: right(b) if y else wrong(b),
                          c.id: right(c) if z else wrong(c)} for learner, (x, y, z) in pattern.items()})
    items = item_analysis(df)
    assert items.loc[a.id, "difficulty"] == pytest.approx(3 / 6)
    assert items.loc[c.id, "n"] == 6
    x = [p[0] for p in pattern.values()]
    rest = [(p[1] + p[2]) / 2 for p in pattern.values()]   # the item itself is left out
    total = [sum(p) / 3 for p in pattern.values()]          # uncorrected: the item is inside
    assert items.loc[a.id, "point_biserial"] == pytest.approx(pearsonr(x, rest).statistic)
    assert items.loc[a.id, "point_biserial"] != pytest.approx(pearsonr(x, total).statistic)


def test_score_groups_take_the_top_and_bottom_27_percent():
    scores = pd.DataFrame({"case": [i / 100 for i in range(100)]}, index=pd.Index([f"l{i:03d}" for i in range(100)], name="learner"))
    groups = score_groups(scores)
    assert (groups == "high").sum() == math.ceil(0.27 * 100) == (groups == "low").sum()
    assert groups["l099"] == "high" and groups["l000"] == "low" and groups["l050"] == "middle"
    with pytest.raises(DualroleError, match="at least"):
        score_groups(scores.head(1))


def test_high_scorers_choosing_another_option_flags_a_contested_key():
    a, b, c = cases(3)
    learners = {}
    for i in range(20):
        strong = i >= 10
        learners[f"l{i:02d}"] = {
            b.id: right(b) if strong else wrong(b), c.id: right(c) if strong else wrong(c),
            # the strong learners all pick the same non-reference option on case a
            a.id: wrong(a) if strong else right(a),
        }
    df = frame(learners)
    items = item_analysis(df)
    assert bool(items.loc[a.id, "contested_key"]) and items.loc[a.id, "top_group_choice"] == wrong(a)
    assert not items.loc[b.id, "contested_key"]
    table = distractors(df).set_index(["case_id", "option_id"])
    assert table.loc[(a.id, wrong(a)), "high_share"] == 1.0
    assert table.loc[(a.id, right(a)), "low_share"] == 1.0
    assert items.loc[a.id, "discrimination"] == pytest.approx(-1.0)
    assert items.loc[b.id, "discrimination"] == pytest.approx(1.0)


def test_more_than_one_phase_needs_a_choice():
    from widgets.analysis import sample

    with pytest.raises(DualroleError, match="choose one with phase"):
        item_analysis(sample())

"""Revotes: switching after the reveal, toward or away from the reference."""

from __future__ import annotations

import pandas as pd

from widgets.analysis import revote_summary, revotes, tidy
from widgets.cases.library import load_case


def test_directions_and_rates():
    case = load_case("cosmetics")
    right = case.preferred[0]
    wrong = [o.id for o in case.options if o.id not in case.preferred]
    plan = {"a": [wrong[0], right], "b": [right, wrong[0]], "c": [wrong[0], wrong[1]], "d": [right, right],
            "e": [wrong[0]], "f": [right]}
    rows = []
    for learner, options in plan.items():
        for attempt, option in enumerate(options, start=1):
            rows.append({"learner": learner, "cohort": "c", "case_id": case.id, "case_version": case.case_version,
                         "phase": "practice", "attempt": attempt, "option_id": option,
                         "stance": case.option(option).stance, "confidence": 50, "justification": "x" * 20,
                         "submitted_at": f"2025-01-01T00:0{attempt}:00Z", "consent": True})
    df = tidy(pd.DataFrame(rows))
    directions = revotes(df).set_index("learner")["direction"].astype(str).to_dict()
    assert directions == {"a": "toward", "b": "away", "c": "lateral", "d": "stayed"}
    summary = revote_summary(df).loc["practice"]
    assert (summary["n"], summary["revoted"], summary["switched"]) == (6, 4, 3)
    assert summary["revote_rate"] == 4 / 6 and summary["switch_rate"] == 3 / 4


def test_revotes_after_the_class_are_kept_apart_from_revotes_after_the_key():
    import pandas as pd

    from widgets.analysis import revote_timing, tidy

    rows = []
    for learner, seen in (("a", False), ("b", True), ("c", None)):
        base = {"learner": learner, "cohort": "c", "case_id": "cosmetics", "case_version": "x", "phase": "practice",
                "stance": "decline", "confidence": 50, "justification": "Reasons given in full here.",
                "submitted_at": "2025-03-01T10:00:00+00:00", "consent": True}
        rows.append(base | {"attempt": 1, "option_id": "buy_regularly", "stance": "accept", "reference_seen": False})
        rows.append(base | {"attempt": 2, "option_id": "decline_explore", "stance": "decline_and_explore",
                            "reference_seen": seen, "distribution_seen": True})
    table = revote_timing(tidy(pd.DataFrame(rows)))
    assert table.loc["the class", "toward"] == 1 and table.loc["the reference", "toward"] == 1
    assert table.loc["not recorded", "revoted"] == 1 and int(table["revoted"].sum()) == 3


def test_a_revote_after_the_class_counts_is_told_apart_from_one_with_nothing_shown():
    from widgets.analysis import revote_timing, revotes, tidy

    rows = []
    plan = {"a": (False, True), "b": (False, False), "c": (False, False), "d": (True, True), "e": (False, None)}
    for learner, (reference, counts) in plan.items():
        base = {"learner": learner, "cohort": "c", "case_id": "cosmetics", "case_version": "x", "phase": "practice",
                "confidence": 50, "justification": "Reasons given in full here.",
                "submitted_at": "2025-03-01T10:00:00+00:00", "consent": True}
        rows.append(base | {"attempt": 1, "option_id": "buy_regularly", "stance": "accept", "reference_seen": False,
                            "distribution_seen": False})
        rows.append(base | {"attempt": 2, "option_id": "decline_explore", "stance": "decline_and_explore",
                            "reference_seen": reference, "distribution_seen": counts})
    df = tidy(pd.DataFrame(rows))
    after = revotes(df).set_index("learner")["after"].astype(str).to_dict()
    # e's revote predates the distribution flag: not "the class", whatever its reference flag says.
    assert after == {"a": "the class", "b": "nothing shown", "c": "nothing shown", "d": "the reference",
                     "e": "not recorded"}
    table = revote_timing(df)
    # Structural zeros stay in the table: no revote stayed, none went away or sideways.
    assert list(table.index) == ["the class", "nothing shown", "the reference", "not recorded"]
    assert table.loc["nothing shown", "toward"] == 2 and table.loc["the class", "toward"] == 1
    assert table[["stayed", "away", "lateral"]].eq(0).all().all()
    assert table["revoted"].tolist() == [1, 2, 1, 1]

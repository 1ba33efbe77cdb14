"""Calibration: Brier score, quantile bins, over/under-confidence per cohort."""

from __future__ import annotations

import pandas as pd
import pytest

from widgets.analysis import brier, calibration_table, expected_calibration_error, overconfidence


def test_brier_score_documentation_example():
    # scikit-learn's brier_score_loss documentation example (after Brier 1950's definition):
    # outcomes 0, 1, 1, 0 forecast at .1, .9, .8, .3 -> mean squared error 0.0375.
    df = pd.DataFrame({"matches_reference": [False, True, True, False], "confidence": [10, 90, 80, 30]})
    assert brier(df) == pytest.approx(0.0375)


def test_quantile_bins_count_every_answer_even_when_ties_merge_bins():
    # Pitfall: calibration_curve drops empty bins, so with heavy ties at one confidence there are
    # fewer rows than n_bins; the counts must still add up to every answer.
    df = pd.DataFrame({"matches_reference": [True] * 30 + [False] * 10 + [True, False] * 5,
                       "confidence": [90] * 40 + [10, 20, 30, 40, 50, 60, 70, 80, 85, 95]})
    table = calibration_table(df, n_bins=5)
    assert len(table) < 5
    assert table["n"].sum() == len(df)
    assert (table["low"] <= table["mean_confidence"]).all() and (table["mean_confidence"] <= table["high"]).all()


def test_overconfidence_is_confidence_minus_accuracy_per_cohort():
    df = pd.DataFrame({
        "cohort": ["a"] * 4 + ["b"] * 4, "learner": list("wxyzwxyz"),
        "matches_reference": [True, False, False, False, True, True, True, True],
        "confidence": [80, 80, 80, 80, 60, 60, 60, 60],
    })
    table = overconfidence(df)
    assert table.loc["a", "overconfidence"] == pytest.approx(0.80 - 0.25)
    assert table.loc["b", "overconfidence"] == pytest.approx(0.60 - 1.00)
    assert table.loc["a", "n"] == 4


def test_expected_calibration_error_weights_bins_by_answers():
    table = pd.DataFrame({"n": [30, 10], "gap": [0.1, -0.5]})
    assert expected_calibration_error(table) == pytest.approx((30 * 0.1 + 10 * 0.5) / 40)

"""Rubric score tables and the agreement between two instructors (weighted Cohen's kappa)."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from widgets.analysis.grades import score_table, scorer_agreement
from widgets.grading.files import default_rubric

WHEN = datetime(2025, 3, 1, tzinfo=timezone.utc)


def sheet(response, scorer, **levels):
    return {"response_id": response, "learner": f"synthetic-{response}", "case_id": "cosmetics",
            "scorer": scorer, "rubric_id": "ethical_reasoning", "levels": levels, "comment": "", "scored_at": WHEN}


def test_a_score_table_totals_complete_sheets_only():
    rubric = default_rubric()
    full = {c.id: 2 for c in rubric.criteria}
    table = score_table([sheet("r1", "lee", **full), sheet("r2", "lee", roles=1)], rubric)
    assert table["complete"].tolist() == [True, False]
    assert table.loc[0, "share"] == 1.0 and np.isnan(table.loc[1, "share"])


def test_agreement_is_scikit_learns_weighted_kappa_per_criterion():
    rubric = default_rubric()
    lee = [2, 1, 0, 2, 1, 0, 2]
    kim = [2, 1, 1, 2, 0, 0, 1]
    sheets = [sheet(f"r{i}", "lee", roles=a, risks=a) for i, a in enumerate(lee)]
    sheets += [sheet(f"r{i}", "kim", roles=b, risks=2) for i, b in enumerate(kim)]
    sheets.append(sheet("only-lee", "lee", roles=2))  # scored by one instructor: not compared

    result = scorer_agreement(score_table(sheets, rubric), rubric, "lee", "kim").set_index("criterion")

    expected = cohen_kappa_score(lee, kim, weights="quadratic", labels=[0, 1, 2])
    assert result.loc["roles", "kappa"] == pytest.approx(expected)
    assert result.loc["roles", "n"] == 7 and result.loc["roles", "exact"] == pytest.approx(4 / 7)
    linear = scorer_agreement(score_table(sheets, rubric), rubric, "lee", "kim", weights="linear")
    assert linear.set_index("criterion").loc["roles", "kappa"] == pytest.approx(
        cohen_kappa_score(lee, kim, weights="linear", labels=[0, 1, 2]))
    assert result.loc["action", "n"] == 0 and np.isnan(result.loc["action", "kappa"])  # nobody scored it

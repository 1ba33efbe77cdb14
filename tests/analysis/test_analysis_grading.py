"""Rubric score tables and the agreement between two instructors (weighted Cohen's kappa)."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from widgets.analysis.grades import grader_alpha, score_table, scorer_agreement
from widgets.grading.files import default_rubric

WHEN = datetime(2025, 3, 1, tzinfo=timezone.utc)


def sheet(response, scorer, **levels):
    return {"response_id": response, "learner": f"synthetic-{response}", "case_id": "cosmetics",
            "scorer": scorer, "rubric_id": "ethical_reasoning", "rubric_version": default_rubric().version,
            "levels": levels, "comment": "", "scored_at": WHEN}


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


def test_a_sheet_under_another_rubric_version_is_never_rescaled_to_this_one(tmp_path):
    from widgets.grading.files import load_rubric
    from widgets.paths import data_dir

    old = default_rubric()
    grown = tmp_path / "rubric.yaml"  # a fourth level added to one criterion, the version bumped
    grown.write_text((data_dir() / "rubrics" / "ethical_reasoning.yaml").read_text()
                     .replace("version: 1", "version: 2")
                     .replace("      - Weighs another option and says why it was not chosen.",
                              "      - Weighs another option and says why it was not chosen.\n"
                              "      - Weighs two options against each other."))
    new = load_rubric(grown)
    full = {c.id: 2 for c in old.criteria}
    sheets = [sheet("r1", "lee", **full)]
    assert score_table(sheets, old).loc[0, "share"] == 1.0
    table = score_table(sheets, new)  # the old 10 of 10 is not 10 of 11
    assert table.empty and table.attrs["other_versions"] == 1


def test_krippendorffs_alpha_across_three_graders_counts_answers_two_or_more_scored():
    import krippendorff

    rubric = default_rubric()
    lee, kim, ray = [2, 1, 0, 2, 1], [2, 1, 1, 2, 0], [2, 0, 1, 2, None]
    sheets = [sheet(f"r{i}", name, roles=level) for name, levels in (("lee", lee), ("kim", kim), ("ray", ray))
              for i, level in enumerate(levels) if level is not None]
    sheets.append(sheet("only-lee", "lee", roles=0))  # one grader: not a pair
    result = grader_alpha(score_table(sheets, rubric), rubric).set_index("criterion")
    data = np.array([lee, kim, [2, 0, 1, 2, np.nan]], dtype=float)
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement="ordinal", value_domain=[0, 1, 2])
    assert result.loc["roles", "alpha"] == pytest.approx(expected)
    assert result.loc["roles", "n"] == 5 and result.loc["roles", "graders"] == 3
    assert np.isnan(result.loc["action", "alpha"])

"""Contested and context-dependent cases are flagged in every analysis, and change and calibration are
also reported without them (a case without a single key makes "matching the reference" mean less)."""

from __future__ import annotations

import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from widgets import analysis
from widgets.cases.library import load_library


@pytest.fixture(scope="module")
def df():
    return analysis.sample()


@pytest.fixture(scope="module")
def unsettled():
    """Unsettled cases, and the matched pairs of the assessment forms that hold them."""
    from widgets.cases.forms import assessment_forms

    cases = {c.id for c in load_library() if c.contested or c.context_dependent}
    forms = assessment_forms()
    pairs = {forms.pair_label(i + 1) for i, case_id in enumerate(forms.forms["A"]) if case_id in cases}
    return cases | pairs


def test_the_flags_come_from_the_case_files():
    flags = analysis.case_flags()
    for case in load_library():
        assert flags.loc[case.id].tolist() == [case.contested, case.context_dependent]
    assert flags["contested"].any() and flags["context_dependent"].any()  # the library has both kinds


def test_summaries_carry_the_flags(df):
    flags = analysis.case_flags()
    summary = analysis.case_summary(df)
    items = analysis.item_analysis(df, phase="post")
    change = analysis.prepost(df)
    for table in (summary, items, change):
        ids = table.index.get_level_values("case_id").astype(str)
        for flag in ("contested", "context_dependent"):
            assert table[flag].tolist() == flags.loc[ids, flag].tolist()


def test_prepost_without_contested_cases_keeps_the_settled_ones_unchanged(df, unsettled):
    full = analysis.prepost(df)
    settled = analysis.prepost(df, exclude_contested=True)
    assert not set(settled.index.astype(str)) & unsettled
    assert set(full.index.astype(str)) & unsettled  # there was something to leave out
    # Holm's adjustment is over the cases in the table, so leaving cases out changes it, and only it.
    pd.testing.assert_frame_equal(settled.drop(columns="pvalue_holm"), full.loc[settled.index].drop(columns="pvalue_holm"))
    assert settled["pvalue_holm"].tolist() == pytest.approx(multipletests(settled["pvalue"], method="holm")[1].tolist())


def test_pooled_change_is_reported_with_and_without_contested_cases(df, unsettled):
    table = analysis.prepost_by_cases(df)
    assert table["cases"].tolist() == ["All cases", "Without contested or context-dependent cases"]
    every, settled = analysis.paired(df), analysis.paired(analysis.without_contested(df))
    assert table["n"].tolist() == [len(every), len(settled)]
    assert table.loc[1, "n_cases"] == every["case_id"].nunique() - len(set(every["case_id"].astype(str)) & unsettled)
    assert table.loc[0, "pre_share"] == pytest.approx(every["pre_match"].mean())
    assert table.loc[1, "post_share"] == pytest.approx(settled["post_match"].mean())


def test_calibration_without_contested_cases(df, unsettled):
    first = analysis.answers(df)
    kept = first[~first["case_id"].astype(str).isin(unsettled)]
    table = analysis.overconfidence(first, exclude_contested=True)
    assert table["n_answers"].sum() == len(kept) < len(first)
    assert table.loc["synthetic-cohort-1", "share_matching"] == pytest.approx(
        kept.loc[kept["cohort"] == "synthetic-cohort-1", "matches_reference"].astype(float).mean())
    bins = analysis.calibration_table(first, exclude_contested=True)
    assert bins["n"].sum() == len(kept)


def test_with_every_case_contested_calibration_is_empty_not_an_error(df, unsettled):
    first = analysis.answers(df)
    only = first[first["case_id"].astype(str).isin(unsettled)]
    assert analysis.overconfidence(only, exclude_contested=True).empty


def test_pooled_change_of_a_class_whose_cases_are_all_contested_has_an_empty_second_row(df):
    contested = {c.id for c in load_library() if c.contested}
    only = df[df["case_id"].astype(str).isin(contested)]
    table = analysis.prepost_by_cases(only)
    assert table.loc[1, "n"] == 0 and table.loc[0, "n"] > 0

"""The tidy response frame: columns, types, scores, consent, inputs; and the package boundary."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys

import pandas as pd
import pytest

from widgets import analysis
from widgets.analysis import FRAME_COLUMNS, responses
from widgets.cases.library import load_case
from widgets.errors import DualroleError
from widgets.vocab import PHASES, RISK_LEVELS, STANCES


@pytest.fixture
def answer(fresh_store, make_response):
    """Add one answer of class-a to the store (the shared factory, with this file's cohort and rating)."""

    def add(learner, option_id, *, case_id="cosmetics", phase="pre", **fields):
        fresh_store.add(make_response(learner, option_id, case_id=case_id, cohort="class-a", phase=phase,
                                      kitchener_power="high", **fields))

    return add


def test_columns_types_and_scores_from_a_store(fresh_store, answer):
    case = load_case("cosmetics")
    acceptable = case.acceptable[0]
    other = next(o.id for o in case.options if o.id not in case.preferred + case.acceptable)
    answer("ana", case.preferred[0])
    answer("ben", acceptable)
    answer("cai", other)
    df = responses(fresh_store)
    assert list(df.columns) == FRAME_COLUMNS
    assert list(df["stance"].cat.categories) == list(STANCES) and df["stance"].cat.ordered
    assert list(df["phase"].cat.categories) == list(PHASES)
    assert list(df["kitchener_power"].cat.categories) == list(RISK_LEVELS)
    assert str(df["submitted_at"].dt.tz) == "UTC"
    by_learner = df.set_index("learner")
    assert by_learner.loc["ana", "score"] == 1.0 and bool(by_learner.loc["ana", "matches_reference"])
    assert by_learner.loc["ben", "score"] == 0.5 and not bool(by_learner.loc["ben", "matches_reference"])
    assert by_learner.loc["cai", "score"] == 0.0
    assert pd.isna(by_learner.loc["ana", "kitchener_expectations"])


def test_the_latest_consent_record_wins_over_the_row_flag(fresh_store, answer):
    preferred = load_case("cosmetics").preferred[0]
    answer("ana", preferred, consent=True)
    answer("ben", preferred, consent=False)
    answer("cai", preferred, consent=True)
    fresh_store.set_consent("ana", True)
    fresh_store.set_consent("ana", False)  # withdrew after answering
    fresh_store.set_consent("ben", True)   # opted in later
    consent = responses(fresh_store).set_index("learner")["consent"]
    assert consent.to_dict() == {"ana": False, "ben": True, "cai": True}


def test_a_url_a_csv_and_a_frame_give_the_same_frame(fresh_store, answer, tmp_path):
    preferred = load_case("cosmetics").preferred[0]
    answer("ana", preferred)
    from_store = responses(fresh_store.url)
    rows = pd.DataFrame(fresh_store.responses())
    rows.to_csv(tmp_path / "rows.csv", index=False)
    pd.testing.assert_frame_equal(responses(tmp_path / "rows.csv"), from_store)
    pd.testing.assert_frame_equal(responses(rows), from_store)


def test_a_case_no_longer_in_the_library_scores_nan():
    rows = analysis.sample().head(3).astype({"case_id": str, "stance": str, "phase": str})
    rows.loc[0, "case_id"] = "retired_case"
    df = analysis.tidy(rows)
    retired = df[df["case_id"] == "retired_case"]
    assert retired["score"].isna().all() and retired["matches_reference"].isna().all()


def test_unknown_stance_and_missing_columns_are_named():
    rows = analysis.sample().head(3).astype({"stance": str, "phase": str, "case_id": str})
    rows.loc[1, "stance"] = "maybe"
    with pytest.raises(DualroleError, match=r"row 1: stance: unknown value\(s\) 'maybe'"):
        analysis.tidy(rows)
    with pytest.raises(DualroleError, match="lack column.*option_id"):
        analysis.tidy(rows.drop(columns="option_id"))
    with pytest.raises(DualroleError, match="no such file"):
        responses("nowhere.csv")


def test_answers_picks_first_or_final_attempt():
    df = analysis.sample()
    second = df[df["attempt"] == 2].iloc[0]
    keys = (df["learner"] == second["learner"]) & (df["case_id"] == second["case_id"]) & (df["phase"] == second["phase"])
    assert analysis.answers(df[keys])["attempt"].tolist() == [1]
    assert analysis.answers(df[keys], attempt="final")["attempt"].tolist() == [2]


def test_pseudonymised_frame_has_no_learner_ids():
    df = analysis.sample()
    hidden = analysis.responses(analysis.sample_path(), pseudonymise=True)
    assert not set(df["learner"]) & set(hidden["learner"])
    assert hidden["learner"].nunique() == df["learner"].nunique()


def test_importing_analysis_does_not_import_ipywidgets():
    code = ("import sys, widgets.analysis, widgets.privacy, widgets.reporting.report, widgets.reporting.research_export, "
            "widgets.reporting.simulate; print('ipywidgets' in sys.modules, 'matplotlib.pyplot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.parametrize("module", [
    "widgets.analysis.frame", "widgets.analysis.summary", "widgets.analysis.agreement",
    "widgets.analysis.items", "widgets.analysis.prepost", "widgets.analysis.calibration",
    "widgets.analysis.revote", "widgets.analysis.bootstrap", "widgets.privacy", "widgets.reporting.simulate",
])
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0

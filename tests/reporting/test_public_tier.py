"""The public tier: a classmate in a class of 15 re-identifies nobody, by the attacks the research review used.

The review re-identified learners in a row-level export of a class of 15: the drop-out (a code
with no post-test), the late post-test taker (a blanked date), a B-first learner (form order from
the user name), response styles (100 % or 50 % confidence everywhere), and most of the rest from
one or two known answers. The public tier must defeat each of them.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from widgets import analysis
from widgets.cli import cli
from widgets.privacy import recoverable
from widgets.reporting.research_export import PUBLIC_FILES, public_export
from widgets.reporting.simulate import simulate


@pytest.fixture(scope="module")
def class_of_15():
    rows = simulate(learners=15, cohorts=1, seed=12, consent_rate=1.0, design="course")
    learners = sorted(rows["learner"].unique())
    dropout, late, sure, unmoved = learners[:4]
    rows = rows[~((rows["learner"] == dropout) & (rows["phase"] == "post"))].copy()
    rows.loc[(rows["learner"] == late) & (rows["phase"] == "post"), "submitted_at"] += pd.Timedelta(days=7)
    rows.loc[rows["learner"] == sure, "confidence"] = 100
    rows.loc[rows["learner"] == unmoved, "confidence"] = 50
    return rows


def _export(rows, folder):
    return public_export(analysis.tidy(rows), folder, min_cell=10)


def test_the_public_tier_holds_nothing_per_learner_and_no_time(class_of_15, tmp_path):
    result = _export(class_of_15, tmp_path / "public")
    assert sorted(p.name for p in result.out_dir.iterdir()) == sorted(PUBLIC_FILES)
    identifiers = set(class_of_15["learner"]) | set(class_of_15["response_id"]) | set(class_of_15["cohort"])
    for path in result.out_dir.iterdir():
        text = path.read_text(encoding="utf-8")
        assert not [i for i in identifiers if i in text], path.name
        assert not re.search(r"\bR[0-9A-F]{8}\b", text), path.name  # no research code
        if path.suffix == ".csv":
            assert not re.search(r"\d{4}-\d{2}-\d{2}", text), path.name  # no date, so no late-taker marker
            columns = set(pd.read_csv(path, nrows=0).columns)
            assert not columns & {"learner", "research_code", "cohort", "confidence", "form", "submitted_week"}


def test_every_shown_count_stands_for_ten_learners_and_no_hidden_one_can_be_solved(class_of_15, tmp_path):
    result = _export(class_of_15, tmp_path / "public")
    shown = pd.read_csv(result.out_dir / "stance_counts.csv").set_index("case | phase")
    first = analysis.answers(analysis.tidy(class_of_15))
    true = (first.groupby(["case_id", "phase", "stance"], observed=True).size()
            .unstack("stance", fill_value=0).reindex(columns=list(first["stance"].cat.categories), fill_value=0))
    true.index = [f"{case} | {phase}" for case, phase in true.index]
    assert list(shown.index[:-1]) == list(true.index)  # one row per case and phase, plus the totals
    values = shown.to_numpy(dtype=float)
    assert (values[~np.isnan(values)] >= 10).all()
    full = np.zeros((len(true) + 1, true.shape[1] + 1))
    full[:-1, :-1] = true.to_numpy()
    full[:-1, -1], full[-1, :-1], full[-1, -1] = full[:-1, :-1].sum(1), full[:-1, :-1].sum(0), true.to_numpy().sum()
    assert not recoverable(full, np.isnan(values))


def test_a_known_answer_links_to_nothing_else(class_of_15, tmp_path):
    """Swap two learners' answers to one case: the public files cannot tell, so knowing a classmate's
    answer to that case says nothing about their other answers."""
    rows = class_of_15
    case = rows.loc[rows["phase"] == "practice", "case_id"].iloc[0]
    one = rows[(rows["case_id"] == case) & (rows["phase"] == "practice") & (rows["attempt"] == 1)]
    a, b = one.index[0], one.index[1]
    swapped = rows.copy()
    swapped.loc[[a, b], ["option_id", "stance"]] = rows.loc[[b, a], ["option_id", "stance"]].to_numpy()
    first, second = _export(rows, tmp_path / "one"), _export(swapped, tmp_path / "two")
    assert ((first.out_dir / "stance_counts.csv").read_bytes()
            == (second.out_dir / "stance_counts.csv").read_bytes())


def test_the_drop_out_and_the_late_taker_leave_no_trace_of_who_they_are(class_of_15, tmp_path):
    """The drop-out changes only counts of at least ten (or hidden ones); the late taker changes nothing."""
    rows = class_of_15
    on_time = rows.copy()
    late = sorted(rows["learner"].unique())[1]
    on_time.loc[(on_time["learner"] == late) & (on_time["phase"] == "post"), "submitted_at"] -= pd.Timedelta(days=7)
    first, second = _export(rows, tmp_path / "late"), _export(on_time, tmp_path / "on-time")
    for name in ("stance_counts.csv", "prepost_model.csv"):
        if (first.out_dir / name).exists():
            assert (first.out_dir / name).read_bytes() == (second.out_dir / name).read_bytes()


def test_cli_public_tier_refuses_text_and_codes(tmp_path):
    result = CliRunner().invoke(cli, ["research-export", "--sample", "--tier", "public", "--out",
                                      str(tmp_path / "p"), "--include-justifications"])
    assert result.exit_code == 1 and "the public tier holds no text and no research codes" in result.output
    ok = CliRunner().invoke(cli, ["research-export", "--sample", "--tier", "public", "--out", str(tmp_path / "q")])
    assert ok.exit_code == 0, ok.output
    assert "public aggregates" in ok.output and (tmp_path / "q" / "stance_counts.csv").exists()

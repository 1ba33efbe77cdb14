"""The synthetic cohort simulator, and the committed sample it made."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from widgets import analysis
from widgets.cases.forms import assessment_forms
from widgets.cases.library import load_case, load_library
from widgets.cli import cli
from widgets.errors import DualroleError
from widgets.reporting.simulate import SAMPLE_COMMAND, SAMPLE_SETTINGS, into_store, simulate, write
from widgets.responses.contract import Response
from widgets.store.schema import COLUMNS
from widgets.vocab import STANCES


@pytest.fixture(scope="module")
def cohort():
    rows = simulate(learners=160, cohorts=4, seed=3)
    return analysis.tidy(rows)


def test_same_seed_same_rows_other_seed_other_rows():
    first = simulate(learners=10, cohorts=2, seed=1)
    assert first.equals(simulate(learners=10, cohorts=2, seed=1))
    assert not first.equals(simulate(learners=10, cohorts=2, seed=2))
    assert list(first.columns) == COLUMNS


def test_everything_is_labelled_synthetic():
    rows = simulate(learners=6, cohorts=3, seed=4)
    assert rows["cohort"].str.startswith("synthetic-").all()
    assert rows["learner"].str.startswith("synthetic-learner-").all()
    assert (rows["client"] == "simulator").all()
    assert rows["justification"].str.startswith("[synthetic]").all()
    assert analysis.is_synthetic(analysis.tidy(rows))


def test_answers_improve_from_pre_to_post(cohort):
    first = analysis.answers(cohort)
    share = first.groupby("phase", observed=True)["matches_reference"].mean()
    assert share["post"] > share["pre"] + 0.1


def test_novices_lean_permissive_on_gifts_and_social_contact(cohort):
    library = {c.id: c for c in load_library()}
    first = analysis.answers(cohort)
    first = first.assign(module=first["case_id"].astype(str).map(lambda c: library[c].module),
                         permissive=first["stance"].astype(str).isin(STANCES[-2:]))
    lean = first[first["module"].isin(["gifts", "social"])].groupby("phase", observed=True)["permissive"].mean()
    assert lean["pre"] > lean["post"] + 0.05


def test_confidence_is_only_loosely_tied_to_accuracy(cohort):
    first = analysis.answers(cohort)
    r = np.corrcoef(first["confidence"], first["matches_reference"].astype(float))[0, 1]
    assert 0.02 < r < 0.5


def test_some_learners_revote_mostly_toward_the_reference(cohort):
    changes = analysis.revotes(cohort)
    assert 0.05 < len(changes) / len(analysis.answers(cohort, phase="post")) < 0.5
    counts = changes["direction"].value_counts()
    assert counts["toward"] > counts["away"]


def test_works_with_whatever_cases_exist():
    few = [load_case("cosmetics")]
    rows = simulate(learners=5, cohorts=1, seed=0, library=few)
    assert set(rows["case_id"]) == {"cosmetics"}
    with pytest.raises(DualroleError, match="empty"):
        simulate(learners=5, cohorts=1, library=[])


def test_the_committed_sample_matches_the_case_library_and_its_command(tmp_path):
    sample = pd.read_csv(analysis.sample_path(), dtype=str)
    library = load_library()
    hint = f"the case library changed: regenerate the sample with `{SAMPLE_COMMAND}`"
    # Every lesson case, and the assessment bank (each learner's own form in each phase).
    answered = [c for c in library if c.use == "lesson" or c.id in assessment_forms().case_ids]
    assert set(sample["case_id"]) == {c.id for c in answered}, hint
    versions = sample.groupby("case_id")["case_version"].first().to_dict()
    assert versions == {c.id: c.case_version for c in answered}, hint
    fresh = write(simulate(**SAMPLE_SETTINGS), tmp_path / "responses.synthetic.csv")
    assert fresh.read_bytes() == analysis.sample_path().read_bytes(), hint
    # Small enough to read in a notebook and to keep in the repository (about 4 MB at 6,400 rows, with 72 cases).
    assert len(sample) < 8000


def test_a_store_with_real_answers_is_refused(fresh_store):
    case = load_case("cosmetics")
    fresh_store.add(Response(learner="ana", cohort="class-a", case_id=case.id, case_version=case.case_version,
                             option_id=case.preferred[0], stance=case.option(case.preferred[0]).stance,
                             confidence=50, justification="a real answer from a real class"))
    with pytest.raises(DualroleError, match="real response"):
        into_store(simulate(learners=3, cohorts=1, seed=0, library=[case]), fresh_store)


def test_cli_simulate_into_a_store_and_a_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    result = CliRunner().invoke(cli, ["simulate", "--learners", "4", "--cohorts", "2", "--seed", "1", "--store", url])
    assert result.exit_code == 0, result.output
    df = analysis.responses(url)
    assert df["learner"].nunique() == 4 and analysis.is_synthetic(df)
    result = CliRunner().invoke(cli, ["simulate", "--learners", "4", "--seed", "1", "--out", str(tmp_path / "s.parquet")])
    assert result.exit_code == 0 and (tmp_path / "s.parquet").exists()
    result = CliRunner().invoke(cli, ["simulate", "--learners", "4"])
    assert result.exit_code == 1 and "Error: give exactly one of --out FILE or --store URL" in result.output


def test_simulated_learners_take_one_form_first_and_the_other_after_blocked_within_the_cohort():
    rows = simulate(learners=30, cohorts=2, seed=5)
    forms = assessment_forms()
    bank = rows[rows["case_id"].isin(forms.case_ids)].assign(form=lambda d: d["case_id"].map(forms.form_of))
    assert not bank.empty
    per_learner = bank.groupby(["learner", "phase"])["form"].agg(set)
    assert all(len(f) == 1 for f in per_learner)  # one form per phase
    pre, post = per_learner.xs("pre", level="phase"), per_learner.xs("post", level="phase")
    assert all(pre[learner] != post[learner] for learner in pre.index.intersection(post.index))
    first = pre.map(lambda f: next(iter(f))).rename("first").reset_index().merge(
        rows.groupby("learner")["cohort"].first().reset_index())
    for _, counts in first.groupby("cohort")["first"].value_counts().groupby(level=0):
        assert sorted(counts) in ([7, 8], [8, 7])  # each cohort of 15 splits 8:7


def test_a_course_shaped_simulation_answers_lessons_in_practice_and_forms_pre_and_post():
    rows = simulate(learners=60, cohorts=2, seed=4, design="course")
    forms = assessment_forms()
    lesson = rows[~rows["case_id"].isin(forms.case_ids)]
    bank = rows[rows["case_id"].isin(forms.case_ids)]
    assert set(lesson["phase"]) == {"practice"} and set(bank["phase"]) == {"pre", "post"}
    assert (lesson["attempt"] == 2).any()  # revotes happen in the lessons
    assert bank[bank["phase"] == "post"]["learner"].nunique() < bank[bank["phase"] == "pre"]["learner"].nunique()
    with pytest.raises(DualroleError, match="design must be"):
        simulate(learners=2, cohorts=1, design="lab")

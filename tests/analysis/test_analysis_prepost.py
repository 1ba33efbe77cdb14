"""Pre/post statistics reproduce published worked examples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from widgets.analysis import homogeneity, paired, prepost, stance_shift, tidy
from widgets.cases.library import load_case


def pairs_frame(counts: dict[tuple[bool, bool], int], case_id: str = "cosmetics") -> pd.DataFrame:
    """Learners answering one case pre and post: counts of (matched before, matched after)."""
    case = load_case(case_id)
    right = case.option(case.preferred[0])
    wrong = next(o for o in case.options if o.id not in case.preferred and o.id not in case.acceptable)
    rows, k = [], 0
    for (before, after), n in counts.items():
        for _ in range(n):
            k += 1
            for phase, matched in (("pre", before), ("post", after)):
                option = right if matched else wrong
                rows.append({"learner": f"l{k}", "cohort": "c", "case_id": case_id,
                             "case_version": case.case_version, "phase": phase, "attempt": 1,
                             "option_id": option.id, "stance": option.stance, "confidence": 50,
                             "justification": "x" * 20, "submitted_at": "2025-01-01T00:00:00Z",
                             "consent": True})
    return tidy(pd.DataFrame(rows))


def test_exact_mcnemar_fagerland_2013_example():
    # Fagerland, Lydersen & Laake (2013), BMC Med Res Methodol 13:91, Table 1 (Bentur et al.
    # 2009): airway hyper-responsiveness before/after stem cell transplantation in 21 children:
    # yes/yes 1, yes/no 1, no/yes 7, no/no 12. Exact conditional McNemar p = 0.070.
    df = pairs_frame({(True, True): 1, (True, False): 1, (False, True): 7, (False, False): 12})
    row = prepost(df).loc["cosmetics"]
    assert (row["n"], row["improved"], row["worsened"]) == (21, 7, 1)
    assert row["pvalue"] == pytest.approx(0.0703, abs=5e-5)


def test_wilson_intervals_newcombe_1998_examples():
    # Newcombe (1998), Stat Med 17:857-872, Table II, method 3 (Wilson score, no continuity
    # correction): 81/263 -> 0.2553 to 0.3662; 15/148 -> 0.0624 to 0.1605.
    df = pairs_frame({(True, True): 15, (False, True): 66, (False, False): 182})
    row = prepost(df).loc["cosmetics"]
    assert row["pre_share"] == pytest.approx(15 / 263)
    assert (row["post_low"], row["post_high"]) == pytest.approx((0.2553, 0.3662), abs=5e-5)
    df = pairs_frame({(True, True): 15, (False, False): 133})
    row = prepost(df).loc["cosmetics"]
    assert (row["pre_low"], row["pre_high"]) == pytest.approx((0.0624, 0.1605), abs=5e-5)


def test_cohens_h_from_cohen_1988_table():
    # Cohen (1988), Statistical Power Analysis, Table 6.2.1: phi = 2 arcsin sqrt(p);
    # phi(.50) = 1.571 and phi(.25) = 1.047, so h = .524 for a rise from .25 to .50.
    df = pairs_frame({(True, True): 25, (False, True): 25, (False, False): 50})
    row = prepost(df).loc["cosmetics"]
    assert (row["pre_share"], row["post_share"]) == (0.25, 0.5)
    assert row["cohens_h"] == pytest.approx(0.524, abs=5e-4)


# Stuart, A. (1955). A test for homogeneity of the marginal distributions in a two-way
# classification. Biometrika 42, 412-416: unaided distance vision of 7477 women, right eye
# (rows) by left eye (columns), grades best to worst. Agresti (2002), Categorical Data
# Analysis, 2nd ed., section 10.3, reports the Stuart-Maxwell statistic 11.96 on df = 3
# (p = 0.008), and Bowker's symmetry statistic 19.11 on df = 6.
STUART_1955 = [[1520, 266, 124, 66], [234, 1512, 432, 78], [117, 362, 1772, 205], [36, 82, 179, 492]]


def test_stuart_maxwell_on_stuart_1955_vision_data():
    result = homogeneity(pd.DataFrame(STUART_1955))
    assert result["statistic"] == pytest.approx(11.96, abs=5e-3)
    assert result["df"] == 3
    assert result["pvalue"] == pytest.approx(0.0075, abs=5e-4)
    assert result["bowker"] == pytest.approx(19.11, abs=5e-3)


def test_stances_nobody_moved_between_do_not_break_stuart_maxwell():
    # An unused category and one whose members all stayed put make statsmodels' covariance
    # singular. They hold no change, so dropping them leaves the published result.
    table = np.zeros((6, 6), dtype=int)
    table[:4, :4] = STUART_1955
    table[5, 5] = 40  # everyone in the last category stayed there
    result = homogeneity(pd.DataFrame(table))
    assert result["statistic"] == pytest.approx(11.96, abs=5e-3)
    assert result["df"] == 3


def test_paired_keeps_only_learners_with_both_phases():
    df = pairs_frame({(True, False): 3, (False, True): 4})
    df = df[~((df["learner"] == "l1") & (df["phase"] == "post"))]
    pairs = paired(df)
    assert sorted(pairs["learner"]) == [f"l{k}" for k in range(2, 8)]
    assert {"pre_stance", "post_stance", "pre_match", "post_match"} <= set(pairs.columns)


def test_stance_shift_on_the_sample_uses_every_paired_answer():
    from widgets.analysis import sample

    df = sample()
    result = stance_shift(df)
    assert result["n"] == len(paired(df))
    assert 0 <= result["pvalue"] <= 1


def test_pre_post_pairs_the_matched_forms_and_counts_each_order():
    from widgets.analysis import prepost as prepost_table
    from widgets.analysis import sample
    from widgets.cases.forms import assessment_forms

    forms = assessment_forms()
    df = sample()
    table = prepost_table(df)
    pairs = [label for label in table.index if str(label).startswith("pair ")]
    assert pairs and pairs[0] == forms.pair_label(1)
    row = table.loc[forms.pair_label(1)]
    # Each learner took A's case before and B's after, or the reverse: both orders appear, and all are paired.
    assert 0 < row["a_first"] < row["n"]
    from widgets.analysis import paired

    both = paired(df)
    one = both[both["case_id"] == forms.pair_label(1)]
    assert set(zip(one["pre_form"], one["post_form"], strict=True)) == {("A", "B"), ("B", "A")}
    assert set(one["pre_case_id"]) == {forms.forms["A"][0], forms.forms["B"][0]}


def test_item_analysis_by_form_reads_only_that_forms_cases():
    from widgets.analysis import item_analysis, sample
    from widgets.cases.forms import assessment_forms

    items = item_analysis(sample(), phase="pre", form="B")
    assert set(items.index) == set(assessment_forms().forms["B"]) and set(items["form"]) == {"B"}


def _bank_frame(learners: int, post_gain: float, form_b: float, seed: int, learner_sd: float = 0.5) -> pd.DataFrame:
    """Synthetic answers to the forms with a known truth on the log-odds scale.

    Each learner takes one form first (counterbalanced in blocks of two) and the other after;
    P(match) = logistic(ability + pair difficulty + post_gain * post + form_b * form B).
    """
    from widgets.cases.forms import assessment_forms

    forms = assessment_forms()
    rng = np.random.default_rng(seed)
    ability = rng.normal(0, learner_sd, learners)
    pair_level = rng.normal(0, 0.5, len(forms.forms["A"]))
    rows = []
    firsts = [form for _ in range((learners + 1) // 2) for form in (("A", "B") if rng.random() < 0.5 else ("B", "A"))]
    for i in range(learners):
        first = firsts[i]
        for phase, form in (("pre", first), ("post", "B" if first == "A" else "A")):
            for pair, case_id in enumerate(forms.forms[form]):
                case = load_case(case_id)
                logit = ability[i] + pair_level[pair] + post_gain * (phase == "post") + form_b * (form == "B")
                right = rng.random() < 1 / (1 + np.exp(-logit))
                option = case.option(case.preferred[0]) if right else next(
                    o for o in case.options if o.id not in case.preferred and o.id not in case.acceptable)
                rows.append({"learner": f"synthetic-{i:04d}", "cohort": "synthetic-c", "case_id": case_id,
                             "case_version": case.case_version, "phase": phase, "attempt": 1,
                             "option_id": option.id, "stance": option.stance, "confidence": 50,
                             "justification": "", "submitted_at": "2026-09-08T00:00:00Z", "consent": True})
    return tidy(pd.DataFrame(rows))


def test_the_model_recovers_a_known_form_difficulty_and_gain():
    from widgets.analysis import form_effect

    df = _bank_frame(learners=600, post_gain=0.8, form_b=-0.7, seed=21, learner_sd=0.3)
    table = form_effect(df).set_index(["model", "term"])
    form = table.loc[("adjusted", "form B vs A")]
    gain = table.loc[("adjusted", "post vs pre")]
    # GEE estimates the population-averaged effect, a little smaller than the per-learner one.
    assert form["low"] < -0.7 * 0.95 < form["high"] and form["high"] < 0
    assert gain["low"] < 0.8 * 0.95 < gain["high"] and gain["low"] > 0
    assert form["learners"] == 600 and form["answers"] == 600 * 16


def test_the_simulator_can_make_form_b_harder_and_the_model_sees_it():
    from widgets.analysis import form_effect
    from widgets.reporting.simulate import simulate

    harder = form_effect(tidy(simulate(learners=240, cohorts=4, seed=8, form_b_harder=1.5)))
    parallel = form_effect(tidy(simulate(learners=240, cohorts=4, seed=8)))
    b_harder = harder.set_index(["model", "term"]).loc[("adjusted", "form B vs A")]
    b_parallel = parallel.set_index(["model", "term"]).loc[("adjusted", "form B vs A")]
    assert b_harder["high"] < 0 and b_harder["log_odds"] < b_parallel["log_odds"] - 0.5


def test_a_learner_whose_class_code_changed_is_still_paired():
    df = pairs_frame({(False, True): 12}).astype({"cohort": str})
    df.loc[(df["learner"] == "l1") & (df["phase"] == "pre"), "cohort"] = "self-study"
    pairs = paired(tidy(df))
    assert len(pairs) == 12 and pairs.loc[pairs["learner"] == "l1", "cohort"].tolist() == ["c"]


def test_mcnemar_is_adjusted_for_testing_every_item():
    from widgets.analysis import sample

    table = prepost(sample())
    assert (table["pvalue_holm"] >= table["pvalue"]).all() and (table["pvalue_holm"] <= 1).all()
    # Holm: the smallest p is multiplied by the number of items tested.
    assert table["pvalue_holm"].min() == pytest.approx(min(1.0, table["pvalue"].min() * len(table)))


def test_kr20_per_form_matches_a_hand_computation():
    from widgets.analysis import form_reliability

    df = _bank_frame(learners=40, post_gain=0.0, form_b=0.0, seed=3)
    table = form_reliability(df).set_index(["form", "phase"])
    from widgets.analysis import bank_answers

    part = bank_answers(df).query("form == 'A' and phase == 'pre'")
    wide = part.pivot_table(index="learner", columns="case_id", values="match")
    p = wide.mean()
    expected = 8 / 7 * (1 - (p * (1 - p)).sum() / wide.sum(axis=1).var(ddof=1))
    assert table.loc[("A", "pre"), "kr20"] == pytest.approx(expected)
    assert table.loc[("A", "pre"), "learners"] == 20

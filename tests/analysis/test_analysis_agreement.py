"""Agreement statistics reproduce published worked examples, and each pitfall in
analytics-notes.md (section 1, "Among learners / among experts") is pinned by a test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from widgets.analysis import (
    UndefinedAgreement,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
    reference_kappa,
)
from widgets.errors import DualroleError

# Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters. Psychological
# Bulletin, 76(5), 378-382, Table 1: 30 patients, each diagnosed by 6 of the psychiatrists into
# 5 categories (1 depression, 2 personality disorder, 3 schizophrenia, 4 neurosis, 5 other).
# Fleiss reports kappa = .430. The raw assignments are those of R irr::diagnoses.
FLEISS_1971 = [
    [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5], [2, 2, 2, 4, 4, 4],
    [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4], [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5],
    [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4], [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5],
    [3, 3, 3, 3, 3, 5], [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
    [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4], [1, 4, 4, 4, 4, 5],
    [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4], [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
]

# The worked example of Wikipedia's "Fleiss' kappa" article: 10 subjects, 14 raters, 5
# categories, given as counts per subject and category; kappa = 0.210.
WIKIPEDIA_COUNTS = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]

# Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability. Annenberg School for
# Communication, University of Pennsylvania, section C: 4 observers, 12 units, values 1-5, with
# missing data. Reported: nominal .743, ordinal .815, interval .849, ratio .797.
KRIPPENDORFF_2011 = {
    "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
}


def tidy_from_matrix(matrix, labels=None):
    """Subjects × raters → one row per rating (item, rater, value)."""
    rows = [{"item": i, "rater": f"r{j}", "value": (labels[v] if labels else v)}
            for i, ratings in enumerate(matrix) for j, v in enumerate(ratings) if v is not None]
    return pd.DataFrame(rows)


def tidy_from_counts(counts):
    """Subjects × category counts → one row per rating (which rater gave it does not matter)."""
    rows = []
    for i, row in enumerate(counts):
        rater = 0
        for category, n in enumerate(row):
            for _ in range(n):
                rows.append({"item": i, "rater": f"r{rater}", "value": f"c{category}"})
                rater += 1
    return pd.DataFrame(rows)


def krippendorff_frame(labels=None):
    rows = [{"unit": u, "coder": coder, "value": (labels[v] if labels else v)}
            for coder, values in KRIPPENDORFF_2011.items() for u, v in enumerate(values) if v is not None]
    return pd.DataFrame(rows)


def test_fleiss_1971_psychiatric_diagnoses():
    df = tidy_from_matrix(FLEISS_1971)
    assert fleiss_kappa(df, "item", "rater", "value") == pytest.approx(0.430, abs=5e-4)


def test_fleiss_wikipedia_example_from_tidy_rows():
    # Pitfall: aggregate_raters returns (counts, categories); passing the tuple or raw ratings as
    # counts gives nonsense (statsmodels #7657). The wrapper builds the counts from tidy rows.
    df = tidy_from_counts(WIKIPEDIA_COUNTS)
    assert fleiss_kappa(df, "item", "rater", "value") == pytest.approx(0.210, abs=5e-4)


def test_fleiss_unequal_raters_is_a_clear_error_or_dropped():
    # Pitfall: unequal raters per subject raise a bare AssertionError in statsmodels (#7781).
    df = tidy_from_matrix(FLEISS_1971)
    df = df[~((df["item"] == 0) & (df["rater"] == "r5"))]
    with pytest.raises(DualroleError, match="same number of raters.*krippendorff_alpha"):
        fleiss_kappa(df, "item", "rater", "value")
    dropped = fleiss_kappa(df, "item", "rater", "value", unequal="drop")
    five_raters = tidy_from_matrix([row[:5] for row in FLEISS_1971])
    assert dropped == pytest.approx(fleiss_kappa(five_raters, "item", "rater", "value"))


def test_fleiss_unanimous_ratings_warn_and_return_nan():
    # Pitfall: unanimous data make kappa 0/0 (statsmodels #4387).
    df = pd.DataFrame({"item": [1, 1, 2, 2], "rater": ["a", "b", "a", "b"], "value": ["x"] * 4})
    with pytest.warns(UndefinedAgreement):
        assert np.isnan(fleiss_kappa(df, "item", "rater", "value"))


def test_randolph_kappa_counts_categories_nobody_chose():
    # Pitfall: aggregate_raters(n_cat=None) drops unused categories, which changes Randolph's
    # free-marginal kappa (chance agreement = 1/k). Two raters agree on 1 of 2 items, so the
    # observed agreement is 0.5; with k = 4 possible options chance is 0.25, so kappa = 1/3.
    df = pd.DataFrame({"item": [1, 1, 2, 2], "rater": ["a", "b", "a", "b"], "value": ["x", "x", "x", "y"]})
    assert fleiss_kappa(df, "item", "rater", "value", method="randolph",
                        categories=["x", "y", "z", "w"]) == pytest.approx(1 / 3)
    # Only the two used categories: chance 0.5, kappa 0.
    assert fleiss_kappa(df, "item", "rater", "value", method="randolph") == pytest.approx(0.0)


def test_a_rater_rating_an_item_twice_is_refused():
    df = pd.DataFrame({"item": [1, 1, 1], "rater": ["a", "a", "b"], "value": ["x", "y", "x"]})
    with pytest.raises(DualroleError, match="more than once"):
        fleiss_kappa(df, "item", "rater", "value")
    with pytest.raises(DualroleError, match="more than once"):
        krippendorff_alpha(df, "item", "rater", "value")


@pytest.mark.parametrize("level, expected", [("nominal", 0.743), ("ordinal", 0.815),
                                             ("interval", 0.849), ("ratio", 0.797)])
def test_krippendorff_2011_worked_example(level, expected):
    assert krippendorff_alpha(krippendorff_frame(), "unit", "coder", "value", level=level) == pytest.approx(expected, abs=5e-4)


def test_krippendorff_level_is_nominal_unless_asked():
    # Pitfall: krippendorff.alpha defaults to the interval level (.849 here); ours is nominal.
    assert krippendorff_alpha(krippendorff_frame(), "unit", "coder", "value") == pytest.approx(0.743, abs=5e-4)


def test_krippendorff_ordinal_text_values_use_the_given_order():
    # Pitfall: ordinal text needs an ordered value_domain. The paper's 1..5 as words, in order.
    words = {1: "never", 2: "rarely", 3: "sometimes", 4: "often", 5: "always"}
    df = krippendorff_frame(words)
    order = list(words.values())
    assert krippendorff_alpha(df, "unit", "coder", "value", level="ordinal", order=order) == pytest.approx(0.815, abs=5e-4)
    df["value"] = pd.Categorical(df["value"], categories=order, ordered=True)
    assert krippendorff_alpha(df, "unit", "coder", "value", level="ordinal") == pytest.approx(0.815, abs=5e-4)
    with pytest.raises(DualroleError, match="order"):
        krippendorff_alpha(df.astype({"value": str}), "unit", "coder", "value", level="ordinal")


def test_krippendorff_is_not_fooled_by_the_transposed_matrix():
    # Pitfall: krippendorff wants raters × units. Swapping the roles of unit and coder in the
    # call (treating coders as units) gives a different, wrong number; ours follows the names.
    right = krippendorff_alpha(krippendorff_frame(), "unit", "coder", "value")
    swapped = krippendorff_alpha(krippendorff_frame(), "coder", "unit", "value")
    assert right == pytest.approx(0.743, abs=5e-4)
    assert abs(swapped - right) > 0.1


def test_interval_alpha_on_text_is_refused():
    df = krippendorff_frame({1: "a", 2: "b", 3: "c", 4: "d", 5: "e"})
    with pytest.raises(DualroleError, match="numeric"):
        krippendorff_alpha(df, "unit", "coder", "value", level="interval")


def test_cohen_kappa_wikipedia_worked_example():
    # Wikipedia, "Cohen's kappa", worked example: 50 proposals; both yes 20, A yes B no 5,
    # A no B yes 10, both no 15: p_o = 0.7, p_e = 0.5, kappa = 0.4.
    pairs = [("yes", "yes")] * 20 + [("yes", "no")] * 5 + [("no", "yes")] * 10 + [("no", "no")] * 15
    df = pd.DataFrame(pairs, columns=["a", "b"])
    assert cohen_kappa(df, "a", "b") == pytest.approx(0.4)


def test_weighted_kappa_uses_the_codebook_order_not_the_alphabet():
    # Pitfall: scikit-learn weighs by the position of labels, so they must be in ordinal order.
    stances = ["decline", "refer", "accept"]
    df = pd.DataFrame({"a": ["decline", "refer", "accept", "decline", "accept"],
                       "b": ["refer", "refer", "accept", "accept", "decline"]})
    for column in ("a", "b"):
        df[column] = pd.Categorical(df[column], categories=stances, ordered=True)
    ordinal = cohen_kappa(df, "a", "b", weights="linear")
    alphabetical = cohen_kappa(df, "a", "b", weights="linear", labels=sorted(stances))
    assert ordinal != pytest.approx(alphabetical)
    # By hand: disagreement weights |i - j| on decline < refer < accept. The pairs differ by
    # 1, 0, 0, 2, 2 steps: observed mean 1.0. Margins a = (.4, .2, .4), b = (.2, .4, .4) give an
    # expected sum_ij a_i b_j |i - j| = .48 + .12 + .32 = .92; kappa = 1 - 1.0 / .92.
    assert ordinal == pytest.approx(1 - 1.0 / 0.92)


def test_reference_kappa_is_one_when_every_learner_gives_the_reference():
    from widgets.cases.library import load_library

    library = load_library()
    rows = []
    for case in list(library)[:6]:
        for learner in ("a", "b"):
            option = case.option(case.preferred[0])
            rows.append({"learner": learner, "case_id": case.id, "option_id": option.id, "stance": option.stance})
    df = pd.DataFrame(rows)
    # All answers equal their reference: perfect agreement (unless every reference is one stance).
    stances = {r["stance"] for r in rows}
    if len(stances) > 1:
        assert reference_kappa(df) == pytest.approx(1.0)
    assert reference_kappa(df, value="option_id") == pytest.approx(1.0)

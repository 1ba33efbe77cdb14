"""Bootstrap intervals resample learners, not responses, and survive degenerate samples."""

from __future__ import annotations

import pandas as pd
import pytest

from widgets.analysis import bootstrap_ci, share_matching
from widgets.errors import DualroleError


def test_each_resample_draws_whole_learners():
    # One learner with 50 responses and nine with one each. Resampling responses would give
    # resamples of 59 rows of mostly that learner; resampling learners gives 10 learners.
    rows = [{"learner": "big", "matches_reference": True}] * 50
    rows += [{"learner": f"l{i}", "matches_reference": i % 2 == 0} for i in range(9)]
    df = pd.DataFrame(rows)
    seen = []

    def learners_in(frame):
        seen.append(frame["learner"].nunique())
        return share_matching(frame)

    bootstrap_ci(df, learners_in, n_resamples=50, method="percentile")
    # The first call is the estimate on the real data; every resample has 10 draws of learners.
    assert seen[0] == 10 and set(seen[1:]) == {10}


def test_degenerate_sample_falls_back_from_bca():
    df = pd.DataFrame({"learner": [f"l{i}" for i in range(12)], "matches_reference": [True] * 12})
    interval = bootstrap_ci(df, share_matching, n_resamples=99)
    assert (interval.low, interval.estimate, interval.high) == (1.0, 1.0, 1.0)
    assert interval.method == "percentile"


def test_interval_contains_the_estimate_and_needs_two_learners():
    df = pd.DataFrame({"learner": [f"l{i % 20}" for i in range(60)], "matches_reference": [i % 3 == 0 for i in range(60)]})
    interval = bootstrap_ci(df, share_matching, n_resamples=199, seed=1)
    assert interval.low <= interval.estimate <= interval.high and interval.n_learners == 20
    with pytest.raises(DualroleError, match="two learners"):
        bootstrap_ci(df[df["learner"] == "l1"], share_matching)

"""Learner-bootstrap intervals on alpha, kappa, Brier and the pre/post gain: 2000 resamples by default,
each estimate equal to the statistic the notebook reports."""

from __future__ import annotations

import numpy as np
import pytest

from widgets import analysis


@pytest.fixture(scope="module")
def frame():
    return analysis.sample()


def _check(interval, estimate):
    assert interval.estimate == pytest.approx(estimate, abs=1e-12)
    assert interval.low <= interval.estimate <= interval.high and interval.low < interval.high
    assert interval.n_resamples == 2000 and interval.method == "percentile"


def test_alpha_interval(frame):
    practice = analysis.answers(frame, phase="pre")
    _check(analysis.alpha_interval(practice, n_resamples=2000),
           analysis.krippendorff_alpha(practice, value="stance", level="nominal"))


def test_kappa_interval_single_and_credited(frame):
    post = analysis.answers(frame, phase="post")
    _check(analysis.kappa_interval(post), analysis.reference_kappa(post))
    _check(analysis.kappa_interval(post, key="credited"), analysis.reference_kappa(post, key="credited"))


def test_brier_interval(frame):
    first = analysis.answers(frame)
    _check(analysis.brier_interval(first), analysis.brier(first))


def test_gain_interval_resamples_learners_and_widens_with_fewer(frame):
    bank = analysis.answers(frame)
    pre = bank.loc[bank["phase"] == "pre", "matches_reference"].mean()
    post = bank.loc[bank["phase"] == "post", "matches_reference"].mean()
    whole = analysis.gain_interval(bank)
    _check(whole, post - pre)
    few = bank[bank["learner"].isin(sorted(bank["learner"].unique())[:12])]
    small = analysis.gain_interval(few)
    assert (small.high - small.low) > (whole.high - whole.low)
    assert np.isfinite(small.estimate)

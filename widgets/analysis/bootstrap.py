"""Bootstrap confidence intervals that resample learners, not responses.

A learner's answers are not independent of each other, so resampling single responses would
make intervals too narrow. ``scipy.stats.bootstrap`` does the resampling, over learner indices.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
from scipy.stats import bootstrap

from widgets.errors import DualroleError


@dataclass(frozen=True)
class Interval:
    """A statistic with its bootstrap interval."""

    estimate: float
    low: float
    high: float
    confidence_level: float
    method: str
    n_learners: int
    n_resamples: int


def bootstrap_ci(df: pd.DataFrame, statistic: Callable[[pd.DataFrame], float], *, unit: str = "learner",
                 n_resamples: int = 2000, confidence_level: float = 0.95, method: str = "BCa",
                 seed: int | None = 0) -> Interval:
    """A bootstrap interval for ``statistic(frame)``, resampling whole learners with replacement.

    Each resample draws learners with replacement and takes all of their rows; a learner drawn
    twice appears as two learners (the ``unit`` column is renumbered), so statistics that group
    by learner still work. BCa is tried first and, if it fails on a degenerate sample (every
    resample alike), the percentile interval is used; ``Interval.method`` says which.

    Examples
    --------
    >>> from widgets.analysis import sample
    >>> ci = bootstrap_ci(sample(), share_matching, n_resamples=199)
    >>> ci.low <= ci.estimate <= ci.high
    True
    """
    if unit not in df.columns:
        raise DualroleError(f"no column {unit!r} to resample by")
    groups = df.groupby(unit, sort=True, observed=True).indices
    positions = list(groups.values())
    if len(positions) < 2:
        raise DualroleError(f"a bootstrap needs at least two {unit}s; found {len(positions)}")
    sizes = np.array([len(p) for p in positions])
    renumbered = df.reset_index(drop=True)

    def resampled(indices) -> float:
        chosen = np.asarray(indices, dtype=int)
        rows = np.concatenate([positions[i] for i in chosen])
        frame = renumbered.iloc[rows].copy()
        frame[unit] = np.repeat(np.arange(len(chosen)), sizes[chosen])
        return float(statistic(frame))

    units = np.arange(len(positions))
    estimate = float(statistic(df))
    tried = [method] if method.lower() == "percentile" else [method, "percentile"]
    for current in tried:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                result = bootstrap((units,), resampled, vectorized=False, n_resamples=n_resamples,
                                   confidence_level=confidence_level, method=current,
                                   rng=np.random.default_rng(seed))
            except (ValueError, FloatingPointError, ZeroDivisionError):
                continue
        low, high = result.confidence_interval
        if np.isfinite(low) and np.isfinite(high):
            return Interval(estimate, float(low), float(high), confidence_level, current,
                            len(positions), n_resamples)
    if np.isfinite(estimate) and np.allclose(result.bootstrap_distribution, estimate):
        # Every resample gives the same value: the interval collapses to the estimate.
        return Interval(estimate, estimate, estimate, confidence_level, "percentile", len(positions), n_resamples)
    raise DualroleError("the bootstrap could not form an interval (the statistic is undefined on resamples)")


def share_matching(df: pd.DataFrame) -> float:
    """The share of answers that match the reference (a statistic for :func:`bootstrap_ci`)."""
    return float(df["matches_reference"].astype(float).mean())

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


def _percentile(estimate: float, draws: np.ndarray, n_learners: int, confidence_level: float) -> Interval:
    draws = draws[np.isfinite(draws)]
    tail = (1 - confidence_level) / 2
    low, high = (np.quantile(draws, [tail, 1 - tail]) if len(draws) else (np.nan, np.nan))
    return Interval(float(estimate), float(low), float(high), confidence_level, "percentile", n_learners, len(draws))


def _resamples(n: int, n_resamples: int, seed: int | None) -> np.ndarray:
    if n < 2:
        raise DualroleError(f"a bootstrap needs at least two learners; found {n}")
    return np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))


def _per_learner_sums(df: pd.DataFrame, columns: dict[str, np.ndarray]) -> pd.DataFrame:
    return pd.DataFrame(columns).groupby(df["learner"].astype(str).to_numpy()).sum()


def alpha_interval(df: pd.DataFrame, level: str = "nominal", *, n_resamples: int = 2000,
                   confidence_level: float = 0.95, seed: int | None = 0) -> Interval:
    """Krippendorff's alpha of the stances (cases are units, learners coders), with a learner bootstrap.

    ``df`` holds one answer per learner and case (:func:`~widgets.analysis.frame.answers`).
    The reliability matrix is built once; each resample draws learners (rows) with replacement.
    """
    import krippendorff

    from widgets.vocab import STANCES

    codes = df["stance"].astype(str).map({s: i for i, s in enumerate(STANCES)}).astype(float)
    wide = pd.DataFrame({"learner": df["learner"].astype(str).to_numpy(), "case": df["case_id"].astype(str).to_numpy(),
                         "code": codes.to_numpy()}).pivot_table(index="learner", columns="case", values="code",
                                                                aggfunc="first")
    matrix = wide.to_numpy(dtype=float)
    domain = list(range(len(STANCES)))

    def alpha(rows: np.ndarray) -> float:
        data = matrix[rows]
        if np.count_nonzero(~np.isnan(data).all(axis=0)) < 1 or len(np.unique(data[~np.isnan(data)])) < 2:
            return np.nan
        return float(krippendorff.alpha(reliability_data=data, value_domain=domain, level_of_measurement=level))

    estimate = alpha(np.arange(len(matrix)))
    draws = np.array([alpha(rows) for rows in _resamples(len(matrix), n_resamples, seed)])
    return _percentile(estimate, draws, len(matrix), confidence_level)


def kappa_interval(df: pd.DataFrame, key: str = "single", *, n_resamples: int = 2000,
                   confidence_level: float = 0.95, seed: int | None = 0) -> Interval:
    """Cohen's kappa of the stances against the reference (:func:`reference_kappa`), with a learner bootstrap.

    Each learner's answers make a stance × reference table; a resample adds up the tables of the
    learners drawn and computes unweighted kappa from the sum.
    """
    from widgets.analysis.agreement import with_reference
    from widgets.vocab import STANCES

    paired = with_reference(df, "stance", key=key)
    k = len(STANCES)
    learners, learner_codes = np.unique(paired["learner"].astype(str).to_numpy(), return_inverse=True)
    cell = paired["stance"].cat.codes.to_numpy() * k + paired["reference"].cat.codes.to_numpy()
    tables = np.zeros((len(learners), k * k))
    np.add.at(tables, (learner_codes, cell), 1)

    def kappa(total: np.ndarray) -> float:
        table = total.reshape(k, k)
        n = table.sum()
        observed = np.trace(table) / n
        expected = float(table.sum(axis=1) @ table.sum(axis=0)) / n**2
        return (observed - expected) / (1 - expected) if expected < 1 else np.nan

    estimate = kappa(tables.sum(axis=0))
    samples = _resamples(len(learners), n_resamples, seed)
    draws = np.array([kappa(tables[rows].sum(axis=0)) for rows in samples])
    return _percentile(estimate, draws, len(learners), confidence_level)


def brier_interval(df: pd.DataFrame, *, n_resamples: int = 2000, confidence_level: float = 0.95,
                   seed: int | None = 0) -> Interval:
    """The Brier score of first answers (confidence against matching the reference), with a learner bootstrap."""
    p = df["confidence"].to_numpy(dtype=float) / 100
    y = df["matches_reference"].to_numpy(dtype=float)
    sums = _per_learner_sums(df, {"loss": (p - y) ** 2, "n": np.ones(len(df))}).to_numpy()
    samples = _resamples(len(sums), n_resamples, seed)
    drawn = sums[samples].sum(axis=1)
    return _percentile(sums[:, 0].sum() / sums[:, 1].sum(), drawn[:, 0] / drawn[:, 1], len(sums), confidence_level)


def gain_interval(df: pd.DataFrame, *, n_resamples: int = 2000, confidence_level: float = 0.95,
                  seed: int | None = 0) -> Interval:
    """The change in the share matching the reference from the pre- to the post-test, with a learner bootstrap.

    ``df`` holds first answers to the pre- and post-test; every learner counts, also one who took
    only one test, and a resample draws whole learners.
    """
    post = (df["phase"].astype(str) == "post").to_numpy()
    pre = (df["phase"].astype(str) == "pre").to_numpy()
    match = df["matches_reference"].to_numpy(dtype=float)
    sums = _per_learner_sums(df, {"pre": match * pre, "pre_n": pre * 1.0, "post": match * post,
                                  "post_n": post * 1.0}).to_numpy()

    def gain(total: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return total[..., 2] / total[..., 3] - total[..., 0] / total[..., 1]

    samples = _resamples(len(sums), n_resamples, seed)
    return _percentile(float(gain(sums.sum(axis=0))), gain(sums[samples].sum(axis=1)), len(sums), confidence_level)

"""Calibration: is a learner's confidence a fair guess of matching the reference?

Confidence (0–100) is read as a probability of matching. scikit-learn computes the Brier score
and the calibration curve; this module adds the bin counts and the per-cohort summary.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import mean_squared_error

from widgets.analysis.frame import _text_codes, without_contested
from widgets.analysis.frame import rows as _rows
from widgets.errors import DualroleError


def _scored(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    # The two arrays straight from the columns: no copy of the other columns.
    known = df["matches_reference"].notna().to_numpy(dtype=bool)
    if not known.any():
        raise DualroleError("no answers to a case in the library: nothing to calibrate")
    y = df["matches_reference"].to_numpy(dtype=float, na_value=np.nan)[known].astype(int)
    return y, df["confidence"].to_numpy()[known] / 100.0


def brier(df: pd.DataFrame) -> float:
    """The Brier score of confidence as a forecast of matching the reference (0 best, 1 worst).

    Examples
    --------
    >>> frame = pd.DataFrame({"matches_reference": [True, False], "confidence": [100, 0]})
    >>> brier(frame)
    0.0
    """
    y, p = _scored(df)
    return _brier(y, p)


def _brier(y: np.ndarray, p: np.ndarray) -> float:
    """The Brier score of forecasts ``p`` of outcomes ``y`` (0 or 1).

    It is the mean squared error of the forecasts, and scikit-learn's ``mean_squared_error`` gives
    the same number as its ``brier_score_loss``; the latter first works out the distinct labels,
    a sort of every answer that cost most of a second at millions of answers.
    """
    return float(mean_squared_error(y, p))


def calibration_table(df: pd.DataFrame, n_bins: int = 5, exclude_contested: bool = False) -> pd.DataFrame:
    """Confidence bins holding about equal numbers of answers, with the share matching in each.

    ``exclude_contested`` leaves out contested and context-dependent cases: without a single key,
    "matching the reference" is a weaker test of whether a learner's confidence was deserved.

    The bins are quantiles (``strategy='quantile'``): confidence is given in steps of 5 and is
    often skewed, so equal-width bins would be mostly empty. scikit-learn drops empty bins, so the
    table can have fewer than ``n_bins`` rows (ties at the cut points merge bins).

    Returns
    -------
    DataFrame
        One row per non-empty bin: its confidence range, ``n`` answers, ``learners`` (distinct
        learners among them, when the frame has a ``learner`` column: what a privacy gate counts),
        ``mean_confidence`` (as a share), ``share_matching``, and ``gap`` (confidence minus accuracy:
        positive means over-confident).

    Examples
    --------
    >>> from widgets.analysis import sample
    >>> table = calibration_table(sample())
    >>> int(table["n"].sum()) == len(sample())
    True
    """
    if exclude_contested:
        df = without_contested(df)
    y, p = _scored(df)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=n_bins, strategy="quantile")
    # The same edges and bin ids as scikit-learn's calibration_curve, to count each bin.
    edges = np.percentile(p, np.linspace(0, 1, n_bins + 1) * 100)
    ids = np.searchsorted(edges[1:-1], p)
    totals = np.bincount(ids, minlength=n_bins)
    kept = np.flatnonzero(totals)
    if len(kept) != len(prob_true):
        raise DualroleError("internal: calibration bins disagree with scikit-learn's")
    low, high = np.full(n_bins, np.inf), np.full(n_bins, -np.inf)
    np.minimum.at(low, ids, p)
    np.maximum.at(high, ids, p)
    table = pd.DataFrame({
        "low": low[kept],
        "high": high[kept],
        "n": totals[kept].astype("int64"),
        "mean_confidence": prob_pred,
        "share_matching": prob_true,
    })
    if "learner" in df.columns:
        # Distinct (bin, learner) pairs on the frame's integer learner codes, counted per bin.
        codes, uniques = _text_codes(df["learner"])
        codes = codes[df["matches_reference"].notna().to_numpy(dtype=bool)]
        # One slot per possible (bin, learner): marking them is cheaper than np.unique's sort.
        seen = np.zeros((n_bins, len(uniques) + 1), dtype=bool)
        seen[ids, codes + 1] = True
        learners = seen.sum(axis=1)
        table.insert(3, "learners", learners[kept].astype("int64"))
    table["gap"] = table["mean_confidence"] - table["share_matching"]
    return table


def expected_calibration_error(table: pd.DataFrame) -> float:
    """The answer-weighted mean absolute gap across the bins of :func:`calibration_table`."""
    return float(np.average(table["gap"].abs(), weights=table["n"]))


def overconfidence(df: pd.DataFrame, by: str | None = "cohort", exclude_contested: bool = False) -> pd.DataFrame:
    """Mean confidence minus the share matching the reference, per group (positive = over-confident).

    ``exclude_contested`` leaves out contested and context-dependent cases (see :func:`calibration_table`).

    Examples
    --------
    >>> from widgets.analysis import sample
    >>> table = overconfidence(sample())
    >>> list(table.columns)
    ['n', 'n_answers', 'mean_confidence', 'share_matching', 'overconfidence', 'brier']
    """
    if exclude_contested:
        df = without_contested(df)
    columns = [c for c in dict.fromkeys([by, "learner", "matches_reference", "confidence"]) if c is not None]
    known = _rows(df[columns], df["matches_reference"].notna().to_numpy(dtype=bool))
    groups = [("all", known)] if by is None else known.groupby(by, observed=True, sort=True)
    rows = []
    for name, group in groups:
        y, p = _scored(group)
        rows.append({by or "group": name, "n": int(group["learner"].nunique()), "n_answers": len(group),
                     "mean_confidence": float(p.mean()), "share_matching": float(y.mean()),
                     "overconfidence": float(p.mean() - y.mean()), "brier": _brier(y, p)})
    columns = [by or "group", "n", "n_answers", "mean_confidence", "share_matching", "overconfidence", "brier"]
    return pd.DataFrame(rows, columns=columns).set_index(by or "group")  # no rows: every case left out

"""How a cohort answered each case: option and stance distributions, match with the reference,
confidence, and the most divided cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import entropy

from .frame import answers, options_frame


def option_counts(df: pd.DataFrame, case_id: str, attempt: str = "first") -> pd.DataFrame:
    """Learners choosing each option of one case, by phase (options in the case's order).

    Examples
    --------
    >>> from widgets.analysis import sample
    >>> table = option_counts(sample(), "cosmetics")
    >>> table.index.name, list(table.columns)
    ('option_id', ['pre', 'post'])
    """
    chosen = answers(df[df["case_id"] == case_id], attempt=attempt)
    options = options_frame()
    order = options.loc[options["case_id"] == case_id, "option_id"].tolist()
    order += sorted(set(chosen["option_id"]) - set(order))
    table = pd.crosstab(chosen["option_id"], chosen["phase"], dropna=False)
    phases = [p for p in chosen["phase"].cat.categories if p in set(chosen["phase"].astype(str))]
    table = table.reindex(index=order, columns=phases, fill_value=0).astype("int64")
    table.index.name, table.columns.name = "option_id", None
    table.columns = [str(c) for c in table.columns]
    return table


def stance_counts(df: pd.DataFrame, phase: str | None = None, attempt: str = "first") -> pd.DataFrame:
    """Learners taking each stance on each case: cases as rows, the six stances as columns."""
    chosen = answers(df, phase=phase, attempt=attempt)
    table = pd.crosstab(chosen["case_id"], chosen["stance"], dropna=False)
    table = table.reindex(columns=list(df["stance"].cat.categories), fill_value=0)
    present = [c for c in df["case_id"].cat.categories if c in set(chosen["case_id"].astype(str))]
    return table.reindex(index=present, fill_value=0).astype("int64")


def case_summary(df: pd.DataFrame, attempt: str = "first") -> pd.DataFrame:
    """One row per case and phase: learners, share matching the reference, mean score and
    confidence, the modal option, and the entropy of the option distribution (in bits).

    Parameters
    ----------
    df : DataFrame
        The tidy frame from :func:`~widgets.analysis.responses`.
    attempt : {"first", "final"}
        First answers (before the reveal, the default) or final ones (after any revote).

    Returns
    -------
    DataFrame
        Indexed by ``case_id`` and ``phase``; ``n`` counts learners and ``n_matching`` those whose
        answer is a preferred option. Pass it through :func:`widgets.privacy.gate` before showing it.

    Examples
    --------
    >>> from widgets.analysis import sample
    >>> summary = case_summary(sample())
    >>> bool(((summary["share_matching"] >= 0) & (summary["share_matching"] <= 1)).all())
    True
    """
    # Only the columns summarised: splitting every text column into groups costs seconds at scale.
    columns = ["learner", "cohort", "case_id", "phase", "attempt", "option_id", "matches_reference",
               "score", "confidence"]
    chosen = answers(df[columns], attempt=attempt)
    options = options_frame()
    n_options = options.groupby("case_id")["option_id"].size()
    rows = []
    for (case_id, phase), group in chosen.groupby(["case_id", "phase"], observed=True, sort=True):
        counts = group["option_id"].value_counts()
        rows.append({
            "case_id": case_id,
            "phase": phase,
            "n": len(group),
            "n_matching": int(group["matches_reference"].fillna(False).sum()),
            "share_matching": float(group["matches_reference"].astype(float).mean()),
            "mean_score": float(group["score"].mean()),
            "mean_confidence": float(group["confidence"].mean()),
            "modal_option": counts.index[0],
            "entropy": float(entropy(counts.to_numpy(), base=2)),
            "evenness": float(entropy(counts.to_numpy()) / np.log(max(n_options.get(case_id, 2), 2))),
        })
    summary = pd.DataFrame(rows, columns=["case_id", "phase", "n", "n_matching", "share_matching",
                                          "mean_score", "mean_confidence", "modal_option", "entropy",
                                          "evenness"])
    summary["case_id"] = pd.Categorical(summary["case_id"], categories=df["case_id"].cat.categories)
    summary["phase"] = pd.Categorical(summary["phase"], categories=df["phase"].cat.categories, ordered=True)
    return summary.set_index(["case_id", "phase"])


def most_divided(df: pd.DataFrame, k: int = 5, phase: str | None = None, min_n: int = 1) -> pd.DataFrame:
    """The ``k`` cases whose answers were spread most evenly (highest entropy): good openers.

    Examples
    --------
    >>> from widgets.analysis import sample
    >>> top = most_divided(sample(), k=3)
    >>> len(top), bool(top["entropy"].is_monotonic_decreasing)
    (3, True)
    """
    summary = case_summary(df if phase is None else df[df["phase"] == phase])
    summary = summary[summary["n"] >= min_n]
    return summary.sort_values(["entropy", "n"], ascending=[False, False], kind="stable").head(k)

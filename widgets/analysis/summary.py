"""How a cohort answered each case: option and stance distributions, match with the reference,
confidence, and the most divided cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import entropy

from widgets.analysis.frame import _answer_positions, _text_codes, answers, options_frame, take, with_flags


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
        answer is a preferred option; ``contested`` and ``context_dependent`` are the case's flags
        (:func:`~widgets.analysis.frame.case_flags`). Pass it through :func:`widgets.privacy.gate`
        before showing it.

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
    # Only the columns summarised, at the positions of the answers: learner and cohort are needed
    # to choose the answers, not to summarise them, and options are counted by their codes.
    positions = _answer_positions(df[columns], attempt=attempt)
    chosen = take(df[["case_id", "phase", "matches_reference", "score", "confidence"]], positions)
    options = options_frame()
    n_options = options.groupby("case_id")["option_id"].size()
    # Every statistic from integer codes and counts in one pass: splitting half a
    # million answers into groups and counting their text options took most of a second.
    cases, phases = chosen["case_id"].cat.categories, chosen["phase"].cat.categories
    case_codes = chosen["case_id"].cat.codes.to_numpy().astype(np.int64)
    phase_codes = chosen["phase"].cat.codes.to_numpy().astype(np.int64)
    known = (case_codes >= 0) & (phase_codes >= 0)
    group = np.where(known, case_codes * len(phases) + phase_codes, -1)
    size = len(cases) * len(phases)
    groups = group[known]

    def total(values: np.ndarray) -> np.ndarray:
        present = ~np.isnan(values)
        return np.bincount(groups[present[known]], weights=values[known & present], minlength=size)

    def count(values: np.ndarray) -> np.ndarray:
        return np.bincount(group[known & ~np.isnan(values)], minlength=size)

    match = chosen["matches_reference"].to_numpy(dtype=float, na_value=np.nan)
    score = chosen["score"].to_numpy(dtype=float, na_value=np.nan)
    confidence = chosen["confidence"].to_numpy(dtype=float, na_value=np.nan)
    n = np.bincount(groups, minlength=size)
    matching = np.bincount(group[known & (match == 1)], minlength=size)
    option_codes, option_ids = _text_codes(df["option_id"])
    option_codes = option_codes[positions]
    picked = known & (option_codes >= 0)
    # Each (case, phase, option) present, its count and where it first appears, by counting into
    # one slot per possible pair: a sort of every answer (np.unique) cost more than the rest.
    keys = group[picked] * max(len(option_ids), 1) + option_codes[picked]
    slots = size * max(len(option_ids), 1)
    counted = np.bincount(keys, minlength=slots)
    first_at = np.empty(slots, dtype=np.int64)
    first_at[keys[::-1]] = np.arange(len(keys) - 1, -1, -1)  # written last, so the first wins
    pair = np.flatnonzero(counted)
    first, pair_n = first_at[pair], counted[pair]
    pair_group = pair // max(len(option_ids), 1)
    rows, spreads = [], []
    with np.errstate(invalid="ignore", divide="ignore"):
        share = total(match) / count(match)
        mean_score = total(score) / count(score)
        mean_confidence = total(confidence) / count(confidence)
    for g in np.flatnonzero(n):
        case_id, phase = cases[g // len(phases)], phases[g % len(phases)]
        mine = np.flatnonzero(pair_group == g)
        mine = mine[np.argsort(first[mine], kind="stable")]  # options in order of first appearance
        # value_counts over the options as they appear, so ties pick the same modal option.
        counts = pd.Series(np.repeat(np.arange(len(mine)), pair_n[mine])).value_counts()
        modal = option_ids[pair[mine[counts.index[0]]] % len(option_ids)] if len(mine) else None
        rows.append({
            "case_id": case_id,
            "phase": phase,
            "n": int(n[g]),
            "n_matching": int(matching[g]),
            "share_matching": float(share[g]),
            "mean_score": float(mean_score[g]),
            "mean_confidence": float(mean_confidence[g]),
            "modal_option": modal,
        })
        spreads.append((counts.to_numpy(), max(n_options.get(case_id, 2), 2)))
    summary = pd.DataFrame(rows, columns=["case_id", "phase", "n", "n_matching", "share_matching",
                                          "mean_score", "mean_confidence", "modal_option"])
    # Every group's entropy in one call, over its option counts padded with zeros (which add
    # nothing): a call per group cost more in scipy's checks than in the sums.
    counts = np.zeros((len(spreads), max((len(c) for c, _ in spreads), default=0)))
    for i, (found, _) in enumerate(spreads):
        counts[i, :len(found)] = found
    summary["entropy"] = entropy(counts, base=2, axis=1) if len(spreads) else []
    summary["evenness"] = (entropy(counts, axis=1) / np.log([k for _, k in spreads])) if len(spreads) else []
    summary["case_id"] = pd.Categorical(summary["case_id"], categories=df["case_id"].cat.categories)
    summary["phase"] = pd.Categorical(summary["phase"], categories=df["phase"].cat.categories, ordered=True)
    return with_flags(summary.set_index(["case_id", "phase"]))


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

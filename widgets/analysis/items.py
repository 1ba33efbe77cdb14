"""Item analysis, treating each case as a test item: difficulty, corrected point-biserial
discrimination, distractors by high and low scorers, and a flag for a possibly contested key.

Python has no maintained classical-test-theory package, so this is pandas shaping around
scipy's point-biserial correlation (see ``analytics-notes.md``). It is called as
``scipy.stats.pearsonr``: ``pointbiserialr`` returns exactly what it does, after checks that
cost as much again, once per case.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy.stats import pearsonr

from widgets.analysis.frame import _answer_positions, _text_codes, answers, options_frame, take, with_flags
from widgets.cases.forms import assessment_forms
from widgets.errors import DualroleError

GROUP_SHARE = 0.27  # Kelley (1939): the upper and lower 27 % maximise the discrimination index.


def _one_phase(df: pd.DataFrame, phase: str | None, *extra: str) -> pd.DataFrame:
    # Only the columns item analysis reads: filtering the text columns too costs seconds at scale.
    return answers(df[[c for c in dict.fromkeys([*ITEM_COLUMNS, *extra]) if c in df.columns]],
                   phase=_the_phase(df, phase))


def _the_phase(df: pd.DataFrame, phase: str | None) -> str | None:
    if phase is None:
        present = sorted(str(p) for p in pd.unique(df["phase"].dropna()))
        if len(present) > 1:
            raise DualroleError(f"these responses span phases {', '.join(present)}: choose one with phase=...")
        phase = present[0] if present else None
    return phase


def _sorted_codes(values: pd.Series, positions: np.ndarray) -> tuple[np.ndarray, object]:
    """``pd.factorize(values.iloc[positions], sort=True)``, except that the distinct values may
    include some not at those positions: codes of the whole column are reused."""
    codes, uniques = _text_codes(values)
    order = np.asarray(pd.Index(uniques).argsort(), dtype=np.int64)
    rank = np.empty(len(order) + 1, dtype=np.int64)
    rank[order] = np.arange(len(order))
    rank[-1] = -1  # code -1 (missing) stays missing
    return rank[codes[positions]], uniques.take(order)


ITEM_COLUMNS = ["learner", "cohort", "case_id", "phase", "attempt", "option_id", "score", "matches_reference"]


def score_matrix(df: pd.DataFrame, phase: str | None = None, value: str = "score") -> pd.DataFrame:
    """Learners as rows, cases as columns: each first answer's score (NaN where not answered)."""
    return _matrix(_one_phase(df, phase, value), value)


def _matrix(chosen: pd.DataFrame, value: str, learners: tuple | None = None) -> pd.DataFrame:
    """Learners (sorted) by cases (in category order): each pair's first non-missing ``value``.

    The same table as ``pivot_table(index="learner", columns="case_id", values=value,
    aggfunc="first", observed=True).astype(float)``, built on integer codes: the pivot groups
    on the learner text and takes about a second at a million responses.
    ``learners`` is ``pd.factorize(chosen["learner"], sort=True)`` when the caller has it already.
    """
    values = chosen[value].to_numpy(dtype=float, na_value=np.nan)
    learner_codes, learners = learners if learners is not None else pd.factorize(chosen["learner"], sort=True)
    case_codes = chosen["case_id"].cat.codes.to_numpy().astype(np.int64)
    categories = chosen["case_id"].cat.categories
    keep = ~np.isnan(values) & (learner_codes >= 0) & (case_codes >= 0)
    cell = learner_codes[keep].astype(np.int64) * len(categories) + case_codes[keep]
    # The first row of each learner and case, found by writing every row's position into its cell
    # last to first (so the first is written last): no sort of every answer.
    first_at = np.full((len(learners), len(categories)), -1, dtype=np.int64)
    first_at.ravel()[cell[::-1]] = np.arange(len(cell) - 1, -1, -1)
    answered = first_at >= 0
    rows, columns = np.flatnonzero(answered.any(axis=1)), np.flatnonzero(answered.any(axis=0))
    first_at = first_at[np.ix_(rows, columns)]
    matrix = np.full(first_at.shape, np.nan)
    filled = first_at >= 0
    matrix[filled] = values[keep][first_at[filled]]
    index = pd.Index(learners[rows], name="learner")
    header = pd.CategoricalIndex(categories[columns], categories=categories,
                                 ordered=chosen["case_id"].cat.ordered, name="case_id")
    return pd.DataFrame(matrix, index=index, columns=header)


def item_analysis(df: pd.DataFrame, phase: str | None = None, form: str | None = None) -> pd.DataFrame:
    """Per case: difficulty, corrected point-biserial, upper-lower index and the contested-key flag.

    Parameters
    ----------
    df : DataFrame
        The tidy frame; first answers of one phase are used.
    phase : str, optional
        Needed when the frame holds more than one phase.
    form : {"A", "B"}, optional
        Only the cases of this assessment form, so each learner's total is over the one form they
        took in the phase (with counterbalancing, a phase holds both forms).

    Returns
    -------
    DataFrame
        Indexed by case. ``n`` learners answered it, ``n_matching`` of them with a preferred
        option; ``difficulty`` is the share matching the reference (high = easy); ``point_biserial``
        correlates matching this case with the
        learner's mean score on the *other* cases (the item is removed from the total, so it does
        not correlate with itself); ``discrimination`` is the reference's share among the top 27 %
        minus its share among the bottom 27 %; ``contested_key`` is True when the top group's most
        chosen option is not a preferred one; ``contested`` and ``context_dependent`` are the
        flags in the case file (a case without a single key is a weaker test item). ``form`` names the
        assessment form of each case (missing for a lesson case).

    Examples
    --------
    >>> from widgets.analysis import sample
    >>> items = item_analysis(sample(), phase="post")
    >>> bool(items["difficulty"].between(0, 1).all())
    True
    """
    forms = assessment_forms()
    if form is not None:
        if form not in forms.forms:
            raise DualroleError(f"form must be one of {', '.join(forms.forms)}, not {form!r}")
        df = df[df["case_id"].isin(forms.forms[form])]
        if df.empty:
            raise DualroleError(f"no answers to the cases of form {form}")
    # The phase's first answers are chosen once and shared (each choice costs a pass
    # over every response), and only the columns needed are taken: learners and options are
    # numbered once for the whole frame.
    positions = _answer_positions(df[[c for c in ITEM_COLUMNS if c in df.columns]], phase=_the_phase(df, phase))
    chosen = take(df[["case_id", "score", "matches_reference"]], positions)
    learners = _sorted_codes(df["learner"], positions)
    option_codes, option_ids = _text_codes(df["option_id"])
    matches = _matrix(chosen, "matches_reference", learners)
    scores = _matrix(chosen, "score", learners)
    groups = score_groups(scores)
    table = _distractors(chosen, groups, learners, (option_codes[positions], option_ids))
    # Each learner's mean score on the *other* cases, for every case at once: (sum - own) / (n - 1).
    values = scores.to_numpy()
    answered_all = ~np.isnan(values)
    totals = np.nansum(values, axis=1, keepdims=True)
    counts = answered_all.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        rests = np.where(answered_all & (counts > 1), (totals - np.nan_to_num(values)) / (counts - 1), np.nan)
    rests = pd.DataFrame(rests, index=scores.index, columns=scores.columns)
    rests = rests.reindex(index=matches.index, columns=matches.columns).to_numpy()
    found = matches.to_numpy(dtype=float, na_value=np.nan)
    by_case = {str(case_id): rows for case_id, rows in table.groupby("case_id", sort=False)}
    rows = []
    for j, case_id in enumerate(matches.columns):
        answered = ~np.isnan(found[:, j])
        x, rest = found[answered, j], rests[answered, j]
        keep = ~np.isnan(rest)
        r, p = _point_biserial(x[keep], rest[keep])
        case_rows = by_case.get(str(case_id), table.iloc[:0])
        high = case_rows["high_share"].to_numpy()
        preferred = case_rows["preferred"].to_numpy(dtype=bool)
        reference = case_rows[preferred]
        top = int(np.argmax(high)) if len(high) and high.max() > 0 else None  # the first highest, as idxmax
        top_option = case_rows["option_id"].iloc[top] if top is not None else None
        rows.append({
            "case_id": case_id,
            "n": int(answered.sum()),
            "n_matching": int(x.sum()),
            "difficulty": float(x.mean()),
            "point_biserial": r,
            "pvalue": p,
            "discrimination": float(reference["high_share"].sum() - reference["low_share"].sum()),
            "top_group_choice": top_option,
            "contested_key": bool(top is not None and not preferred[top]),
        })
    out = pd.DataFrame(rows)
    out["form"] = [forms.form_of(str(case_id)) for case_id in out["case_id"]]
    out["case_id"] = pd.Categorical(out["case_id"], categories=df["case_id"].cat.categories)
    return with_flags(out.set_index("case_id"))


def score_groups(scores: pd.DataFrame, share: float = GROUP_SHARE) -> pd.Series:
    """Label each learner 'high', 'low' or 'middle' by mean score (top and bottom ``share``).

    Ties at the cut are broken by learner id, so the groups have exactly ``ceil(share * n)``
    learners each and the result does not depend on row order.
    """
    total = scores.mean(axis=1).dropna()
    size = math.ceil(share * len(total))
    if len(total) < 2 * size or size == 0:
        raise DualroleError(f"item analysis needs at least {max(2, 2 * size)} learners with scores; found {len(total)}")
    frame = pd.DataFrame({"learner": total.index, "total": total.to_numpy()})
    frame = frame.sort_values(["total", "learner"], kind="stable").reset_index(drop=True)
    labels = pd.Series("middle", index=frame["learner"])
    labels.iloc[:size] = "low"
    labels.iloc[len(frame) - size:] = "high"
    return labels.reindex(total.index)


def distractors(df: pd.DataFrame, phase: str | None = None, groups: pd.Series | None = None) -> pd.DataFrame:
    """How the high and low score groups chose among each case's options.

    Returns one row per case and option with ``high_n``/``low_n`` (learners choosing it in each
    group), their shares of the group's answers to the case, and ``preferred``/``acceptable``.
    Counts are small: gate them (:func:`widgets.privacy.gate`) before showing them.
    """
    chosen = _one_phase(df, phase)
    if groups is None:
        groups = score_groups(_matrix(chosen, "score"))
    return _distractors(chosen, groups)


def _distractors(chosen: pd.DataFrame, groups: pd.Series, learners: tuple | None = None,
                 options: tuple | None = None) -> pd.DataFrame:
    # Counted on integer codes: a crosstab of the text columns takes most of a second
    # at a million responses. Group 0 is high, 1 low, 2 middle or none.
    learner_codes, learners = learners if learners is not None else pd.factorize(chosen["learner"])
    labels = np.append(groups.to_numpy(dtype=object), None)[pd.Index(groups.index).get_indexer(learners)]
    group = np.select([labels == "high", labels == "low"], [0, 1], 2)
    group = np.append(group, 2)[learner_codes]  # code -1 (no learner id) picks "none"
    case_codes = chosen["case_id"].cat.codes.to_numpy().astype(np.int64)
    cases = chosen["case_id"].cat.categories
    option_codes, option_ids = options if options is not None else pd.factorize(chosen["option_id"])
    keep = (group < 2) & (case_codes >= 0) & (option_codes >= 0)
    cell = (case_codes[keep] * len(option_ids) + option_codes[keep]) * 2 + group[keep]
    # Counted into one slot per possible (case, option, group), not by np.unique's sort of every answer.
    n = np.bincount(cell, minlength=len(cases) * len(option_ids) * 2)
    cell = np.flatnonzero(n)
    n = n[cell]
    pair = cell // 2
    counts = pd.DataFrame({"case_id": np.asarray(cases, dtype=object)[pair // len(option_ids)],
                           "option_id": np.asarray(option_ids, dtype=object)[pair % len(option_ids)],
                           "group": np.where(cell % 2 == 0, "high", "low"), "n": n})
    counts = counts.set_index(["case_id", "option_id", "group"])["n"].unstack("group", fill_value=0)
    counts = counts.reindex(columns=["high", "low"], fill_value=0)
    counts.columns.name = None
    options = options_frame()[["case_id", "option_id", "preferred", "acceptable"]]
    present = {str(c) for c in cases[np.unique(case_codes[(group < 2) & (case_codes >= 0)])]}
    options = options[options["case_id"].isin(present)]
    table = options.merge(counts.rename(columns={"high": "high_n", "low": "low_n"}).reset_index(),
                          on=["case_id", "option_id"], how="left").fillna({"high_n": 0, "low_n": 0})
    for group in ("high", "low"):
        totals = table.groupby("case_id")[f"{group}_n"].transform("sum")
        table[f"{group}_share"] = (table[f"{group}_n"] / totals.replace(0, np.nan)).fillna(0.0)
        table[f"{group}_n"] = table[f"{group}_n"].astype("int64")
    return table[["case_id", "option_id", "preferred", "acceptable", "high_n", "low_n", "high_share", "low_share"]]


def _point_biserial(x, y) -> tuple[float, float]:
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    # A constant x or y leaves the correlation undefined. Checked by the extremes, not by counting
    # distinct values: np.unique sorts every answer, a quarter of the item analysis at millions.
    if len(x) < 3 or x.min() == x.max() or y.min() == y.max():
        return float("nan"), float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = pearsonr(x, y)
    return float(result.statistic), float(result.pvalue)

"""Agreement: among learners (Fleiss' kappa, Krippendorff's alpha) and with the reference (Cohen's kappa).

Each function takes column names, so it works on any tidy frame, and leaves the arithmetic to
statsmodels, krippendorff and scikit-learn. What this module adds is the shaping, and guards for
the pitfalls recorded in ``analytics-notes.md`` (each pinned by a test in ``test_analysis_agreement``).
"""

from __future__ import annotations

import warnings

import krippendorff
import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats import inter_rater

from widgets.errors import DualroleError
from widgets.vocab import STANCES

LEVELS = ("nominal", "ordinal", "interval", "ratio")


class UndefinedAgreement(RuntimeWarning):
    """Agreement is 0/0 here (every rating in one category): report percent agreement instead."""


def fleiss_kappa(df: pd.DataFrame, item: str = "case_id", rater: str = "learner",
                 value: str = "option_id", *, categories=None, method: str = "fleiss",
                 unequal: str = "error") -> float:
    """Fleiss' kappa for many raters, from a tidy frame (statsmodels computes it).

    Parameters
    ----------
    df : DataFrame
        One row per rating; at most one rating per ``item`` and ``rater``.
    item, rater, value : str
        Column names: what is rated, who rates, and the category given.
    categories : sequence, optional
        Every category that could have been chosen (default: the column's categories if it is
        categorical, else the values seen). It matters for ``method="randolph"``.
    method : {"fleiss", "randolph"}
        Fleiss' kappa, or Randolph's free-marginal kappa (chance = 1 / number of categories).
    unequal : {"error", "drop"}
        Fleiss' kappa needs the same number of raters for every item. "error" (the default)
        says so; "drop" keeps only the raters who rated every item.

    Returns
    -------
    float
        Kappa; NaN, with an :class:`UndefinedAgreement` warning, when every rating is the same.

    Examples
    --------
    >>> ratings = pd.DataFrame({"item": [1, 1, 2, 2, 3, 3], "rater": ["a", "b"] * 3,
    ...                         "value": ["x", "x", "y", "y", "x", "y"]})
    >>> round(fleiss_kappa(ratings, "item", "rater", "value"), 3)
    0.333
    """
    if method not in ("fleiss", "randolph"):
        raise DualroleError(f"method must be 'fleiss' or 'randolph', not {method!r}")
    wide = _wide(df, item, rater, value)
    per_item = wide.notna().sum(axis=1)
    if per_item.nunique() > 1:
        if unequal == "drop":
            wide = wide.loc[:, wide.notna().all(axis=0)]
        elif unequal == "error":
            raise DualroleError(
                f"Fleiss' kappa needs the same number of raters for every {item}, but the counts "
                f"range from {per_item.min()} to {per_item.max()}: filter the frame, pass "
                f"unequal='drop' to keep only the {rater}s who rated every {item}, or use "
                "krippendorff_alpha, which allows missing ratings"
            )
        else:
            raise DualroleError(f"unequal must be 'error' or 'drop', not {unequal!r}")
    if wide.shape[0] < 1 or wide.notna().sum(axis=1).min() < 2:
        raise DualroleError(f"Fleiss' kappa needs at least two {rater}s rating every {item}")
    cats = _categories(df[value], categories)
    stray = sorted(set(map(str, wide.stack().dropna())) - set(map(str, cats)))
    if stray:
        raise DualroleError(f"{value} has values outside the given categories: {stray}")
    index = {str(c): i for i, c in enumerate(cats)}
    # Each row lists one item's ratings; who gave them does not matter to Fleiss' kappa.
    codes = np.array([[index[str(v)] for v in row.dropna()] for _, row in wide.iterrows()], dtype=int)
    # aggregate_raters returns (counts, categories): the counts are [0]. n_cat keeps categories
    # nobody chose, which Randolph's kappa needs (statsmodels drops them when n_cat is None).
    counts = inter_rater.aggregate_raters(codes, n_cat=len(cats))[0]
    if method == "fleiss" and (counts.sum(axis=0) > 0).sum() < 2:
        warnings.warn("every rating falls in one category, so Fleiss' kappa is 0/0 (undefined); "
                      "report percent agreement instead", UndefinedAgreement, stacklevel=2)
        return float("nan")
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(inter_rater.fleiss_kappa(counts, method=method))


def complete_raters(df: pd.DataFrame, item: str = "case_id", rater: str = "learner") -> tuple[int, int]:
    """(raters who rated every item, all raters): the n behind ``fleiss_kappa(..., unequal="drop")``.

    State it beside the kappa: with "drop", Fleiss' kappa describes only these raters.

    >>> ratings = pd.DataFrame({"item": [1, 1, 2, 3], "rater": ["a", "b", "a", "a"]})
    >>> complete_raters(ratings, "item", "rater")
    (1, 2)
    """
    items = df[item].astype(str).nunique()
    per_rater = df.groupby(df[rater].astype(str))[item].nunique()
    return int((per_rater == items).sum()), int(len(per_rater))


def krippendorff_alpha(df: pd.DataFrame, item: str = "case_id", rater: str = "learner",
                       value: str = "option_id", level: str = "nominal", *, order=None) -> float:
    """Krippendorff's alpha (the ``krippendorff`` package computes it); missing ratings are fine.

    Parameters
    ----------
    df : DataFrame
        One row per rating; at most one rating per ``item`` and ``rater``.
    item, rater, value : str
        Column names: what is rated (the units), who rates, and the value given.
    level : {"nominal", "ordinal", "interval", "ratio"}
        The level of measurement, always passed explicitly (the package's default is interval).
    order : sequence, optional
        For ordinal text values, every value from lowest to highest (default: the column's
        categories when it is an ordered categorical, e.g. ``stance``).

    Examples
    --------
    >>> ratings = pd.DataFrame({"unit": [1, 1, 2, 2, 3, 3, 4, 4], "coder": ["a", "b"] * 4,
    ...                         "value": ["x", "x", "y", "y", "x", "y", "y", "y"]})
    >>> round(krippendorff_alpha(ratings, "unit", "coder", "value"), 3)
    0.533
    """
    if level not in LEVELS:
        raise DualroleError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    wide = _wide(df, item, rater, value)
    # krippendorff wants raters as rows and units as columns: the transpose of statsmodels.
    matrix = wide.T
    value_domain = None
    numeric = pd.api.types.is_numeric_dtype(df[value]) and not isinstance(df[value].dtype, pd.CategoricalDtype)
    if level in ("interval", "ratio") and not numeric:
        raise DualroleError(f"{level} alpha needs numeric values, and {value} is not numeric")
    if not numeric:
        if level == "ordinal":
            cats = list(order) if order is not None else _ordered_categories(df[value])
            if cats is None:
                raise DualroleError(f"ordinal alpha on text needs the order of {value}: pass order=[...]")
        else:
            cats = _categories(df[value], order)
        stray = sorted(set(wide.stack().dropna().astype(str)) - set(map(str, cats)))
        if stray:
            raise DualroleError(f"{value} has values outside the given order: {stray}")
        matrix = matrix.apply(lambda col: col.map({c: i for i, c in enumerate(cats)}))
        value_domain = list(range(len(cats))) if level == "ordinal" else None
    data = matrix.to_numpy(dtype=float)
    if np.sum(np.sum(~np.isnan(data), axis=0) >= 2) < 1:
        raise DualroleError(f"Krippendorff's alpha needs at least one {item} rated by two {rater}s")
    if len(np.unique(data[~np.isnan(data)])) < 2:
        warnings.warn("every rating is the same value, so alpha is 0/0 (undefined)",
                      UndefinedAgreement, stacklevel=2)
        return float("nan")
    return float(krippendorff.alpha(reliability_data=data, value_domain=value_domain,
                                    level_of_measurement=level))


def cohen_kappa(df: pd.DataFrame, first: str, second: str, *, labels=None, weights: str | None = None) -> float:
    """Cohen's kappa between two columns (scikit-learn computes it).

    With ``weights`` ("linear" or "quadratic"), scikit-learn weighs disagreements by the position
    of the labels in ``labels``, so the order must be the ordinal one; by default it is taken from
    the columns' ordered categories (the codebook's stance order).
    """
    if weights not in (None, "linear", "quadratic"):
        raise DualroleError(f"weights must be None, 'linear' or 'quadratic', not {weights!r}")
    pairs = df[[first, second]].dropna()
    if labels is None:
        labels = _ordered_categories(df[first]) if weights else None
        if weights and labels is None:
            raise DualroleError(f"weighted kappa needs the order of {first}: pass labels=[...]")
    a, b = _as_text(pairs[first]), _as_text(pairs[second])
    if labels is not None:
        labels = [str(x) for x in labels]
    seen = sorted(set(_distinct(a)) | set(_distinct(b)))
    if len(seen) < 2:
        warnings.warn("both columns hold one and the same label, so kappa is 0/0 (undefined)",
                      UndefinedAgreement, stacklevel=2)
        return float("nan")
    # scikit-learn computes kappa from the confusion matrix alone, so the labels are passed as
    # integer codes: the same kappa, without comparing a million strings. Codes follow
    # ``labels`` (their order sets the weights); answers outside ``labels`` are left out, as
    # scikit-learn does.
    order = labels if labels is not None else seen
    codes = pd.CategoricalDtype(order)
    x = a.astype(codes).cat.codes.to_numpy()
    y = b.astype(codes).cat.codes.to_numpy()
    if labels is None or len(set(order)) == len(order):
        return float(cohen_kappa_score(x, y, labels=np.arange(len(order)), weights=weights))
    return float(cohen_kappa_score(a, b, labels=labels, weights=weights))  # repeated labels: as given


KEYS = ("single", "credited")


def reference_kappa(df: pd.DataFrame, value: str = "stance", *, weights: str | None = None,
                    by: str | None = None, key: str = "single"):
    """Cohen's kappa of the learners' answers against the reference, pooled over cases.

    ``key="single"`` (the standard definition): each answer is compared with one key per case,
    the case's first preferred option (or its stance). ``key="credited"`` is a variant of this
    project's, the *credited-key kappa*: where a case has several preferred answers, an answer
    that is one of them is compared with itself, so every preferred answer counts as agreement;
    otherwise the first preferred one. It runs a little higher than the single-key kappa and must
    be named as such when reported. ``value="stance"`` compares stances on the codebook scale
    (weights allowed); ``"option_id"`` compares options. With ``by`` (e.g. "cohort"), one kappa per group.

    Examples
    --------
    >>> from widgets.analysis import sample, answers
    >>> -1 <= reference_kappa(answers(sample(), phase="post")) <= 1
    True
    """
    if value not in ("stance", "option_id"):
        raise DualroleError(f"value must be 'stance' or 'option_id', not {value!r}")
    paired = with_reference(df, value, key=key)
    if by is not None:
        return paired.groupby(by, observed=True).apply(
            lambda g: reference_kappa(g, value, weights=weights, key=key), include_groups=False)
    labels = list(STANCES) if value == "stance" else None
    if weights and value != "stance":
        raise DualroleError("weighted kappa needs an ordinal scale: use value='stance'")
    return cohen_kappa(paired, value, "reference", labels=labels, weights=weights)


def with_reference(df: pd.DataFrame, value: str = "stance", key: str = "single") -> pd.DataFrame:
    """The frame with a ``reference`` column: the reference answer each row is compared with.

    ``key`` is as in :func:`reference_kappa`: ``"single"`` the case's first preferred answer,
    ``"credited"`` the row's own answer when it is a preferred one.
    """
    from widgets.cases.library import load_library

    if key not in KEYS:
        raise DualroleError(f"key must be one of {', '.join(KEYS)}, not {key!r}")
    library = load_library()
    refs = {}
    for case in library:
        if value == "stance":
            refs[case.id] = tuple(dict.fromkeys(case.reference_stances))
        else:
            refs[case.id] = case.preferred
    # The reference depends only on the case and the answer: work it out once per distinct pair.
    case_codes, cases = pd.factorize(_as_text(df["case_id"]))
    own_codes, owns = pd.factorize(_as_text(df[value]))
    cases, owns = [None, *map(str, cases)], [None, *map(str, owns)]  # code -1 (missing) -> None
    # Every possible pair numbered, so each row's pair number is its place in ``reference``.
    index = (case_codes.astype(np.int64) + 1) * len(owns) + own_codes + 1
    reference = []
    for c in cases:
        refs_c = refs.get(c, ())
        for own in owns:
            credited = key == "credited" and own is not None and own in refs_c
            reference.append(own if credited else (refs_c[0] if refs_c else None))
    out = df.copy(deep=False)  # copy-on-write: only the new column is added
    if value == "stance":
        stance_codes = {s: i for i, s in enumerate(STANCES)}
        codes = np.asarray([stance_codes.get(r, -1) for r in reference], dtype=np.int64)
        out["reference"] = pd.Categorical.from_codes(codes[index], dtype=pd.CategoricalDtype(STANCES, ordered=True))
    else:
        out["reference"] = pd.Series(np.asarray(reference, dtype=object)[index], index=df.index, dtype="object")
    known = out["reference"].notna().to_numpy()
    return out if known.all() else out.iloc[np.flatnonzero(known)]


def _as_text(values: pd.Series) -> pd.Series:
    """Values as text, missing values kept missing; categoricals recode their categories only."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.rename_categories([str(c) for c in values.cat.categories])
    return values.astype("str")


def _distinct(values: pd.Series) -> list[str]:
    return [str(v) for v in pd.unique(values.dropna())]


def _wide(df: pd.DataFrame, item: str, rater: str, value: str) -> pd.DataFrame:
    for column in (item, rater, value):
        if column not in df.columns:
            raise DualroleError(f"no column {column!r}; columns are: {', '.join(map(str, df.columns))}")
    ratings = df[[item, rater, value]].dropna(subset=[value])
    twice = ratings.duplicated([item, rater])
    if twice.any():
        first = ratings[twice].iloc[0]
        raise DualroleError(
            f"{rater} {first[rater]!r} rated {item} {first[item]!r} more than once: keep one "
            "answer per rater and item first (e.g. answers(df, phase='pre'))"
        )
    # As objects, so integer codes stay integers beside the NaN of a missing rating.
    ratings = ratings.assign(**{value: ratings[value].astype(object)})
    wide = ratings.pivot(index=item, columns=rater, values=value)
    return wide.astype(object).where(wide.notna(), np.nan)


def _categories(values: pd.Series, given=None) -> list:
    if given is not None:
        return list(given)
    if isinstance(values.dtype, pd.CategoricalDtype):
        return list(values.cat.categories)
    return sorted(values.dropna().unique().tolist(), key=str)


def _ordered_categories(values: pd.Series):
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype) and dtype.ordered:
        return list(dtype.categories)
    return None

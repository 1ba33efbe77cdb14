"""Pre/post change for learners who answered an item in both phases.

An item is a case answered in both phases, or a matched pair of the assessment forms: a learner
who took form A's case of pair 3 before the course and form B's after it answered pair 3 in both
phases (:mod:`widgets.cases.forms` says which case belongs to which form and pair). Exact McNemar
per item on matching the reference, Stuart–Maxwell on the stance table, Cohen's h and Wilson
intervals: statsmodels computes each; this module pairs the answers. Learners are paired on their
learner id alone, so one who set their class code between the tests stays paired.

:func:`form_effect` models every bank answer with the learner as the cluster (a GEE), so the
change from pre to post is estimated once, at learner level, with and without adjusting for the
form; :func:`form_reliability` gives KR-20 per form and phase.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.contingency_tables import SquareTable, mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint, proportion_effectsize

from widgets.analysis.frame import CASE_SETS, _group_codes, answers, take, with_flags, without_contested
from widgets.cases.forms import assessment_forms
from widgets.errors import DualroleError

PRE, POST = "pre", "post"


def with_forms(df: pd.DataFrame) -> pd.DataFrame:
    """The frame with ``form`` ('A', 'B' or missing) and ``item`` (the case, or the forms' pair) added.

    Examples
    --------
    >>> from widgets.analysis import sample
    >>> frame = with_forms(sample())
    >>> sorted(str(f) for f in frame["form"].cat.categories)
    ['A', 'B']
    """
    forms = assessment_forms()
    cases = df["case_id"].astype("category")
    categories = [str(c) for c in cases.cat.categories]
    form = {c: forms.form_of(c) for c in categories}
    item = {c: forms.pair_label(forms.pair_of(c)) if form[c] else c for c in categories}
    items = list(dict.fromkeys(item[c] for c in categories))
    return df.assign(form=_recoded(cases, form, ["A", "B"]), item=_recoded(cases, item, items))


def _recoded(cases: pd.Series, mapping: dict, categories: list) -> pd.Categorical:
    """``pd.Categorical(cases.map(mapping), categories=categories)``, looked up once per case rather
    than once per row (a value not among ``categories``, or a missing case, is missing)."""
    position = {value: i for i, value in enumerate(categories)}
    per_case = [position.get(mapping[str(c)], -1) for c in cases.cat.categories] + [-1]  # the last: code -1
    codes = np.asarray(per_case, dtype=np.int64)[cases.cat.codes.to_numpy()]
    return pd.Categorical.from_codes(codes, categories=categories)


def paired(df: pd.DataFrame, attempt: str = "first") -> pd.DataFrame:
    """One row per learner and item answered in both phases: the pre and post answers side by side.

    For the assessment forms, ``case_id`` names the matched pair ('pair 3: citizenship_oath /
    volunteer_award') and ``pre_case_id``, ``post_case_id``, ``pre_form`` and ``post_form`` say
    which case of which form the learner answered in each phase.

    Examples
    --------
    >>> from widgets.analysis import sample
    >>> pairs = paired(sample())
    >>> {"pre_match", "post_match", "pre_stance", "post_stance"} <= set(pairs.columns)
    True
    """
    keys = ["learner", "case_id"]
    columns = ["cohort", "option_id", "stance", "matches_reference", "score", "confidence"]
    df = df[[*keys, "phase", "attempt", *columns]]  # only what is paired
    chosen = answers(df, attempt=attempt)
    banked = any(assessment_forms().form_of(str(c)) for c in chosen["case_id"].cat.categories)
    if banked:
        # Pair on the item (a form pair or a case); keep which case and form each phase had.
        chosen = with_forms(chosen)
        chosen = chosen.assign(case=chosen["case_id"], case_id=chosen["item"]).drop(columns="item")
        columns = [*columns, "case", "form"]
    # Paired on integer codes of (learner, cohort, case), in the pre answers' order, as an inner
    # join of the two phases on those keys would pair them; joining on the text keys took most of
    # a second at a million responses.
    key = _group_codes(chosen, keys)
    phases = list(chosen["phase"].cat.categories)
    phase = chosen["phase"].cat.codes.to_numpy()
    pre_rows = np.flatnonzero(phase == (phases.index(PRE) if PRE in phases else -2))
    post_rows = np.flatnonzero(phase == (phases.index(POST) if POST in phases else -2))
    if key is None:  # too many distinct keys to number: let pandas join them
        pre = chosen.iloc[pre_rows].set_index(keys)[columns]
        post = chosen.iloc[post_rows].set_index(keys)[columns]
        both = pre.join(post, how="inner", suffixes=("_pre", "_post")).reset_index()
    else:
        found = pd.Index(key[post_rows]).get_indexer(key[pre_rows])  # one answer per key and phase
        matched = found >= 0
        pre = take(chosen, pre_rows[matched])
        post = take(chosen[columns], post_rows[found[matched]])
        both = pd.concat([pre[keys].reset_index(drop=True),
                          pre[columns].add_suffix("_pre").reset_index(drop=True),
                          post[columns].add_suffix("_post").reset_index(drop=True)], axis=1)
    renamed = {f"{c}_{p}": f"{p}_{c}" for c in columns for p in (PRE, POST)}
    renamed |= {f"matches_reference_{p}": f"{p}_match" for p in (PRE, POST)}
    renamed |= {f"case_{p}": f"{p}_case_id" for p in (PRE, POST)}
    both = both.rename(columns=renamed)
    # A learner who set their class code after the pre-test counts in the class of the post-test.
    both.insert(1, "cohort", both.pop("post_cohort"))
    both = both.drop(columns="pre_cohort")
    both = both.dropna(subset=["pre_match", "post_match"])
    for p in (PRE, POST):
        both[f"{p}_match"] = both[f"{p}_match"].astype(bool)
    return both


def prepost(df: pd.DataFrame, alpha: float = 0.05, exclude_contested: bool = False) -> pd.DataFrame:
    """Per case: matching the reference before and after, with exact McNemar, Cohen's h and Wilson CIs.

    ``exclude_contested`` leaves out contested and context-dependent cases, which have no single key.

    Returns
    -------
    DataFrame
        Indexed by item (a case, or a pair of the assessment forms). ``n`` pairs;
        ``pre_matching``/``post_matching`` count learners matching;
        ``improved`` (wrong before, right after) and ``worsened`` are the discordant pairs McNemar
        compares; ``pvalue`` is the exact (binomial) McNemar p and ``pvalue_holm`` the same
        adjusted for testing every item (Holm); ``cohens_h`` is positive when the
        share matching rose; ``pre_low``..``post_high`` are Wilson intervals at ``1 - alpha``;
        ``contested`` and ``context_dependent`` are the case's flags; with the forms, ``a_first``
        counts the pairs that took form A first.

    Examples
    --------
    >>> from widgets.analysis import sample
    >>> table = prepost(sample())
    >>> bool((table["pre_low"] <= table["pre_share"]).all())
    True
    """
    pairs = paired(without_contested(df) if exclude_contested else df)
    if pairs.empty:
        raise DualroleError("no learner answered a case in both the pre and the post phase")
    rows = []
    # The 2 x 2 table of every case at once, counted on integer codes.
    case_codes = pairs["case_id"].cat.codes.to_numpy().astype(np.int64)
    cell = (~pairs["pre_match"].to_numpy(dtype=bool)) * 2 + (~pairs["post_match"].to_numpy(dtype=bool))
    cases = pairs["case_id"].cat.categories
    counts = np.bincount(case_codes[case_codes >= 0] * 4 + cell[case_codes >= 0],
                         minlength=4 * len(cases)).reshape(len(cases), 2, 2)
    for code in np.flatnonzero(counts.sum(axis=(1, 2))):
        case_id, table = cases[code], counts[code]
        n = int(table.sum())
        pre_k, post_k = int(table[0].sum()), int(table[:, 0].sum())
        test = mcnemar(table, exact=True)
        pre_low, pre_high = proportion_confint(pre_k, n, alpha=alpha, method="wilson")
        post_low, post_high = proportion_confint(post_k, n, alpha=alpha, method="wilson")
        rows.append({
            "case_id": case_id, "n": n, "pre_matching": pre_k, "post_matching": post_k,
            "worsened": int(table[0, 1]), "improved": int(table[1, 0]),
            "pre_share": pre_k / n, "pre_low": pre_low, "pre_high": pre_high,
            "post_share": post_k / n, "post_low": post_low, "post_high": post_high,
            "cohens_h": float(proportion_effectsize(post_k / n, pre_k / n)),
            "pvalue": float(test.pvalue),
        })
    out = pd.DataFrame(rows)
    out["pvalue_holm"] = _holm(out["pvalue"])
    out["case_id"] = pd.Categorical(out["case_id"], categories=pairs["case_id"].cat.categories)
    if "pre_form" in pairs.columns:
        # How many of each item's pairs took form A first: the counterbalancing, item by item.
        a_first = (pairs["pre_form"] == "A").groupby(pairs["case_id"], observed=True).sum()
        out["a_first"] = out["case_id"].map(a_first).fillna(0).astype("int64")
    return with_flags(out.set_index("case_id"))


def _holm(pvalues: pd.Series) -> np.ndarray:
    """Holm's adjusted p-values, by statsmodels.

    Its Holm branch ends with a full ``gc.collect()``. The objects alive for good since start-up
    (the case library, jsonschema's parsed URI grammar: about 260,000 of them) are set aside while
    it runs, so that it does not spend up to half a second walking them for a few dozen p-values.
    """
    import gc

    gc.freeze()
    try:
        return multipletests(pvalues, method="holm")[1]
    finally:
        gc.unfreeze()


def prepost_by_cases(df: pd.DataFrame) -> pd.DataFrame:
    """Pre/post change pooled over cases, twice: over every case, and without contested or
    context-dependent ones (``cases`` says which).

    A contested case has no single key, so a learner who moves away from its reference may have
    moved to the other defensible answer; the second row shows the change where "matching the
    reference" has one meaning. Shares pool every pair (learner and case); the pairs of one
    learner are not independent, so for an interval resample learners
    (:func:`~widgets.analysis.bootstrap.bootstrap_ci`).

    Returns
    -------
    DataFrame
        One row per set of cases: ``n_cases``, ``learners``, ``n`` pairs, ``pre_matching`` and
        ``post_matching`` (pairs matching), ``pre_share``, ``post_share`` and ``cohens_h``.

    Examples
    --------
    >>> from widgets.analysis import sample
    >>> table = prepost_by_cases(sample())
    >>> list(table["cases"]), bool(table.loc[1, "n"] < table.loc[0, "n"])
    (['All cases', 'Without contested or context-dependent cases'], True)
    """
    rows = []
    for key, label in CASE_SETS.items():
        pairs = paired(without_contested(df) if key == "settled" else df)
        n = len(pairs)
        pre_k, post_k = int(pairs["pre_match"].sum()), int(pairs["post_match"].sum())
        rows.append({
            "cases": label, "n_cases": int(pairs["case_id"].nunique()), "learners": int(pairs["learner"].nunique()),
            "n": n, "pre_matching": pre_k, "post_matching": post_k,
            "pre_share": pre_k / n if n else np.nan, "post_share": post_k / n if n else np.nan,
            "cohens_h": float(proportion_effectsize(post_k / n, pre_k / n)) if n else np.nan,
        })
    return pd.DataFrame(rows)


def stance_table(df: pd.DataFrame, case_id: str | None = None) -> pd.DataFrame:
    """Pre stance (rows) by post stance (columns), over the paired answers of one case or all."""
    pairs = paired(df)
    if case_id is not None:
        pairs = pairs[pairs["case_id"] == case_id]
    stances = list(df["stance"].cat.categories)
    table = pd.crosstab(pairs["pre_stance"], pairs["post_stance"], dropna=False)
    return table.reindex(index=stances, columns=stances, fill_value=0).astype("int64")


def stance_shift(df: pd.DataFrame, case_id: str | None = None) -> pd.Series:
    """Did the stance distribution move? Stuart–Maxwell (marginal homogeneity) and Bowker (symmetry).

    Stances nobody moved into or out of carry no information and make statsmodels' covariance
    matrix singular, so they are dropped first; the statistics depend only on the changes, so
    dropping them leaves the result unchanged.

    Examples
    --------
    >>> from widgets.analysis import sample
    >>> result = stance_shift(sample())
    >>> sorted(result.index)
    ['bowker', 'bowker_df', 'bowker_pvalue', 'df', 'n', 'pvalue', 'statistic']
    """
    return homogeneity(stance_table(df, case_id))


def homogeneity(table: pd.DataFrame) -> pd.Series:
    """Stuart–Maxwell and Bowker tests on a square before × after table of counts."""
    counts = np.asarray(table, dtype=float)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise DualroleError(f"the before × after table must be square, not {counts.shape}")
    off = counts - np.diag(np.diag(counts))
    moved = (off.sum(axis=0) + off.sum(axis=1)) > 0
    n = int(counts.sum())
    if moved.sum() < 2:
        return pd.Series({"statistic": 0.0, "df": 0, "pvalue": 1.0, "bowker": 0.0, "bowker_df": 0,
                          "bowker_pvalue": 1.0, "n": n})
    square = SquareTable(counts[np.ix_(moved, moved)], shift_zeros=False)
    marginal = square.homogeneity(method="stuart_maxwell")
    symmetry = square.symmetry(method="bowker")
    return pd.Series({"statistic": float(marginal.statistic), "df": int(marginal.df),
                      "pvalue": float(marginal.pvalue), "bowker": float(symmetry.statistic),
                      "bowker_df": int(symmetry.df), "bowker_pvalue": float(symmetry.pvalue), "n": n})


def bank_answers(df: pd.DataFrame) -> pd.DataFrame:
    """First answers to the assessment forms' cases in the pre- and post-test, one row per learner and case.

    Columns: ``learner``, ``phase`` ('pre'/'post'), ``form`` ('A'/'B'), ``pair`` (1..8), ``case_id``
    and ``match`` (0/1, the answer is a preferred option).
    """
    forms = assessment_forms()
    first = answers(df[df["case_id"].astype(str).isin(forms.case_ids).to_numpy()
                       & df["phase"].isin([PRE, POST]).to_numpy()])
    case = first["case_id"].astype(str)
    return pd.DataFrame({
        "learner": first["learner"].astype(str).to_numpy(), "phase": first["phase"].astype(str).to_numpy(),
        "form": case.map(forms.form_of).to_numpy(), "pair": case.map(forms.pair_of).astype(int).to_numpy(),
        "case_id": case.to_numpy(), "match": first["matches_reference"].astype(int).to_numpy(),
    })


def form_effect(df: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """The pre/post change on the assessment forms at learner level, with and without adjusting for the form.

    A GEE (statsmodels; binomial, logit link, exchangeable correlation within a learner, robust
    standard errors) of every first answer to a bank case: ``match ~ phase + pair`` (unadjusted)
    and ``match ~ phase + form + pair`` (adjusted), plus ``phase * form`` to check that the
    forms differ alike in both tests. The learner is the cluster, so a learner's eight answers
    count as one learner's, not as eight independent ones. In the counterbalanced design the
    form term is what separates "form B is harder" from "the post-test is harder".

    Returns
    -------
    DataFrame
        One row per term: ``model`` ('unadjusted', 'adjusted', 'interaction'), ``term``
        ('post vs pre', 'form B vs A', 'post x form B'), ``log_odds``, ``low``, ``high`` (the
        ``1 - alpha`` interval), ``odds_ratio``, ``pvalue``, ``learners`` (clusters) and ``answers``.

    Examples
    --------
    >>> from widgets.analysis import sample
    >>> table = form_effect(sample())
    >>> list(table["term"])
    ['post vs pre', 'post vs pre', 'form B vs A', 'post vs pre', 'form B vs A', 'post x form B']
    """
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    data = bank_answers(df)
    if data["learner"].nunique() < 2 or data["phase"].nunique() < 2 or data["form"].nunique() < 2:
        raise DualroleError("the form effect needs answers to both forms in both tests from at least two learners")
    data = data.assign(post=(data["phase"] == POST).astype(int), form_b=(data["form"] == "B").astype(int))
    data = data.sort_values("learner", kind="stable").reset_index(drop=True)
    models = {"unadjusted": "match ~ post + C(pair)", "adjusted": "match ~ post + form_b + C(pair)",
              "interaction": "match ~ post * form_b + C(pair)"}
    names = {"post": "post vs pre", "form_b": "form B vs A", "post:form_b": "post x form B"}
    rows = []
    for model, formula in models.items():
        fit = smf.gee(formula, groups="learner", data=data, family=sm.families.Binomial(),
                      cov_struct=sm.cov_struct.Exchangeable()).fit()
        interval = fit.conf_int(alpha=alpha)
        for term, label in names.items():
            if term in fit.params.index:
                rows.append({"model": model, "term": label, "log_odds": float(fit.params[term]),
                             "low": float(interval.loc[term, 0]), "high": float(interval.loc[term, 1]),
                             "odds_ratio": float(np.exp(fit.params[term])), "pvalue": float(fit.pvalues[term]),
                             "learners": int(data["learner"].nunique()), "answers": len(data)})
    return pd.DataFrame(rows)


def form_reliability(df: pd.DataFrame) -> pd.DataFrame:
    """KR-20 of each form in each test, on the learners who answered all of its cases.

    KR-20 = k/(k-1) * (1 - sum(p*q) / var(total)) for k items scored 0/1 (matching the reference).

    Returns
    -------
    DataFrame
        One row per form and phase: ``learners`` (complete answer sets), ``items``, ``mean``
        (mean total), ``kr20`` (NaN with fewer than two learners or no spread of totals).

    Examples
    --------
    >>> from widgets.analysis import sample
    >>> table = form_reliability(sample())
    >>> sorted(table["form"].unique()), int(table["items"].max())
    (['A', 'B'], 8)
    """
    data = bank_answers(df)
    forms = assessment_forms()
    rows = []
    for (form, phase), part in data.groupby(["form", "phase"], sort=True):
        wide = part.pivot_table(index="learner", columns="case_id", values="match", aggfunc="first")
        wide = wide.reindex(columns=list(forms.forms[form])).dropna()
        k, n = wide.shape[1], len(wide)
        totals = wide.sum(axis=1)
        variance = float(totals.var(ddof=1)) if n > 1 else np.nan
        p = wide.mean(axis=0)
        kr20 = (k / (k - 1) * (1 - float((p * (1 - p)).sum()) / variance)
                if n > 1 and k > 1 and variance > 0 else np.nan)
        rows.append({"form": form, "phase": phase, "learners": n, "items": k,
                     "mean": float(totals.mean()) if n else np.nan, "kr20": kr20})
    return pd.DataFrame(rows)

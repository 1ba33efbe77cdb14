"""Coders' agreement on the codebook, and the patterns of codes in the reasoning.

Pure pandas over coding sheets (:class:`widgets.store.codings.CodingBook`) and the tidy response
frame. Agreement is computed per code on presence (the code applied anywhere in the answer, or
not), over the answers that two or more coders coded independently; reconciled sheets never count.

- Krippendorff's alpha per code, nominal, from the ``krippendorff`` package (raters x units).
- Cohen's kappa per pair of coders and per code, from scikit-learn.
- The disagreements: each answer and code on which the coders differ, to discuss.
"""

from __future__ import annotations

import warnings
from itertools import combinations

import numpy as np
import pandas as pd

PRESENCE_COLUMNS = ["response_id", "case_id", "coder", "code", "present"]


def presence(sheets: list[dict], codes: list[str]) -> pd.DataFrame:
    """One row per answer, coder and code: ``present`` is 1 when the coder applied the code anywhere."""
    rows = []
    for sheet in sheets:
        applied = {s["code"] for s in sheet["segments"]}
        rows += [{"response_id": sheet["response_id"], "case_id": sheet["case_id"], "coder": sheet["coder"],
                  "code": code, "present": int(code in applied)} for code in codes]
    return pd.DataFrame(rows, columns=PRESENCE_COLUMNS)


def double_coded(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of answers coded by two or more coders: the only ones agreement is computed on."""
    coders = table.groupby("response_id")["coder"].nunique()
    return table[table["response_id"].isin(coders[coders >= 2].index)]


def nominal_alpha(reliability_data) -> float:
    """Krippendorff's alpha for nominal data; ``reliability_data`` is raters x units, NaN where missing.

    >>> round(nominal_alpha([[0, 1, 0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]]), 3)
    0.095
    """
    import krippendorff

    data = np.asarray(reliability_data, dtype=float)
    values = np.unique(data[~np.isnan(data)])
    if len(values) < 2:
        return float("nan")  # every coder gave every answer the same value: alpha is undefined
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))


def code_alpha(table: pd.DataFrame) -> pd.DataFrame:
    """Krippendorff's alpha per code over the independently double-coded answers.

    Columns: ``code``, ``alpha`` (NaN when no coder varied), ``answers`` and ``coders``.
    """
    both = double_coded(table)
    rows = []
    for code, part in both.groupby("code", sort=False):
        matrix = part.pivot_table(index="coder", columns="response_id", values="present", aggfunc="last")
        rows.append({"code": code, "alpha": nominal_alpha(matrix.to_numpy(dtype=float)),
                     "answers": matrix.shape[1], "coders": matrix.shape[0]})
    return pd.DataFrame(rows, columns=["code", "alpha", "answers", "coders"])


def pair_kappa(table: pd.DataFrame) -> pd.DataFrame:
    """Cohen's kappa for each pair of coders and each code, over the answers both coded.

    Columns: ``first``, ``second``, ``code``, ``n``, ``agreement`` (share identical) and ``kappa``
    (NaN when undefined, as when both coders gave every answer the same value).
    """
    from sklearn.exceptions import UndefinedMetricWarning
    from sklearn.metrics import cohen_kappa_score

    both = double_coded(table)
    rows = []
    coders = sorted(both["coder"].unique())
    for first, second in combinations(coders, 2):
        pair = both[both["coder"].isin([first, second])]
        wide = pair.pivot_table(index=["code", "response_id"], columns="coder", values="present",
                                aggfunc="last").dropna()
        for code, part in wide.groupby(level="code", sort=False):
            a, b = part[first].astype(int), part[second].astype(int)
            with warnings.catch_warnings():  # undefined (no variation) is reported as NaN, as documented
                warnings.simplefilter("ignore", UndefinedMetricWarning)
                kappa = cohen_kappa_score(a, b, labels=[0, 1], replace_undefined_by=np.nan)
            rows.append({"first": first, "second": second, "code": code, "n": len(part),
                         "agreement": float((a == b).mean()), "kappa": float(kappa)})
    return pd.DataFrame(rows, columns=["first", "second", "code", "n", "agreement", "kappa"])


def disagreements(table: pd.DataFrame) -> pd.DataFrame:
    """Each double-coded answer and code on which the coders differ, with who applied it and who did not."""
    both = double_coded(table)
    spread = both.groupby(["response_id", "code"], sort=False)["present"].agg(["min", "max"])
    split = spread[spread["min"] != spread["max"]].index
    rows = both.set_index(["response_id", "code"]).loc[split].reset_index()
    if rows.empty:
        return pd.DataFrame(columns=["response_id", "case_id", "code", "applied_by", "not_by"])
    keys = ["response_id", "code"]

    def names(present: int) -> pd.Series:
        return rows[rows["present"] == present].groupby(keys, sort=False)["coder"].agg(lambda c: ", ".join(sorted(c)))

    who = rows.groupby(keys, sort=False)["case_id"].first().to_frame()
    who["applied_by"], who["not_by"] = names(1), names(0)
    return who.reset_index()[["response_id", "case_id", "code", "applied_by", "not_by"]]


# -- patterns in the reasoning ---------------------------------------------------------------------


def coded_answers(frame: pd.DataFrame, sheets: list[dict], codes: list[str]) -> pd.DataFrame:
    """The response frame joined to one sheet per answer (reconciled, else the only coder's): a 0/1 column per code.

    ``sheets`` are the sheets to use, at most one per answer (a later one wins); answers without a
    sheet are left out.
    """
    chosen = {s["response_id"]: s for s in sheets}
    present = pd.DataFrame([{"response_id": rid, **{c: int(c in {s["code"] for s in sheet["segments"]})
                                                     for c in codes}}
                            for rid, sheet in chosen.items()], columns=["response_id", *codes])
    return frame.merge(present, on="response_id", how="inner")


def codes_by_choice(coded: pd.DataFrame, codes: list[str], by=("case_id", "option_id")) -> pd.DataFrame:
    """Per group (by default case and option): ``n`` answers and the share of them carrying each code."""
    grouped = coded.groupby(list(by), observed=True)
    out = grouped[codes].mean()
    out.insert(0, "n", grouped.size())
    return out.reset_index()


def codes_pre_post(coded: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """The share of first-attempt answers carrying each code, pre and post, among learners coded in both phases.

    Columns: ``code``, ``pre``, ``post``, ``change`` (post minus pre) and ``learners``.
    """
    first = coded[coded["attempt"] == 1]
    per = first.groupby(["learner", "phase"])[codes].mean()
    phases = per.index.get_level_values("phase")
    if not {"pre", "post"} <= set(phases):
        return pd.DataFrame(columns=["code", "pre", "post", "change", "learners"])
    wide = per.unstack("phase").dropna()
    learners = len(wide)
    rows = [{"code": c, "pre": float(wide[(c, "pre")].mean()), "post": float(wide[(c, "post")].mean())}
            for c in codes]
    out = pd.DataFrame(rows)
    out["change"] = out["post"] - out["pre"]
    out["learners"] = learners
    return out


def codes_by_change(coded: pd.DataFrame, frame: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """The first-attempt codes of learners who changed their answer at the revote, against those who kept it.

    Only answers whose learner saw the class (those with a revote, or post answers in class mode
    that could have had one) are compared: a ``changed`` answer has a second attempt with another
    option. Columns: ``group`` (``changed``/``kept``), ``n`` and the share carrying each code.
    """
    revotes = frame[frame["attempt"] == 2][["learner", "cohort", "case_id", "phase", "option_id"]]
    keys = ["learner", "cohort", "case_id", "phase"]
    first = coded[coded["attempt"] == 1].merge(revotes.rename(columns={"option_id": "second"}), on=keys, how="left")
    seen = first["phase"].isin(set(revotes["phase"])) & first["case_id"].isin(set(revotes["case_id"]))
    first = first[seen]
    first["group"] = np.where(first["second"].notna() & (first["second"] != first["option_id"]), "changed", "kept")
    grouped = first.groupby("group")
    out = grouped[codes].mean()
    out.insert(0, "n", grouped.size())
    return out.reset_index()

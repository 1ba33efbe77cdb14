"""From answers to grades: rubric score tables, agreement between two scorers, completion and grades.

Pure functions over the tidy response frame (:func:`widgets.analysis.frame.responses`) and the score
sheets the store keeps (:meth:`widgets.store.scores.ScoreBook.sheets`). Completion never looks at
which option was chosen: the pre- and post-test count for being done, not for being right.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from widgets.cases.library import Library
from widgets.grading.files import ASSESSMENT_PHASES, GradingPolicy, RosterEntry, Rubric

GRADE_COLUMNS = ["learner", "assignment", "done", "of", "completion", "scored", "rubric_share", "points",
                 "grade"]


def roster_check(learners: Iterable[str], roster: list[RosterEntry]) -> tuple[list[str], list[RosterEntry]]:
    """Learners with answers who are not on the roster, and roster entries with no answers.

    >>> from widgets.grading.files import RosterEntry
    >>> roster_check(["ana", "ben"], [RosterEntry("ben"), RosterEntry("cy")])
    (['ana'], [RosterEntry(learner_id='cy', name='', email='', lms_id='', sis_id='', section='', line=0)])
    """
    have = set(learners)
    listed = {e.learner_id for e in roster}
    return sorted(have - listed), [e for e in roster if e.learner_id not in have]


def score_table(sheets: list[dict], rubric: Rubric) -> pd.DataFrame:
    """One row per response and scorer (their latest sheet): a column per criterion, ``total``,
    ``complete`` (every criterion scored) and ``share`` (total over the rubric's top, when complete).

    Sheets given under another rubric are left out.
    """
    ids = [c.id for c in rubric.criteria]
    rows = [{"response_id": s["response_id"], "learner": s["learner"], "case_id": s["case_id"],
             "scorer": s["scorer"], "comment": s.get("comment", ""), "scored_at": s["scored_at"],
             **{c: s["levels"].get(c) for c in ids}}
            for s in sheets if s["rubric_id"] == rubric.id]
    frame = pd.DataFrame(rows, columns=["response_id", "learner", "case_id", "scorer", "comment", "scored_at", *ids])
    frame = frame.drop_duplicates(["response_id", "scorer"], keep="last")
    levels = frame[ids].apply(pd.to_numeric).astype("Float64")
    frame[ids] = levels
    frame["complete"] = levels.notna().all(axis=1).astype(bool)
    frame["total"] = levels.sum(axis=1, skipna=True)
    frame["share"] = (frame["total"].astype(float) / rubric.top).where(frame["complete"])
    return frame.reset_index(drop=True)


def scorer_agreement(scores: pd.DataFrame, rubric: Rubric, first: str, second: str,
                     weights: str = "quadratic") -> pd.DataFrame:
    """Weighted Cohen's kappa between two scorers, per criterion, on the answers both scored.

    Parameters
    ----------
    scores : DataFrame
        From :func:`score_table`.
    first, second : str
        The two scorers.
    weights : {"quadratic", "linear"}
        How far apart two levels are: scikit-learn's ``cohen_kappa_score(weights=...)``.

    Returns
    -------
    DataFrame
        ``criterion``, ``label``, ``n`` (answers both scored on it), ``exact`` (share of equal levels)
        and ``kappa`` (NaN when it is undefined: fewer than two answers, or no variation at all).
    """
    from sklearn.metrics import cohen_kappa_score

    a = scores[scores["scorer"] == first].set_index("response_id")
    b = scores[scores["scorer"] == second].set_index("response_id")
    both = a.index.intersection(b.index)
    rows = []
    for c in rubric.criteria:
        pair = pd.DataFrame({"a": a.loc[both, c.id], "b": b.loc[both, c.id]}).dropna()
        x, y = pair["a"].astype(int).to_numpy(), pair["b"].astype(int).to_numpy()
        kappa = np.nan
        if len(pair) >= 2 and len(set(x) | set(y)) > 1:
            kappa = float(cohen_kappa_score(x, y, weights=weights, labels=list(range(c.top + 1))))
        rows.append({"criterion": c.id, "label": c.label, "n": len(pair),
                     "exact": float((x == y).mean()) if len(pair) else np.nan, "kappa": kappa})
    return pd.DataFrame(rows, columns=["criterion", "label", "n", "exact", "kappa"])


def lesson_cases(library: Library, lesson: str, assessment: list[str]) -> list[str]:
    """The case ids a lesson key covers: a module's lesson cases, or the assessment's for pre/post."""
    if lesson in ASSESSMENT_PHASES:
        return list(assessment)
    return [c.id for c in library.module(lesson)]


def grades(df: pd.DataFrame, scores: pd.DataFrame, policy: GradingPolicy, library: Library,
           assessment: list[str], *, learners: Iterable[str] = ()) -> pd.DataFrame:
    """Each learner's figures and grade for each assignment of the policy.

    A module's case counts as done when the learner committed an answer to it (in any phase) with at
    least ``policy.min_reasoning_words`` words of reasoning; ``pre`` and ``post`` count the assessment's
    cases answered in that phase. Which option was chosen never counts. ``rubric_share`` is the mean,
    over the learner's fully scored answers in the assignment, of their total over the rubric's top
    (each answer's scorers averaged); where nothing is scored yet it is missing, ``scored`` is False
    and the grade holds the completion points only.

    ``learners`` adds learners with no answers at all (a roster's), who get zero.

    Returns
    -------
    DataFrame
        :data:`GRADE_COLUMNS`, one row per learner and assignment, in the policy's order.
    """
    words = df["justification"].astype("str").fillna("").str.split().str.len()  # text or a categorical
    done = df.loc[words >= policy.min_reasoning_words, ["learner", "case_id", "phase"]].astype(str)
    complete = scores[scores["complete"]] if len(scores) else scores
    per_answer = (complete.groupby(["learner", "case_id", "response_id"])["share"].mean().reset_index()
                  if len(complete) else pd.DataFrame(columns=["learner", "case_id", "response_id", "share"]))
    everyone = sorted(set(df["learner"].astype(str)) | set(learners))
    rows = []
    for assignment in policy.assignments:
        modules = [lesson for lesson in assignment.lessons if lesson not in ASSESSMENT_PHASES]
        module_cases = {case for m in modules for case in lesson_cases(library, m, assessment)}
        phases = [lesson for lesson in assignment.lessons if lesson in ASSESSMENT_PHASES]
        # The bank holds two matched forms; each learner takes one of them in each phase.
        form_size = len(assessment) // 2
        of = len(module_cases) + form_size * len(phases)
        in_modules = done[done["case_id"].isin(module_cases)].drop_duplicates(["learner", "case_id"])
        counts = in_modules.groupby("learner").size()
        for phase in phases:
            in_phase = done[(done["phase"] == phase) & done["case_id"].isin(assessment)]
            answered = in_phase.drop_duplicates(["learner", "case_id"]).groupby("learner").size()
            counts = counts.add(answered.clip(upper=form_size), fill_value=0)
        rubric = (per_answer[per_answer["case_id"].isin(module_cases)].groupby("learner")["share"].mean()
                  if assignment.rubric_points else pd.Series(dtype=float))
        for learner in everyone:
            n = int(counts.get(learner, 0))
            completion = n / of if of else 0.0
            share = rubric.get(learner, np.nan)
            scored = bool(assignment.rubric_points) and not pd.isna(share)
            grade = assignment.completion_points * completion + (assignment.rubric_points * share if scored else 0)
            rows.append({"learner": learner, "assignment": assignment.name, "done": n, "of": of,
                         "completion": completion, "scored": scored, "rubric_share": share if scored else np.nan,
                         "points": assignment.points, "grade": round(float(grade), 2)})
    return pd.DataFrame(rows, columns=GRADE_COLUMNS)


def grade_sheet(table: pd.DataFrame) -> pd.DataFrame:
    """The gradebook's shape: one row per learner, one column per assignment (in the policy's order)."""
    order = list(dict.fromkeys(table["assignment"]))
    wide = table.pivot(index="learner", columns="assignment", values="grade")
    return wide[order].reset_index().rename_axis(columns=None)

"""From answers to grades: rubric score tables, agreement between two scorers, completion and grades.

Pure functions over the tidy response frame (:func:`widgets.analysis.frame.responses`) and the score
sheets the store keeps (:meth:`widgets.store.scores.ScoreBook.sheets`). Completion never looks at
which option was chosen: the pre- and post-test count for being done, not for being right.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from widgets.cases import course
from widgets.cases.library import Library
from widgets.grading.files import ASSESSMENT_PHASES, GradingPolicy, RosterEntry, Rubric
from widgets.responses.contract import reasoning_shortfall
from widgets.vocab import MODULES

GRADE_COLUMNS = ["learner", "assignment", "done", "of", "completion", "scored", "to_score", "rubric_share",
                 "points", "grade", "status"]


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
    """One row per response and grader (their latest sheet): a column per criterion, ``total``,
    ``complete`` (every criterion scored) and ``share`` (total over the rubric's top, when complete).

    Only sheets under this rubric and this version of it count: a sheet given under another version
    keeps that version's meaning and is never rescaled to this one. ``attrs["other_versions"]``
    counts the sheets left out for that reason.
    """
    ids = [c.id for c in rubric.criteria]
    mine = [s for s in sheets if s["rubric_id"] == rubric.id]
    rows = [{"response_id": s["response_id"], "learner": s["learner"], "case_id": s["case_id"],
             "scorer": s["scorer"], "comment": s.get("comment", ""), "scored_at": s["scored_at"],
             **{c: s["levels"].get(c) for c in ids}}
            for s in mine if s["rubric_version"] == rubric.version]
    frame = pd.DataFrame(rows, columns=["response_id", "learner", "case_id", "scorer", "comment", "scored_at", *ids])
    frame = frame.drop_duplicates(["response_id", "scorer"], keep="last")
    levels = frame[ids].apply(pd.to_numeric).astype("Float64")
    frame[ids] = levels
    frame["complete"] = levels.notna().all(axis=1).astype(bool)
    frame["total"] = levels.sum(axis=1, skipna=True)
    frame["share"] = (frame["total"].astype(float) / rubric.top).where(frame["complete"])
    frame = frame.reset_index(drop=True)
    frame.attrs["other_versions"] = len(mine) - len(rows)
    return frame


def grader_alpha(scores: pd.DataFrame, rubric: Rubric) -> pd.DataFrame:
    """Krippendorff's alpha (ordinal) per criterion, across every grader, for three or more graders.

    Only graders' own sheets count (each entered blind; a reconciled score is not a grader's), and
    only answers that at least two graders scored on that criterion.

    Returns
    -------
    DataFrame
        ``criterion``, ``label``, ``graders``, ``n`` (answers with two or more levels) and ``alpha``
        (NaN when undefined: fewer than two such answers, or no variation at all).
    """
    import krippendorff

    graders = sorted(scores["scorer"].unique())
    rows = []
    for c in rubric.criteria:
        wide = scores.pivot_table(index="scorer", columns="response_id", values=c.id, aggfunc="last")
        wide = wide.reindex(graders).astype(float)
        wide = wide.loc[:, wide.notna().sum(axis=0) >= 2]
        alpha = np.nan
        values = wide.to_numpy()
        if wide.shape[1] >= 2 and len(set(values[~np.isnan(values)])) > 1:
            alpha = float(krippendorff.alpha(reliability_data=values, level_of_measurement="ordinal",
                                             value_domain=list(range(c.top + 1))))
        rows.append({"criterion": c.id, "label": c.label, "graders": len(graders), "n": wide.shape[1],
                     "alpha": alpha})
    return pd.DataFrame(rows, columns=["criterion", "label", "graders", "n", "alpha"])


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


def lesson_cases(library: Library, lesson: str, assessment: list[str], *, core: bool = False) -> list[str]:
    """The case ids a lesson key covers: the cases the course lists for a module's lesson
    (``data/course.yaml``, the one source of lesson membership), or the assessment's for pre/post.
    With ``core``, a lesson's optional cases are left out (:func:`widgets.cases.course.core_case_ids`).
    ``library`` is kept for callers; membership no longer depends on a case's own ``module`` field."""
    if lesson in ASSESSMENT_PHASES:
        return list(assessment)
    return list(course.core_case_ids(lesson) if core else course.module_case_ids(lesson))


def taught_lessons(df: pd.DataFrame, policy: GradingPolicy, library: Library, assessment: list[str]) -> list[str]:
    """The lessons this term assigns: the policy's ``taught``, else those the class has answered."""
    if policy.taught is not None:
        return list(policy.taught)
    answered = set(df["case_id"].astype(str))
    lessons = {library[c].module for c in answered if c in library and c not in assessment}
    phases = set(df.loc[df["case_id"].astype(str).isin(assessment), "phase"].astype(str)) & set(ASSESSMENT_PHASES)
    return [lesson for lesson in (*MODULES, *ASSESSMENT_PHASES) if lesson in lessons | phases]


def grades(df: pd.DataFrame, finals: pd.DataFrame, policy: GradingPolicy, library: Library,
           assessment: list[str], *, learners: Iterable[str] = (), default_rubric: str | None = None) -> pd.DataFrame:
    """Each learner's figures and grade for each assignment of the policy that this term assigns.

    Only the lessons taught (:func:`taught_lessons`) count, and an assignment with none of them gets
    no column. Completion counts a lesson's core cases, as the course lists them (its optional cases
    are left out of ``done`` and ``of`` alike); the rubric share counts every answer to the lesson's
    cases, optional ones included. A case counts as done when the learner committed an answer to it (in
    any phase) whose reasoning meets the card's own rule (:func:`widgets.responses.contract.reasoning_shortfall`);
    ``pre`` and ``post`` count the assessment's cases answered in that phase. Which option was chosen
    never counts. ``rubric_share`` is the mean, over the learner's answers in the assignment that
    have a final score (:mod:`widgets.grading.final`), of that score's share of the rubric's top.

    A learner with no work in an assignment gets what ``policy.missing`` says (``blank``,
    ``excused`` or ``zero``), never a silent 0; one whose answers are not yet scored is
    ``unscored`` (a blank) in a rubric assignment.

    An assignment that names ``cases`` counts only those cases, and scores each learner's last
    answer to each (a written analysis is read beside it); one that names a ``rubric`` counts the
    final scores under that rubric, the others those under ``default_rubric``.

    Parameters
    ----------
    finals : DataFrame
        ``response_id``, ``share`` (NaN where the answer has no final score yet) and, where answers
        are scored on more than one rubric, ``rubric_id``.
    learners : iterable of str
        Learners with no answers at all (a roster's), who get what ``policy.missing`` says.
    default_rubric : str, optional
        The rubric id of the assignments that name none (needed only with a ``rubric_id`` column).

    Returns
    -------
    DataFrame
        :data:`GRADE_COLUMNS`, one row per learner and assignment, in the policy's order. ``grade`` is
        NaN where the cell is blank or excused; ``status`` is ``graded``, ``unscored``, ``blank``,
        ``excused`` or ``zero``. ``attrs["taught"]`` names the lessons counted.
    """
    texts = df["justification"].astype("str").fillna("")
    enough = {t: reasoning_shortfall(t) == 0 for t in texts.unique()}
    done = df.loc[texts.map(enough).astype(bool), ["learner", "case_id", "phase"]].astype(str)
    rubric_ids = finals["rubric_id"] if "rubric_id" in finals else [default_rubric] * len(finals)
    shares = {(r, rubric): s for r, rubric, s in zip(finals["response_id"], rubric_ids, finals["share"])}
    answers = df[["response_id", "learner", "case_id", "attempt", "submitted_at"]].copy()
    answers[["response_id", "learner", "case_id"]] = answers[["response_id", "learner", "case_id"]].astype(str)
    # Each learner's last answer to a case: the one an assignment of named cases scores.
    last = set(answers.sort_values(["attempt", "submitted_at"]).drop_duplicates(["learner", "case_id"], keep="last")
               ["response_id"])
    taught = taught_lessons(df, policy, library, assessment)
    everyone = sorted(set(df["learner"].astype(str)) | set(learners))
    rows = []
    for assignment in policy.assignments:
        lessons = [lesson for lesson in assignment.lessons if lesson in taught]
        if not lessons:
            continue
        modules = [lesson for lesson in lessons if lesson not in ASSESSMENT_PHASES]
        module_cases = {case for m in modules for case in lesson_cases(library, m, assessment)}
        core_cases = {case for m in modules for case in lesson_cases(library, m, assessment, core=True)}
        if assignment.cases:  # an assignment of named cases counts those, optional or not
            module_cases &= set(assignment.cases)
            core_cases = set(module_cases)
        phases = [lesson for lesson in lessons if lesson in ASSESSMENT_PHASES]
        # The bank holds two matched forms; each learner takes one of them in each phase.
        form_size = len(assessment) // 2
        of = len(core_cases) + form_size * len(phases) if assignment.completion_points else 0
        in_modules = done[done["case_id"].isin(core_cases)].drop_duplicates(["learner", "case_id"])
        counts = in_modules.groupby("learner").size()
        for phase in phases:
            in_phase = done[(done["phase"] == phase) & done["case_id"].isin(assessment)]
            answered = in_phase.drop_duplicates(["learner", "case_id"]).groupby("learner").size()
            counts = counts.add(answered.clip(upper=form_size), fill_value=0)
        to_score = answers[answers["case_id"].isin(module_cases)] if assignment.rubric_points else answers.iloc[:0]
        if assignment.cases:
            to_score = to_score[to_score["response_id"].isin(last)]
        rubric_id = assignment.rubric or default_rubric
        to_score = to_score.assign(share=[shares.get((r, rubric_id), np.nan) for r in to_score["response_id"]])
        to_score = to_score.astype({"share": float})
        scored = to_score.dropna(subset=["share"])
        rubric = scored.groupby("learner")["share"].mean()
        n_to_score = to_score.groupby("learner").size()
        n_scored = scored.groupby("learner").size()
        for learner in everyone:
            n = int(counts.get(learner, 0))
            completion = n / of if of else np.nan
            mean = rubric.get(learner, np.nan)
            waiting = int(n_to_score.get(learner, 0))
            if n == 0 and waiting == 0:
                status = policy.missing
                grade = 0.0 if status == "zero" else np.nan
            elif assignment.rubric_points and pd.isna(mean):
                status, grade = "unscored", np.nan
            else:
                status = "graded"
                grade = (assignment.completion_points * (completion if of else 0)
                         + (assignment.rubric_points * mean if assignment.rubric_points else 0))
                grade = round(float(grade), 2)
            rows.append({"learner": learner, "assignment": assignment.name, "done": n, "of": of,
                         "completion": completion, "scored": int(n_scored.get(learner, 0)), "to_score": waiting,
                         "rubric_share": mean, "points": assignment.points, "grade": grade, "status": status})
    table = pd.DataFrame(rows, columns=GRADE_COLUMNS)
    table.attrs["taught"] = taught
    return table


def grade_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per assignment: learners, how many cells are graded, blank, excused and zero, and answers
    scored out of answers to score: what an instructor checks before a gradebook goes out."""
    rows = []
    for name, part in table.groupby("assignment", sort=False):
        rows.append({"assignment": name, "learners": len(part),
                     "complete": int((part["status"] == "graded").sum()),
                     "blank": int(part["status"].isin(["blank", "unscored"]).sum()),
                     "excused": int((part["status"] == "excused").sum()),
                     "zero": int((part["grade"] == 0).sum()),
                     "scored": int(part["scored"].sum()), "to_score": int(part["to_score"].sum())})
    return pd.DataFrame(rows, columns=["assignment", "learners", "complete", "blank", "excused", "zero", "scored",
                                       "to_score"])


EXCUSED = "EX"


def grade_sheet(table: pd.DataFrame) -> pd.DataFrame:
    """The gradebook's shape: one row per learner, one column per assignment (in the policy's order).

    A cell is the grade, NaN where it is blank, or :data:`EXCUSED`.
    """
    order = list(dict.fromkeys(table["assignment"]))
    cells = table["grade"].astype(object).where(table["status"] != "excused", EXCUSED)
    wide = table.assign(cell=cells).pivot(index="learner", columns="assignment", values="cell")
    return wide[order].reset_index().rename_axis(columns=None)

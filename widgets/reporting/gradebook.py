"""Gradebook files an LMS imports: Canvas, Moodle, or a plain CSV.

- **canvas**: the columns Canvas's gradebook import expects: ``Student``, ``ID`` (the Canvas user id,
  the roster's ``lms_id``), ``SIS User ID``, ``SIS Login ID``, ``Section``, then one column per
  assignment, with the optional ``Points Possible`` row second.
- **moodle**: one identifier column that Moodle's grade import maps to a user field (``Email
  address``, ``Username`` or ``ID number``), then one column per grade item.
- **plain**: ``learner_id``, name and section, one column per assignment, and ``on_roster``.

Canvas and Moodle can match only learners on the roster; the others are returned to be reported
(``plain`` keeps them, marked), never silently dropped. Only roster fields a gradebook needs are
written: nothing here is a research export.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from widgets.errors import DualroleError
from widgets.grading.files import RosterEntry

FORMATS = ("canvas", "moodle", "plain")
MOODLE_IDS = {"email": ("Email address", "email"), "username": ("Username", "learner_id"),
              "idnumber": ("ID number", "sis_id")}
CANVAS_POINTS_ROW = "    Points Possible"


@dataclass
class Gradebook:
    """What was written: how many learners, and who could not be put in it."""

    path: Path
    written: int
    not_on_roster: list[str]
    missing_id: list[str]
    rubric_assignments: list[str] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)


class _SafeWriter:
    """A CSV writer whose text cells cannot run as spreadsheet formulas.

    Names and ids come from the instructor's roster; a cell starting with ``=``, ``+``, ``-``, ``@``
    or a control character would run as a formula when the file is opened in a spreadsheet, so it gets
    a leading apostrophe, as spreadsheets do for text. Grades are numbers and pass unchanged.
    """

    _FORMULA = ("=", "+", "-", "@", "\t", "\r")

    def __init__(self, writer):
        self.writer = writer

    def writerow(self, row) -> None:
        self.writer.writerow([self._safe(cell) for cell in row])

    def _safe(self, cell):
        if isinstance(cell, str) and cell.startswith(self._FORMULA) and not _is_number(cell):
            return "'" + cell
        return cell


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def write_gradebook(sheet: pd.DataFrame, points: dict[str, float], roster: list[RosterEntry], out: Path | str,
                    fmt: str = "plain", *, moodle_id: str = "email", missing=float("nan")) -> Gradebook:
    """Write ``sheet`` (from :func:`widgets.analysis.grades.grade_sheet`) as a gradebook file.

    Parameters
    ----------
    sheet : DataFrame
        ``learner`` then one column per assignment.
    points : dict
        Each assignment's points possible (Canvas's second row).
    roster : list of RosterEntry
        The class list; it gives each learner's LMS fields, and learners on it with no answers get zero.
    fmt : {"canvas", "moodle", "plain"}
    moodle_id : {"email", "username", "idnumber"}
        The Moodle user field the identifier column holds (roster ``email``, ``learner_id`` or ``sis_id``).
    missing : float or str
        The cell of a learner with no row in ``sheet``: NaN (blank), 0 or ``"EX"``.

    A blank cell is written empty (no grade: Canvas and Moodle change nothing); ``"EX"`` is Canvas's
    excused, written as a blank for Moodle, which has no such mark. Refuses to write a gradebook
    with no learner in it.
    """
    if fmt not in FORMATS:
        raise DualroleError(f"unknown gradebook format {fmt!r}; use one of: {', '.join(FORMATS)}")
    assignments = [c for c in sheet.columns if c != "learner"]
    grades = sheet.set_index("learner")
    by_id = {e.learner_id: e for e in roster}
    not_on_roster = sorted(set(grades.index) - set(by_id))
    missing_id: list[str] = []
    buffer = io.StringIO()
    writer = _SafeWriter(csv.writer(buffer, lineterminator="\n"))

    def grade_cells(learner: str) -> list[str]:
        # A learner on the roster with no answers at all has no row: every cell is what the policy
        # gives missing work, which the sheet's own rows already say; a blank means "no grade" in
        # both LMSs, so it overwrites nothing.
        row = grades.loc[learner] if learner in grades.index else None
        return [_cell(row[a] if row is not None else missing, fmt) for a in assignments]

    if fmt == "canvas":
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *assignments])
        writer.writerow([CANVAS_POINTS_ROW, "", "", "", "", *[_number(points[a]) for a in assignments]])
        for e in roster:
            if not (e.lms_id or e.sis_id):
                missing_id.append(e.learner_id)
            writer.writerow([e.name or e.learner_id, e.lms_id, e.sis_id, e.learner_id, e.section,
                             *grade_cells(e.learner_id)])
    elif fmt == "moodle":
        if moodle_id not in MOODLE_IDS:
            raise DualroleError(f"unknown Moodle identifier {moodle_id!r}; use one of: {', '.join(MOODLE_IDS)}")
        header, field = MOODLE_IDS[moodle_id]
        writer.writerow([header, *assignments])
        for e in roster:
            value = getattr(e, field)
            if not value:
                missing_id.append(e.learner_id)
                continue
            writer.writerow([value, *grade_cells(e.learner_id)])
    else:
        writer.writerow(["learner_id", "name", "section", *assignments, "on_roster"])
        for e in roster:
            writer.writerow([e.learner_id, e.name, e.section, *grade_cells(e.learner_id), "yes"])
        for learner in not_on_roster:
            writer.writerow([learner, "", "", *grade_cells(learner), "no"])
    written = len(roster) - (len(missing_id) if fmt == "moodle" else 0) + (len(not_on_roster) if fmt == "plain" else 0)
    if written == 0:
        needs = {"moodle": f"the roster's {MOODLE_IDS[moodle_id][1]} column", "canvas": "a roster"}.get(fmt, "a roster")
        raise DualroleError(f"the gradebook would hold no learner: nothing was written to {out} (it needs {needs} "
                            "filled in for the class)")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_text(buffer.getvalue(), encoding="utf-8")
    os.replace(tmp, out)
    return Gradebook(out, written, not_on_roster, missing_id)


def _cell(value, fmt: str) -> str:
    if isinstance(value, str):  # excused
        return value if fmt != "moodle" else ""
    if value is None or pd.isna(value):
        return ""
    return _number(value)


def _number(value) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:.2f}".rstrip("0")


def grade_table(store, *, policy=None, rubric=None, roster: list[RosterEntry] = ()) -> pd.DataFrame:
    """Every learner's figures and grade per assignment taught (:func:`widgets.analysis.grades.grades`).

    ``policy`` and ``rubric`` default to the shipped ones (``data/grading_policy.yaml``,
    ``data/rubrics/ethical_reasoning.yaml``); an assignment that names another rubric (the case
    analyses' ``case_analysis``) is scored on ``rubric`` when its id matches, else on the shipped file
    of that id. Each answer counts its final score (:mod:`widgets.grading.final`). ``attrs`` holds each
    assignment's ``points``, the ``rubric_assignments``, ``rubric_complete`` (whether every answer
    they count has a final score) and ``weights`` (:meth:`~widgets.grading.files.GradingPolicy.weights`
    over the assignments written).
    """
    from widgets import analysis
    from widgets.analysis.grades import grades
    from widgets.cases.library import load_library
    from widgets.grading.files import assessment_cases, default_policy, default_rubric, shipped_rubric
    from widgets.store.schema import COLUMNS
    from widgets.store.scores import ScoreBook

    policy = policy or default_policy()
    rubric = rubric or default_rubric()
    named = {a.rubric for a in policy.assignments if a.rubric and a.rubric != rubric.id}
    rubrics = [rubric, *(shipped_rubric(rubric_id) for rubric_id in sorted(named))]
    book = ScoreBook(store)
    rows = [(response_id, r.id, final.share) for r in rubrics for response_id, final in book.finals(r).items()]
    final_frame = pd.DataFrame(rows, columns=["response_id", "rubric_id", "share"]).astype({"share": float})
    # The store's own connection reads the rows: the fast ADBC reader of analysis.responses links a
    # second copy of SQLite, and two copies in one process that also writes the file (the review
    # screen saving scores) break each other's locks ("disk I/O error" for the next reader).
    answers = pd.DataFrame(store.responses(), columns=COLUMNS)
    table = grades(analysis.responses(answers), final_frame, policy, load_library(), assessment_cases(),
                   learners=[e.learner_id for e in roster], default_rubric=rubric.id)
    names = list(dict.fromkeys(table["assignment"]))
    table.attrs["weights"] = policy.weights(names)
    table.attrs["points"] = {a.name: a.points for a in policy.assignments if a.name in names}
    table.attrs["rubric_assignments"] = [a.name for a in policy.assignments if a.rubric_points and a.name in names]
    rubric_rows = table[table["assignment"].isin(table.attrs["rubric_assignments"])]
    table.attrs["rubric_complete"] = {name: bool(part["scored"].sum() == part["to_score"].sum())
                                      for name, part in rubric_rows.groupby("assignment")}
    table.attrs["missing"] = policy.missing
    table.attrs["taught_from_policy"] = policy.taught is not None
    return table


def class_gradebook(store, roster: list[RosterEntry], out: Path | str, fmt: str = "plain", *,
                    policy=None, rubric=None, moodle_id: str = "email",
                    partial: bool = False) -> tuple[Gradebook, pd.DataFrame]:
    """Grade a class from its store and write the gradebook file; return it and the long grade table.

    A rubric assignment whose answers are not all finally scored is left out of the file, unless
    ``partial``: a column of blanks and half-scored means must never overwrite real grades unasked.
    ``Gradebook.withheld`` names what was left out.
    """
    from widgets.analysis.grades import EXCUSED, grade_sheet

    table = grade_table(store, policy=policy, rubric=rubric, roster=roster)
    withheld = [] if partial else [name for name, done in table.attrs["rubric_complete"].items() if not done]
    kept = table[~table["assignment"].isin(withheld)]
    if kept.empty:
        raise DualroleError("no assignment is ready to write: " + ", ".join(withheld) + " is not fully scored "
                            "(score and reconcile every answer, or write it anyway with --partial)")
    points = {a: p for a, p in table.attrs["points"].items() if a not in withheld}
    missing = {"zero": 0.0, "excused": EXCUSED}.get(table.attrs["missing"], float("nan"))
    book = write_gradebook(grade_sheet(kept), points, roster, out, fmt, moodle_id=moodle_id, missing=missing)
    book.rubric_assignments = table.attrs["rubric_assignments"]
    book.withheld = withheld
    return book, table


def plot_grades(table: pd.DataFrame, synthetic: bool = False):
    """A histogram of learners' total grade as a share of the points possible (the instructor's view)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from widgets.reporting.plots import Plot, synthetic_title

    totals = table.groupby("learner")["grade"].sum() / sum(table.attrs["points"].values())  # blanks count 0 here
    figure = Figure(figsize=(6, 2.8))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.hist(100 * totals, bins=range(0, 105, 5), color="#4C72B0", edgecolor="white")
    axes.set_xlabel("total grade (% of points possible)")
    axes.set_ylabel("learners")
    axes.set_xlim(0, 100)
    title = synthetic_title("Grades so far", synthetic)
    axes.set_title(title)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    return Plot(buffer.getvalue(), title)

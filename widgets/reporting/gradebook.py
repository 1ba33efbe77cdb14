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
                    fmt: str = "plain", *, moodle_id: str = "email") -> Gradebook:
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
        row = grades.loc[learner] if learner in grades.index else None
        return [_number(row[a]) if row is not None else "0" for a in assignments]

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
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_text(buffer.getvalue(), encoding="utf-8")
    os.replace(tmp, out)
    written = len(roster) - (len(missing_id) if fmt == "moodle" else 0) + (len(not_on_roster) if fmt == "plain" else 0)
    return Gradebook(out, written, not_on_roster, missing_id)


def _number(value) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:.2f}".rstrip("0")


def grade_table(store, *, policy=None, rubric=None, roster: list[RosterEntry] = ()) -> pd.DataFrame:
    """Every learner's figures and grade per assignment (:func:`widgets.analysis.grades.grades`).

    ``policy`` and ``rubric`` default to the shipped ones (``data/grading_policy.yaml``,
    ``data/rubrics/ethical_reasoning.yaml``); roster learners with no answers get zero.
    """
    from widgets import analysis
    from widgets.analysis.grades import grades, score_table
    from widgets.cases.library import load_library
    from widgets.grading.files import assessment_cases, default_policy, default_rubric
    from widgets.store.schema import COLUMNS
    from widgets.store.scores import ScoreBook

    policy = policy or default_policy()
    rubric = rubric or default_rubric()
    scores = score_table(ScoreBook(store).sheets(), rubric)
    # The store's own connection reads the rows: the fast ADBC reader of analysis.responses links a
    # second copy of SQLite, and two copies in one process that also writes the file (the review
    # screen saving scores) break each other's locks ("disk I/O error" for the next reader).
    rows = pd.DataFrame(store.responses(), columns=COLUMNS)
    table = grades(analysis.responses(rows), scores, policy, load_library(), assessment_cases(),
                   learners=[e.learner_id for e in roster])
    table.attrs["points"] = {a.name: a.points for a in policy.assignments}
    table.attrs["rubric_assignments"] = [a.name for a in policy.assignments if a.rubric_points]
    return table


def class_gradebook(store, roster: list[RosterEntry], out: Path | str, fmt: str = "plain", *,
                    policy=None, rubric=None, moodle_id: str = "email") -> tuple[Gradebook, pd.DataFrame]:
    """Grade a class from its store and write the gradebook file; return it and the long grade table."""
    from widgets.analysis.grades import grade_sheet

    table = grade_table(store, policy=policy, rubric=rubric, roster=roster)
    book = write_gradebook(grade_sheet(table), table.attrs["points"], roster, out, fmt, moodle_id=moodle_id)
    book.rubric_assignments = table.attrs["rubric_assignments"]
    return book, table


def plot_grades(table: pd.DataFrame, synthetic: bool = False):
    """A histogram of learners' total grade as a share of the points possible (the instructor's view)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from widgets.reporting.plots import Plot, synthetic_title

    totals = table.groupby("learner")["grade"].sum() / sum(table.attrs["points"].values())
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

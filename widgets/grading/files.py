"""The instructor's grading files: a rubric, a grading policy and a class roster.

Each is read from a file the instructor keeps and checked before anything is scored or graded: a
rubric and a policy (YAML) against their JSON Schemas in ``data/schema/``, with every problem named
by file, line and field; a roster (CSV) by its header and rows, with every problem named by line.
The roster is read here and used only to match learners to a gradebook: it is never stored and
never written into a research export.
"""

from __future__ import annotations

import csv
import hashlib
import json
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from widgets.cases.casefile import line_in_yaml, read_yaml_file
from widgets.errors import CaseProblem, InvalidFile
from widgets.paths import data_dir, read_schema
from widgets.vocab import MODULES

ASSESSMENT_PHASES = ("pre", "post")


# -- the rubric --------------------------------------------------------------------------------


#: The learner's texts a criterion can be scored on: the card's reasoning, a written case analysis
#: (``CaseAnalysis``), or the "what would you say" script.
CRITERION_READS = ("reasoning", "analysis", "script")
SCRIPT_CRITERION = "script"


@dataclass(frozen=True)
class Criterion:
    """One criterion of a rubric; its levels are scored 0 to ``len(levels) - 1``.

    ``anchors`` holds one anchor answer per level (for the rubric's ``anchor_case``), ``reads`` the
    learner's text the grader reads for it (:data:`CRITERION_READS`), and ``aligns_with`` the
    criterion of a published rubric it corresponds to.
    """

    id: str
    label: str
    levels: tuple[str, ...]
    anchors: tuple[str, ...] = ()
    reads: str = "reasoning"
    aligns_with: str = ""

    @property
    def top(self) -> int:
        """The highest level."""
        return len(self.levels) - 1


@dataclass(frozen=True)
class Rubric:
    """A scoring rubric: criteria, each with its level descriptors.

    ``version`` is a short hash of everything that gives a level its meaning, so a score records
    exactly which rubric it was given under.
    """

    id: str
    title: str
    criteria: tuple[Criterion, ...]
    description: str = ""
    number: int = 1  # the author's own ``version:``, bumped when a level changes meaning
    aligned_with: str = ""
    anchor_case: str | None = None

    @property
    def version(self) -> str:
        content = {"id": self.id, "version": self.number,
                   "criteria": [[c.id, c.label, list(c.levels)] for c in self.criteria]}
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode("utf-8")).hexdigest()[:16]

    @property
    def top(self) -> int:
        """The highest total: every criterion at its top level."""
        return sum(c.top for c in self.criteria)

    def criterion(self, criterion_id: str) -> Criterion:
        for c in self.criteria:
            if c.id == criterion_id:
                return c
        raise KeyError(criterion_id)

    def check_levels(self, levels: dict) -> dict[str, int]:
        """``levels`` ({criterion: level}) checked against the rubric; a ``ValueError`` names the
        criterion that is unknown or out of range."""
        known = {c.id: c for c in self.criteria}
        out = {}
        for key, level in levels.items():
            if key not in known:
                raise ValueError(f"'{key}' is not a criterion of rubric '{self.id}' "
                                 f"(criteria: {', '.join(known)})")
            if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= known[key].top:
                raise ValueError(f"criterion '{key}' takes a level from 0 to {known[key].top}, not {level!r}")
            out[key] = level
        return out


def level_map(old: Rubric, new: Rubric, maps: dict[str, dict[int, int]]) -> dict[str, dict[int, int]]:
    """How each criterion's levels under ``old`` become levels under ``new``, checked.

    A criterion whose levels are as many in both keeps each level as it is, unless ``maps`` says
    otherwise; one whose number of levels changed needs every old level mapped in ``maps``
    ({criterion: {old level: new level}}). A criterion only in ``new`` stays unscored. A
    ``ValueError`` names what is missing or out of range.

    >>> r = default_rubric()
    >>> level_map(r, r, {})["roles"]
    {0: 0, 1: 1, 2: 2}
    """
    out = {}
    for c in new.criteria:
        before = next((o for o in old.criteria if o.id == c.id), None)
        if before is None:
            continue
        given = maps.get(c.id)
        if given is None and before.top != c.top:
            raise ValueError(f"criterion '{c.id}' has levels 0 to {before.top} in version {old.number} and 0 to "
                             f"{c.top} in version {new.number}: map each old level, e.g. --map "
                             f"{c.id}:{before.top}={c.top}")
        given = given if given is not None else {level: level for level in range(before.top + 1)}
        if missing := [level for level in range(before.top + 1) if level not in given]:
            raise ValueError(f"criterion '{c.id}': map old level(s) {', '.join(map(str, missing))} too")
        if bad := [level for level in given.values() if not 0 <= level <= c.top]:
            raise ValueError(f"criterion '{c.id}' takes a level from 0 to {c.top}, not {bad[0]}")
        out[c.id] = dict(sorted(given.items()))
    for key in maps:
        if key not in out:
            raise ValueError(f"'{key}' is not a criterion of both versions of rubric '{new.id}'")
    return out


def default_rubric() -> Rubric:
    """The shipped rubric for ethical reasoning: five criteria, each 0 to 2."""
    return load_rubric(data_dir() / "rubrics" / "ethical_reasoning.yaml")


def shipped_rubric(rubric_id: str) -> Rubric:
    """A rubric shipped in ``data/rubrics/`` by its id, e.g. ``shipped_rubric("case_analysis")``."""
    path = data_dir() / "rubrics" / f"{rubric_id}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in path.parent.glob("*.yaml")))
        raise InvalidFile([CaseProblem(path, None, "rubric", f"no shipped rubric '{rubric_id}' (shipped: {known}); "
                                                             "give your own rubric file with --rubric")])
    return load_rubric(path)


def load_rubric(path: Path | str) -> Rubric:
    """Read and check a rubric YAML file; raise :class:`~widgets.errors.InvalidFile` listing every problem.

    Example::

        >>> load_rubric("my_rubric.yaml").criteria[0].label      # doctest: +SKIP
        'Names the roles involved'
    """
    path = Path(path)
    data, problems = read_yaml_file(path, _validator("rubric"))
    if data is not None and not problems:
        seen: set[str] = set()
        for i, c in enumerate(data["criteria"]):
            if c["id"] in seen:
                problems.append(CaseProblem(path, line_in_yaml(path, ["criteria", i, "id"]),
                                            f"criteria[{i}].id", f"duplicate criterion id '{c['id']}'"))
            seen.add(c["id"])
            problems += _criterion_problems(path, i, c, data.get("anchor_case"))
    if problems or data is None:
        raise InvalidFile(problems)
    return Rubric(
        id=data["id"], title=data["title"], number=data["version"], description=data.get("description", ""),
        criteria=tuple(Criterion(c["id"], c["label"], tuple(c["levels"]), tuple(c.get("anchors", ())),
                                 c.get("reads", SCRIPT_CRITERION if c["id"] == SCRIPT_CRITERION else "reasoning"),
                                 c.get("aligns_with", "")) for c in data["criteria"]),
        aligned_with=data.get("aligned_with", ""), anchor_case=data.get("anchor_case"),
    )


def _criterion_problems(path: Path, i: int, c: dict, anchor_case: str | None) -> list[CaseProblem]:
    """What the schema cannot say about criterion ``i``: one anchor per level, written for a named
    case, and a ``script`` criterion that reads the script."""
    problems = []
    if "anchors" in c:
        where = line_in_yaml(path, ["criteria", i, "anchors"])
        if len(c["anchors"]) != len(c["levels"]):
            problems.append(CaseProblem(path, where, f"criteria[{i}].anchors",
                                        f"gives {len(c['anchors'])} anchor(s) for {len(c['levels'])} level(s): "
                                        "write one anchor answer per level, in the same order"))
        if not anchor_case:
            problems.append(CaseProblem(path, where, f"criteria[{i}].anchors",
                                        "anchors answer one case: name it with anchor_case: at the top"))
    if c["id"] == SCRIPT_CRITERION and c.get("reads", SCRIPT_CRITERION) != SCRIPT_CRITERION:
        problems.append(CaseProblem(path, line_in_yaml(path, ["criteria", i, "reads"]), f"criteria[{i}].reads",
                                    "the script criterion reads the learner's script (reads: script)"))
    return problems


# -- the grading policy -------------------------------------------------------------------------


@dataclass(frozen=True)
class Assignment:
    """One gradebook column: the lessons it covers, and the points for completion and for the rubric."""

    name: str
    lessons: tuple[str, ...]
    completion_points: float = 0.0
    rubric_points: float = 0.0
    cases: tuple[str, ...] = ()  # only these cases count (of the lessons'); each learner's last answer to each
    rubric: str | None = None  # the rubric id its rubric points are scored on (None: the default rubric)

    @property
    def points(self) -> float:
        return self.completion_points + self.rubric_points


MISSING_WORK = ("blank", "excused", "zero")


@dataclass(frozen=True)
class GradingPolicy:
    """Which lessons count as which assignment; see ``data/grading_policy.yaml``.

    ``taught`` names the lessons this term assigns (None: the lessons the class has answered), and
    ``missing`` what a learner with no work in an assignment gets: ``blank``, ``excused`` or ``zero``.
    """

    assignments: tuple[Assignment, ...]
    taught: tuple[str, ...] | None = None
    missing: str = "blank"

    def weights(self, names: Iterable[str] | None = None) -> dict[str, float]:
        """Each kind of credit's share of the points: ``completion`` (lesson cases and the pre- and
        post-test done) and ``reasoning`` (rubric scores), each a fraction of the points of the
        assignments ``names`` (default: every assignment).

        >>> p = GradingPolicy((Assignment("L", ("gifts",), 30), Assignment("R", ("gifts",), rubric_points=70)))
        >>> p.weights()
        {'completion': 0.3, 'reasoning': 0.7}
        >>> p.weights(["L"])
        {'completion': 1.0, 'reasoning': 0.0}
        """
        chosen = [a for a in self.assignments if names is None or a.name in set(names)]
        completion = sum(a.completion_points for a in chosen)
        reasoning = sum(a.rubric_points for a in chosen)
        total = (completion + reasoning) or 1.0
        return {"completion": completion / total, "reasoning": reasoning / total}


def default_policy() -> GradingPolicy:
    """The shipped policy: completion per lesson, pre- and post-test completion, the mean rubric score."""
    return load_policy(data_dir() / "grading_policy.yaml")


def load_policy(path: Path | str) -> GradingPolicy:
    """Read and check a grading-policy YAML file; raise :class:`~widgets.errors.InvalidFile` on any problem."""
    path = Path(path)
    data, problems = read_yaml_file(path, _validator("grading_policy"))
    if data is not None and not problems:
        names: set[str] = set()
        for i, a in enumerate(data["assignments"]):
            if a["name"] in names:
                problems.append(CaseProblem(path, line_in_yaml(path, ["assignments", i, "name"]),
                                            f"assignments[{i}].name", f"duplicate assignment name '{a['name']}'"))
            names.add(a["name"])
            if not a.get("completion_points") and not a.get("rubric_points"):
                problems.append(CaseProblem(path, line_in_yaml(path, ["assignments", i]), f"assignments[{i}]",
                                            "needs completion_points or rubric_points above 0"))
            problems += _assignment_case_problems(path, i, a)
            if a.get("rubric_points") and set(a["lessons"]) & set(ASSESSMENT_PHASES):
                problems.append(CaseProblem(
                    path, line_in_yaml(path, ["assignments", i, "rubric_points"]), f"assignments[{i}].rubric_points",
                    "the pre- and post-test count for completion only, never for what was answered"))
        if "min_reasoning_words" in data:
            from widgets.responses.contract import min_reasoning

            problems.append(CaseProblem(
                path, line_in_yaml(path, ["min_reasoning_words"]), "min_reasoning_words",
                f"is no longer used: a case counts as done by the card's own rule (at least {min_reasoning()} "
                "characters of reasoning), so a learner is never docked for an answer the card accepted; "
                "remove this line"))
    if problems or data is None:
        raise InvalidFile(problems)
    return GradingPolicy(
        assignments=tuple(Assignment(a["name"], tuple(a["lessons"]), float(a.get("completion_points", 0)),
                                     float(a.get("rubric_points", 0)), tuple(a.get("cases", ())), a.get("rubric"))
                          for a in data["assignments"]),
        taught=tuple(data["taught"]) if "taught" in data else None,
        missing=data.get("missing", "blank"),
    )


def _assignment_case_problems(path: Path, i: int, a: dict) -> list[CaseProblem]:
    """An assignment's ``cases`` must be lesson cases of its own lessons, and ``rubric`` needs rubric points."""
    from widgets.cases import course

    problems = []
    if a.get("rubric") and not a.get("rubric_points"):
        problems.append(CaseProblem(path, line_in_yaml(path, ["assignments", i, "rubric"]), f"assignments[{i}].rubric",
                                    "names a rubric but gives no rubric_points"))
    lessons = [lesson for lesson in a["lessons"] if lesson not in ASSESSMENT_PHASES]
    theirs = {case for lesson in lessons for case in course.module_case_ids(lesson)}
    for j, case in enumerate(a.get("cases", ())):
        if case not in theirs:
            problems.append(CaseProblem(path, line_in_yaml(path, ["assignments", i, "cases", j]),
                                        f"assignments[{i}].cases[{j}]",
                                        f"'{case}' is not a case of the lessons {', '.join(lessons) or '(none)'}"))
    return problems


@lru_cache(maxsize=None)
def _validator(name: str):
    import jsonschema  # slow to import: on first use

    return jsonschema.Draft202012Validator(read_schema(name))


# -- the roster ---------------------------------------------------------------------------------

ROSTER_COLUMNS = ("learner_id", "name", "email", "lms_id", "sis_id", "section")
ROSTER_REQUIRED = ("learner_id",)


@dataclass(frozen=True)
class RosterEntry:
    """One learner on the class list; only ``learner_id`` is required."""

    learner_id: str
    name: str = ""
    email: str = ""
    lms_id: str = ""
    sis_id: str = ""
    section: str = ""
    line: int = 0


# Ids that must name one learner each: two rows sharing one would put one person's grades on another.
UNIQUE_ROSTER_FIELDS = ("learner_id", "email", "lms_id", "sis_id")


def read_roster(path: Path | str) -> list[RosterEntry]:
    """Read a roster CSV (``learner_id`` plus any of name, email, lms_id, sis_id, section).

    ``learner_id`` is the hub user name, or the id ``dualrole where`` shows a learner. The separator
    (comma, semicolon or tab, as spreadsheets save) is found from the header, a byte-order mark is
    accepted, and every cell is NFC-normalised, so an accent typed either way is one name. Raises
    :class:`~widgets.errors.InvalidFile` naming the file, line and column of every problem: an
    unknown or missing column, an empty learner id, or a learner id, email, LMS id or SIS id already
    on another line (emails compared without case).
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidFile([CaseProblem(path, None, None, f"is not UTF-8 text (byte {exc.start}); "
                                                         "save it as CSV UTF-8")]) from None
    except OSError as exc:
        raise InvalidFile([CaseProblem(path, None, None, f"cannot be read: {exc.strerror}")]) from None
    text = unicodedata.normalize("NFC", text)
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise InvalidFile([CaseProblem(path, 1, None, "is empty: the first line must name the columns, "
                                                      f"e.g. {','.join(ROSTER_COLUMNS)}")])
    delimiter = _roster_delimiter(lines[0])
    rows = list(csv.reader(lines, delimiter=delimiter))
    header = [h.strip() for h in rows[0]]
    problems = [CaseProblem(path, 1, h or f"column {i + 1}", f"unknown column (columns: {', '.join(ROSTER_COLUMNS)})")
                for i, h in enumerate(header) if h not in ROSTER_COLUMNS]
    problems += [CaseProblem(path, 1, name, "missing required column") for name in ROSTER_REQUIRED
                 if name not in header]
    if problems:
        raise InvalidFile(problems)
    entries = []
    seen: dict[str, dict[str, int]] = {name: {} for name in UNIQUE_ROSTER_FIELDS}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append(CaseProblem(path, number, None, f"has {len(row)} field(s); the header has {len(header)}"))
            continue
        values = {h: cell.strip() for h, cell in zip(header, row)}
        if not values["learner_id"]:
            problems.append(CaseProblem(path, number, "learner_id", "is empty"))
            continue
        clash = False
        for name in UNIQUE_ROSTER_FIELDS:
            value = values.get(name, "")
            key = value.casefold() if name == "email" else value
            if not value:
                continue
            if key in seen[name]:
                problems.append(CaseProblem(path, number, name, f"'{value}' is already on line {seen[name][key]}"))
                clash = True
            else:
                seen[name][key] = number
        if not clash:
            entries.append(RosterEntry(**values, line=number))
    if problems:
        raise InvalidFile(problems)
    return entries


def _roster_delimiter(header: str) -> str:
    """The separator of a roster from its header line: the one of comma, semicolon and tab that
    splits it into known columns (a spreadsheet saving in a European locale uses semicolons)."""
    for delimiter in (",", ";", "\t"):
        if "learner_id" in [h.strip() for h in next(csv.reader([header], delimiter=delimiter))]:
            return delimiter
    return ","


def assessment_cases() -> list[str]:
    """The assessment bank's case ids, both forms (``data/assessment_forms.yaml``), which ``pre`` and
    ``post`` count; each learner takes one form in each phase."""
    from widgets.cases.forms import assessment_forms

    return list(assessment_forms().case_ids)


def lesson_label(lesson: str) -> str:
    """A lesson key as people read it: a module's title, or the pre- or post-test."""
    if lesson in MODULES:
        number, title = MODULES[lesson]
        return f"{number}. {title}"
    return {"pre": "Pre-test", "post": "Post-test"}.get(lesson, lesson)

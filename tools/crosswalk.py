"""The standards crosswalk (``docs/crosswalk.md``), generated from ``data/crosswalk.yaml`` and the course.

``python -m tools.crosswalk`` checks the data file against ``data/course.yaml`` and the lessons' own
objectives (every lesson, every objective and every lesson case mapped; no unknown case or topic) and
writes the crosswalk; ``--check`` fails when it is stale. The topic identifiers are the pedagogy review's,
paraphrased, and the page says so at the top.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from tools import curriculum
from tools.facilitator import objectives
from tools.generated import ROOT, regenerate
from widgets.cases import course, load_library
from widgets.cases.casefile import problem_at
from widgets.errors import CaseProblem, InvalidFile

DATA = ROOT / "data" / "crosswalk.yaml"
PAGE = ROOT / "docs" / "crosswalk.md"
FRAMEWORKS = {"cacrep": "CACREP 2024, Section 3.A", "apa": "APA, ethical and legal standards"}


@dataclass(frozen=True)
class Mapping:
    """What one objective, case or course-wide feature maps to: topic keys per framework."""

    cacrep: tuple[str, ...]
    apa: tuple[str, ...]


@dataclass(frozen=True)
class Crosswalk:
    """data/crosswalk.yaml, checked against the course."""

    topics: dict[str, dict[str, dict[str, str]]]
    course_wide: tuple[tuple[str, Mapping], ...]
    objectives: dict[str, tuple[tuple[str, Mapping], ...]]
    cases: dict[str, tuple[tuple[str, Mapping], ...]]
    gaps: tuple[tuple[tuple[str, ...], str], ...]

    def uses(self, framework: str, key: str) -> tuple[list[str], list[str]]:
        """The objectives (as ``stem #n``) and the case ids mapped to one topic."""
        goals = [f"{stem} #{n}" for stem, items in self.objectives.items()
                 for n, (_, m) in enumerate(items, 1) if key in getattr(m, framework)]
        cases = [case_id for items in self.cases.values() for case_id, m in items if key in getattr(m, framework)]
        return goals, cases


def load(path: Path | None = None) -> Crosswalk:
    """Read and check the crosswalk data.

    Raises
    ------
    InvalidFile
        Listing every problem, each with the file, its line and the field.
    """
    path = path or DATA
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InvalidFile([CaseProblem(path, None, None, f"cannot be read: {exc}")]) from None
    problems: list[CaseProblem] = []

    def problem(field_path: list, message: str) -> None:
        problems.append(problem_at(path, field_path, message))

    if not isinstance(data, dict):
        raise InvalidFile([CaseProblem(path, 1, None, "must be a mapping with cacrep, apa, lessons and gaps")])
    topics = {}
    for framework in FRAMEWORKS:
        found = data.get(framework)
        if not isinstance(found, dict) or not found:
            problem([framework], "must map topic keys to {short, ref, label}")
            found = {}
        for key, value in found.items():
            if not (isinstance(value, dict) and all(isinstance(value.get(f), str) for f in ("short", "ref", "label"))):
                problem([framework, key], "must give short, ref and label, all text")
        topics[framework] = {str(k): v for k, v in found.items() if isinstance(v, dict)}

    def mapping(value, where: list) -> Mapping:
        if not isinstance(value, dict) or set(value) - set(FRAMEWORKS):
            problem(where, "must give cacrep: [topics] and apa: [elements]")
            return Mapping((), ())
        out = {}
        for framework in FRAMEWORKS:
            keys = value.get(framework, [])
            if not isinstance(keys, list):
                problem([*where, framework], "must be a list of topic keys")
                keys = []
            for i, key in enumerate(keys):
                if str(key) not in topics[framework]:
                    problem([*where, framework, i], f"unknown {framework} topic {key!r} (known: "
                                                    f"{', '.join(topics[framework])})")
            out[framework] = tuple(str(k) for k in keys)
        return Mapping(**out)

    course_wide = tuple((str(item.get("what")), mapping({k: v for k, v in item.items() if k != "what"},
                                                         ["course_wide", i]))
                        for i, item in enumerate(data.get("course_wide") or []) if isinstance(item, dict))

    lessons = data.get("lessons") if isinstance(data.get("lessons"), dict) else {}
    library = {c.id for c in load_library()}
    goals, cases = {}, {}
    for entry in course.lessons():
        if entry.stem not in lessons:
            problem(["lessons"], f"lesson {entry.stem} is missing: map its objectives and cases")
            continue
        raw = lessons[entry.stem] or {}
        stated = objectives(curriculum.NOTEBOOKS / f"{entry.stem}.ipynb")
        given = raw.get("objectives") or []
        if len(given) != len(stated):
            problem(["lessons", entry.stem, "objectives"],
                    f"the lesson states {len(stated)} objective(s) and this maps {len(given)}: one entry per "
                    "objective, in the lesson's order")
        goals[entry.stem] = tuple((goal, mapping(value, ["lessons", entry.stem, "objectives", i]))
                                  for i, (goal, value) in enumerate(zip(stated, given)))
        raw_cases = raw.get("cases") or {}
        for case_id in raw_cases:
            if case_id not in library:
                problem(["lessons", entry.stem, "cases", case_id], f"{case_id!r} is not a case in the library")
            elif case_id not in entry.all_cases:
                problem(["lessons", entry.stem, "cases", case_id],
                        f"{case_id!r} is not a case of {entry.stem} in data/course.yaml")
        for case_id in entry.all_cases:
            if case_id not in raw_cases:
                problem(["lessons", entry.stem, "cases"], f"case {case_id} of {entry.stem} is missing: map it")
        cases[entry.stem] = tuple((case_id, mapping(raw_cases[case_id], ["lessons", entry.stem, "cases", case_id]))
                                  for case_id in entry.all_cases if case_id in raw_cases)
    for stem in lessons:
        if stem not in {e.stem for e in course.lessons()}:
            problem(["lessons", stem], f"{stem!r} is not a lesson in data/course.yaml")

    gaps = []
    for i, gap in enumerate(data.get("gaps") or []):
        keys = tuple(str(k) for k in (gap.get("topics") or [])) if isinstance(gap, dict) else ()
        known = set(topics["cacrep"]) | set(topics["apa"])
        for j, key in enumerate(keys):
            if key not in known:
                problem(["gaps", i, "topics", j], f"unknown topic {key!r}")
        if not isinstance(gap, dict) or not isinstance(gap.get("note"), str):
            problem(["gaps", i], "must give topics and a note")
            continue
        gaps.append((keys, " ".join(gap["note"].split())))
    if problems:
        raise InvalidFile(problems)
    return Crosswalk(topics, course_wide, goals, cases, tuple(gaps))


# -- the page ------------------------------------------------------------------------------------

HEADER = """\
# Standards crosswalk: CACREP 2024 Section 3.A and APA's ethical and legal standards

> **Check before accreditation use.** The topic identifiers and labels on this page come from the
> pedagogy review of 7 December 2026 (its tables 1.1 and 1.2), paraphrased; they are not quoted from
> the standards. The review verified CACREP 3.A.1 to 3.A.6 against cacrep.org and used the 2016 topics
> (2.F.1.g to 2.F.1.m) as a proxy for the rest of 3.A, and it lists the elements of APA's
> profession-wide competency "ethical and legal standards" in its own words, numbered here in its order.
> Check every identifier against cacrep.org and the APA Standards of Accreditation before you file a
> syllabus or a self-study.

Each lesson's objectives and cases are mapped to the topics they exercise, then the topics no lesson
reaches are listed with what is missing. A mapping says where a topic is *practised*; it is not
evidence that learners *attained* it (for that, see the grading and the pre/post assessment).

This page is generated by `python -m tools.crosswalk` from `data/crosswalk.yaml`, `data/course.yaml`
and the lessons' objectives; a test fails when a lesson, an objective or a case is missing from the
data, or when it names a case or a topic that does not exist. Edit the data file, not this page.
"""


def _keys(cw: Crosswalk, framework: str, keys: tuple[str, ...]) -> str:
    return "; ".join(f"{cw.topics[framework][k]['ref']} {cw.topics[framework][k]['label']}" for k in keys) or "—"


def _short(cw: Crosswalk, framework: str, keys: tuple[str, ...]) -> str:
    return ", ".join(cw.topics[framework][k]["short"] for k in keys) or "—"


def page(cw: Crosswalk | None = None) -> str:
    """The whole crosswalk, as ``docs/crosswalk.md`` should hold it."""
    cw = cw or load()
    titles = {e.stem: e.title for e in course.lessons()}
    library = {c.id: c for c in load_library()}
    lines = [HEADER, "## The topics", ""]
    for framework, heading in FRAMEWORKS.items():
        lines += [f"### {heading}", "", "| Identifier | Topic | Short name below | Objectives | Cases |",
                  "|---|---|---|---|---|"]
        for key, topic in cw.topics[framework].items():
            goals, cases = cw.uses(framework, key)
            lines.append(f"| {topic['ref']} | {topic['label']} | {topic['short']} | {len(goals)} | {len(cases)} |")
        lines.append("")
    lines += ["### Course-wide", "", "What every card does, whatever the lesson:", ""]
    for what, m in cw.course_wide:
        lines.append(f"- {what}. *CACREP:* {_keys(cw, 'cacrep', m.cacrep)}. *APA:* {_keys(cw, 'apa', m.apa)}.")
    lines += ["", "## Lesson by lesson", ""]
    for entry in course.lessons():
        goals, cases = cw.objectives.get(entry.stem, ()), cw.cases.get(entry.stem, ())
        lines += [f"### {titles[entry.stem]}", ""]
        if goals:
            lines += ["| Objective | CACREP topics | APA ethical and legal standards |", "|---|---|---|"]
            lines += [f"| {goal.replace('|', '/')} | {_short(cw, 'cacrep', m.cacrep)} | {_short(cw, 'apa', m.apa)} |"
                      for goal, m in goals]
            lines.append("")
        if cases:
            lines += ["| Case | CACREP topics | APA ethical and legal standards |", "|---|---|---|"]
            lines += [f"| *{library[c].title}* (`{c}`) | {_short(cw, 'cacrep', m.cacrep)} "
                      f"| {_short(cw, 'apa', m.apa)} |" for c, m in cases]
            lines.append("")
        if not goals and not cases:
            lines += ["No objectives and no lesson cases.", ""]
    lines += ["## What is not covered", ""]
    unused = [(framework, key) for framework in FRAMEWORKS for key in cw.topics[framework]
              if cw.uses(framework, key) == ([], [])]
    lines += ["No objective and no case reaches these topics:", ""]
    lines += [f"- {cw.topics[f][k]['ref']} {cw.topics[f][k]['label']}." for f, k in unused] or ["- none"]
    lines += ["", "Gaps and thin coverage, topic by topic (from the review's findings):", ""]
    for keys, note in cw.gaps:
        names = "; ".join(f"{cw.topics[f][k]['label']}" for k in keys for f in FRAMEWORKS if k in cw.topics[f])
        lines.append(f"- **{names}.** {note}")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str]) -> int | str:
    return regenerate(argv, PAGE, page, command="tools.crosswalk")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

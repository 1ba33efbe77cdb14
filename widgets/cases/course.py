"""The course, lesson by lesson: which cases each lesson notebook shows (``data/course.yaml``).

``MyAnswers`` counts a learner's progress from this list, the post-test's confirmation shows how
many lesson cases a learner has done, and the tests check that every notebook shows exactly these
cases, none of them in two lessons.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import yaml

from widgets.errors import DualroleError
from widgets.paths import data_dir

COURSE_FILE = "course.yaml"


@dataclass(frozen=True)
class Lesson:
    """One lesson notebook: its file stem, title, the cases its cards show and its decision-model cases."""

    stem: str
    title: str
    cases: tuple[str, ...] = ()
    decision_models: tuple[str, ...] = ()

    @property
    def all_cases(self) -> tuple[str, ...]:
        """Every case the lesson asks the learner to work on, cards first."""
        return self.cases + self.decision_models


def lessons() -> tuple[Lesson, ...]:
    """The lessons in reading order."""
    return _read(str(data_dir() / COURSE_FILE))


def lesson(stem: str) -> Lesson:
    """One lesson by its notebook stem, e.g. ``lesson("01_confidentiality")``."""
    for found in lessons():
        if found.stem == stem:
            return found
    known = ", ".join(entry.stem for entry in lessons())
    raise DualroleError(f"no lesson called {stem!r} in {COURSE_FILE}; the lessons are: {known}")


def shown_from(case_id: str, stem: str) -> bool:
    """Whether the lesson that shows ``case_id`` comes at or after lesson ``stem`` (True for a case no
    lesson lists, such as an instructor's own)."""
    order = [entry.stem for entry in lessons()]
    where = next((i for i, entry in enumerate(lessons()) if case_id in entry.all_cases), None)
    return where is None or stem not in order or where >= order.index(stem)


def module_case_ids(module: str) -> tuple[str, ...]:
    """The cases a module's lesson shows on its cards, as the course lists them: the one answer to
    "which cases make this lesson" that grading and progress both ask.

    A module's lesson is the one whose stem ends in the module's name (``08_roles`` for ``roles``). A
    decision-model case filed under the module but worked through in lesson 09 is not one of them.

    >>> "climbing_with_supervisee" in module_case_ids("roles"), "commander_asks" in module_case_ids("roles")
    (False, True)
    """
    for entry in lessons():
        if entry.stem.split("_", 1)[-1] == module:
            return entry.cases
    raise DualroleError(f"no lesson in {COURSE_FILE} teaches the module {module!r}")


def lesson_case_ids() -> tuple[str, ...]:
    """Every case shown on a card in some lesson, in course order (the cases progress counts)."""
    return tuple(case_id for entry in lessons() for case_id in entry.cases)


@lru_cache(maxsize=4)
def _read(path: str) -> tuple[Lesson, ...]:
    try:
        with open(path, encoding="utf-8") as stream:
            config = yaml.safe_load(stream)
    except (OSError, yaml.YAMLError) as exc:
        raise DualroleError(f"{path}: cannot read the course: {exc}") from exc
    entries = config.get("lessons") if isinstance(config, dict) else None
    if not isinstance(entries, list):
        raise DualroleError(f"{path}: lessons: expected a list of lessons")
    out = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("stem"), str):
            raise DualroleError(f"{path}: lessons[{i}].stem: expected a notebook stem such as 01_confidentiality")
        out.append(Lesson(entry["stem"], str(entry.get("title", entry["stem"])),
                          tuple(entry.get("cases") or ()), tuple(entry.get("decision_models") or ())))
    return tuple(out)

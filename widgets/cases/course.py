"""The course, lesson by lesson: which cases each lesson notebook shows (``data/course.yaml``).

``MyAnswers`` counts a learner's progress from this list, the post-test's confirmation shows how
many lesson cases a learner has done, and the tests check that every notebook shows exactly these
cases, none of them in two lessons.

Two rules live here and nowhere else. **Completion**: a lesson's core cases (those it does not mark
``optional``) are the ones it asks for; progress, the post-test gate and the grading policy's completion
points all count :func:`core_case_ids`. **Kitchener's ratings**: a card asks for them only in the lessons
flagged ``kitchener_ratings`` (:func:`asks_kitchener`), so the scaffold fades after lesson 3.
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
    optional: tuple[str, ...] = ()
    kitchener_ratings: bool = False

    @property
    def all_cases(self) -> tuple[str, ...]:
        """Every case the lesson shows the learner, cards first."""
        return self.cases + self.decision_models

    @property
    def core(self) -> tuple[str, ...]:
        """The cards a learner must answer to complete the lesson: every case not marked optional."""
        return tuple(case_id for case_id in self.cases if case_id not in self.optional)


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


def lesson_of(case_id: str) -> Lesson | None:
    """The lesson that shows ``case_id``, or None for a case no lesson lists (the assessment's, an
    instructor's own)."""
    return next((entry for entry in lessons() if case_id in entry.all_cases), None)


def is_optional(case_id: str) -> bool:
    """Whether ``case_id`` is one of its lesson's optional cases (the card and My answers say so).

    >>> is_optional("employer_asks"), is_optional("spouse_phone_call"), is_optional("not_in_any_lesson")
    (True, False, False)
    """
    entry = lesson_of(case_id)
    return entry is not None and case_id in entry.optional


def asks_kitchener(case_id: str) -> bool:
    """Whether a card for ``case_id`` asks the learner for Kitchener's ratings: in the lessons the course
    flags ``kitchener_ratings`` (lessons 2 and 3), never later; a case no lesson lists asks for them.

    >>> asks_kitchener("cosmetics"), asks_kitchener("wedding_invitation"), asks_kitchener("small_holiday_gift")
    (True, True, False)
    """
    entry = lesson_of(case_id)
    return entry is None or entry.kitchener_ratings


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


def core_case_ids(module: str) -> tuple[str, ...]:
    """The cases a module's lesson asks for, without its optional ones: what completing the lesson means
    (the grading policy's completion points count these; see :func:`module_case_ids` for all its cards).

    >>> len(core_case_ids("confidentiality")), len(module_case_ids("confidentiality"))
    (6, 11)
    """
    cases = module_case_ids(module)
    return tuple(case_id for case_id in cases if not is_optional(case_id))


def lesson_case_ids() -> tuple[str, ...]:
    """Every core case shown on a card in some lesson, in course order: the cases progress counts and the
    post-test gate asks for (optional cases are left out)."""
    return tuple(case_id for entry in lessons() for case_id in entry.core)


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
        cases = tuple(entry.get("cases") or ())
        optional = tuple(entry.get("optional") or ())
        stray = [case_id for case_id in optional if case_id not in cases]
        if stray:
            raise DualroleError(f"{path}: lessons[{i}].optional: {', '.join(map(str, stray))} is not one of the "
                                f"lesson's cases (an optional case is listed in its cases too)")
        flag = entry.get("kitchener_ratings", False)
        if not isinstance(flag, bool):
            raise DualroleError(f"{path}: lessons[{i}].kitchener_ratings: expected true or false, not {flag!r}")
        out.append(Lesson(entry["stem"], str(entry.get("title", entry["stem"])), cases,
                          tuple(entry.get("decision_models") or ()), optional, flag))
    return tuple(out)

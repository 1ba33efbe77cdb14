"""The course map (data/course.yaml) against the notebooks: each lesson shows exactly its cases,
no case returns in a second lesson, every lesson starts with MyAnswers and states its time."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from widgets.cases.course import lessons
from widgets.cases.library import load_library

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
CARD = re.compile(r"\bCaseCard\(\s*[\"']([\w-]+)[\"']")
MODEL = re.compile(r"\bDecisionModel\(\s*[\"']([\w-]+)[\"']")
STEMS = [entry.stem for entry in lessons()]


def code_cells(stem: str) -> list[str]:
    nb = json.loads((NOTEBOOKS / f"{stem}.ipynb").read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("stem", STEMS)
def test_each_lesson_shows_exactly_the_cases_the_course_lists(stem):
    entry = next(e for e in lessons() if e.stem == stem)
    code = "\n".join(code_cells(stem))
    assert CARD.findall(code) == list(entry.cases)
    assert MODEL.findall(code) == list(entry.decision_models)


def test_no_case_appears_in_two_lesson_notebooks():
    seen: dict[str, str] = {}
    for stem in STEMS:
        code = "\n".join(code_cells(stem))
        for case_id in CARD.findall(code) + MODEL.findall(code):
            assert seen.setdefault(case_id, stem) == stem, f"{case_id} is in {seen[case_id]} and again in {stem}"
    library = load_library()
    assert all(library[case_id].use == "lesson" for case_id in seen)


def test_the_introduction_and_the_decision_models_have_their_own_cases():
    by_stem = {e.stem: e for e in lessons()}
    others = {c for e in lessons() if e.stem not in ("00_start_here",) for c in e.all_cases}
    assert by_stem["00_start_here"].cases and not set(by_stem["00_start_here"].cases) & others
    assert by_stem["09_decision_models"].decision_models
    assert all(load_library()[c].gottlieb for c in by_stem["09_decision_models"].decision_models)


@pytest.mark.parametrize("stem", STEMS)
def test_the_first_code_cell_imports_the_widgets_and_shows_my_answers(stem):
    cells = code_cells(stem)
    first = cells[0]
    assert first.startswith("from widgets import ") and first.rstrip().endswith("MyAnswers()")
    imported = set(re.match(r"from widgets import (.+)", first).group(1).replace(" ", "").split(","))
    used = {name for cell in cells[1:] for name in re.findall(r"^(\w+)\(", cell, re.M)}
    assert used <= imported, f"{stem} uses {sorted(used - imported)} without importing it in its first cell"
    if stem != "00_start_here":
        assert cells[-1].strip() == "MyAnswers()" or "Assessment" in first  # shown again at the end


@pytest.mark.parametrize("stem", [s for s in STEMS if s != "00_start_here"])
def test_every_lesson_states_an_estimated_time_and_objectives_under_its_title(stem):
    nb = json.loads((NOTEBOOKS / f"{stem}.ipynb").read_text(encoding="utf-8"))
    sources = ["".join(c["source"]) for c in nb["cells"]]
    assert sources[1].startswith("<!--dualrole:time-->") and "Estimated time: about" in sources[1]
    assert "an estimate" in sources[1]
    objectives = next(i for i, s in enumerate(sources) if s.startswith("## Learning objectives"))
    first_prose = next(i for i, s in enumerate(sources) if s.startswith("## ") and "objectives" not in s)
    assert objectives < first_prose


# --- One source of lesson membership: the course, not each case's own `module` field ---------------------

def test_every_case_a_modules_lesson_shows_is_filed_under_that_module():
    from widgets.cases.course import module_case_ids
    from widgets.vocab import MODULES

    library = load_library()
    for module in MODULES:
        misfiled = [i for i in module_case_ids(module) if library[i].module != module]
        assert not misfiled, f"{module}: course.yaml lists {misfiled}, filed under another module"


def test_a_lesson_case_filed_under_a_module_but_not_on_its_cards_belongs_to_another_lesson():
    # running_group_invitation opens lesson 00, climbing_with_supervisee is lesson 09's decision model:
    # each is counted where the course lists it, never in the module whose name it carries.
    from widgets.cases.course import module_case_ids
    from widgets.vocab import MODULES

    library = load_library()
    for module in MODULES:
        extra = {c.id for c in library.module(module)} - set(module_case_ids(module))
        homes = {i: [e.stem for e in lessons() if i in e.all_cases] for i in extra}
        assert all(len(h) == 1 and not h[0].endswith(module) for h in homes.values()), (module, homes)


def test_grading_counts_the_cases_the_course_lists_for_a_lesson():
    from widgets.analysis.grades import lesson_cases
    from widgets.cases.course import lesson

    library = load_library()
    roles = lesson_cases(library, "roles", [])
    assert roles == list(lesson("08_roles").cases)
    assert "climbing_with_supervisee" not in roles  # lesson 09's decision model, filed under roles
    assert "supervisee_asks_for_date" in roles
    assert lesson_cases(library, "pre", ["a", "b"]) == ["a", "b"]


def test_a_module_no_lesson_teaches_is_a_clear_error():
    from widgets.cases.course import module_case_ids
    from widgets.errors import DualroleError

    with pytest.raises(DualroleError, match="no lesson in course.yaml teaches the module 'astrology'"):
        module_case_ids("astrology")

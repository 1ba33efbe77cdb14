"""The course map (data/course.yaml) against the notebooks: each lesson shows exactly its cases,
no case returns in a second lesson, every lesson starts with MyAnswers and states its time."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from widgets.cases.course import lessons
from widgets.cases.library import load_library

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
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

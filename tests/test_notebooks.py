"""Notebooks are committed as a learner should first see them, and the navigation holds together."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tools import curriculum

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
ALL = sorted(p for p in NOTEBOOKS.glob("*.ipynb"))
# Notebooks that only test (nbval runs them from tests/notebooks/); committed bare like the lessons.
TEST_NOTEBOOKS = sorted(Path(__file__).resolve().parent.joinpath("notebooks").glob("*.ipynb"))
LESSONS = [p for p in ALL if re.match(r"^(0[1-9]|10)_", p.name)]
TEACHING = [p for p in LESSONS if re.match(r"^0[1-9]_", p.name)]  # 10_pre_post is an assessment
WIDGET = re.compile(r"\b(CaseCard|CaseList|Assessment|DecisionModel)\(")
LINK = re.compile(r"\]\(([^)#\s]+\.ipynb)(#[^)]*)?\)")


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def source(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def test_there_are_notebooks_and_no_untitled_ones():
    assert (NOTEBOOKS / "00_start_here.ipynb").exists()
    assert not list(NOTEBOOKS.glob("Untitled*.ipynb"))
    names = {p.stem for p in ALL}
    assert names <= {stem for stem, _, _ in curriculum.LESSONS}, "every notebook belongs in curriculum.LESSONS"


@pytest.mark.parametrize("path", ALL + TEST_NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs_or_widget_state(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert "widgets" not in nb.get("metadata", {}), "saved widget state in notebook metadata"
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        if "NBVAL_CHECK_OUTPUT" in source(cell):
            assert cell["outputs"], f"cell {i} is marked NBVAL_CHECK_OUTPUT but stores no output"
            assert not any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in cell["outputs"])
        else:
            assert cell["outputs"] == [], f"cell {i} has stored output"
            assert cell["execution_count"] is None, f"cell {i} has an execution count"


def test_navigation_is_up_to_date():
    assert curriculum.refresh(write=False) == [], "run: make nav"


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_every_notebook_link_resolves(path):
    for cell in cells(path):
        if cell["cell_type"] == "markdown":
            for target, _ in LINK.findall(source(cell)):
                assert (path.parent / target).exists(), f"{path.name} links to missing {target}"


@pytest.mark.parametrize("path", TEACHING, ids=lambda p: p.name)
def test_a_lesson_teaches_in_prose_before_it_asks(path):
    cs = cells(path)
    first_card = next(i for i, c in enumerate(cs) if c["cell_type"] == "code" and WIDGET.search(source(c)))
    prose = " ".join(source(c) for c in cs[:first_card] if c["cell_type"] == "markdown")
    prose = re.sub(r"<!--.*?-->|\[[^\]]*\]\([^)]*\)", " ", prose)
    assert len(prose.split()) >= 300, f"only {len(prose.split())} words of prose before the first case"
    headings = " ".join(source(c) for c in cs if c["cell_type"] == "markdown")
    assert "Learning objectives" in headings and "Reflection" in headings


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_a_lesson_shows_one_line_of_code_per_widget(path):
    for cell in cells(path):
        if cell["cell_type"] != "code":
            continue
        lines = [line for line in source(cell).splitlines() if line.strip() and not line.lstrip().startswith("#")]
        assert len(lines) <= 2, f"a lesson code cell should be one line per widget:\n{source(cell)}"
        assert not re.search(r"\bdef |sys\.path|%%file|open\(", source(cell))

"""The curriculum's table of contents and the navigation cells it generates.

One table (``LESSONS``) names every notebook in order. ``python -m tools.curriculum`` (``make nav``)
writes a header and a footer navigation cell into each notebook and the index into
``00_start_here``, found by sentinel comments and amended in place, so reruns change nothing.
"""

from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NAV = "<!--dualrole:nav-->"
INDEX = "<!--dualrole:index-->"
TIME = "<!--dualrole:time-->"
# The time estimate under each lesson's title: reading at about 200 words a minute, about 6 minutes
# per case (read, decide, explain, read the reference), 10 per decision-model case, 8 cases per
# assessment part, MINUTES_PER_ANALYSIS per written case analysis, and 10 minutes for the reflection.
WORDS_PER_MINUTE = 200
MINUTES_PER_CASE = 6
MINUTES_PER_MODEL = 10
MINUTES_TO_REFLECT = 10
# A written case analysis: read the case again, commit an answer, write 300 to 600 words in seven parts.
MINUTES_PER_ANALYSIS = 40
_CASE = re.compile(r"\bCaseCard\(")
_MODEL = re.compile(r"\bDecisionModel\(")
_ANALYSIS = re.compile(r"\bCaseAnalysis\(")
# The pre- and post-test; the delayed post-test is optional, offered only where the course sets it.
_ASSESSMENT = re.compile(r"\bAssessment\(\s*[\"'](?:pre|post)[\"']")

# (file stem, title, audience) in reading order. Lessons first, then the instructor's and researcher's.
def _course() -> list[tuple[str, str, str]]:
    # The course's own lessons, in order, with the titles data/course.yaml gives them (stated once).
    from widgets.cases import course

    return [(entry.stem, entry.title, "everyone" if entry.stem == "00_start_here" else "learner")
            for entry in course.lessons()]


LESSONS: list[tuple[str, str, str]] = [
    *_course(),
    ("case_analysis", "Written case analyses", "learner"),
    ("references", "References", "everyone"),
    ("authoring", "Writing your own cases", "instructor"),
    ("instructor_collect", "Collecting a class's answers", "instructor"),
    ("instructor_cohort_review", "Cohort review", "instructor"),
    ("instructor_live", "Live class: peer instruction", "instructor"),
    ("instructor_review", "Review and grading", "instructor"),
    ("research_response_patterns", "Response patterns for research", "researcher"),
]

def existing() -> list[tuple[str, str, str]]:
    """The lessons whose notebook exists, in order."""
    return [entry for entry in LESSONS if (NOTEBOOKS / f"{entry[0]}.ipynb").exists()]


def nav_markdown(stem: str, lessons: list[tuple[str, str, str]]) -> str:
    stems = [s for s, _, _ in lessons]
    i = stems.index(stem)
    parts = []
    if i > 0:
        parts.append(f"[← {lessons[i - 1][1]}]({stems[i - 1]}.ipynb)")
    if stem != "00_start_here":
        parts.append("[Contents](00_start_here.ipynb)")
    if stem != "references" and "references" in stems:
        # Every notebook links the one bibliography (tools/references.py writes it).
        parts.append("[References](references.ipynb)")
    if i + 1 < len(lessons):
        parts.append(f"[{lessons[i + 1][1]} →]({stems[i + 1]}.ipynb)")
    return f"{NAV}\n" + " | ".join(parts)


def index_markdown(lessons: list[tuple[str, str, str]]) -> str:
    groups = {"learner": "Lessons", "instructor": "For instructors", "researcher": "For researchers",
              "everyone": "For everyone"}
    lines = [INDEX]
    for audience, heading in groups.items():
        entries = [(s, t) for s, t, a in lessons if a == audience and s != "00_start_here"]
        if entries:
            lines.append(f"\n**{heading}**\n")
            lines += [f"- [{title}]({stem}.ipynb)" for stem, title in entries]
    return "\n".join(lines)


def lesson_time(cells: list[dict]) -> tuple[int, str]:
    """A lesson's estimated minutes (rounded to 5, at least 10), and what the estimate counts.

    The one rule for a lesson's time: the title of each lesson and the facilitator guide both use it.
    """
    prose = " ".join(_source(c) for c in cells if c["cell_type"] == "markdown" and not _generated(_source(c)))
    words = len(re.sub(r"<!--.*?-->|\]\([^)]*\)", " ", prose).split())
    code = " ".join(_source(c) for c in cells if c["cell_type"] == "code")
    cases, models, analyses = len(_CASE.findall(code)), len(_MODEL.findall(code)), len(_ANALYSIS.findall(code))
    parts_n = len(_ASSESSMENT.findall(code))
    assessment = 8 * parts_n
    minutes = (words / WORDS_PER_MINUTE + MINUTES_PER_CASE * (cases + assessment) + MINUTES_PER_MODEL * models
               + MINUTES_PER_ANALYSIS * analyses + MINUTES_TO_REFLECT)
    rounded = max(10, 5 * round(minutes / 5))
    parts = [f"{words:,} words to read"]
    if cases:
        parts.append(f"{cases} case{'s' if cases != 1 else ''}")
    if models:
        parts.append(f"{models} decision-model case{'s' if models != 1 else ''}")
    if analyses:
        parts.append(f"{analyses} written case analys{'es' if analyses != 1 else 'is'} of about "
                     f"{MINUTES_PER_ANALYSIS} minutes each")
    if assessment:
        parts.append(f"{parts_n} assessment part{'s' if parts_n != 1 else ''} of 8 cases, taken weeks apart")
    return rounded, ", ".join(parts) + " and a reflection"


def time_markdown(cells: list[dict]) -> str:
    """The estimated time of a lesson, from its words and its cases, stated as an estimate."""
    minutes, counted = lesson_time(cells)
    return (f"{TIME}\n*Estimated time: about {minutes} minutes* (an estimate from this notebook's "
            f"{counted}; take the time you need).")


def _generated(source: str) -> bool:
    return source.startswith((NAV, TIME))


def _markdown_cell(source: str, cell_id: str) -> dict:
    return {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": source}


def with_navigation(nb: dict, stem: str, lessons: list[tuple[str, str, str]]) -> dict:
    """The notebook with its nav cells (and, for the index, the index cell) written or refreshed."""
    cells = [copy.deepcopy(c) for c in nb["cells"] if not _generated(_source(c))]
    nav = nav_markdown(stem, lessons)
    # The header nav sits right after the title cell; the footer closes the notebook. A learner's
    # lesson states its estimated time under the title, before the navigation.
    timed = any(s == stem and a == "learner" for s, _, a in lessons)
    if timed:
        cells.insert(1 if cells else 0, _markdown_cell(time_markdown(cells), "dualrole-time"))
    cells.insert(2 if timed else 1 if cells else 0, _markdown_cell(nav, "dualrole-nav-top"))
    cells.append(_markdown_cell(nav, "dualrole-nav-bottom"))
    if stem == "00_start_here":
        for cell in cells:
            source = _source(cell)
            if INDEX in source:
                # Keep whatever heading precedes the sentinel; regenerate everything after it.
                cell["source"] = source.split(INDEX)[0] + index_markdown(lessons)
    out = dict(nb)
    out["cells"] = cells
    return out


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def refresh(write: bool = True) -> list[str]:
    """Regenerate navigation in every notebook; return the stems that were (or would be) changed."""
    lessons = existing()
    changed = []
    for stem, _, _ in lessons:
        path = NOTEBOOKS / f"{stem}.ipynb"
        nb = json.loads(path.read_text(encoding="utf-8"))
        new = with_navigation(nb, stem, lessons)
        if _normalise(new) != _normalise(nb):
            changed.append(stem)
            if write:
                path.write_text(json.dumps(new, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return changed


def _normalise(nb: dict) -> list[tuple]:
    return [(c.get("id"), _source(c)) for c in nb["cells"]]


if __name__ == "__main__":
    done = refresh(write="--check" not in sys.argv)
    if "--check" in sys.argv and done:
        print("navigation out of date in: " + ", ".join(done) + " (run: make nav)")
        sys.exit(1)
    print("updated: " + (", ".join(done) if done else "nothing"))

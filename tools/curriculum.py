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
from dataclasses import dataclass
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NAV = "<!--dualrole:nav-->"
INDEX = "<!--dualrole:index-->"
TIME = "<!--dualrole:time-->"
# The time estimate under each lesson's title (the one rule; the facilitator guide quotes RULE): every word
# a learner reads at WORDS_PER_MINUTE (the lesson's prose, and for each case its card and its reveal with
# every section opened), MINUTES_PER_ANSWER for each case answered (choose, rate, write the reasoning,
# reconsider after the class), MINUTES_PER_SCRIPT where a case asks what you would say, MINUTES_PER_MODEL
# per decision-model case, MINUTES_PER_TEST_CASE per assessment case (8 a part; its reveal is held back),
# and MINUTES_TO_REFLECT for the reflection. A lesson's optional cases are timed apart: the first figure is
# the lesson with its core cases.
WORDS_PER_MINUTE = 200
MINUTES_PER_ANSWER = 4
MINUTES_PER_SCRIPT = 3
MINUTES_PER_MODEL = 10
MINUTES_PER_TEST_CASE = 6
MINUTES_TO_REFLECT = 10
# A written case analysis: read the case again, commit an answer, write 300 to 600 words in seven parts.
MINUTES_PER_ANALYSIS = 40
RULE = (f"every word read at {WORDS_PER_MINUTE} words a minute (the lesson's prose, and each case's card and "
        f"its reveal with every section opened), plus {MINUTES_PER_ANSWER} minutes to answer each case (choose, "
        f"rate your confidence, write your reasoning, reconsider), {MINUTES_PER_SCRIPT} to write what you would say "
        f"where a case asks, {MINUTES_PER_MODEL} for each decision-model "
        f"case, {MINUTES_PER_ANALYSIS} for each written case analysis, {MINUTES_PER_TEST_CASE} for each assessment "
        f"case and {MINUTES_TO_REFLECT} for the reflection; "
        "a lesson's optional cases are timed apart")
_CASE = re.compile(r"\bCaseCard\(\s*[\"']([\w-]+)[\"']")
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


def case_words(case_id: str) -> int:
    """The words a learner reads on one case: its card (title, vignette, options, the "what would you say"
    prompt and checklist) and its reveal with every section opened, as the reveal renders it (the learner's
    own reasoning left out)."""
    from widgets.cases.library import load_case
    from widgets.ui.reveal import reveal_html

    case = load_case(case_id)
    attempt = {"option_id": case.preferred[0] if case.preferred else case.option_ids[0], "confidence": 50,
               "justification": ""}
    card = " ".join([case.title, case.vignette, *(o.label for o in case.options),
                     *([case.say.prompt, *case.say.checklist] if case.say else [])])
    return _words(card) + _words(re.sub(r"<[^>]+>", " ", reveal_html(case, [attempt], None)))


def case_minutes(case_id: str) -> float:
    """A learner's minutes on one card by :data:`RULE`: reading its card and reveal, answering, and writing
    what they would say where the case asks (the facilitator guide holds its sessions to this)."""
    from widgets.cases.library import load_case

    script = MINUTES_PER_SCRIPT if load_case(case_id).say is not None else 0
    return case_words(case_id) / WORDS_PER_MINUTE + MINUTES_PER_ANSWER + script


def _words(prose: str) -> int:
    return len(re.sub(r"<!--.*?-->|\]\([^)]*\)|[*_#`|>-]+(?=\s)", " ", prose).split())


@dataclass(frozen=True)
class LessonTime:
    """A lesson's estimate by :data:`RULE`: minutes for the lesson with its core cases, minutes for its
    optional cases, and what each counts."""

    minutes: int
    counted: str
    optional_minutes: int = 0
    optional_cases: int = 0


def _rounded(minutes: float, floor: int = 0) -> int:
    return max(floor, 5 * round(minutes / 5))


def lesson_times(cells: list[dict]) -> LessonTime:
    """A lesson's estimated minutes by :data:`RULE` (each figure rounded to 5; the lesson at least 10)."""
    from widgets.cases import course

    prose = " ".join(_source(c) for c in cells if c["cell_type"] == "markdown" and not _generated(_source(c)))
    words = _words(prose)
    code = " ".join(_source(c) for c in cells if c["cell_type"] == "code")
    ids = _CASE.findall(code)
    core = [i for i in ids if not course.is_optional(i)]
    optional = [i for i in ids if course.is_optional(i)]
    models, analyses = len(_MODEL.findall(code)), len(_ANALYSIS.findall(code))
    parts_n = len(_ASSESSMENT.findall(code))
    tests = 8 * parts_n

    def cases_minutes(case_ids: list[str]) -> tuple[float, int]:
        return sum(case_minutes(i) for i in case_ids), sum(case_words(i) for i in case_ids)

    core_minutes, core_read = cases_minutes(core)
    minutes = (words / WORDS_PER_MINUTE + core_minutes + MINUTES_PER_MODEL * models
               + MINUTES_PER_ANALYSIS * analyses + MINUTES_PER_TEST_CASE * tests + MINUTES_TO_REFLECT)
    parts = [f"{words:,} words of lesson"]
    if core:
        label = "core case" if optional else "case"
        parts.append(f"{len(core)} {label}{'s' if len(core) != 1 else ''} with {core_read:,} words on their cards and "
                     f"reveals, {MINUTES_PER_ANSWER} minutes to answer each and {MINUTES_PER_SCRIPT} to write what you "
                     "would say")
    if models:
        parts.append(f"{models} decision-model case{'s' if models != 1 else ''}")
    if analyses:
        parts.append(f"{analyses} written case analys{'es' if analyses != 1 else 'is'} of about "
                     f"{MINUTES_PER_ANALYSIS} minutes each")
    if tests:
        parts.append(f"{parts_n} assessment part{'s' if parts_n != 1 else ''} of 8 cases, taken weeks apart")
    counted = "; ".join(parts) + "; and a reflection"
    extra = cases_minutes(optional)[0] if optional else 0.0
    return LessonTime(_rounded(minutes, 10), counted, _rounded(extra, 5) if optional else 0, len(optional))


def lesson_time(cells: list[dict]) -> tuple[int, str]:
    """A lesson's estimated minutes with its core cases, and what the estimate counts (:func:`lesson_times`).

    The one rule for a lesson's time: the title of each lesson and the facilitator guide both use it.
    """
    timed = lesson_times(cells)
    return timed.minutes, timed.counted


def time_markdown(cells: list[dict]) -> str:
    """The estimated time of a lesson, from its words and its cases, stated as an estimate."""
    timed = lesson_times(cells)
    cases = "case" if timed.optional_cases == 1 else "cases"
    optional = (f", plus about {timed.optional_minutes} minutes for the {timed.optional_cases} optional {cases}"
                if timed.optional_cases else "")
    return (f"{TIME}\n*Estimated time: about {timed.minutes} minutes*{optional} (an estimate from this "
            f"notebook's {timed.counted}, with every word read at {WORDS_PER_MINUTE} a minute; take the time you "
            "need).")


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

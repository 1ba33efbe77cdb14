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


# --- Core and optional cases; Kitchener's ratings fade; the time rule counts the reveal -------------------

def test_lessons_one_and_eight_have_about_five_core_cases_and_mark_the_rest_optional():
    from widgets.cases.course import core_case_ids, is_optional, lesson, lesson_case_ids

    for stem, module in (("01_confidentiality", "confidentiality"), ("08_roles", "roles")):
        entry = lesson(stem)
        assert 4 <= len(entry.core) <= 6 and entry.optional and set(entry.optional) <= set(entry.cases)
        assert core_case_ids(module) == entry.core
        assert all(is_optional(i) for i in entry.optional) and not any(is_optional(i) for i in entry.core)
        # The notebook shows the core cases first, then the optional ones under their own heading.
        nb = json.loads((NOTEBOOKS / f"{stem}.ipynb").read_text(encoding="utf-8"))
        sources = ["".join(c["source"]) for c in nb["cells"]]
        heading = next(i for i, s in enumerate(sources) if s.startswith("## More cases, if you have time"))
        first_optional = next(i for i, s in enumerate(sources) if f'CaseCard("{entry.optional[0]}")' in s)
        last_core = next(i for i, s in enumerate(sources) if f'CaseCard("{entry.core[-1]}")' in s)
        assert last_core < heading < first_optional and "optional" in sources[heading]
    assert not set(lesson("01_confidentiality").optional) & set(lesson_case_ids())


def test_a_course_file_marking_a_case_optional_that_the_lesson_does_not_show_is_refused(tmp_path, monkeypatch):
    from widgets.cases import course
    from widgets.errors import DualroleError

    (tmp_path / "course.yaml").write_text(
        "lessons:\n  - stem: 01_x\n    cases: [a, b]\n    optional: [c]\n", encoding="utf-8")
    monkeypatch.setenv("DUALROLE_DATA", str(tmp_path))
    with pytest.raises(DualroleError, match=r"course.yaml: lessons\[0\].optional: c is not one of the lesson's"):
        course.lessons()


def test_kitcheners_ratings_are_asked_in_lessons_two_and_three_only(fresh_store):
    from widgets.cases.course import asks_kitchener, lesson
    from widgets.ui.card import CaseCard

    flagged = [e.stem for e in lessons() if e.kitchener_ratings]
    assert flagged == ["02_business", "03_social"]
    for entry in lessons():
        for case_id in entry.cases:
            assert asks_kitchener(case_id) == (entry.stem in flagged), case_id
    asked = CaseCard("cosmetics", store=fresh_store, learner="ana", cohort="c")
    faded = CaseCard(lesson("05_communities").cases[0], store=fresh_store, learner="ana", cohort="c")
    assert asked.asks_ratings and asked.ratings_box.layout.display is None
    assert not faded.asks_ratings and faded.ratings_box.layout.display == "none"
    assert all(v is None for v in faded.draft.kitchener.values())


def test_an_optional_case_says_so_on_its_card(fresh_store):
    from widgets.ui.card import CaseCard

    assert "Optional case" in CaseCard("employer_asks", store=fresh_store, learner="ana", cohort="c").header.value
    assert "Optional" not in CaseCard("spouse_phone_call", store=fresh_store, learner="ana", cohort="c").header.value


def test_the_time_estimate_counts_the_reveal_and_times_optional_cases_apart():
    from tools import curriculum
    from widgets.cases.course import lesson
    from widgets.cases.library import load_case
    from widgets.ui.reveal import reveal_html

    case = load_case("spouse_phone_call")
    card_only = len(" ".join([case.title, case.vignette, *(o.label for o in case.options)]).split())
    rationale = len(case.rationale.split())
    assert curriculum.case_words(case.id) >= card_only + rationale  # the reveal's full rationale is read too
    assert "The full rationale" in reveal_html(case, [{"option_id": case.preferred[0], "confidence": 50,
                                                      "justification": ""}], None)
    nb = json.loads((NOTEBOOKS / "01_confidentiality.ipynb").read_text(encoding="utf-8"))
    timed = curriculum.lesson_times(nb["cells"])
    optional = set(lesson("01_confidentiality").optional)
    core_only = [c for c in nb["cells"] if not any(f'CaseCard("{i}")' in "".join(c["source"]) for i in optional)]
    assert curriculum.lesson_times(core_only).minutes == timed.minutes  # optional cases are not in the first figure
    assert timed.optional_cases == len(optional) and timed.optional_minutes >= len(optional) * curriculum.MINUTES_PER_ANSWER
    stated = "".join(next(c["source"] for c in nb["cells"] if c.get("id") == "dualrole-time"))
    assert f"about {timed.minutes} minutes*, plus about {timed.optional_minutes} minutes for the {len(optional)} optional" in stated
    # Lesson 05 has a single optional case, and its estimate says so in the singular.
    stated_05 = curriculum.time_markdown(json.loads((NOTEBOOKS / "05_communities.ipynb").read_text(encoding="utf-8"))["cells"])
    assert len(lesson("05_communities").optional) == 1 and "for the 1 optional case (" in stated_05


def test_grading_completion_counts_the_core_cases_and_the_rubric_every_answer(fresh_store):
    import pandas as pd

    from widgets import analysis
    from widgets.analysis.grades import grades
    from widgets.cases.course import lesson
    from widgets.grading.files import Assignment, GradingPolicy, assessment_cases
    from widgets.store.schema import COLUMNS
    from widgets.ui.card import CaseCard

    entry = lesson("01_confidentiality")
    for case_id in (*entry.core[:2], *entry.optional[:2]):
        card = CaseCard(case_id, store=fresh_store, learner="synthetic-ana", cohort="c")
        card.options.value = card.case.options[0].id
        card.justification.value = "Neither confirm nor deny; tell the client."
        card.submit.click()
    rows = analysis.responses(pd.DataFrame(fresh_store.responses(), columns=COLUMNS))
    shares = pd.DataFrame({"response_id": rows["response_id"].astype(str), "share": 0.5})
    policy = GradingPolicy((Assignment("1", ("confidentiality",), completion_points=10, rubric_points=10),),
                           taught=("confidentiality",))
    [row] = grades(rows, shares, policy, load_library(), assessment_cases()).to_dict("records")
    core = len(entry.core)
    assert (row["done"], row["of"]) == (2, core)  # the two optional answers count neither for nor against
    assert row["scored"] == 4 and row["grade"] == round(10 * 2 / core + 10 * 0.5, 2)

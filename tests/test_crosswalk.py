"""The standards crosswalk: current, in step with the course, honest about where its identifiers come from."""

from __future__ import annotations

import pytest

from tools import crosswalk, curriculum
from tools.facilitator import objectives
from widgets.cases import course, load_library

PAGE = crosswalk.PAGE.read_text(encoding="utf-8")


def test_the_crosswalk_is_current():
    assert crosswalk.page() == PAGE, "docs/crosswalk.md is stale: run python -m tools.crosswalk"


def test_every_lesson_objective_and_lesson_case_is_mapped_and_shown():
    cw = crosswalk.load()
    library = {c.id: c for c in load_library()}
    for entry in course.lessons():
        assert f"### {entry.title}" in PAGE
        stated = objectives(curriculum.NOTEBOOKS / f"{entry.stem}.ipynb")
        assert [goal for goal, _ in cw.objectives[entry.stem]] == stated
        for goal in stated:
            assert f"| {goal} |" in PAGE
        assert [case_id for case_id, _ in cw.cases[entry.stem]] == list(entry.all_cases)
        for case_id in entry.all_cases:
            assert f"(`{case_id}`)" in PAGE and library[case_id].use == "lesson"
    for case in library.values():
        if case.use == "assessment":
            assert f"`{case.id}`" not in PAGE


def test_the_page_says_where_its_identifiers_come_from_and_to_check_them():
    top = PAGE.split("## The topics", 1)[0]
    assert "pedagogy review" in top and "paraphrased" in top
    assert "cacrep.org" in top and "APA Standards of Accreditation" in top and "before" in top


def test_topics_nothing_reaches_are_listed_as_not_covered():
    cw = crosswalk.load()
    gaps = PAGE.split("## What is not covered", 1)[1]
    unused = [t for f in crosswalk.FRAMEWORKS for k, t in cw.topics[f].items() if cw.uses(f, k) == ([], [])]
    assert unused, "the review found topics the course does not reach"
    for topic in unused:
        assert f"- {topic['ref']} {topic['label']}." in gaps
    assert "self-care" in gaps.lower() and "trainee" in gaps and "school counseling" in gaps.lower()


@pytest.fixture
def broken(load_broken):
    return lambda edit: load_broken(crosswalk.DATA, crosswalk.load, edit)


def test_a_missing_case_an_unknown_case_or_topic_and_a_wrong_objective_count_are_named(tmp_path, broken):
    missing = broken(lambda t: t.replace("      employer_asks: {cacrep: [ethics_law], apa: [code]}\n", ""))
    assert "lessons.01_confidentiality.cases: case employer_asks of 01_confidentiality is missing" in missing
    unknown = broken(lambda t: t.replace("      employer_asks:", "      employer_calls:"))
    line = next(i for i, s in enumerate((tmp_path / "crosswalk.yaml").read_text().splitlines(), 1)
                if "employer_calls" in s)
    assert f"crosswalk.yaml:{line}: lessons.01_confidentiality.cases.employer_calls: 'employer_calls' is not a case" \
        in unknown
    topic = broken(lambda t: t.replace("investment_tip: {cacrep: [ethics_law]",
                                                  "investment_tip: {cacrep: [ethics]"))
    assert "lessons.02_business.cases.investment_tip.cacrep[0]: unknown cacrep topic 'ethics'" in topic
    count = broken(lambda t: t.replace("      - {cacrep: [critical_thinking, 3A3], apa: [decision]}\n", ""))
    assert "lessons.09_decision_models.objectives: the lesson states 4 objective(s) and this maps 3" in count

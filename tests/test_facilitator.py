"""The facilitator guide: current, honest about its numbers, and free of the assessment bank."""

from __future__ import annotations

import re

import pytest

from tools import facilitator
from widgets.cases import load_library

GUIDE = facilitator.GUIDE.read_text(encoding="utf-8")


def _sections() -> dict[str, str]:
    parts = re.split(r"(?m)^## ", GUIDE)[1:]
    return {part.split("\n", 1)[0]: part for part in parts}


def test_the_guide_is_current():
    assert facilitator.guide() == GUIDE, "docs/facilitator-guide.md is stale: run python -m tools.facilitator"


def test_the_guide_gives_each_lesson_the_time_under_its_title():
    for stem, _title, audience in facilitator.curriculum.LESSONS:
        if audience == "learner":
            path = facilitator.curriculum.NOTEBOOKS / f"{stem}.ipynb"
            title_time = re.search(r"Estimated time: about (\d+) minutes", path.read_text(encoding="utf-8"))
            assert title_time and int(title_time.group(1)) == facilitator.time_estimate(path).minutes, stem
    assert "estimate" in GUIDE.lower()


def test_there_is_a_section_per_lesson_with_its_computed_estimate():
    sections = _sections()
    for stem, title, _ in facilitator.curriculum.LESSONS:
        if re.match(r"^\d\d_", stem):
            estimate = facilitator.time_estimate(facilitator.curriculum.NOTEBOOKS / f"{stem}.ipynb")
            assert f"about {estimate.minutes} minutes" in sections[title]


@pytest.mark.parametrize("minutes", [50, 90])
def test_each_session_plan_fills_its_time(minutes):
    plans = re.findall(rf"\*\*{minutes}-minute session\.\*\*\n\n((?:\d+\. .*\n)+)", GUIDE)
    assert len(plans) >= 9
    for plan in plans:
        assert sum(int(m) for m in re.findall(r"\((\d+) min\)", plan)) == minutes, plan


def test_the_assessment_bank_never_appears_as_a_case():
    for case in load_library():
        if case.use == "assessment":
            assert f"`{case.id}`" not in GUIDE and case.title not in GUIDE, case.id
    assert "assessment bank" in GUIDE


def test_live_cases_show_their_own_prompts_and_misconceptions_only_uncredited_options():
    library = {c.id: c for c in load_library()}
    for title, body in _sections().items():
        for case_id in re.findall(r"^\*\*.*?\*\* \(`(\w+)`\)", body, re.M):
            case = library[case_id]
            assert case.use == "lesson"
            for question in case.discussion:
                assert f"- {question}" in body
    cosmetics = library["cosmetics"]
    uncredited = [o for o in cosmetics.options if o.id not in cosmetics.preferred + cosmetics.acceptable]
    assert facilitator.misconceptions(cosmetics) == [f"“{o.label}”: {facilitator.why_it_fails(o.rationale)}"
                                                     for o in uncredited]


# Opening sentences that grant what speaks for a wrong option; read aloud as "the misconception",
# each would endorse the error. The guide must print the reason the option fails instead.
CONCESSIONS = {
    "running_group_invitation": "Some writers hold that shared community activities are not harmful",
    "lunch_at_termination": "Some therapists would see a single meal",
    "housewarming_party": "Some writers argue that a short, planned appearance",
    "parent_of_adult_client": "This is a limited disclosure for a protective purpose",
    "climbing_with_supervisee": "Many good friendships start this way",
    "sliding_fee_alternative": "Generous, and some therapists keep",
}


def test_misconceptions_give_the_reason_an_option_fails_not_the_concession():
    library = {c.id: c for c in load_library()}
    for case_id, concession in CONCESSIONS.items():
        case = library[case_id]
        conceding = [o for o in case.options if concession in " ".join(o.rationale.split())]
        assert conceding, f"{case_id}: the rationale no longer opens with the concession; update this test"
        for item in facilitator.misconceptions(case):
            assert concession not in item, (case_id, item)
        assert concession not in GUIDE
    why = facilitator.why_it_fails
    assert why("Some writers call it harmless. But it makes you her customer.") == "It makes you her customer."
    assert why("Generous, and kind. It leaves her owing you.") == "It leaves her owing you."


def test_closest_cases_are_paced_first():
    cases = load_library().module("business")
    live = facilitator.live_cases(cases, 3)
    rest = [c for c in cases if c not in live]
    assert min(map(facilitator.closeness, live)) >= max(map(facilitator.closeness, rest))


def test_every_objective_of_a_lesson_is_exercised_by_one_of_its_cases():
    from widgets.cases import course

    library = {c.id: c for c in load_library()}
    for entry in course.lessons():
        cases = [library[i] for i in entry.all_cases]
        if not cases:
            continue
        for goal in facilitator.objectives(facilitator.curriculum.NOTEBOOKS / f"{entry.stem}.ipynb"):
            assert facilitator.exercised_by(goal, cases), f"{entry.stem}: no case exercises {goal!r}"


def test_objectives_go_to_the_cases_that_match_them_most_closely():
    # A section or a one-word tag that many cases share no longer pulls every such case in.
    lines = {line.split(" *Cases:* ")[0]: line.split(" *Cases:* ")[1] for line in GUIDE.splitlines()
             if " *Cases:* " in line}
    incidental = next(v for k, v in lines.items() if k.startswith("- Distinguish an incidental contact"))
    assert "`grocery_store_encounter`" in incidental and "promise_it_stays_here" not in incidental
    promise = next(v for k, v in lines.items() if k.startswith("- Recognize that promising a future relationship"))
    assert "`lunch_at_termination`" in promise
    assert not {"housewarming_party", "wedding_invitation", "arena_graduation"} & set(re.findall(r"`(\w+)`", promise))

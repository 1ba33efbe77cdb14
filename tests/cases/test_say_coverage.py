"""Every lesson case asks what the learner would say, and every lesson 01-08 asks for a chart note at least
once: the "what would you say" step reaches the whole course, with documentation practised in each module.

A lesson case here is one a lesson shows on a card (``Lesson.cases``): the card is what asks. Lesson 09's
decision-model case is worked through the decision models, with no card and so no step."""

from __future__ import annotations

from widgets.cases import course
from widgets.cases.library import load_library

LESSONS_WITH_A_CHART_NOTE = tuple(f"0{n}_" for n in range(1, 9))


def test_every_case_a_lesson_lists_has_a_say_block():
    library = load_library()
    missing = [(entry.stem, case_id) for entry in course.lessons() for case_id in entry.cases
               if library[case_id].say is None]
    assert missing == [], f"lesson cases without a say: block: {missing}"


def test_each_lesson_from_01_to_08_asks_for_a_chart_note_at_least_once():
    library = load_library()
    taught = [entry for entry in course.lessons() if entry.stem.startswith(LESSONS_WITH_A_CHART_NOTE)]
    assert len(taught) == 8, [entry.stem for entry in taught]
    without = [entry.stem for entry in taught
               if not any((say := library[c].say) is not None and say.kind == "chart_note" for c in entry.cases)]
    assert without == [], f"lessons with no chart-note case: {without}"

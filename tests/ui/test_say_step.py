"""The card's "what would you say" step, driven as a learner would (set .value, call .click()):
once the answer is final and before the reference, saved, restored after a restart, skippable, and
the model shown in the reveal."""

from __future__ import annotations

import re

import pytest

from widgets.errors import DualroleError
from widgets.ui.card import CaseCard

REASON = "The customer role would tangle money and approval for her."
WORDS = ("Thank you for thinking of me. I don't buy from the people I see, so that our time stays "
         "about you. Could we talk next week about what the catalogue means to you?")


def commit(card: CaseCard) -> None:
    card.options.value = "decline_explore"
    card.justification.value = REASON
    card.submit.click()


def settle(card: CaseCard) -> None:
    """Commit, then keep the answer: the answer is final, and the step opens."""
    commit(card)
    card.keep_button.click()


def write(card: CaseCard, words: str = WORDS, ticks=(0, 3)) -> None:
    card.script_text.value = words
    for i in ticks:
        card.say_checks[i].value = True


def first_screen(html: str) -> str:
    return re.sub(r"<details.*?</details>", "", html, flags=re.S)


def test_the_step_opens_once_the_answer_is_final_and_saves_the_words_and_ticks(say_case, fresh_store):
    card = CaseCard(say_case, store=fresh_store, cohort="c1")
    assert card.say_box.layout.display == "none"  # nothing to say before choosing
    commit(card)
    # While the answer may still change, the checklist (what a good answer does) would point to the key.
    assert card.session.can_revote and card.say_box.layout.display == "none"
    card.keep_button.click()
    assert card.say_box.layout.display is None
    assert "What would you say?" in card.say_prompt.value and "Marisol is waiting" in card.say_prompt.value
    assert [box.description for box in card.say_checks] == list(say_case.say.checklist)
    assert card.script_text.description == "Your words:"

    card.script_text.value = "Too short."
    assert "10 more characters" in card.say_status.value
    card.say_save.click()
    assert "Not saved" in card.say_status.value and fresh_store.scripts() == []

    write(card)
    card.say_save.click()
    assert card.say_status.value.startswith("Saved, with 2 of 4 points ticked")
    [row] = fresh_store.scripts()
    assert (row["text"], row["checks"], row["kind"], row["case_id"]) == (WORDS, [0, 3], "script", say_case.id)
    assert row["response_id"] == fresh_store.responses()[0]["response_id"]

    card.script_text.value = WORDS + " I mean it."
    card.say_save.click()
    assert [r["text"] for r in fresh_store.latest_scripts(learner=card.session.learner)] == [WORDS + " I mean it."]
    assert len(fresh_store.scripts()) == 2  # the earlier save stays on record


def test_unsaved_words_and_ticks_survive_a_restart(say_case, fresh_store):
    card = CaseCard(say_case, store=fresh_store, cohort="c1")
    settle(card)
    write(card, ticks=(1,))
    again = CaseCard(say_case, store=fresh_store, cohort="c1")  # a new kernel: a new card on the same store
    assert again.script_text.value == WORDS
    assert [box.value for box in again.say_checks] == [False, True, False, False]
    assert "unsaved words were restored" in again.say_status.value
    again.say_save.click()
    third = CaseCard(say_case, store=fresh_store, cohort="c1")
    assert third.script_text.value == WORDS and "last saved words" in third.say_status.value


def test_the_reveal_shows_the_model_beside_the_saved_words(say_case, fresh_store):
    card = CaseCard(say_case, store=fresh_store, cohort="c1")
    settle(card)
    write(card)
    card.say_save.click()
    card.show_button.click()
    assert card.say_box.layout.display == "none"  # the model is out: the step is over
    html = card.reveal.value
    section = re.search(r'<details[^>]*aria-label="A model script".*?</details>', html, flags=re.S).group(0)
    assert "I don&#x27;t buy from the people" in section or "I don't buy from the people" in section
    assert "<p><strong>Your words</strong></p>" in section and "Could we talk next week" in section
    assert "<li>Ticked: Thanks her" in section and "<li>Not ticked: Says plainly" in section
    assert "A model script" not in first_screen(html)  # the glance stays the verdict's
    with pytest.raises(DualroleError, match="reference is open"):
        card.session.save_script(WORDS, [])


def test_skipping_never_holds_the_reference_back(say_case, fresh_store):
    card = CaseCard(say_case, store=fresh_store, cohort="c1")
    settle(card)
    card.say_skip.click()
    assert card.say_box.layout.display == "none" and card.status.value.startswith("Skipped for now.")
    card.show_button.click()
    assert "You saved no words of your own for this case." in card.reveal.value
    assert fresh_store.scripts() == []


def test_the_reference_opens_without_a_script_too(say_case, fresh_store):
    card = CaseCard(say_case, store=fresh_store, cohort="c1")
    commit(card)
    card.keep_button.click()
    card.show_button.click()  # no save, no skip: the reference is one click away as ever
    assert "The full rationale" in card.reveal.value


def test_a_chart_note_is_asked_for_as_one(say_case, fresh_store):
    from dataclasses import replace

    note = replace(say_case, say=replace(say_case.say, kind="chart_note", to="record"))
    card = CaseCard(note, store=fresh_store, cohort="c1")
    settle(card)
    assert "What would you write in the chart?" in card.say_prompt.value
    assert card.script_text.description == "Your chart note:"
    card.script_text.value = "Too short."
    assert "Write your chart note in at least 20 characters" in card.say_status.value


def test_in_class_mode_the_step_is_the_learners_time_after_the_revote(say_case, fresh_store):
    card = CaseCard(say_case, store=fresh_store, cohort="c1")
    card.session.class_stage = "voting"
    commit(card)
    card._show_state()
    assert card.say_box.layout.display == "none"  # the revote is still to come: no checklist yet
    card.session.class_stage = "revote"
    card._show_state()
    card.keep_button.click()
    assert card.say_box.layout.display is None  # answer final, the class not yet revealed: time to write
    write(card)
    card.say_save.click()
    assert len(fresh_store.scripts()) == 1
    card.session.class_stage = "revealed"
    card._show_state()
    assert card.say_box.layout.display == "none" and "A model script" in card.reveal.value


def test_a_case_without_a_say_block_has_no_step(fresh_store):
    from dataclasses import replace

    from widgets.cases.library import load_case

    plain = replace(load_case("cosmetics"), say=None)
    card = CaseCard(plain, store=fresh_store, cohort="c1")
    commit(card)
    assert card.say_box.layout.display == "none" and card.say_checks == []
    card.keep_button.click()
    card.show_button.click()
    assert "A model" not in card.reveal.value

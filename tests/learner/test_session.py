"""CaseSession, the card's model: what may be committed when, in the learner's words, with no widgets."""

from __future__ import annotations

import pytest

from widgets.cases import load_case
from widgets.errors import AlreadyAnswered, DualroleError
from widgets.learner.session import CaseSession, Draft

REASON = "Becoming her customer would give me a stake in her business."


@pytest.fixture
def session(fresh_store):
    return CaseSession(load_case("cosmetics"), fresh_store, learner="ana", cohort="psy501")


def test_each_missing_piece_of_a_draft_is_named_for_the_learner(session):
    assert session.blocker(Draft()) == ("Choose one of the options to continue. "
                                        "Explain your reasoning in at least 20 characters: 20 more characters.")
    short = Draft(option_id="decline_only", justification="  too short  ")
    assert session.blocker(short) == "Explain your reasoning in at least 20 characters: 11 more characters."
    assert session.blocker(Draft(option_id="no_such", justification=REASON)) == "Choose one of the options to continue."
    assert session.blocker(Draft(option_id="decline_only", justification=REASON, confidence=101)) == (
        "Confidence must be between 0 and 100.")
    assert session.blocker(Draft(option_id="decline_only", justification=REASON)) is None


def test_a_commit_moves_draft_to_committed_and_is_read_back_from_the_store(session, fresh_store):
    assert session.step == "answering" and not session.committed
    response = session.commit(Draft(option_id="decline_only", confidence=80, justification=f"  {REASON}  "))
    assert session.committed and not session.changed and session.latest["response_id"] == response.response_id
    row = fresh_store.responses(learner="ana")[0]
    assert (row["stance"], row["justification"], row["attempt"]) == ("decline", REASON, 1)
    again = CaseSession(load_case("cosmetics"), fresh_store, learner="ana", cohort="psy501")
    assert again.committed and not again.changed  # resumed from the store, not from the kernel


def test_peer_instruction_steps_commit_reconsider_then_reference(fresh_store):
    s = CaseSession(load_case("cosmetics"), fresh_store, learner="ana", cohort="psy501")
    assert s.step == "answering"
    s.commit(Draft(option_id="decline_only", justification=REASON))
    assert s.step == "reconsidering" and s.can_revote and not s.reveal_released
    with pytest.raises(DualroleError, match="once you have kept or changed"):
        s.show_reference()
    assert s.blocker(Draft(option_id="buy_regularly", justification=REASON)).startswith("Write new reasoning")
    s.commit(Draft(option_id="buy_regularly", justification="After seeing the class, one purchase seems fine."))
    assert s.changed and s.step == "settled" and not s.can_revote
    assert s.blocker(Draft(option_id="decline_only", justification=REASON)) == (
        "You have already committed and revised this answer.")
    s.show_reference()
    assert s.step == "reading_reference" and s.reveal_released
    again = CaseSession(load_case("cosmetics"), fresh_store, learner="ana", cohort="psy501")
    assert again.step == "reading_reference"  # the step survives a restart


def test_keeping_the_answer_closes_the_revote(fresh_store):
    s = CaseSession(load_case("cosmetics"), fresh_store, learner="ana", cohort="psy501")
    s.commit(Draft(option_id="decline_only", justification=REASON))
    s.keep()
    assert s.step == "settled" and not s.can_revote
    assert "can change once" in s.blocker(Draft(option_id="buy_regularly", justification=REASON + " more"))


def test_pre_test_answers_skip_the_peer_steps_and_wait_for_their_reference(fresh_store):
    held = {"released": False}
    s = CaseSession(load_case("cosmetics"), fresh_store, learner="ana", cohort="psy501", phase="pre",
                    reveal_ready=lambda: held["released"])
    s.commit(Draft(option_id="decline_only", justification=REASON))
    assert s.step == "held_back" and not s.can_revote
    held["released"] = True
    assert s.step == "reading_reference"


def test_answers_from_before_the_steps_were_kept_count_as_having_seen_the_reference(fresh_store):
    from widgets.responses.contract import Response

    case = load_case("cosmetics")
    fresh_store.add(Response(learner="ana", cohort="psy501", case_id="cosmetics", case_version=case.case_version,
                             option_id="decline_only", stance="decline", confidence=60, justification=REASON))
    assert CaseSession(case, fresh_store, learner="ana", cohort="psy501").step == "reading_reference"


def test_class_mode_stages_hold_and_release_the_commit(session):
    draft = Draft(option_id="decline_only", justification=REASON)
    session.class_stage = "waiting"
    assert session.blocker(draft) == "Voting on this case has not opened yet."
    session.class_stage = "voting"
    session.commit(draft)
    assert session.step == "awaiting_class" and not session.reveal_released and not session.can_revote
    session.class_stage = "revote"
    assert session.step == "reconsidering" and session.can_revote and not session.reveal_released
    session.class_stage = "revealed"
    assert session.reveal_released and not session.can_revote


def test_a_second_tab_that_committed_first_wins(session, fresh_store):
    other = CaseSession(load_case("cosmetics"), fresh_store, learner="ana", cohort="psy501")
    other.commit(Draft(option_id="buy_regularly", justification=REASON))
    with pytest.raises(AlreadyAnswered):
        session.commit(Draft(option_id="decline_only", justification=REASON))
    assert session.latest["option_id"] == "buy_regularly"  # what is on disk, not the losing draft


def test_the_class_view_waits_for_min_class_answers(session, fresh_store):
    session.commit(Draft(option_id="decline_only", justification=REASON))
    alone = session.cohort_view()
    assert (alone.total, alone.shown, alone.needed) == (1, False, 4)
    for learner in ("ben", "cy", "dee", "eve"):
        CaseSession(load_case("cosmetics"), fresh_store, learner=learner, cohort="psy501").commit(
            Draft(option_id="one_small_order", justification=REASON))
    shown = session.cohort_view()
    assert shown.shown and shown.counts == {"decline_explore": 0, "decline_only": 1, "one_small_order": 4,
                                            "buy_regularly": 0}


def test_min_class_is_never_below_three(fresh_store):
    with pytest.raises(DualroleError, match="at least 3"):
        CaseSession(load_case("cosmetics"), fresh_store, learner="ana", cohort="c", min_class=2)

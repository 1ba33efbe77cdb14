"""A learner's progress, the post-test gate, the class code and decision ratings: rules in the kernel layer,
tested without widgets; and the panels that show them stay current."""

from __future__ import annotations

import pytest

from widgets.cases.course import lesson_case_ids
from widgets.cases.forms import assessment_forms
from widgets.cases.library import load_case
from widgets.errors import DualroleError
from widgets.learner import identity
from widgets.learner.progress import (
    confirm_post_test,
    form_for,
    lesson_progress,
    phase_done,
    post_test_gate,
    progress,
    set_class_code,
)
from widgets.learner.ratings import load_ratings, save_ratings, unrated
from widgets.learner.scratch import Scratch
from widgets.learner.session import CaseSession, Draft
from widgets.ui.assessment import Assessment
from widgets.ui.card import CaseCard
from widgets.ui.myanswers import MyAnswers

REASON = "My reasoning names the roles and the risks involved."


def answer(store, case_id, *, learner="ana", cohort=identity.DEFAULT_COHORT, phase="practice"):
    session = CaseSession(load_case(case_id), store, learner=learner, cohort=cohort, phase=phase)
    session.commit(Draft(option_id=session.case.options[0].id, justification=REASON))
    return session


def take_pre_test(store, learner="ana", cohort=identity.DEFAULT_COHORT):
    for case_id in assessment_forms().forms[form_for(store, learner, cohort, "pre")]:
        answer(store, case_id, learner=learner, cohort=cohort, phase="pre")


# -- progress belongs to the learner -----------------------------------------------------------------


def test_a_new_class_code_hides_no_answer_and_never_re_offers_the_pre_test(fresh_store, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_USER", "ana")
    take_pre_test(fresh_store)
    lesson_case = lesson_case_ids()[0]
    answer(fresh_store, lesson_case)
    message = set_class_code(fresh_store, "ana", "psy101")
    assert identity.cohort() == "psy101"
    # It says what changed and what did not.
    assert "class code is now psy101" in message and "9 earlier answers stay yours" in message
    assert "pre-test counts as taken" in message

    mine = progress(fresh_store, "ana")
    assert mine.pre_done and mine.answers == 9 and mine.cohorts == (identity.DEFAULT_COHORT,)
    assert lesson_progress(fresh_store, "ana")[0] == 1
    # The pre-test shows the answers already given, not blank cases to take again.
    pre = Assessment("pre", store=fresh_store)
    assert pre.cards and all(card.session.committed and card.options.disabled for card in pre.cards)
    assert "You have finished the pre-test" in pre.end.value
    # The lesson's card shows its answer too, and the panel counts it.
    card = CaseCard(lesson_case, store=fresh_store)
    assert card.session.committed and card.session.cohort == "psy101"
    panel = MyAnswers(store=fresh_store)
    assert "Pre-test (form " in panel.progress.value and "not done" not in panel.progress.value.split("</li>")[0]
    assert "Before lesson 1, take the pre-test" not in panel.progress.value


def test_a_revision_stays_with_its_first_answer_after_the_code_changes(fresh_store):
    first = answer(fresh_store, lesson_case_ids()[0], cohort="week1")
    later = CaseSession(first.case, fresh_store, learner="ana", cohort="week2")
    assert later.committed and later.answer_cohort == "week1"
    later.commit(Draft(option_id=later.case.options[1].id, justification=REASON + " Revised after the class."))
    assert [r["cohort"] for r in fresh_store.responses(learner="ana")] == ["week1", "week1"]


def test_a_bad_class_code_is_refused_and_changes_nothing(fresh_store):
    with pytest.raises(DualroleError, match="1 to 60 letters"):
        set_class_code(fresh_store, "ana", "psy 101; drop")
    assert identity.cohort() == identity.DEFAULT_COHORT


def test_a_draft_kept_under_a_class_code_comes_back_under_another(fresh_store):
    case = load_case(lesson_case_ids()[0])
    session = CaseSession(case, fresh_store, learner="ana", cohort="week1")
    session.save_draft(Draft(option_id=case.options[0].id, justification="Half-written thought"))
    again = CaseSession(case, fresh_store, learner="ana", cohort="week2")
    assert again.restored_draft().justification == "Half-written thought"


def test_a_draft_kept_before_drafts_ignored_the_class_code_is_still_found(tmp_path):
    import json

    path = tmp_path / "scratch.json"
    old_key = "\x1f".join(("ana", "week1", "practice", "cosmetics"))
    path.write_text(json.dumps({"drafts": {old_key: {"attempt": 1, "fields": {"justification": "kept"}}},
                                "steps": {old_key: {"kept": "2026-12-01T00:00:00+00:00"}}}), encoding="utf-8")
    scratch = Scratch(path)
    key = "\x1f".join(("ana", "practice", "cosmetics"))
    assert scratch.draft(key, 1) == {"justification": "kept"} and scratch.done(key, "kept")


def test_phase_done_counts_the_whole_form_under_any_code(fresh_store):
    form = assessment_forms().forms[form_for(fresh_store, "ana", None, "pre")]
    for i, case_id in enumerate(form):
        answer(fresh_store, case_id, cohort="a" if i % 2 else "b", phase="pre")
        assert phase_done(fresh_store, "ana", "pre") == (i == len(form) - 1)


# -- the post-test gate ------------------------------------------------------------------------------


def test_the_post_test_gate_states_what_is_left_and_needs_it_acknowledged(fresh_store):
    gate = post_test_gate(fresh_store, "ana")
    assert not gate.open and gate.confirmable
    total = len(lesson_case_ids())
    assert gate.left == f"{total} of the {total} lesson cases are still unanswered; the pre-test is not finished"
    with pytest.raises(DualroleError, match="note what is left"):
        confirm_post_test(gate, acknowledged_left=False)
    assert not post_test_gate(fresh_store, "ana").open
    assert confirm_post_test(gate, acknowledged_left=True).open
    assert post_test_gate(fresh_store, "ana").open  # remembered


def test_an_instructors_hold_cannot_be_confirmed_away_and_release_opens_it(fresh_store, monkeypatch):
    monkeypatch.setenv("DUALROLE_POST_TEST", "held")
    gate = post_test_gate(fresh_store, "ana")
    assert not gate.open and not gate.confirmable
    with pytest.raises(DualroleError, match="when your instructor releases it"):
        confirm_post_test(gate, acknowledged_left=True)
    monkeypatch.setenv("DUALROLE_POST_TEST", "open")
    assert post_test_gate(fresh_store, "ana").open


def test_with_nothing_left_one_confirmation_opens_it(fresh_store):
    take_pre_test(fresh_store)
    for case_id in lesson_case_ids():
        answer(fresh_store, case_id)
    gate = post_test_gate(fresh_store, "ana")
    assert gate.left == "" and confirm_post_test(gate, acknowledged_left=False).open


# -- flow: panels follow each commit; ratings only where they are taught -----------------------------


def test_my_answers_and_the_pre_test_follow_each_commit_without_a_refresh(fresh_store, monkeypatch):
    from widgets.cases.course import lesson

    monkeypatch.setenv("JUPYTERHUB_USER", "ana")
    core, optional = len(lesson("01_confidentiality").core), len(lesson("01_confidentiality").optional)
    panel = MyAnswers(store=fresh_store)
    pre = Assessment("pre", store=fresh_store)
    assert f"0 of {core} cases answered (and 0 of {optional} optional)" in panel.progress.value and pre.end.value == ""
    card = CaseCard("spouse_phone_call", store=fresh_store)
    card.options.value = card.case.options[0].id
    card.justification.value = REASON
    card.submit.click()
    assert f"1 of {core} cases answered (and 0 of {optional} optional)" in panel.progress.value
    for card in pre.cards:
        card.options.value = card.case.options[0].id
        card.justification.value = REASON
        card.submit.click()
    assert "You have finished the pre-test" in pre.end.value and "finished the pre-test" in pre.status.value
    assert "Pre-test (form " in panel.progress.value and "Before lesson 1" not in panel.progress.value


def test_the_pre_test_never_asks_kitchener_factors(fresh_store):
    for case_id in assessment_forms().forms[form_for(fresh_store, "ana", None, "pre")]:
        assert not CaseSession(load_case(case_id), fresh_store, learner="ana", cohort="c", phase="pre").asks_ratings
    asked = [case_id for case_id in assessment_forms().forms[form_for(fresh_store, "ana", None, "post")]
             if CaseSession(load_case(case_id), fresh_store, learner="ana", cohort="c", phase="post").asks_ratings]
    assert asked and all(load_case(c).second_role for c in asked)


def test_decision_ratings_are_kept_only_when_complete_and_valid(fresh_store):
    case_id = "climbing_with_supervisee"
    assert unrated("gottlieb", {"power": "high"}) == ["Duration of the professional relationship",
                                                      "Clarity of termination"]
    with pytest.raises(DualroleError, match="still to rate"):
        save_ratings(fresh_store, "ana", case_id, "gottlieb", {"power": "high"})
    with pytest.raises(DualroleError, match="is not one of"):
        save_ratings(fresh_store, "ana", case_id, "gottlieb",
                     {"power": "enormous", "duration": "long", "termination": "clear"})
    assert load_ratings(fresh_store, "ana", case_id, "gottlieb") == {}
    save_ratings(fresh_store, "ana", case_id, "gottlieb", {"power": "high", "duration": "long", "termination": "clear"})
    save_ratings(fresh_store, "ana", case_id, "gottlieb",
                 {"power": "high", "duration": "long", "termination": "uncertain"})
    assert load_ratings(fresh_store, "ana", case_id, "gottlieb")["termination"] == "uncertain"  # the latest counts
    assert load_ratings(fresh_store, "ana", case_id, "kitchener") == {}


def test_the_course_view_serves_the_learners_notebooks_only(isolated_home):
    from widgets.paths import course_notebooks

    folder = course_notebooks()
    names = sorted(p.name for p in folder.glob("*.ipynb"))
    assert names[0] == "00_start_here.ipynb" and "10_pre_post.ipynb" in names and "references.ipynb" in names
    assert not [n for n in names if n.startswith(("instructor_", "research_", "authoring"))]
    assert folder.parent == isolated_home and (folder.stat().st_mode & 0o077) == 0
    (folder / "instructor_live.ipynb").write_text("{}", encoding="utf-8")
    assert not (course_notebooks() / "instructor_live.ipynb").exists()  # made fresh each time


def test_class_mode_releases_the_post_test_as_a_stage(fresh_store, monkeypatch):
    monkeypatch.setenv("DUALROLE_POST_TEST", "held")
    form_a, form_b = (assessment_forms().forms[f] for f in ("A", "B"))
    lesson_case = lesson_case_ids()[0]
    assert not post_test_gate(fresh_store, "ana", {form_a[0]: "waiting", lesson_case: "voting"}).open
    assert not post_test_gate(fresh_store, "ana", {form_b[0]: "self-paced"}).open
    assert post_test_gate(fresh_store, "ana", {form_b[0]: "voting"}).open  # either form's case releases it


# -- the delayed post-test -----------------------------------------------------------------------------


def take_post_test(store, learner="ana", days_ago=0):
    """The learner's post-test, committed ``days_ago`` days ago."""
    from datetime import timedelta

    from widgets.responses.contract import Response, utcnow

    for case_id in assessment_forms().forms[form_for(store, learner, None, "post")]:
        case = load_case(case_id)
        option = case.options[0]
        store.add(Response(learner=learner, cohort=identity.DEFAULT_COHORT, case_id=case_id,
                           case_version=case.case_version, option_id=option.id, stance=option.stance, confidence=50,
                           justification=REASON, phase="post", submitted_at=utcnow() - timedelta(days=days_ago)))


def test_the_delayed_post_test_is_not_offered_unless_the_course_sets_its_days(fresh_store):
    from widgets.learner.progress import delayed_test_gate

    take_pre_test(fresh_store)
    take_post_test(fresh_store, days_ago=400)
    gate = delayed_test_gate(fresh_store, "ana")
    assert not gate.open and gate.why == "Your course does not offer a delayed post-test."


@pytest.mark.parametrize("value", ["soon", "0.5", "400", "-3"])
def test_a_bad_number_of_days_is_a_clear_error(monkeypatch, value):
    monkeypatch.setenv("DUALROLE_DELAYED_POST_TEST_DAYS", value)
    with pytest.raises(DualroleError, match="DUALROLE_DELAYED_POST_TEST_DAYS is .*whole number of days from 1 to 365"):
        assessment_forms()


def test_the_delayed_post_test_opens_the_set_days_after_the_post_test_on_the_pre_tests_form(fresh_store, monkeypatch):
    from datetime import timedelta

    from widgets.learner.progress import delayed_test_gate

    monkeypatch.setenv("DUALROLE_DELAYED_POST_TEST_DAYS", "30")
    take_pre_test(fresh_store)
    assert "30 days after you finish the post-test" in delayed_test_gate(fresh_store, "ana").why
    take_post_test(fresh_store)
    finished = max(r["submitted_at"] for r in fresh_store.responses(learner="ana", phase="post"))
    gate = delayed_test_gate(fresh_store, "ana", now=finished + timedelta(days=30) - timedelta(seconds=1))
    assert not gate.open and gate.opens_at == finished + timedelta(days=30)
    assert f"on {gate.opens_at:%d %B %Y} (UTC)" in gate.why
    assert delayed_test_gate(fresh_store, "ana", now=finished + timedelta(days=30)).open
    assert form_for(fresh_store, "ana", None, "delayed") == form_for(fresh_store, "ana", None, "pre")
    assert form_for(fresh_store, "ana", None, "delayed") != form_for(fresh_store, "ana", None, "post")


def test_the_delayed_post_test_is_its_own_phase_beside_the_post_test(fresh_store, monkeypatch):
    from widgets.learner.progress import delayed_test_gate

    monkeypatch.setenv("DUALROLE_DELAYED_POST_TEST_DAYS", "14")
    monkeypatch.setenv("JUPYTERHUB_USER", "ana")
    take_pre_test(fresh_store)
    take_post_test(fresh_store, days_ago=2)
    closed = Assessment("delayed", store=fresh_store)
    assert not closed.cards and "Delayed post-test: not open." in closed.children[0].value

    fresh_store.erase_learner("ana")
    take_pre_test(fresh_store)
    take_post_test(fresh_store, days_ago=15)
    test = Assessment("delayed", store=fresh_store)
    assert [card.case.id for card in test.cards] == list(assessment_forms().forms[test.form])
    for card in test.cards:
        card.options.value = card.case.options[1].id
        card.justification.value = REASON
        card.submit.click()
    assert phase_done(fresh_store, "ana", "delayed") and "finished the delayed post-test" in test.end.value
    # The same cases as the pre-test, kept apart from it: one answer per case in each phase.
    pre = {r["case_id"] for r in fresh_store.responses(learner="ana", phase="pre")}
    assert {r["case_id"] for r in fresh_store.responses(learner="ana", phase="delayed")} == pre
    assert delayed_test_gate(fresh_store, "ana").why == "You have started the delayed post-test."

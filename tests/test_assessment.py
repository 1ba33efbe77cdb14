"""The pre/post assessment, the decision-model walkthrough and instructor authoring."""

from __future__ import annotations

import pytest

from widgets.cases.authoring import check_cases, new_case
from widgets.cases.library import load_case, load_library
from widgets.errors import DualroleError
from widgets.ui.assessment import Assessment, assessment_config
from widgets.ui.decision import DecisionModel

REASON = "My reasoning names the roles and the risks involved."


def commit(card, option=None):
    card.options.value = option or card.case.options[0].id
    card.justification.value = REASON
    card.submit.click()


def test_assessment_has_ten_cases_from_the_library():
    config = assessment_config()
    assert len(config["cases"]) == 10 and len(set(config["cases"])) == 10
    library = load_library()
    assert all(case_id in library for case_id in config["cases"])
    assert config["pre_reveal"] == "after_post"


def test_pre_reveal_waits_until_the_post_test_is_done(fresh_store):
    pre = Assessment("pre", store=fresh_store, learner="l1", cohort="c")
    commit(pre.cards[0])
    assert pre.cards[0].reveal.value == "" and "held back" in pre.cards[0].status.value
    assert {r["phase"] for r in fresh_store.responses()} == {"pre"}

    post = Assessment("post", store=fresh_store, learner="l1", cohort="c")
    for card in post.cards[:-1]:
        commit(card)
        assert "Reference answer" in card.reveal.value  # post answers reveal at once
    assert Assessment("pre", store=fresh_store, learner="l1", cohort="c").cards[0].reveal.value == ""
    commit(post.cards[-1])
    again = Assessment("pre", store=fresh_store, learner="l1", cohort="c")
    assert "Reference answer" in again.cards[0].reveal.value  # released once the post-test is complete
    assert {r["phase"] for r in fresh_store.responses()} == {"pre", "post"}


def test_instructor_can_release_pre_answers_immediately(fresh_store, monkeypatch):
    monkeypatch.setenv("DUALROLE_PRE_REVEAL", "immediate")
    pre = Assessment("pre", store=fresh_store, learner="l1", cohort="c")
    commit(pre.cards[0])
    assert "Reference answer" in pre.cards[0].reveal.value


def test_a_bad_reveal_setting_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("DUALROLE_PRE_REVEAL", "sometimes")
    with pytest.raises(DualroleError, match="use one of: after_post, immediate"):
        assessment_config()


def test_decision_model_compares_and_remembers_ratings():
    model = DecisionModel("lunch_at_termination")
    model.gottlieb.compare.click()
    assert model.gottlieb.status.value == "Rate at least one factor first." and model.gottlieb.status.urgent
    model.gottlieb.dropdowns["termination"].value = "clear"
    model.gottlieb.compare.click()
    html = model.gottlieb.result.value
    assert "<td>clear</td><td>uncertain</td>" in html  # the learner's rating beside the reference
    assert "at the highest level" in html  # power is high in the reference
    assert DecisionModel("lunch_at_termination").gottlieb.dropdowns["termination"].value == "clear"


def test_decision_model_needs_reference_ratings():
    case_without = next(c for c in load_library() if c.gottlieb is None)
    with pytest.raises(DualroleError, match="has no 'gottlieb' reference ratings"):
        DecisionModel(case_without.id)


def test_an_instructor_case_is_written_checked_and_loaded_without_touching_the_library(isolated_home):
    path = new_case("tip_jar", module="gifts")
    assert path.parent == isolated_home / "cases"
    assert check_cases().ok
    assert load_case("tip_jar").module == "gifts"
    path.write_text(path.read_text(encoding="utf-8").replace("stance: accept\n", "stance: maybe\n", 1), encoding="utf-8")
    report = check_cases()
    assert not report.ok and "options[3].stance: 'maybe'" in str(report)
    assert "<td>options[3].stance</td>" in report._repr_html_()


def test_new_case_refuses_a_taken_id():
    with pytest.raises(DualroleError, match="a case with id 'cosmetics' already exists"):
        new_case("cosmetics")


def test_consent_is_off_by_default_recorded_and_revocable(fresh_store, monkeypatch):
    from widgets.kernel import identity
    from widgets.ui.lesson import ConsentChoice

    monkeypatch.setenv("JUPYTERHUB_USER", "ana")
    choice = ConsentChoice(store=fresh_store)
    assert choice.checkbox.value is False and not identity.research_consent()
    assert "Not consented" in choice.status.value
    choice.checkbox.value = True
    assert identity.research_consent() and fresh_store.consent("ana") is True
    choice.checkbox.value = False
    assert not identity.research_consent() and fresh_store.consent("ana") is False  # withdrawal recorded

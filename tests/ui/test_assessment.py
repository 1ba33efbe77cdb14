"""The pre/post assessment, the decision-model walkthrough and instructor authoring."""

from __future__ import annotations

from pathlib import Path

import pytest

from widgets.cases.authoring import check_cases, new_case
from widgets.cases.course import lesson_case_ids, lessons
from widgets.cases.forms import assessment_forms, other_form
from widgets.cases.library import load_case, load_library
from widgets.errors import DualroleError
from widgets.learner import identity
from widgets.learner.progress import form_for
from widgets.ui.assessment import Assessment
from widgets.ui.card import CaseCard
from widgets.ui.decision import DecisionModel
from widgets.vocab import MODULES

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
REASON = "My reasoning names the roles and the risks involved."


def commit(card, option=None):
    card.options.value = option or card.case.options[0].id
    card.justification.value = REASON
    card.submit.click()


def test_the_forms_are_disjoint_matched_and_assessment_only():
    forms = assessment_forms()
    library = load_library()
    a, b = forms.forms["A"], forms.forms["B"]
    assert len(a) == len(b) >= 8 and not set(a) & set(b) and len(set(a + b)) == len(a) + len(b)
    bank = {c.id for c in library if c.use == "assessment"}
    assert set(a + b) == bank, "every assessment-only case is in exactly one form"
    for case_a, case_b in zip(a, b, strict=True):
        x, y = library[case_a], library[case_b]
        assert x.module == y.module, (case_a, case_b)
        assert x.reference_stances == y.reference_stances, (case_a, case_b)  # same answer, same difficulty
        assert x.contested == y.contested and x.context_dependent == y.context_dependent, (case_a, case_b)
        assert sorted(o.stance for o in x.options) == sorted(o.stance for o in y.options), (case_a, case_b)
    assert {library[c].module for c in a} == set(MODULES)  # the forms cover the whole course
    assert forms.pre_reveal == "after_post" and forms.post_test == "learner_confirms"


def test_no_assessment_case_appears_in_any_lesson():
    bank = set(assessment_forms().case_ids)
    for entry in lessons():
        assert not bank & set(entry.all_cases), entry.stem
    for path in NOTEBOOKS.glob("*.ipynb"):
        if path.stem == "10_pre_post":
            continue
        assert not any(case_id in path.read_text(encoding="utf-8") for case_id in bank), path.name


def _class_arrives(store, names, cohort="c"):
    """Each learner opens the pre-test in turn and answers its first case; return their pre forms."""
    forms = {}
    for name in names:
        pre = Assessment("pre", store=store, learner=name, cohort=cohort)
        commit(pre.cards[0])
        forms[name] = pre.form
    return forms


def test_form_order_is_blocked_within_the_cohort_and_stable(fresh_store):
    names = [f"student{i:02d}" for i in range(15)]
    forms = _class_arrives(fresh_store, names)
    assert sorted(list(forms.values()).count(f) for f in ("A", "B")) == [7, 8]  # a class of 15 splits 8:7
    for name in names:  # the post-test follows the learner's own pre-test
        assert form_for(fresh_store, name, "c", "post") == other_form(forms[name])
    # So does a reload (each builds every card of a form, so not all fifteen): the first and the last to
    # arrive on each form. A reload that drew the order again from the class's 8:7 count would give
    # them all the same form.
    on = {form: [name for name in names if forms[name] == form] for form in ("A", "B")}
    for name in {on["A"][0], on["A"][-1], on["B"][0], on["B"][-1]}:
        assert Assessment("pre", store=fresh_store, learner=name, cohort="c").form == forms[name]
    # Another cohort in the same store is balanced on its own.
    other = _class_arrives(fresh_store, [f"x{i}" for i in range(4)], cohort="d")
    assert sorted(other.values()) == ["A", "A", "B", "B"]


def test_nobody_can_work_out_a_form_order_from_the_user_name(tmp_path, monkeypatch):
    """The same user name, first in the same class, gets either order: the tie is settled by a secret coin."""
    from widgets.store import open_store

    seen = set()
    for run in range(20):  # both forms appear unless 20 fair coins all agree (p = 2e-6)
        monkeypatch.setenv("DUALROLE_HOME", str(tmp_path / f"home{run}"))
        store = open_store(f"sqlite:///{tmp_path / f'run{run}.sqlite'}")
        seen.add(Assessment("pre", store=store, learner="student00", cohort="c").form)
        if seen == {"A", "B"}:
            break  # both seen: the remaining runs could add nothing
    assert seen == {"A", "B"}


def _learner_with_pre_form(form):
    identity.save_settings(first_form={"l1": form})
    return "l1"


@pytest.mark.parametrize("form", ["A", "B"])
def test_each_learner_sees_their_own_form(fresh_store, form):
    learner = _learner_with_pre_form(form)
    pre = Assessment("pre", store=fresh_store, learner=learner, cohort="c")
    assert pre.form == form and [c.case.id for c in pre.cards] == list(assessment_forms().forms[form])
    assert f"form {form}" in pre.children[0].value


def test_pre_reveal_waits_until_the_post_test_is_done(fresh_store, monkeypatch):
    monkeypatch.setenv("DUALROLE_POST_TEST", "open")
    learner = _learner_with_pre_form("A")
    pre = Assessment("pre", store=fresh_store, learner=learner, cohort="c")
    commit(pre.cards[0])
    assert pre.cards[0].reveal.value == "" and "held back" in pre.cards[0].status.value
    assert {r["phase"] for r in fresh_store.responses()} == {"pre"}

    post = Assessment("post", store=fresh_store, learner=learner, cohort="c")
    assert post.form == "B" and {c.case.id for c in post.cards} == set(assessment_forms().forms["B"])
    for card in post.cards[:-1]:
        commit(card)
        assert "Reference answer" in card.reveal.value  # post answers reveal at once
    assert Assessment("pre", store=fresh_store, learner=learner, cohort="c").cards[0].reveal.value == ""
    commit(post.cards[-1])
    again = Assessment("pre", store=fresh_store, learner=learner, cohort="c")
    assert "Reference answer" in again.cards[0].reveal.value  # released once the post-test is complete
    assert {r["phase"] for r in fresh_store.responses()} == {"pre", "post"}


def test_self_study_post_test_opens_after_the_learner_confirms(fresh_store):
    lesson_case = lessons()[1].cases[0]
    commit(CaseCard(lesson_case, store=fresh_store, learner="l1", cohort="c"))
    post = Assessment("post", store=fresh_store, learner="l1", cohort="c")
    assert post.cards == []
    gate = post.children[0].value
    assert "not open yet" in gate and f"answered 1 of {len(lesson_case_ids())} lesson cases" in gate
    post.confirm.click()
    # A second step first, stating what is left undone; "Not yet" keeps it closed.
    assert post.cards == [] and post.confirm_yes.layout.display is None
    left = f"{len(lesson_case_ids()) - 1} of the {len(lesson_case_ids())} lesson cases are still unanswered"
    assert left in post.warning.value and "the pre-test is not finished" in post.warning.value
    assert left in post.status.value and post.status.urgent
    post.confirm_no.click()
    assert post.cards == [] and post.warning.value == "" and post.confirm_yes.layout.display == "none"
    assert Assessment("post", store=fresh_store, learner="l1", cohort="c").cards == []  # not opened
    post.confirm.click()
    post.confirm_yes.click()
    assert len(post.cards) == 8 and post.cards[0].case.id in assessment_forms().forms[form_for(fresh_store, "l1", "c", "post")]
    assert Assessment("post", store=fresh_store, learner="l1", cohort="c").cards  # remembered


def test_a_held_post_test_has_no_button_until_the_instructor_opens_it(fresh_store, monkeypatch):
    monkeypatch.setenv("DUALROLE_POST_TEST", "held")
    post = Assessment("post", store=fresh_store, learner="l1", cohort="c")
    assert post.cards == [] and post.confirm.layout.display == "none"
    assert "when your instructor releases it" in post.children[0].value
    monkeypatch.setenv("DUALROLE_POST_TEST", "open")
    assert len(Assessment("post", store=fresh_store, learner="l1", cohort="c").cards) == 8


def test_instructor_can_release_pre_answers_immediately(fresh_store, monkeypatch):
    monkeypatch.setenv("DUALROLE_PRE_REVEAL", "immediate")
    pre = Assessment("pre", store=fresh_store, learner="l1", cohort="c")
    commit(pre.cards[0])
    assert "Reference answer" in pre.cards[0].reveal.value


@pytest.mark.parametrize("variable, value, allowed", [
    ("DUALROLE_PRE_REVEAL", "sometimes", "after_post, immediate"),
    ("DUALROLE_POST_TEST", "soon", "learner_confirms, held, open"),
])
def test_a_bad_assessment_setting_is_a_clear_error(monkeypatch, variable, value, allowed):
    monkeypatch.setenv(variable, value)
    with pytest.raises(DualroleError, match=f"{variable} is '{value}'; use one of: {allowed}"):
        assessment_forms()


def test_a_broken_forms_file_names_the_file_and_field(tmp_path, monkeypatch):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(REPO / "data", data)
    text = (data / "assessment_forms.yaml").read_text(encoding="utf-8")
    (data / "assessment_forms.yaml").write_text(text.replace("    - family_tuition_secret\n",
                                                              "    - couple_hidden_debt\n"), encoding="utf-8")
    monkeypatch.setenv("DUALROLE_DATA", str(data))
    with pytest.raises(DualroleError, match=r"assessment_forms.yaml: forms: couple_hidden_debt is in both forms"):
        assessment_forms()


def test_decision_model_shows_the_vignette_and_hides_the_reference_until_every_factor_is_rated(
        fresh_store, monkeypatch, tmp_path):
    monkeypatch.setenv("JUPYTERHUB_USER", "ana")
    model = DecisionModel("climbing_with_supervisee", store=fresh_store)
    assert model.case.vignette.split()[0] in model.children[1].value  # the vignette is shown
    model.gottlieb.compare.click()
    assert model.gottlieb.status.urgent and model.gottlieb.result.value == ""
    model.gottlieb.choices["power"].value = "high"
    model.gottlieb.compare.click()
    assert "still to rate" in model.gottlieb.status.value and model.gottlieb.result.value == ""  # still hidden
    model.gottlieb.choices["duration"].value = "long"
    model.gottlieb.choices["termination"].value = "uncertain"
    model.gottlieb.compare.click()
    html = model.gottlieb.result.value
    assert "<td>uncertain</td><td>clear</td>" in html  # the learner's rating beside the reference
    again = DecisionModel("climbing_with_supervisee", store=fresh_store)
    assert again.gottlieb.choices["termination"].value == "uncertain" and again.gottlieb.result.value
    # The ratings are a collectable record: in the learner's bundle, and collected.
    from widgets.exchange.bundle import write_bundle
    from widgets.exchange.collect import collect
    from widgets.store import open_store

    write_bundle(fresh_store, "ana", tmp_path / "ana.jsonl")
    class_store = open_store(f"sqlite:///{tmp_path / 'class.sqlite'}")
    assert collect([tmp_path / "ana.jsonl"], class_store, tmp_path / "q").files[0].reflections == 1
    assert class_store.reflections(kind="decision_ratings")[0]["case_id"] == "climbing_with_supervisee"


def test_decision_model_shows_a_content_note_before_the_vignette(fresh_store):
    import dataclasses

    case = dataclasses.replace(load_case("climbing_with_supervisee"), content_note="A supervisor's attraction.")
    html = DecisionModel(case, store=fresh_store).children[1].value
    assert html.index("Content note:") < html.index(case.vignette.split()[0])
    assert "Content note" not in DecisionModel("climbing_with_supervisee", store=fresh_store).children[1].value


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
    from widgets.learner import identity
    from widgets.ui.lesson import ConsentChoice

    monkeypatch.setenv("JUPYTERHUB_USER", "ana")
    choice = ConsentChoice(store=fresh_store)
    assert choice.checkbox.value is False and not identity.research_consent()
    assert "Not consented" in choice.status.value
    choice.checkbox.value = True
    assert identity.research_consent() and fresh_store.consent("ana") is True
    choice.checkbox.value = False
    assert not identity.research_consent() and fresh_store.consent("ana") is False  # withdrawal recorded

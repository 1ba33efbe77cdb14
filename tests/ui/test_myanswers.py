"""MyAnswers, the learner's own panel, and reflections: saved, exported, collected, shown to the instructor only."""

from __future__ import annotations

import pytest

from widgets.exchange.bundle import read_bundle, write_bundle
from widgets.exchange.collect import collect
from widgets.learner import identity
from widgets.store import open_store
from widgets.ui.card import CaseCard
from widgets.ui.myanswers import MyAnswers, ReflectionBox

REASON = "My reasoning names the roles and the risks involved."


def commit(card):
    card.options.value = card.case.options[0].id
    card.justification.value = REASON
    card.submit.click()


@pytest.fixture
def learner(monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_USER", "ana")
    return "ana"


def test_progress_counts_each_lesson_and_reminds_about_the_pre_test(fresh_store, learner):
    from widgets.cases.course import lesson

    panel = MyAnswers(store=fresh_store)
    assert "Before lesson 1, take the pre-test" in panel.progress.value
    lesson_one = "1. Confidentiality and the fact of therapy: "
    core, optional = len(lesson("01_confidentiality").core), len(lesson("01_confidentiality").optional)
    assert lesson_one + f"0 of {core} cases answered (and 0 of {optional} optional)" in panel.progress.value
    commit(CaseCard("spouse_phone_call", store=fresh_store))
    panel.refresh()
    assert lesson_one + f"1 of {core} cases answered (and 0 of {optional} optional)" in panel.progress.value
    commit(CaseCard("employer_asks", store=fresh_store))  # optional: counted apart from the core
    panel.refresh()
    assert lesson_one + f"1 of {core} cases answered (and 1 of {optional} optional)" in panel.progress.value
    assert "Pre-test (form " in panel.progress.value and "not done" in panel.progress.value
    assert fresh_store.url in panel.where.value and "ana" in panel.where.value


def test_download_is_the_same_bundle_as_export(fresh_store, learner, tmp_path):
    commit(CaseCard("spouse_phone_call", store=fresh_store))
    box = ReflectionBox("01_confidentiality", store=fresh_store)
    box.text.value = "Our receptionist gets these calls; we need a script."
    box.save.click()
    panel = MyAnswers(store=fresh_store)
    body = panel.download.prepare()
    assert panel.download.filename == "my-answers.jsonl"
    assert panel.download.payload.startswith("data:application/x-ndjson;base64,") and panel.download.ready == 1
    downloaded = tmp_path / "downloaded.jsonl"
    downloaded.write_text(body, encoding="utf-8")
    exported = tmp_path / "exported.jsonl"
    write_bundle(fresh_store, "ana", exported)
    strip = lambda text: [line for line in text.splitlines()[1:]]  # noqa: E731 (manifests differ in time only)
    assert strip(body) == strip(exported.read_text(encoding="utf-8"))
    read = read_bundle(downloaded)
    assert read.rejected is None and read.learner == "ana" and len(read.lines) == 2
    assert not any(line.problem for line in read.lines)


def test_erase_asks_first_and_cancel_keeps_everything(fresh_store, learner):
    commit(CaseCard("spouse_phone_call", store=fresh_store))
    panel = MyAnswers(store=fresh_store)
    panel.erase_button.click()
    assert panel.confirm_erase.layout.display is None and "cannot be undone" in panel.status.value
    assert fresh_store.responses(learner="ana")  # nothing erased yet
    panel.cancel_erase.click()
    assert fresh_store.responses(learner="ana") and panel.status.value == "Nothing was erased."
    panel.erase_button.click()
    panel.confirm_erase.click()
    assert fresh_store.responses(learner="ana") == [] and "Erased 1 answer(s)" in panel.status.value


def test_setting_the_cohort_is_checked_and_remembered(fresh_store, learner):
    panel = MyAnswers(store=fresh_store)
    panel.cohort_input.value = "<script>"
    panel.cohort_button.click()
    assert panel.status.urgent and identity.cohort() == "self-study"
    panel.cohort_input.value = "psy501-fall"
    panel.cohort_button.click()
    assert identity.cohort() == "psy501-fall" and "psy501-fall" in panel.where.value


def test_reflections_round_trip_to_the_instructor_but_never_to_public_reports(fresh_store, learner, tmp_path):
    from widgets.reporting.reflections import reflections_view
    from widgets.responses.disclosure import reflections_for

    box = ReflectionBox("03_social", store=fresh_store)
    box.save.click()
    assert box.status.urgent and "Write something first" in box.status.value
    box.text.value = "I end with clients by <b>summarizing</b>; lunch never came up."
    box.save.click()
    assert "Saved" in box.status.value
    assert ReflectionBox("03_social", store=fresh_store).text.value.startswith("I end with clients")  # restored
    commit(CaseCard("lunch_at_termination", store=fresh_store))
    bundle = tmp_path / "ana.jsonl"
    write_bundle(fresh_store, "ana", bundle)

    class_store = open_store(f"sqlite:///{tmp_path / 'class.sqlite'}")
    report = collect([bundle], class_store, tmp_path / "q")
    assert report.imported == 1 and report.files[0].reflections == 1 and report.quarantined == 0
    assert collect([bundle], class_store, tmp_path / "q").files[0].reflections == 0  # collecting twice adds nothing
    view = reflections_view(class_store)
    assert list(view["learner"]) == ["ana"] and "summarizing" in view["reflection"].iloc[0]
    with pytest.raises(Exception, match="instructor"):
        reflections_for("public", class_store.reflections())
    with pytest.raises(Exception, match="instructor"):
        reflections_for("class", class_store.reflections())


def test_a_tampered_reflection_line_is_quarantined_and_the_rest_imported(fresh_store, learner, tmp_path):
    box = ReflectionBox("01_confidentiality", store=fresh_store)
    box.text.value = "A first reflection."
    box.save.click()
    commit(CaseCard("spouse_phone_call", store=fresh_store))
    bundle = tmp_path / "ana.jsonl"
    write_bundle(fresh_store, "ana", bundle)
    bundle.write_text(bundle.read_text(encoding="utf-8").replace("A first reflection.", "Changed later."),
                      encoding="utf-8")
    report = collect([bundle], open_store(f"sqlite:///{tmp_path / 'class.sqlite'}"), tmp_path / "q")
    assert report.imported == 1 and report.quarantined == 1
    assert "changed after export" in report.problems[-1].reason


def test_the_panel_imports_the_instructors_feedback_file(fresh_store):
    from widgets.ui.myanswers import MyAnswers

    panel = MyAnswers(store=fresh_store)
    assert panel.feedback.upload.description == "Import feedback file"
    assert panel.feedback in panel.children[2].children  # with the other actions, not hidden away


def test_a_readable_copy_comes_beside_the_data_file(fresh_store, learner):
    import base64

    card = CaseCard("cosmetics", store=fresh_store)
    card.options.value = "decline_explore"
    card.justification.value = "Buying <b>would</b> make me her customer."
    card.submit.click()
    box = ReflectionBox("01_confidentiality", store=fresh_store)
    box.text.value = "I learned that even the fact of therapy is confidential."
    box.save.click()
    panel = MyAnswers(store=fresh_store)
    page = panel.receipt.prepare()
    assert panel.receipt.filename.startswith("my-answers-") and panel.receipt.filename.endswith(".html")
    assert panel.receipt.payload.startswith("data:text/html;base64,")
    assert base64.b64decode(panel.receipt.payload.split(",", 1)[1]).decode("utf-8") == page
    assert "The cosmetics catalogue" in page and card.case.option("decline_explore").label in page
    assert "Buying &lt;b&gt;would&lt;/b&gt;" in page  # the learner's text, never markup
    assert "even the fact of therapy is confidential" in page and "1 answer and 1 reflection" in page
    assert "sha256" not in page and "learner" not in page.lower().split("<body>")[1][:200]

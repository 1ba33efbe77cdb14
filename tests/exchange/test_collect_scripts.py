"""Scripts travel in a learner's bundle like reflections: exported with the answers, collected once,
and a script that follows no answer of the bundle's learner is quarantined with its reason.
Every learner here is synthetic."""

from __future__ import annotations

import csv
from uuid import uuid4

from widgets.exchange.bundle import bundle_text, write_bundle
from widgets.exchange.collect import collect
from widgets.responses.contract import Script
from widgets.store import open_store

WORDS = "Thank you for thinking of me. I don't buy from the people I see, so our time stays yours."


def learner_store(tmp_path, say_case, make_response, learner="synthetic-ana"):
    store = open_store(f"sqlite:///{tmp_path / (learner + '.sqlite')}")
    answer = store.add(make_response(learner, case_id=say_case.id))
    for words, checks in ((WORDS, [0]), (WORDS + " Truly.", [0, 1])):
        store.save_script(Script(learner=learner, cohort=answer.cohort, case_id=say_case.id,
                                 case_version=say_case.case_version, response_id=answer.response_id,
                                 kind="script", text=words, checks=checks))
    return store, answer


def test_a_bundle_carries_every_saved_script_and_collect_adds_each_once(tmp_path, say_case, make_response):
    store, _ = learner_store(tmp_path, say_case, make_response)
    bundle = tmp_path / "in" / "ana.jsonl"
    bundle.parent.mkdir()
    write_bundle(store, "synthetic-ana", bundle)
    class_store = open_store(f"sqlite:///{tmp_path / 'class.sqlite'}")

    report = collect([bundle.parent], class_store, tmp_path / "quarantine")
    assert (report.imported, report.quarantined, report.files[0].scripts) == (1, 0, 2)
    assert [r["text"] for r in class_store.latest_scripts()] == [WORDS + " Truly."]
    assert class_store.scripts() == store.scripts()

    again = collect([bundle.parent], class_store, tmp_path / "quarantine")
    assert (again.files[0].scripts, len(class_store.scripts())) == (0, 2)


def test_a_script_following_no_answer_of_the_bundle_is_quarantined(tmp_path, say_case, make_response):
    store, answer = learner_store(tmp_path, say_case, make_response)
    [first, _] = store.scripts()
    orphan = first | {"script_id": str(uuid4()), "response_id": str(uuid4())}
    stranger = first | {"script_id": str(uuid4()), "learner": "synthetic-ben"}
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "ana.jsonl").write_text(
        bundle_text("synthetic-ana", store.responses(), scripts=[first, orphan, stranger]), encoding="utf-8")
    class_store = open_store(f"sqlite:///{tmp_path / 'class.sqlite'}")

    report = collect([folder], class_store, tmp_path / "quarantine")
    assert (report.imported, report.files[0].scripts, report.quarantined) == (1, 1, 2)
    with report.report_path.open(newline="", encoding="utf-8") as stream:
        reasons = [row["reason"] for row in csv.DictReader(stream)]
    assert any("field 'response_id': no answer of yours to this case is kept" in r for r in reasons), reasons
    assert any("learner 'synthetic-ben' is not the bundle's learner" in r for r in reasons), reasons
    assert [r["script_id"] for r in class_store.scripts()] == [first["script_id"]]

"""Offline feedback: one file per learner, versioned and checksummed like bundles, imported by the
learner into their own store. Every refusal names the file and loses nothing. Learners are synthetic.
"""

from __future__ import annotations

import json

import pytest
from _store_workers import synthetic_response

from widgets.exchange.feedback import (
    FeedbackRefused,
    export_feedback,
    file_name,
    import_feedback,
    key_path,
    read_feedback,
    verify_feedback,
)
from widgets.grading.files import default_rubric
from widgets.store import open_store
from widgets.store.scores import ScoreBook


@pytest.fixture
def released(tmp_path):
    """An instructor's store with feedback released to two learners, and the files it exports."""
    teacher = open_store(f"sqlite:///{tmp_path / 'class.sqlite'}")
    book = ScoreBook(teacher)
    for learner, comment in (("synthetic-ana", "Both roles named; add the code section."),
                             ("synthetic-ben", "Say what you would tell the client.")):
        teacher.add(synthetic_response(learner))
        rid = teacher.responses(learner=learner)[0]["response_id"]
        book.record(rid, "dr-lee", default_rubric(), {"roles": 2, "risks": 1, "standard": 1, "action": 1, "alternative": 0}, comment)
        book.release(rid, "dr-lee", default_rubric())
    files = export_feedback(teacher, tmp_path / "feedback")
    return teacher, files


def learner_store(tmp_path, teacher, learner):
    """The learner's own store, holding the answers they committed (as on their laptop)."""
    own = open_store(f"sqlite:///{tmp_path / (learner + '.sqlite')}")
    own.add_many(teacher.responses(learner=learner))
    return own


def test_each_learner_gets_one_file_and_imports_it_onto_their_cards(tmp_path, released):
    teacher, files = released
    assert sorted(files) == ["synthetic-ana", "synthetic-ben"]
    ana = learner_store(tmp_path, teacher, "synthetic-ana")

    assert import_feedback(files["synthetic-ana"], ana, "synthetic-ana") == 1
    assert import_feedback(files["synthetic-ana"], ana, "synthetic-ana") == 0  # twice adds nothing

    shown = ana.feedback("synthetic-ana", case_id=teacher.responses(learner="synthetic-ana")[0]["case_id"])
    assert [f["comment"] for f in shown] == ["Both roles named; add the code section."]
    assert [(level["criterion"], level["level"]) for level in shown[0]["levels"]][:3] == [("roles", 2), ("risks", 1),
                                                                                             ("standard", 1)]
    assert shown[0]["released_at"].tzinfo is not None


def test_a_file_for_another_learner_is_refused(tmp_path, released):
    teacher, files = released
    ana = learner_store(tmp_path, teacher, "synthetic-ana")
    with pytest.raises(FeedbackRefused, match=r"feedback-synthetic-ben-[0-9a-f]{8}.jsonl: this feedback is for learner "
                                              r"'synthetic-ben', not for you \('synthetic-ana'\)"):
        import_feedback(files["synthetic-ben"], ana, "synthetic-ana")
    assert ana.feedback("synthetic-ana") == []


def test_a_tampered_file_is_refused_and_nothing_is_kept(tmp_path, released):
    teacher, files = released
    path = files["synthetic-ana"]
    lines = path.read_text(encoding="utf-8").splitlines()
    row = json.loads(lines[1])
    row["levels"][1]["level"] = 2  # a learner raising their own score
    path.write_text("\n".join([lines[0], json.dumps(row, sort_keys=True)]) + "\n", encoding="utf-8")
    ana = learner_store(tmp_path, teacher, "synthetic-ana")
    with pytest.raises(FeedbackRefused, match=r"changed after your instructor wrote it \(line 2\)"):
        import_feedback(path, ana, "synthetic-ana")
    assert ana.feedback("synthetic-ana") == []


def test_feedback_on_a_case_version_the_learner_did_not_answer_is_refused(tmp_path, released):
    teacher, files = released
    ana = open_store(f"sqlite:///{tmp_path / 'ana-other.sqlite'}")
    ana.add(synthetic_response("synthetic-ana", case_version="a-later-version"))
    with pytest.raises(FeedbackRefused, match=r"feedback-synthetic-ana-[0-9a-f]{8}.jsonl:2: feedback on case '.+' version "
                                              r"synthetic, which you did not answer here \(your answers to it: "
                                              r"a-later-version\)"):
        import_feedback(files["synthetic-ana"], ana, "synthetic-ana")
    assert ana.feedback("synthetic-ana") == []


@pytest.mark.parametrize("text, message", [
    ("", "not a dualrole feedback file"),
    ('{"dualrole_bundle": 1}\n', "not a dualrole feedback file"),
    ('{"dualrole_feedback": 9, "learner": "synthetic-ana"}\n', "feedback format 9 is newer"),
    ("\x00\x01binary", "not a dualrole feedback file"),
])
def test_a_file_that_is_not_feedback_is_refused_with_a_clear_message(tmp_path, text, message):
    path = tmp_path / "odd.jsonl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FeedbackRefused, match=f"odd.jsonl: {message}"):
        read_feedback(path, "synthetic-ana", [])


def test_learners_whose_names_differ_only_by_accent_get_a_file_each(tmp_path):
    teacher = open_store(f"sqlite:///{tmp_path / 'class.sqlite'}")
    book = ScoreBook(teacher)
    for learner in ("zo\u00eb", "zo\u00e9", "zo_"):
        teacher.add(synthetic_response(learner))
        rid = teacher.responses(learner=learner)[0]["response_id"]
        book.record(rid, "dr-lee", default_rubric(), {c.id: 1 for c in default_rubric().criteria})
        book.release(rid, "dr-lee", default_rubric())
    files = export_feedback(teacher, tmp_path / "feedback")
    assert len({p.name for p in files.values()}) == 3
    assert len(list((tmp_path / "feedback").iterdir())) == 3
    assert files["zo\u00eb"].name == file_name("zo\u00eb") and files["zo\u00eb"].name.startswith("feedback-zoe-")


def test_files_are_signed_with_the_class_key_kept_private_beside_the_store(tmp_path, released):
    teacher, files = released
    key = key_path(teacher)
    assert key == tmp_path / "class.sqlite.feedback-key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert key.read_text().strip() not in files["synthetic-ana"].read_text(encoding="utf-8")
    assert verify_feedback(files["synthetic-ana"], teacher) == "synthetic-ana"


def test_a_forged_file_with_recomputed_checksums_fails_the_signature(tmp_path, released):
    from widgets.exchange.bundle import checksum, line_digest

    teacher, files = released
    path = files["synthetic-ana"]
    lines = path.read_text(encoding="utf-8").splitlines()
    manifest, row = json.loads(lines[0]), json.loads(lines[1])
    row["levels"][1]["level"] = 2
    row["feedback_id"] = "00000000-0000-4000-8000-000000000000"
    body = [json.dumps(row, sort_keys=True, ensure_ascii=False)]
    manifest.update(sha256=checksum(body), line_sha256=[line_digest(body[0])])
    path.write_text("\n".join([json.dumps(manifest, sort_keys=True), *body]) + "\n", encoding="utf-8")
    with pytest.raises(FeedbackRefused, match="the signature does not match"):
        verify_feedback(path, teacher)


def test_an_unsigned_file_is_refused_on_import(tmp_path, released):
    teacher, files = released
    path = files["synthetic-ana"]
    lines = path.read_text(encoding="utf-8").splitlines()
    manifest = json.loads(lines[0])
    del manifest["hmac_sha256"]
    path.write_text("\n".join([json.dumps(manifest), *lines[1:]]) + "\n", encoding="utf-8")
    ana = learner_store(tmp_path, teacher, "synthetic-ana")
    with pytest.raises(FeedbackRefused, match="not signed by your instructor; nothing was imported"):
        import_feedback(path, ana, "synthetic-ana")
    assert ana.feedback("synthetic-ana") == []

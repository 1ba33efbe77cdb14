"""Released feedback reaches the learner's card, and only theirs: through the class service (with
the Hub's token check stood in for, tests/hub/inprocess.py) and, off the hub, by importing a feedback
file. tests/service/test_service_hub.py repeats the service round against a real JupyterHub.
"""

from __future__ import annotations

import httpx
import pytest

pytest.importorskip("jupyterhub", reason="the class service needs JupyterHub: pip install -e '.[test]'")


from widgets.exchange.class_export import export_class  # noqa: E402
from widgets.exchange.feedback import export_feedback  # noqa: E402
from widgets.exchange.outbox import Outbox  # noqa: E402
from widgets.grading.files import default_rubric  # noqa: E402
from widgets.learner.client import ServiceClient  # noqa: E402
from widgets.store import open_store  # noqa: E402
from widgets.store.scores import ScoreBook  # noqa: E402
from widgets.ui.card import CaseCard  # noqa: E402
from widgets.ui.feedback_panel import FeedbackImport  # noqa: E402

COHORT = "psy501"
WHY = "The two roles conflict: I would decline kindly and explain APA 3.05 to the client."


def client(service, user, tmp_path):
    return ServiceClient(service.url, service.token(user), outbox=Outbox(tmp_path / user / "outbox.jsonl"))


def commit(card, why=WHY):
    card.options.value = card.case.options[0].id
    card.justification.value = why
    card.submit.click()


def scored_and_released(teacher_store, learner, comment):
    book = ScoreBook(teacher_store)
    rid = teacher_store.responses(learner=learner)[0]["response_id"]
    book.record(rid, "teacher", default_rubric(), {"roles": 2, "risks": 1, "standard": 1, "action": 1, "alternative": 0}, comment)
    return book.release(rid, "teacher", default_rubric())


def test_feedback_released_through_the_service_shows_on_that_learners_card_only(service, tmp_path):
    alice, bob, teacher = (client(service, u, tmp_path) for u in ("alice", "bob", "teacher"))
    alice_card = CaseCard("cosmetics", store=alice, learner="alice", cohort=COHORT, min_class=3)
    bob_card = CaseCard("cosmetics", store=bob, learner="bob", cohort=COHORT, min_class=3)
    commit(alice_card)
    commit(bob_card)
    # The instructor scores a copy of the class and releases alice's feedback through the service.
    copy = tmp_path / "teacher" / "psy501.sqlite"
    export_class(teacher, COHORT, copy)
    row = scored_and_released(open_store(f"sqlite:///{copy}"), "alice", "Name the <b>power</b> difference too.")

    assert teacher.release_feedback([row]) == {"released": 1, "received": 1}

    assert [f["comment"] for f in alice.feedback("alice", "cosmetics")] == ["Name the <b>power</b> difference too."]
    assert bob.feedback("bob", "cosmetics") == []
    fresh = CaseCard("cosmetics", store=alice, learner="alice", cohort=COHORT, min_class=3)
    assert "Feedback from your instructor" in fresh.feedback.value
    assert "Name the &lt;b&gt;power&lt;/b&gt; difference too." in fresh.feedback.value  # text, never markup
    assert "Names the roles involved</strong>: 2 of 2" in fresh.feedback.value
    bob_card.feedback.refresh()
    assert bob_card.feedback.value == ""


def test_only_an_instructor_releases_and_a_learner_reads_only_their_own(service, tmp_path):
    alice, teacher = client(service, "alice", tmp_path), client(service, "teacher", tmp_path)
    commit(CaseCard("cosmetics", store=alice, learner="alice", cohort=COHORT, min_class=3))
    copy = tmp_path / "copy.sqlite"
    export_class(teacher, COHORT, copy)
    row = scored_and_released(open_store(f"sqlite:///{copy}"), "alice", "Well argued.")
    headers = {"Authorization": f"token {service.token('bob')}"}
    with httpx.Client(base_url=service.url, headers=headers, timeout=10) as bob:
        refused = bob.post("api/feedback", json={"feedback": [{**row, "released_at": "2025-03-01T00:00:00Z"}]})
        assert refused.status_code == 403 and refused.json()["code"] == "instructors_only"
        teacher.release_feedback([row])
        assert bob.get("api/feedback").json() == {"feedback": [], "count": 0}
        assert bob.get("api/feedback", params={"learner": "alice"}).json()["count"] == 0
    forged = {**row, "case_version": "not-what-alice-answered"}
    with pytest.raises(Exception, match="not about an answer this service holds"):
        teacher.release_feedback([forged])


def test_offline_a_learner_imports_their_feedback_file_and_the_card_shows_it(tmp_path):
    teacher_store = open_store(f"sqlite:///{tmp_path / 'class.sqlite'}")
    own = open_store(f"sqlite:///{tmp_path / 'ana.sqlite'}")
    card = CaseCard("cosmetics", store=own, learner="synthetic-ana", cohort=COHORT)
    commit(card)
    teacher_store.add_many(own.responses())  # as dualrole collect would
    scored_and_released(teacher_store, "synthetic-ana", "Good: a concrete wording.")
    files = export_feedback(teacher_store, tmp_path / "feedback")
    panel = FeedbackImport(own, "synthetic-ana", panels=[card.feedback])
    assert card.feedback.value == ""

    assert panel.import_path(files["synthetic-ana"]) == 1

    assert "Good: a concrete wording." in card.feedback.value
    assert panel.status.value.startswith("Imported 1 new feedback item(s)")
    other = FeedbackImport(own, "synthetic-ben")
    assert other.import_path(files["synthetic-ana"]) == 0
    assert "this feedback is for learner 'synthetic-ana', not for you ('synthetic-ben')" in other.status.value
    assert other.status.urgent
    # A card already open, not handed to the import, shows it too: no cell to rerun.
    assert "Good: a concrete wording." in CaseCard("cosmetics", store=own, learner="synthetic-ana").feedback.value


def test_an_imported_file_shows_on_a_card_already_open_and_one_block_per_case(tmp_path):
    teacher_store = open_store(f"sqlite:///{tmp_path / 'class.sqlite'}")
    own = open_store(f"sqlite:///{tmp_path / 'ana.sqlite'}")
    card = CaseCard("cosmetics", store=own, learner="synthetic-ana", cohort=COHORT)
    commit(card)
    teacher_store.add_many(own.responses())
    scored_and_released(teacher_store, "synthetic-ana", "First release.")
    scored_and_released(teacher_store, "synthetic-ana", "Released again after a second look.")
    files = export_feedback(teacher_store, tmp_path / "feedback")

    assert FeedbackImport(own, "synthetic-ana").import_path(files["synthetic-ana"]) == 2  # both kept

    shown = card.feedback.value
    assert shown.count("Feedback from your instructor</h4>") == 1
    assert "Released again after a second look." in shown and "First release." not in shown
    assert "On your first answer: released by teacher on" in shown


def test_the_review_screen_releases_through_the_service_on_a_hub(service, tmp_path):
    from widgets.ui.review import ReviewScreen

    alice, teacher = client(service, "alice", tmp_path), client(service, "teacher", tmp_path)
    commit(CaseCard("cosmetics", store=alice, learner="alice", cohort=COHORT, min_class=3))
    copy = tmp_path / "copy.sqlite"
    export_class(teacher, COHORT, copy)
    review = ReviewScreen(open_store(f"sqlite:///{copy}"), scorer="teacher", case="cosmetics", service=teacher)
    for key in "22110":
        review.pad.press(key)
    review.comment.value = "Roles named clearly."

    assert review.release_case() == 1

    assert [f["comment"] for f in alice.feedback("alice", "cosmetics")] == ["Roles named clearly."]

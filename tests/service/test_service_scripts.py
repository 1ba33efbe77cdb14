"""Scripts on a hub: a card on the class service saves what the learner would say through
``api/scripts``, checked by the same rule as everywhere; each learner reads only their own."""

from __future__ import annotations

import json
import stat
from uuid import uuid4

import pytest

pytest.importorskip("jupyterhub", reason="the class service needs JupyterHub: pip install -e '.[test]'")

from widgets.exchange.outbox import Outbox  # noqa: E402
from widgets.learner.client import ServiceClient, ServiceRefused  # noqa: E402
from widgets.ui.card import CaseCard  # noqa: E402

COHORT = "psy501"
WORDS = "Thank you for thinking of me. I don't buy from the people I see, so our time stays yours."


def client_for(service, who, tmp_path) -> ServiceClient:
    return ServiceClient(service.url, service.token(who), outbox=Outbox(tmp_path / who / "outbox.jsonl"), timeout=2)


def settled_card(client, who, case) -> CaseCard:
    card = CaseCard(case, store=client, learner=who, cohort=COHORT, min_class=3)
    card.options.value = "decline_explore"
    card.justification.value = "The customer role would tangle money and approval for her."
    card.submit.click()
    card.keep_button.click()  # the answer is final: the step opens
    return card


def test_a_learner_on_the_hub_saves_their_words_and_only_they_and_the_instructor_read_them(
        say_case, service, tmp_path):
    alice = client_for(service, "alice", tmp_path)
    card = settled_card(alice, "alice", say_case)
    card.script_text.value = WORDS
    card.say_checks[1].value = True
    card.say_save.click()
    assert card.say_status.value.startswith("Saved, with 1 of 4"), card.say_status.value

    [mine] = alice.latest_scripts(learner="alice", case_id=say_case.id)
    assert (mine["text"], mine["checks"], mine["cohort"]) == (WORDS, [1], COHORT)
    bob = client_for(service, "bob", tmp_path)
    with pytest.raises(ServiceRefused, match="only your own scripts"):
        bob._request("GET", "api/scripts", params={"learner": "alice"})
    assert bob.latest_scripts(learner="bob") == []
    # A restarted kernel finds the saved words on the service.
    again = CaseCard(say_case, store=client_for(service, "alice", tmp_path / "k2"), learner="alice", cohort=COHORT)
    assert again.script_text.value == WORDS and [b.value for b in again.say_checks] == [False, True, False, False]


def test_the_service_refuses_a_script_without_the_learners_first_answer(say_case, service, tmp_path):
    alice = client_for(service, "alice", tmp_path)
    settled_card(alice, "alice", say_case)
    body = {"script_id": str(uuid4()), "response_id": str(uuid4()), "cohort": COHORT, "case_id": say_case.id,
            "case_version": say_case.case_version, "text": WORDS, "checks": [0],
            "created_at": "2026-03-02T09:00:00+00:00"}
    with pytest.raises(ServiceRefused) as refused:
        alice._request("POST", "api/scripts", json=body)
    assert refused.value.status == 400 and "first answer" in refused.value.fields["response_id"]
    answer = alice.responses(learner="alice")[0]
    bob = client_for(service, "bob", tmp_path)  # bob names alice's answer as his own
    with pytest.raises(ServiceRefused) as refused:
        bob._request("POST", "api/scripts", json={**body, "response_id": answer["response_id"]})
    assert "names another answer" in refused.value.fields["response_id"]


def test_words_saved_while_the_service_is_away_wait_privately_and_arrive_once(say_case, service, tmp_path):
    from widgets.store import open_store

    alice = client_for(service, "alice", tmp_path)
    card = settled_card(alice, "alice", say_case)
    service.stop()
    card.script_text.value = WORDS
    card.say_checks[0].value = True
    card.say_save.click()
    assert card.say_status.value.startswith("Your words are saved on this machine, will sync with the class "
                                            "service when it is back. With 1 of 4 points ticked"), card.say_status.value
    box = tmp_path / "alice" / "outbox.jsonl"
    [line] = [json.loads(x) for x in box.read_text().splitlines()]
    assert (line["script"]["text"], line["script"]["checks"]) == (WORDS, [0])
    assert stat.S_IMODE(box.stat().st_mode) == 0o600 and stat.S_IMODE(box.parent.stat().st_mode) == 0o700
    assert card.session.script_draft() is None  # kept in the outbox now, not a draft
    assert card.session.script["text"] == WORDS  # and the card reads it back while the service is away

    service.start()
    card.follower.watcher.poll_now()  # what the card's asyncio task does every few seconds
    assert card.say_status.value == "Your words saved while the class service was away have reached it."
    assert alice.outbox.pending_scripts() == [] and box.read_text() == ""
    store = open_store(service.settings.store_url)
    [kept] = store.scripts(learner="alice")
    assert (kept["text"], kept["checks"], kept["script_id"]) == (WORDS, [0], line["script"]["script_id"])

    # A resend (a crash between the service's reply and the "sent" line, say) is harmless: one row.
    alice.outbox.put_script(line["script"])
    assert alice.flush() == 1 and alice.outbox.pending_scripts() == [] and alice.outbox.refused() == []
    assert [r["script_id"] for r in store.scripts(learner="alice")] == [kept["script_id"]]


def test_a_script_queued_behind_an_answer_is_sent_after_it(say_case, service, tmp_path):
    from widgets.store import open_store

    alice = client_for(service, "alice", tmp_path)
    card = CaseCard(say_case, store=alice, learner="alice", cohort=COHORT, min_class=3)
    card.options.value = "decline_explore"
    card.justification.value = "The customer role would tangle money and approval for her."
    service.stop()
    card.submit.click()  # the answer waits in the outbox
    card.keep_button.click()
    assert alice.outbox.pending() and card.session.script_open
    card.script_text.value = WORDS
    card.say_save.click()
    assert card.say_status.value.startswith("Your words are saved on this machine"), card.say_status.value
    service.start()
    assert alice.reconnect() and alice.flush() == 2  # the answer, then the script that follows it
    assert alice.outbox.refused() == []
    assert [r["text"] for r in open_store(service.settings.store_url).scripts()] == [WORDS]


def test_a_queued_script_the_service_refuses_is_kept_and_the_learner_is_told_once(say_case, service, tmp_path):
    alice = client_for(service, "alice", tmp_path)
    card = settled_card(alice, "alice", say_case)
    # Words queued for an answer the service does not have (set aside as a duplicate, say).
    orphan = {"script_id": str(uuid4()), "response_id": str(uuid4()), "learner": "alice", "cohort": COHORT,
              "case_id": say_case.id, "case_version": say_case.case_version, "kind": "script", "text": WORDS,
              "checks": [], "created_at": "2026-03-02T09:00:00+00:00"}
    alice.outbox.put_script(orphan)
    card.follower.watcher.poll_now()
    assert alice.outbox.pending_scripts() == [] and alice.outbox.path.read_text() == ""
    [kept] = alice.outbox.refused()
    assert kept["script"] == orphan and "first answer" in kept["reason"]
    assert 'role="alert"' in card.follower.notice.value and "Your words (what you would say) to" in \
        card.follower.notice.value and "outbox-refused.jsonl" in card.follower.notice.value
    card.follower.notice.value = ""
    card.follower.watcher.poll_now()
    assert card.follower.notice.value == ""  # told once


def test_an_instructors_class_export_holds_each_learners_latest_words(say_case, service, tmp_path):
    from widgets.exchange.class_export import export_class
    from widgets.store import open_store

    alice = client_for(service, "alice", tmp_path)
    card = settled_card(alice, "alice", say_case)
    for words in (WORDS, WORDS + " Truly."):
        card.script_text.value = words
        card.say_save.click()
    copy = tmp_path / "class-copy.sqlite"
    export_class(client_for(service, "teacher", tmp_path), COHORT, copy)
    [row] = open_store(f"sqlite:///{copy}").scripts()
    assert (row["learner"], row["text"]) == ("alice", WORDS + " Truly.")

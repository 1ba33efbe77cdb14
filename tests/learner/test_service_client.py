"""The learner's side of class mode: the client and its outbox, the card following the instructor,
and the instructor's live dashboard. The service runs in a thread (tests/hub/inprocess.py)."""

from __future__ import annotations

import html
import json
import socket
import threading

import pytest

pytest.importorskip("jupyterhub", reason="the class service needs JupyterHub: pip install -e '.[test]'")


from widgets.exchange.outbox import Outbox  # noqa: E402
from widgets.learner.client import ServiceClient, ServiceRefused  # noqa: E402
from widgets.learner.connect import (
    response_store,  # noqa: E402
    service_from_env,  # noqa: E402
)
from widgets.store import Store, open_store  # noqa: E402
from widgets.ui.card import CaseCard  # noqa: E402
from widgets.ui.live import LiveDashboard  # noqa: E402

COHORT = "psy501"


def client_for(service, who, tmp_path, url=None) -> ServiceClient:
    return ServiceClient(url or service.url, service.token(who), outbox=Outbox(tmp_path / who / "outbox.jsonl"),
                         timeout=2)


def card_for(client, who, case="cosmetics") -> CaseCard:
    return CaseCard(case, store=client, learner=who, cohort=COHORT, min_class=3)


def commit(card, option=None, why="The roles conflict and the client could be harmed."):
    card.options.value = option or ("decline_only" if card.case.id == "cosmetics" else card.case.options[0].id)
    card.justification.value = why
    assert not card.submit.disabled, card.status.value
    card.submit.click()


def status(card) -> str:
    return card.status.value


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/services/dualrole/"


# -- finding the service ---------------------------------------------------------------------------

def test_cards_talk_to_the_service_when_its_url_is_set(monkeypatch, tmp_path):
    monkeypatch.setenv("DUALROLE_SERVICE_URL", "http://127.0.0.1:1/services/dualrole/")
    assert isinstance(response_store(), ServiceClient)
    assert response_store() is response_store()  # the cards of one kernel share one client
    assert isinstance(response_store(f"sqlite:///{tmp_path / 'x.sqlite'}"), Store)  # an explicit store wins
    assert isinstance(open_store(f"sqlite:///{tmp_path / 'y.sqlite'}"), Store)  # open_store is always local
    monkeypatch.delenv("DUALROLE_SERVICE_URL")
    assert service_from_env() is None


# -- the outbox ------------------------------------------------------------------------------------

def test_an_answer_made_while_the_service_is_down_waits_on_disk_and_arrives_once(service, tmp_path):
    service.stop()
    alice = client_for(service, "alice", tmp_path)
    card = card_for(alice, "alice")
    commit(card)
    assert "Saved on this machine, will sync" in status(card)
    lines = [json.loads(x) for x in (tmp_path / "alice" / "outbox.jsonl").read_text().splitlines()]
    assert [x["response"]["case_id"] for x in lines] == ["cosmetics"]
    assert card.session.committed and not card.session.changed  # the card shows the answer as committed

    service.start()
    card.follower.watcher.poll_now()  # what the card's asyncio task does every few seconds
    assert "Saved on this machine" not in status(card)
    assert alice.outbox.pending() == [] and (tmp_path / "alice" / "outbox.jsonl").read_text() == ""
    assert alice.flush() == 0
    teacher = client_for(service, "teacher", tmp_path)
    rows = teacher.responses(cohort=COHORT)
    assert [(r["learner"], r["option_id"]) for r in rows] == [("alice", "decline_only")]


def test_a_card_made_online_says_when_its_answer_waits_and_when_it_got_through(service, tmp_path):
    alice = client_for(service, "alice", tmp_path)
    card = card_for(alice, "alice")  # self-paced, service up
    service.stop()
    commit(card)
    assert status(card).startswith("Saved on this machine, will sync")
    assert alice.offline  # the next request fails at once instead of waiting for a timeout
    service.start()
    card.follower.watcher.poll_now()
    assert not alice.offline and alice.outbox.pending() == []
    assert status(card) == "Saved. See how the class answered, then change your answer once or keep it."


def test_two_kernels_sending_the_same_outbox_at_once_send_each_answer_once(service, tmp_path):
    service.stop()
    box = tmp_path / "alice" / "outbox.jsonl"
    first = client_for(service, "alice", tmp_path)
    for case in ("cosmetics", "small_holiday_gift", "wedding_invitation"):
        commit(card_for(first, "alice", case))
    assert len(first.outbox.pending()) == 3
    service.start()
    kernels = [ServiceClient(service.url, service.token("alice"), outbox=Outbox(box)) for _ in range(2)]
    threads = [threading.Thread(target=k.flush) for k in kernels]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = client_for(service, "teacher", tmp_path).responses(cohort=COHORT)
    assert sorted(r["case_id"] for r in rows) == ["cosmetics", "small_holiday_gift", "wedding_invitation"]
    assert Outbox(box).pending() == []


def test_an_answer_the_service_refuses_on_arrival_is_kept_with_the_reason(service, tmp_path):
    teacher = client_for(service, "teacher", tmp_path)
    teacher.act(COHORT, "cosmetics", "open_voting")
    teacher.act(COHORT, "cosmetics", "close")
    alice = client_for(service, "alice", tmp_path, url=closed_port_url())
    card = card_for(alice, "alice")
    card.session.class_stage = "self-paced"  # the kernel never reached the service
    commit(card)
    alice_online = ServiceClient(service.url, service.token("alice"), outbox=alice.outbox)
    alice_online.flush()
    assert alice.outbox.pending() == []
    [kept] = alice.outbox.refused()
    assert kept["reason"] == "Voting on this case is closed."
    assert kept["response"]["case_id"] == "cosmetics"


def test_a_duplicate_queued_during_an_outage_is_set_aside_once_and_every_card_still_works(service, tmp_path):
    box = tmp_path / "alice" / "outbox.jsonl"
    commit(card_for(client_for(service, "alice", tmp_path), "alice"), "decline_only")  # recorded

    service.stop()
    kernel = ServiceClient(service.url, service.token("alice"), outbox=Outbox(box), timeout=2)  # a new kernel
    again = card_for(kernel, "alice")
    assert not again.session.committed  # the service could not say...
    assert "cannot tell whether you answered this case before" in again.follower.notice.value  # ...and it says so
    commit(again, "buy_regularly")  # the learner answers again: a duplicate waits in the outbox
    commit(card_for(kernel, "alice", "small_holiday_gift"))  # and an answer that is new
    assert len(kernel.outbox.pending()) == 2

    service.start()
    again.follower.watcher.poll_now()
    assert kernel.outbox.pending() == []
    [kept] = kernel.outbox.refused()
    assert kept["code"] == "already_answered" and kept["response"]["option_id"] == "buy_regularly"
    told = again.follower.notice.value
    assert "was not recorded" in told and "already had an answer from you" in told and "Nothing is lost" in told
    assert again.session.latest["option_id"] == "decline_only"  # the card shows what the class service has
    again.follower.watcher.poll_now()
    assert again.follower.notice.value == told  # told once, not at every poll

    for fresh in (kernel, client_for(service, "alice", tmp_path / "other-kernel")):
        fresh.outbox = Outbox.at(box)
        card = card_for(fresh, "alice", "wedding_invitation" if fresh is kernel else "cosmetics")
        assert "was not recorded" not in card.follower.notice.value  # already told
    commit(card_for(kernel, "alice", "wedding_invitation"))
    rows = client_for(service, "teacher", tmp_path).responses(cohort=COHORT, learner="alice")
    assert sorted((r["case_id"], r["option_id"]) for r in rows if r["case_id"] != "wedding_invitation") == [
        ("cosmetics", "decline_only"), ("small_holiday_gift", card_for(kernel, "alice", "small_holiday_gift")
                                         .case.options[0].id)]
    assert "wedding_invitation" in {r["case_id"] for r in rows}


def test_a_flush_never_raises_whatever_the_outbox_holds(service, tmp_path):
    alice = client_for(service, "alice", tmp_path)
    alice.outbox.put({"response_id": "damaged", "case_id": "cosmetics"})  # a row the service cannot read
    assert alice.flush() == 0
    assert alice.outbox.pending() == [] and alice.outbox.refused()[0]["response"]["response_id"] == "damaged"
    card = card_for(alice, "alice")  # a card is still built, and works
    commit(card)
    assert card.session.committed


def test_a_line_cut_short_by_a_crash_does_not_hide_the_others(tmp_path):
    box = Outbox(tmp_path / "outbox.jsonl")
    box.put({"response_id": "a", "case_id": "x"})
    with open(box.path, "ab") as f:
        f.write(b'{"response": {"response_id": "b"')  # a crash mid-write
    box.put({"response_id": "c", "case_id": "y"})
    assert [r["response_id"] for r in box.pending()] == ["a", "c"]


def test_a_refusal_from_the_service_reaches_the_card_and_nothing_is_queued(service, tmp_path):
    teacher = client_for(service, "teacher", tmp_path)
    teacher.act(COHORT, "cosmetics", "open_voting")
    alice = client_for(service, "alice", tmp_path)
    card = card_for(alice, "alice")
    card.options.value = "decline_only"
    card.justification.value = "The roles conflict and the client could be harmed."
    teacher.act(COHORT, "cosmetics", "close")  # the card has not polled yet
    card.submit.click()
    assert "Not saved: Voting on this case is closed." in status(card)
    assert alice.outbox.pending() == [] and not card.session.committed
    with pytest.raises(ServiceRefused, match="instructor"):
        alice.act(COHORT, "cosmetics", "reveal")


# -- a card following the instructor ---------------------------------------------------------------

def test_a_full_peer_instruction_round_as_three_learners_see_it(service, tmp_path):
    teacher = client_for(service, "teacher", tmp_path)
    teacher.act(COHORT, "cosmetics", "hold")
    alice, bob = client_for(service, "alice", tmp_path), client_for(service, "bob", tmp_path)
    carol = client_for(service, "carol", tmp_path)
    cards = {"alice": card_for(alice, "alice"), "bob": card_for(bob, "bob"), "carol": card_for(carol, "carol")}

    def poll():
        for card in cards.values():
            card.follower.watcher.poll_now()

    a = cards["alice"]
    a.options.value = "decline_only"
    a.justification.value = "The roles conflict and the client could be harmed."
    assert a.submit.disabled and "not opened yet" in status(a)

    teacher.act(COHORT, "cosmetics", "open_voting")
    poll()
    assert not a.submit.disabled  # the draft survived the wait
    a.submit.click()
    commit(cards["bob"], option="buy_regularly")
    commit(cards["carol"], option="decline_only")
    for card in cards.values():
        assert card.reveal.value == "" and card.follower.panel.value == ""
        assert card.revote_button.layout.display == "none"
        assert "appear when your instructor shows them" in status(card)

    teacher.act(COHORT, "cosmetics", "close")
    teacher.act(COHORT, "cosmetics", "show_histogram")
    poll()
    histogram = a.follower.panel.value
    assert "How the class voted" in histogram and "3 learners, first votes" in histogram
    assert "Preferred" not in histogram and "★" not in histogram  # no hint of the reference yet
    assert a.reveal.value == ""

    teacher.act(COHORT, "cosmetics", "open_revote")
    poll()
    assert a.revote_button.layout.display is None
    a.revote_button.click()
    a.options.value = "buy_regularly"
    a.justification.value = "After the discussion: a single purchase at list price is harmless here."
    a.submit.click()
    # The revote came after the class histogram was on her card, and before the reference.
    assert [(r["attempt"], r["distribution_seen"], r["reference_seen"]) for r in alice.responses(learner="alice")] == [
        (1, False, False), (2, True, False)]
    assert "revised answer is saved" in status(a) and a.reveal.value == ""

    teacher.act(COHORT, "cosmetics", "reveal")
    poll()
    for card in cards.values():
        assert "Reference answer" in card.reveal.value and card.follower.panel.value == ""
    assert "How 3 learners answered" in a.reveal.value
    assert a.revote_button.layout.display == "none"


def test_a_self_paced_case_on_the_service_goes_through_the_peer_steps(service, tmp_path):
    alice = client_for(service, "alice", tmp_path)
    card = card_for(alice, "alice")
    commit(card)
    assert "1 learner(s) have answered." in card.peer.value  # the service withheld the counts
    card.keep_button.click()
    card.show_button.click()
    assert "Reference answer" in card.reveal.value


# -- the instructor's dashboard --------------------------------------------------------------------

def test_the_dashboard_paces_cases_and_counts_answers_live(service, tmp_path):
    teacher = client_for(service, "teacher", tmp_path)
    board = LiveDashboard(["cosmetics", "small_holiday_gift"], cohort=COHORT, client=teacher)
    row = board.rows["cosmetics"]
    assert "Self-paced" in row.stage.value and "Last updated:" in board.updated.value
    assert row.buttons["release"].disabled and not row.buttons["open_voting"].disabled

    row.buttons["open_voting"].click()
    assert "Voting open" in row.stage.value and row.buttons["open_voting"].disabled
    commit(card_for(client_for(service, "alice", tmp_path), "alice"))
    board.refresh()
    assert "1 answered" in row.stage.value and "counts stay off this screen" in row.distribution.value
    commit(card_for(client_for(service, "bob", tmp_path), "bob"), option="buy_regularly")
    commit(card_for(client_for(service, "carol", tmp_path), "carol"), option="buy_regularly")
    board.refresh()
    # Projected, the vote is not shown while it forms, exactly as the learners' cards do not show it.
    assert "3 answered" in row.stage.value and "<td>2</td>" not in row.distribution.value
    row.buttons["close"].click()
    row.buttons["show_histogram"].click()
    # From the histogram on, the class sees exact counts (three have answered), and no reference mark yet.
    assert "<td>2</td><td>67%</td>" in row.distribution.value and "★" not in row.distribution.value

    out = board.export(tmp_path / "export.sqlite")
    assert sorted(r["learner"] for r in Store(f"sqlite:///{out}").responses()) == ["alice", "bob", "carol"]
    assert "Exported 3 answer(s) (3 new)" in board.export_status.value


def test_a_learner_cannot_use_the_dashboard_and_is_told_why(service, tmp_path):
    board = LiveDashboard("cosmetics", cohort=COHORT, client=client_for(service, "alice", tmp_path))
    assert "Only members of the Hub group 'instructors' can do this." in html.unescape(board.problem.value)


def test_a_case_the_service_does_not_know_is_named_with_the_fix(tmp_path):
    import httpx

    # What a service without the instructor's case folder answers (widgets/service/core.py).
    refusal = {"error": "No case with id 'tip_jar'. Run 'dualrole cases' to list them", "code": "unknown_case"}
    transport = httpx.MockTransport(lambda request: httpx.Response(404, json=refusal))
    client = ServiceClient("http://127.0.0.1:9/services/dualrole/", "tok-teacher",
                           outbox=Outbox(tmp_path / "outbox.jsonl"), transport=transport)
    board = LiveDashboard("cosmetics", cohort=COHORT, client=client)
    board.stop()

    shown = html.unescape(board.problem.value)
    assert "does not know a case" in shown and "tip_jar" in shown
    assert "DUALROLE_CASES" in shown


def test_without_a_service_the_dashboard_says_what_it_needs():
    board = LiveDashboard("gifts")
    assert "No class service found" in board.children[0].value


# -- the asyncio tasks (what runs in a kernel) -----------------------------------------------------

def test_in_a_running_event_loop_cards_and_dashboard_follow_the_class_by_themselves(service, tmp_path, monkeypatch):
    import asyncio

    from widgets.ui import classmode

    monkeypatch.setattr(classmode, "POLL_SECONDS", 0.05)
    teacher = client_for(service, "teacher", tmp_path)
    teacher.act(COHORT, "cosmetics", "open_voting")

    async def lesson():
        board = LiveDashboard("cosmetics", cohort=COHORT, client=teacher, refresh=0.05)
        card = card_for(client_for(service, "alice", tmp_path), "alice")
        commit(card)
        assert card.reveal.value == ""
        board.rows["cosmetics"].buttons["reveal"].click()  # the instructor reveals
        clicked = board.last_updated
        for _ in range(750):  # up to 15 s on a loaded machine; usually a few rounds
            await asyncio.sleep(0.02)
            if card.reveal.value and board.last_updated > clicked:
                break
        board.stop()
        return card, board, clicked

    # A thread of its own: other tests (Playwright's sync API) may leave a loop running in this one.
    done = []
    runner = threading.Thread(target=lambda: done.append(asyncio.run(lesson())))
    runner.start()
    runner.join(60)
    card, board, clicked = done[0]
    assert "Reference answer" in card.reveal.value  # the card's own polling saw the reveal
    assert board.last_updated > clicked  # and the dashboard refreshed by itself
    assert f"Last updated: {board.last_updated:%H:%M:%S}" in board.updated.value
    assert "Reference revealed" in board.rows["cosmetics"].stage.value


def test_a_card_on_the_service_applies_the_service_s_one_class_minimum(service, tmp_path):
    # The service's minimum is 3 (its MIN_CLASS); cards are built with the library default, 5.
    cards = [CaseCard("cosmetics", store=client_for(service, who, tmp_path), learner=who, cohort=COHORT)
             for who in ("alice", "bob", "carol")]
    for card in cards:
        commit(card)
    cards[2]._show_state()
    assert "appears once" not in cards[2].peer.value
    assert "How 3 learners answered" in cards[2].peer.value

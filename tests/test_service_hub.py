"""Class mode against a real JupyterHub: the Hub authenticates, the service is Hub-managed, and the
answers land in PostgreSQL. Three learners and an instructor run a full peer-instruction round.

Needs node with configurable-http-proxy (``npm ci --prefix tests/hub``) and PostgreSQL 15
(tests/pg_fixture.py). Without them a local run skips with a message; under ``CI=true`` it fails.
"""

from __future__ import annotations

import os
import signal
import time

import httpx
import pytest
from conftest import skip_or_fail

pytestmark = pytest.mark.postgres

COHORT = "seminar-hub"


@pytest.fixture(scope="module")
def hub(pg_server):
    try:
        import jupyterhub  # noqa: F401
    except ImportError:
        skip_or_fail("JupyterHub is not installed: pip install -e '.[test]' to run the Hub tests")
    from hub.realhub import RealHub, proxy_command

    proxy = proxy_command()
    if proxy is None:
        skip_or_fail("configurable-http-proxy not found: install Node.js and run 'npm ci --prefix tests/hub' "
                     "to run the JupyterHub tests")
    running = RealHub(pg_server.new_database(), proxy)
    try:
        running.start()
    except RuntimeError as exc:
        running.stop()
        pytest.fail(str(exc))
    yield running
    running.stop()


@pytest.fixture
def learners(hub, tmp_path):
    """A client per user, each with its own outbox, as each learner's own server would have."""
    from widgets.kernel.client import ServiceClient
    from widgets.kernel.outbox import Outbox

    # A generous timeout: on a loaded 2-core CI machine the Hub, the proxy and PostgreSQL share the CPU.
    return {user: ServiceClient(hub.service_url, hub.token(user), outbox=Outbox(tmp_path / user / "outbox.jsonl"),
                                timeout=20)
            for user in ("alice", "bob", "carol", "teacher")}


def card(client, learner, case="cosmetics"):
    from widgets.ui.card import CaseCard

    return CaseCard(case, store=client, learner=learner, cohort=COHORT, min_class=3)


def commit(card, option, why="The roles conflict, and the client could be harmed by the overlap."):
    card.options.value = option
    card.justification.value = why
    card.submit.click()


def api(hub, user=None, token=None) -> httpx.Client:
    token = token or (hub.token(user) if user else None)
    headers = {"Authorization": f"token {token}"} if token else {}
    return httpx.Client(base_url=hub.service_url, headers=headers, timeout=10)


def body(case_id="wedding_invitation", **extra):
    from hub.inprocess import answer

    return answer(case_id, cohort=COHORT, **extra)


def test_no_token_a_bad_token_or_a_token_without_the_service_scope_gets_403(hub):
    cases = {
        "no token": api(hub),
        "bad token": api(hub, token="0123456789abcdef"),
        "no access scope": api(hub, token=hub.token("alice", ["read:users:activity!user=alice"])),
    }
    for what, client in cases.items():
        with client:
            for reply in (client.post("api/responses", json=body()), client.get("api/responses"),
                          client.get("api/class", params={"cohort": COHORT})):
                assert reply.status_code == 403, what
                assert reply.json()["status"] == 403
    with api(hub, "teacher") as teacher:
        assert teacher.get("api/responses", params={"cohort": COHORT}).json()["count"] == 0


def test_learners_submit_as_themselves_and_read_only_their_own_answers(hub):
    with api(hub, "alice") as alice, api(hub, "bob") as bob, api(hub, "teacher") as teacher:
        made = alice.post("api/responses", json=body(learner="bob"))  # tries to answer as bob
        assert made.status_code == 201 and made.json()["response"]["learner"] == "alice"
        assert bob.post("api/responses", json=body()).status_code == 201
        assert [r["learner"] for r in alice.get("api/responses").json()["responses"]] == ["alice"]
        peek = alice.get("api/responses", params={"learner": "bob"})
        assert peek.status_code == 403 and peek.json()["code"] == "forbidden"
        assert alice.post("api/class/wedding_invitation", json={"cohort": COHORT, "action": "reveal"}
                          ).status_code == 403
        everyone = teacher.get("api/responses", params={"cohort": COHORT, "case_id": "wedding_invitation"})
        assert sorted(r["learner"] for r in everyone.json()["responses"]) == ["alice", "bob"]
        assert teacher.get("api/").json()["instructor"] is True  # from the Hub group 'instructors'
        assert alice.get("api/").json()["instructor"] is False


def test_a_full_peer_instruction_round_with_three_learners_and_an_instructor(hub, learners):
    teacher = learners["teacher"]
    teacher.act(COHORT, "cosmetics", "hold")
    cards = {name: card(learners[name], name) for name in ("alice", "bob", "carol")}
    a, b = cards["alice"], cards["bob"]

    def poll():
        for c in cards.values():
            c.follower.watcher.poll_now()

    assert "not opened yet" in a.session.blocker(a.draft)
    teacher.act(COHORT, "cosmetics", "open_voting")
    poll()
    commit(a, "decline_only")
    commit(b, "buy_regularly")
    commit(cards["carol"], "decline_only")
    with api(hub, "alice") as alice:
        hidden = alice.get("api/cohort/cosmetics", params={"cohort": COHORT})
        assert hidden.status_code == 403 and hidden.json()["code"] == "not_shown"
    for c in cards.values():  # neither the histogram nor the reference before the instructor's say
        assert c.reveal.value == "" and c.follower.panel.value == ""

    teacher.act(COHORT, "cosmetics", "close")
    teacher.act(COHORT, "cosmetics", "show_histogram")
    poll()
    assert "3 learners, first votes" in a.follower.panel.value and a.reveal.value == ""

    teacher.act(COHORT, "cosmetics", "open_revote")
    poll()
    a.revote_button.click()
    commit(a, "buy_regularly", "After the discussion, one purchase at list price seems harmless.")
    teacher.act(COHORT, "cosmetics", "reveal")
    poll()
    for c in cards.values():
        assert "Reference answer" in c.reveal.value

    summary = teacher.summary(COHORT, ["cosmetics"])["cases"]["cosmetics"]
    assert (summary["stage"], summary["answered"], summary["revoted"]) == ("revealed", 3, 1)
    assert summary["first"] == {"decline_only": 2, "buy_regularly": 1}
    assert summary["latest"] == {"buy_regularly": 2, "decline_only": 1}
    attempts = [(r["learner"], r["attempt"]) for r in teacher.responses(cohort=COHORT, case_id="cosmetics")]
    assert sorted(attempts) == [("alice", 1), ("alice", 2), ("bob", 1), ("carol", 1)]


def test_answers_made_while_the_service_restarts_arrive_exactly_once(hub, learners):
    teacher = learners["teacher"]
    teacher.act(COHORT, "small_holiday_gift", "open_voting")
    cards = {name: card(learners[name], name, "small_holiday_gift") for name in ("alice", "bob", "carol")}
    commit(cards["alice"], "accept_graciously")  # before the restart: sent at once

    pid = hub.service_pid()
    os.kill(pid, signal.SIGKILL)  # the service dies mid-class
    deadline = time.monotonic() + 10
    while hub.service_pid() == pid and time.monotonic() < deadline:
        time.sleep(0.05)
    commit(cards["bob"], "interpret_first")
    commit(cards["carol"], "decline_rule")
    for name in ("bob", "carol"):
        assert "Saved on this machine, will sync" in cards[name].status.value
        assert len(learners[name].outbox.pending()) == 1

    hub.wait_for(lambda: hub.get("alice", "api/").status_code == 200, 30, "the restarted service")

    def cards_poll():  # what each card's asyncio task does every few seconds: send what waits
        for c in cards.values():
            c.follower.watcher.poll_now()
        return not any(learners[name].outbox.pending() for name in cards)

    hub.wait_for(cards_poll, 60, "the outboxes to be sent")
    learners["bob"].flush()  # a second send (another tab, say) changes nothing
    for name in ("bob", "carol"):
        assert learners[name].outbox.pending() == []
        assert "Saved on this machine" not in cards[name].status.value

    rows = teacher.responses(cohort=COHORT, case_id="small_holiday_gift")
    assert sorted((r["learner"], r["option_id"]) for r in rows) == [
        ("alice", "accept_graciously"), ("bob", "interpret_first"), ("carol", "decline_rule")]
    assert teacher.class_state(COHORT, "small_holiday_gift")["stage"] == "voting"  # kept in the store


def test_a_kernel_on_the_hub_finds_the_service_by_itself(hub, monkeypatch):
    from widgets.kernel.client import ServiceClient
    from widgets.kernel.connect import service_from_env

    monkeypatch.setenv("JUPYTERHUB_API_URL", hub.api_url)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", hub.token("alice", [
        "access:services!service=dualrole", "read:services!service=dualrole"]))
    client = service_from_env()
    assert isinstance(client, ServiceClient)
    assert client.url == f"http://127.0.0.1:{hub.service_port}/services/dualrole/"
    assert client.whoami()["user"] == "alice"


def test_released_feedback_reaches_its_learner_only_through_the_hub(hub, learners, tmp_path):
    from widgets.kernel.client import ServiceRefused, export_class
    from widgets.responses.grading import default_rubric
    from widgets.store import open_store
    from widgets.store.scores import ScoreBook

    case = "lunch_at_termination"  # a case no other test here answers
    for name in ("alice", "bob"):
        answered = card(learners[name], name, case)
        commit(answered, answered.case.options[0].id)
    copy = tmp_path / "teacher-copy.sqlite"
    export_class(learners["teacher"], COHORT, copy)
    local = open_store(f"sqlite:///{copy}")
    book = ScoreBook(local)
    rid = next(r["response_id"] for r in local.responses(learner="alice", case_id=case))
    book.record(rid, "teacher", default_rubric(), {"roles": 2, "risks": 1}, "Name the power difference too.")
    row = book.release(rid, "teacher", default_rubric())

    assert learners["teacher"].release_feedback([row])["released"] == 1

    assert [f["comment"] for f in learners["alice"].feedback("alice", case)] == ["Name the power difference too."]
    assert learners["bob"].feedback("bob", case) == [] and learners["carol"].feedback("carol") == []
    assert "Name the power difference too." in card(learners["alice"], "alice", case).feedback.value
    assert card(learners["bob"], "bob", case).feedback.value == ""
    with pytest.raises(ServiceRefused, match="Only instructors can release feedback"):
        learners["bob"].release_feedback([row])


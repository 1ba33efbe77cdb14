"""The deployment guide, followed on a real JupyterHub: the Hub runs docs/jupyterhub_config.py (only its
local settings filled in), the PostgreSQL database is made by the guide's own SQL, and three learners and
an instructor run a full peer-instruction round. The database is down when the Hub starts: the Hub stays
up, the service answers 503 with the reason, and it carries on once the database is up. The guide's
SQLite steps get a Hub of their own.

Needs node with configurable-http-proxy (``npm ci --prefix tests/hub``) and PostgreSQL 15
(tests/pg_fixture.py). Without them a local run skips with a message; under ``CI=true`` it fails.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import stat
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from conftest import skip_or_fail

pytestmark = pytest.mark.postgres

COHORT = "seminar-hub"
GUIDE = (Path(__file__).resolve().parents[2] / "docs" / "deploy-jupyterhub.md").read_text(encoding="utf-8")


def guide_block(marker: str) -> str:
    """The bash block the guide marks with ``<!-- dualrole:<marker> ... -->``."""
    found = re.search(rf"<!-- dualrole:{marker}[^>]*-->\n```bash\n(.*?)```", GUIDE, re.DOTALL)
    assert found, f"docs/deploy-jupyterhub.md has no block marked dualrole:{marker}"
    return found.group(1)


@pytest.fixture(scope="module")
def proxy():
    try:
        import jupyterhub  # noqa: F401
    except ImportError:
        skip_or_fail("JupyterHub is not installed: pip install -e '.[test]' to run the Hub tests")
    from hub.realhub import proxy_command

    found = proxy_command()
    if found is None:
        skip_or_fail("configurable-http-proxy not found: install Node.js and run 'npm ci --prefix tests/hub' "
                     "to run the JupyterHub tests")
    return found


@pytest.fixture(scope="module")
def guide_database():
    """A PostgreSQL 15 server whose superuser is 'postgres', set up by the guide's own commands."""
    from pg_fixture import PG_BIN, PostgresServer

    if not (PG_BIN / "initdb").exists():
        skip_or_fail(f"PostgreSQL 15 binaries not found in {PG_BIN}: install postgresql-15 to run the Hub tests")
    server = PostgresServer(superuser="postgres")
    try:
        server.start()
        block = guide_block("postgres-setup")
        command, sql = re.fullmatch(r"(.*) <<'SQL'\n(.*)\nSQL\n", block, re.DOTALL).groups()
        assert command == "sudo -u postgres psql -v ON_ERROR_STOP=1"  # what server.psql runs
        password = secrets.token_hex(8)
        done = server.psql(sql.replace("'PASSWORD'", f"'{password}'"))  # the placeholder, not the keyword
        assert done.returncode == 0, done.stderr
        # The URL the guide writes to /etc/dualrole/store-url, for a database on this machine.
        url = re.search(r"echo '(postgresql://[^']+)'", GUIDE).group(1)
        url = url.replace(":PASSWORD@", f":{password}@").replace("db.example.org", f"127.0.0.1:{server.port}")
        yield server, url, password
    finally:
        server.stop()


@pytest.fixture(scope="module")
def hub(guide_database, proxy):
    """The Hub, started while the class database is down; the database comes up once the Hub is."""
    from hub.realhub import RealHub

    server, url, password = guide_database
    server.pause()
    running = RealHub(url, proxy)
    running.password = password
    try:
        running.start(wait_for_service=False)
        running.wait_for(lambda: running.get("alice", "api/").status_code == 503, 60, "the service's 503")
        running.while_down = {
            "answer": running.get("alice", "api/"),
            "probe": httpx.get(running.service_url, timeout=10),
            "hub": running.admin().get("users").status_code,
        }
        server.resume()
        running.wait_for(lambda: running.get("alice", "api/").status_code == 200, 90,
                         "the service once the database is up")
    except RuntimeError as exc:
        running.stop()
        pytest.fail(str(exc))
    yield running
    running.stop()


def test_the_hub_stays_up_while_the_database_is_down_and_the_service_says_why(hub):
    answer = hub.while_down["answer"].json()
    assert answer["status"] == 503 and answer["code"] == "store_unavailable"
    assert "postgresql+psycopg://dualrole:***@127.0.0.1" in answer["error"]
    assert hub.password not in answer["error"]
    assert hub.while_down["hub"] == 200 and hub.process.poll() is None
    probe = hub.while_down["probe"]
    assert probe.status_code == 200 and probe.json()["store"] == "unavailable" and "postgresql" not in probe.text
    log = hub.log.read_text(errors="replace")
    assert "exited with status" not in log
    assert "200 GET /services/dualrole/ (" in log  # the Hub's readiness probe...
    assert not re.search(r"403 GET /services/dualrole/ \(", log)  # ...answered without a 403


@pytest.fixture
def learners(hub, tmp_path):
    """A client per user, each with its own outbox, as each learner's own server would have."""
    from widgets.exchange.outbox import Outbox
    from widgets.learner.client import ServiceClient

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
        posing = alice.post("api/responses", json=body(learner="bob"))  # tries to answer as bob: refused
        assert posing.status_code == 400 and "learner" in posing.json()["fields"]
        made = alice.post("api/responses", json=body())
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


def test_a_card_with_the_guide_s_server_token_finds_the_service_without_dualrole_service_url(hub, monkeypatch):
    from hub.realhub import load_guide_config

    from widgets.learner.client import ServiceClient

    # The token a learner's server gets: exactly the guide's server_token_scopes. The Hub refuses to
    # issue a scope its user does not hold, so this also checks the guide's `user` role.
    scopes = list(load_guide_config(**hub.local).Spawner.server_token_scopes)
    monkeypatch.setenv("JUPYTERHUB_API_URL", hub.api_url)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", hub.token("carol", scopes))
    monkeypatch.delenv("DUALROLE_SERVICE_URL", raising=False)
    from widgets.ui.card import CaseCard

    found = CaseCard("wedding_invitation", learner="carol", cohort=COHORT, min_class=3)
    assert isinstance(found.store, ServiceClient)
    commit(found, found.options.options[0][1])
    with api(hub, "teacher") as teacher:
        rows = teacher.get("api/responses", params={"cohort": COHORT, "case_id": "wedding_invitation",
                                                    "learner": "carol"}).json()["responses"]
    assert [r["learner"] for r in rows] == ["carol"]


def test_the_sqlite_option_as_the_guide_sets_it_up(proxy, tmp_path):
    from hub.realhub import RealHub

    # The guide's commands, run as written but for sudo (the test needs no root) and the two folders.
    script = (guide_block("sqlite-setup").replace("sudo ", "")
              .replace("/srv/dualrole", str(tmp_path / "srv")).replace("/etc/dualrole", str(tmp_path / "etc")))
    subprocess.run(["bash", "-euo", "pipefail", "-c", script], check=True, timeout=60)
    store_url_file = tmp_path / "etc" / "store-url"
    assert stat.S_IMODE(store_url_file.stat().st_mode) == 0o600
    running = RealHub(store_url_file.read_text().strip(), proxy)
    try:
        running.start()
        with api(running, "alice") as alice, api(running, "teacher") as teacher:
            assert alice.post("api/responses", json=body()).status_code == 201
            everyone = teacher.get("api/responses", params={"cohort": COHORT}).json()["responses"]
            assert [r["learner"] for r in everyone] == ["alice"]
    finally:
        running.stop()
    store = tmp_path / "srv" / "class.sqlite"
    assert stat.S_IMODE(store.stat().st_mode) == 0o600  # only the Hub's user reads the class's answers
    assert stat.S_IMODE((tmp_path / "srv").stat().st_mode) == 0o700


def test_a_kernel_on_the_hub_finds_the_service_by_itself(hub, monkeypatch):
    from widgets.learner.client import ServiceClient
    from widgets.learner.connect import service_from_env

    monkeypatch.setenv("JUPYTERHUB_API_URL", hub.api_url)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", hub.token("alice", [
        "access:services!service=dualrole", "read:services!service=dualrole"]))
    client = service_from_env()
    assert isinstance(client, ServiceClient)
    assert client.url == f"http://127.0.0.1:{hub.service_port}/services/dualrole/"
    assert client.whoami()["user"] == "alice"


def test_released_feedback_reaches_its_learner_only_through_the_hub(hub, learners, tmp_path):
    from widgets.exchange.class_export import export_class
    from widgets.grading.files import default_rubric
    from widgets.learner.client import ServiceRefused
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
    levels = {"roles": 2, "risks": 1, "standard": 0, "action": 2, "alternative": 1}  # a complete sheet
    book.record(rid, "teacher", default_rubric(), levels, "Name the power difference too.")
    row = book.release(rid, "teacher", default_rubric())

    assert learners["teacher"].release_feedback([row])["released"] == 1

    assert [f["comment"] for f in learners["alice"].feedback("alice", case)] == ["Name the power difference too."]
    assert learners["bob"].feedback("bob", case) == [] and learners["carol"].feedback("carol") == []
    assert "Name the power difference too." in card(learners["alice"], "alice", case).feedback.value
    assert card(learners["bob"], "bob", case).feedback.value == ""
    with pytest.raises(ServiceRefused, match="Only instructors can release feedback"):
        learners["bob"].release_feedback([row])



def test_the_guide_s_config_loaded_as_tljh_loads_it_keeps_tljh_s_idle_culler(hub):
    from hub.realhub import TLJH_SERVICES

    listed = hub.admin().get("services").json()
    assert {TLJH_SERVICES[0]["name"], "dualrole"} <= set(listed)
    assert hub.get("alice", "api/").json()["cohort"] == COHORT  # the config pins the service's cohort
    with api(hub, "carol") as carol:
        made = carol.post("api/responses", json={**body("supervisee_asks_for_date"), "cohort": "some-other-class"})
    assert made.status_code == 201 and made.json()["response"]["cohort"] == COHORT


MISTAKES = {
    # name: (local settings changed, store URL (None: the file is missing), code, words of the reason)
    "a minimum class below 3": ({"MIN_CLASS": 2}, "sqlite", "not_configured", "at least 3, not '2'"),
    "several processes on SQLite": ({"PROCESSES": 4}, "sqlite", "not_configured", "need a PostgreSQL store"),
    "a missing store-URL file": ({}, None, "store_unavailable", "does not exist"),
    "an @ in the password, not percent-encoded": (
        {}, "postgresql://dualrole:p@ss-word@127.0.0.1:1/class", "store_unavailable", "percent-encode"),
}


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_no_setting_stops_the_hub_the_service_answers_503_with_the_reason(proxy, tmp_path, mistake):
    from hub.realhub import RealHub

    local, url, code, words = MISTAKES[mistake]
    if url == "sqlite":
        url = f"sqlite:///{tmp_path / 'class.sqlite'}"
    running = RealHub(url, proxy, **local)
    try:
        running.start(wait_for_service=False)
        running.wait_for(lambda: running.get("alice", "api/").status_code == 503, 60, "the service's 503")
        reply = running.get("alice", "api/").json()
        assert reply["code"] == code and words in reply["error"], reply
        assert "ss-word" not in reply["error"]  # no part of a password, ever
        assert running.process.poll() is None and running.admin().get("users").status_code == 200
        assert httpx.get(running.service_url, timeout=10).status_code == 200  # the Hub's probe still passes
        if url is None:  # the administrator writes the file: the service finds it without a restart
            running.store_url_file.write_text(f"sqlite:///{tmp_path / 'class.sqlite'}\n", encoding="utf-8")
            running.wait_for(lambda: running.get("alice", "api/").status_code == 200, 90, "the store once the file is there")
    finally:
        running.stop()


def test_feedback_released_from_the_review_screen_reaches_the_open_card_at_its_next_poll(hub, learners, tmp_path):
    from widgets.exchange.class_export import export_class
    from widgets.store import open_store
    from widgets.ui.review import ReviewScreen

    case = "climbing_with_supervisee"  # a case no other test here answers
    cards = {name: card(learners[name], name, case) for name in ("alice", "bob")}
    for name, open_card in cards.items():
        commit(open_card, open_card.case.options[0].id)
    copy = tmp_path / "teacher-copy.sqlite"
    export_class(learners["teacher"], COHORT, copy)
    # The review notebook on a hub: the class copy, and the class service found as the cards find it.
    review = ReviewScreen(open_store(f"sqlite:///{copy}"), scorer="teacher", case=case, service=learners["teacher"])
    review.show(next(i for i, r in enumerate(review.items) if r["learner"] == "alice"))
    for key in "21021":  # a complete sheet: one level per criterion
        review.pad.press(key)
    review.comment.value = "Say how you would end the supervision first."
    assert review.release_case() == 1
    assert "to their learners, through the class service" in review.status.value
    for open_card in cards.values():  # the cards stay open: nobody reruns a cell
        assert "Say how you would end" not in open_card.feedback.value
        open_card.follower.watcher.poll_now()
    assert "Say how you would end the supervision first." in cards["alice"].feedback.value
    assert cards["bob"].feedback.value == ""


def test_a_duplicate_queued_while_the_service_restarts_is_set_aside_and_alice_s_cards_still_work(hub, learners,
                                                                                                  tmp_path):
    from widgets.exchange.outbox import Outbox
    from widgets.learner.client import ServiceClient

    case = "arena_graduation"  # a case no other test here answers
    first = card(learners["alice"], "alice", case)
    commit(first, first.case.options[0].id)  # recorded

    pid = hub.service_pid()
    os.kill(pid, signal.SIGSTOP)  # the service stops answering mid-class (it hangs)
    try:
        # A kernel started now: the card cannot tell the case was answered, and says so.
        kernel = ServiceClient(hub.service_url, hub.token("alice"), timeout=2,
                               outbox=Outbox(tmp_path / "alice-2" / "outbox.jsonl"))
        again = card(kernel, "alice", case)
        assert not again.session.committed
        assert "cannot tell whether you answered this case before" in again.follower.notice.value
        commit(again, again.case.options[-1].id)  # the learner answers again: a duplicate waits
        assert len(kernel.outbox.pending()) == 1
    finally:
        os.kill(pid, signal.SIGCONT)
    hub.wait_for(lambda: again.follower.watcher.poll_now() or not kernel.outbox.pending(), 60, "the outbox to flush")
    [kept] = kernel.outbox.refused()
    assert kept["code"] == "already_answered"
    assert "was not recorded" in again.follower.notice.value
    assert again.session.latest["option_id"] == first.case.options[0].id  # what the service has, shown
    fresh = card(kernel, "alice", "citizenship_oath")  # building a card works, and so does answering
    commit(fresh, fresh.case.options[0].id)
    assert fresh.session.committed and not kernel.is_pending(fresh.session.latest["response_id"])


def test_another_hub_user_asking_for_the_instructor_s_review_page_gets_no_class_data(proxy, tmp_path):
    from hub.realhub import RealHub

    from widgets.paths import copy_notebooks
    from widgets.reporting.simulate import sample_store

    names = {r["learner"] for r in sample_store().responses()}  # whom the review page shows
    running = RealHub(f"sqlite:///{tmp_path / 'class.sqlite'}", proxy, servers=True)
    try:
        running.start()
        copy_notebooks(running.folder / "home" / "teacher" / "notebooks")  # `dualrole notebooks ~/notebooks`
        started = httpx.post(f"{running.api_url}/users/teacher/server", timeout=120,
                             headers={"Authorization": f"token {running.admin_token}"})
        assert started.status_code in (201, 202), started.text
        running.wait_for(lambda: running.admin().get("users/teacher").json()["servers"].get("", {}).get("ready"),
                         120, "the instructor's own server")
        page = f"{running.url}/user/teacher/voila/render/notebooks/instructor_review.ipynb"

        for who, token in (("bob, logged in", running.token("bob", ["access:servers!user=bob"])),
                           ("anyone, not logged in", None)):
            headers = {"Authorization": f"token {token}"} if token else {}
            reply = httpx.get(page, headers=headers, timeout=120, follow_redirects=False)
            assert reply.status_code in (302, 403), (who, reply.status_code)
            assert not [name for name in names if name in reply.text], who

        # The instructor, through the Hub's login, gets the screen: the guard lets the own server through.
        mine = httpx.get(page, headers={"Authorization": f"token {running.token('teacher', ['access:servers!user=teacher'])}"},
                         timeout=300)
        assert mine.status_code == 200 and [name for name in names if name in mine.text]
    finally:
        running.stop()

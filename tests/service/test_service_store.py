"""The class service and its store: a store that cannot be opened at start does not stop the service.

It answers 503 with the reason (the store named, its password masked) and keeps trying, then answers
again once the store can be opened. The Hub's readiness probe on the bare prefix gets a 200 without
a token. tests/service/test_service_hub.py repeats this with a real Hub and a PostgreSQL server that comes up
late.
"""

from __future__ import annotations

import os
import socket
import stat
import time

import httpx
import pytest

pytest.importorskip("jupyterhub", reason="the class service needs JupyterHub: pip install -e '.[test]'")

from hub.inprocess import InProcessService, answer  # noqa: E402


def api(service, who: str | None):
    headers = {"Authorization": f"token {service.token(who)}"} if who else {}
    return httpx.Client(base_url=service.url, headers=headers, timeout=10)


def wait_until(check, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {timeout} s")


def test_a_store_that_cannot_be_opened_gets_503s_with_the_reason_until_it_can(tmp_path):
    blocker = tmp_path / "srv"
    blocker.write_text("a file where the store's folder should be")
    service = InProcessService(f"sqlite:///{blocker / 'class.sqlite'}").start()
    try:
        with api(service, "alice") as alice, api(service, None) as probe:
            for reply in (alice.get("api/"), alice.post("api/responses", json=answer()),
                          alice.get("api/class", params={"cohort": "psy501"})):
                assert reply.status_code == 503
                assert reply.json()["code"] == "store_unavailable"
                assert str(blocker / "class.sqlite") in reply.json()["error"]
            health = probe.get("")
            assert health.status_code == 200 and health.json()["store"] == "unavailable"
            assert "srv" not in health.text  # no token, no detail
            assert probe.get("api/").status_code == 403  # everything else still needs a token

            blocker.unlink()  # the administrator fixes it; the service notices by itself
            wait_until(lambda: alice.get("api/").status_code == 200, "the service recovering")
            assert alice.post("api/responses", json=answer()).status_code == 201
            assert probe.get("").json()["store"] == "open"
    finally:
        service.stop()


def test_the_503_names_a_postgresql_store_with_its_password_masked(tmp_path):
    with socket.socket() as s:  # a port where no database listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    service = InProcessService(f"postgresql+psycopg://dualrole:s3cret-pw@127.0.0.1:{port}/class").start()
    try:
        with api(service, "alice") as alice:
            reply = alice.get("api/responses")
        assert reply.status_code == 503 and reply.json()["code"] == "store_unavailable"
        message = reply.json()["error"]
        assert f"postgresql+psycopg://dualrole:***@127.0.0.1:{port}/class" in message
        assert "s3cret-pw" not in message
    finally:
        service.stop()


def test_a_new_sqlite_store_and_its_journal_are_readable_by_their_owner_only(tmp_path):
    from widgets.store import open_store

    path = tmp_path / "class" / "class.sqlite"
    store = open_store(f"sqlite:///{path}")
    store.set_consent("alice", True)  # a write: SQLite makes its -wal and -shm files
    for made in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        assert stat.S_IMODE(os.stat(made).st_mode) == 0o600, made


def test_the_readiness_probe_gets_a_200_without_a_token(tmp_path):
    service = InProcessService(f"sqlite:///{tmp_path / 'class.sqlite'}").start()
    try:
        with api(service, None) as probe:
            reply = probe.get("")
        assert reply.status_code == 200
        assert reply.json() == {"service": "dualrole", "version": reply.json()["version"], "store": "open"}
    finally:
        service.stop()


@pytest.mark.postgres
def test_a_database_that_stops_mid_class_gets_503s_one_log_line_each_and_an_honest_probe(caplog, tmp_path):
    from conftest import skip_or_fail
    from pg_fixture import PG_BIN, PostgresServer

    from widgets.exchange.outbox import Outbox
    from widgets.learner.client import ServiceClient
    from widgets.ui.live import LiveDashboard

    if not (PG_BIN / "initdb").exists():
        skip_or_fail(f"PostgreSQL 15 binaries not found in {PG_BIN}")
    server = PostgresServer()  # a server of its own: this test stops it
    server.start()
    service = InProcessService(server.new_database()).start()
    try:
        with api(service, "alice") as alice, api(service, "teacher") as teacher, api(service, None) as probe:
            assert alice.post("api/responses", json=answer()).status_code == 201
            assert probe.get("").json()["store"] == "open"
            server.pause()  # the database stops while the class runs
            caplog.clear()
            replies = [alice.post("api/responses", json=answer("small_holiday_gift")),
                       alice.get("api/class", params={"cohort": "psy501"}),
                       alice.get("api/responses"),
                       teacher.get("api/summary", params={"cohort": "psy501", "cases": "cosmetics"}),
                       alice.get("api/cohort/cosmetics", params={"cohort": "psy501"})]
            for reply in replies:
                assert reply.status_code == 503, reply.text
                assert reply.json()["code"] == "store_unavailable"
                assert "The class database is not answering" in reply.json()["error"]
            assert not [r for r in caplog.records if r.exc_info]  # no traceback anywhere
            said = [r for r in caplog.records if "the response store is not answering" in r.getMessage()]
            assert len(said) == len(replies)
            health = probe.get("")
            assert health.status_code == 200 and health.json()["store"] == "unavailable"
            dashboard = LiveDashboard(["cosmetics"], cohort="psy501", client=ServiceClient(
                service.url, service.token("teacher"), outbox=Outbox(tmp_path / "teacher-outbox.jsonl")))
            for _ in range(2):  # the second refresh is refused at once, and says the same
                assert not dashboard.refresh()
                assert "the class database is not answering" in dashboard.problem.value
                assert "did not answer" not in dashboard.problem.value

            server.resume()
            wait_until(lambda: probe.get("").json()["store"] == "open", "the probe seeing the database back")
            assert alice.post("api/responses", json=answer("small_holiday_gift")).status_code == 201
            dashboard.act("cosmetics", "open_voting")  # a click just after the outage is tried, not refused
            assert dashboard.client.class_state("psy501", "cosmetics")["stage"] == "voting"
    finally:
        service.stop()
        server.stop()


def test_a_password_with_an_unencoded_at_sign_is_refused_and_never_shown(tmp_path):
    from widgets.errors import StoreError
    from widgets.store import describe_url, open_store

    url = "postgresql+psycopg://dualrole:p@ss-word@127.0.0.1:1/class"
    assert "ss-word" not in describe_url(url)
    with pytest.raises(StoreError, match="percent-encode") as refused:
        open_store(url)
    assert "ss-word" not in str(refused.value)
    encoded = "postgresql+psycopg://dualrole:p%40ss-word@127.0.0.1:1/class"
    assert describe_url(encoded) == "postgresql+psycopg://dualrole:***@127.0.0.1:1/class"

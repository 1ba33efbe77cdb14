"""Several class-service processes on one store hold no state apart from the database.

A lecture hall may need more than one ``dualrole serve`` process (``--processes``). Any of them may
get any request, so what one records or an instructor paces through one must be what every other
answers at once: the answers, the class-mode stage and the duplicate check all live in the store.
The first test runs two services on one store and sends each step of a class to a different one;
the second runs ``dualrole serve --processes 2`` for real and stops it as JupyterHub would.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import httpx
import pytest
from servers import free_port, start, stop  # tests/servers.py

pytest.importorskip("jupyterhub", reason="the class service needs JupyterHub: pip install -e '.[test]'")

from hub.inprocess import InProcessService, answer  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CASE = "wedding_invitation"
COHORT = "two-processes"


def api(service, who: str):
    return httpx.Client(base_url=service.url, headers={"Authorization": f"token {service.token(who)}"},
                        timeout=10)


def test_two_services_on_one_store_answer_every_request_alike(store_url):
    one, two = InProcessService(store_url).start(), InProcessService(store_url).start()
    try:
        teacher_one, teacher_two = api(one, "teacher"), api(two, "teacher")
        # Pacing through one is the stage the other enforces and reports.
        assert teacher_one.post(f"api/class/{CASE}", json={"cohort": COHORT, "action": "open_voting"}).status_code == 200
        assert api(two, "bob").get("api/class", params={"cohort": COHORT}).json()["cases"][CASE]["stage"] == "voting"

        # An answer recorded by one is a duplicate to the other, not a second answer.
        body = answer(CASE, cohort=COHORT)
        assert api(one, "alice").post("api/responses", json=body).status_code == 201
        again = api(two, "alice").post("api/responses", json=body)
        assert again.status_code == 200 and again.json()["created"] is False
        assert api(two, "alice").post("api/responses", json=answer(CASE, cohort=COHORT)).json()["code"] == "already_answered"
        for learner in ("bob", "carol"):
            assert api(two, learner).post("api/responses", json=answer(CASE, cohort=COHORT)).status_code == 201

        # Closing through the second stops answers through the first.
        for action in ("close", "show_histogram"):
            assert teacher_two.post(f"api/class/{CASE}", json={"cohort": COHORT, "action": action}).status_code == 200
        refused = teacher_one.post("api/responses", json=answer(CASE, cohort=COHORT, submitted_at=_now_iso()))
        assert refused.status_code == 409 and refused.json()["code"] == "stage"

        # Both show every learner the same class: all three answers, whoever recorded them.
        for service in (one, two):
            shown = api(service, "alice").get(f"api/cohort/{CASE}", params={"cohort": COHORT}).json()
            assert shown["stage"] == "histogram" and shown["total"] == 3
        summaries = [api(s, "teacher").get("api/summary", params={"cohort": COHORT, "cases": CASE}).json()
                     ["cases"][CASE] for s in (one, two)]
        assert summaries[0] == summaries[1] and summaries[0]["answered"] == 3
    finally:
        one.stop()
        two.stop()


def _now_iso() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat()


def _children(pid: int) -> list[int]:
    return [int(c) for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()]


@pytest.mark.postgres
def test_serve_with_two_processes_answers_and_stops_on_sigterm(pg_server, tmp_path):
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(REPO), DUALROLE_HOME=str(tmp_path / "home"),
               DUALROLE_STORE=pg_server.new_database(), JUPYTERHUB_API_TOKEN="not-a-hub-token")
    service = start([sys.executable, "-m", "widgets", "serve", "--processes", "2", "--port", str(port),
                     "--ip", "127.0.0.1"], log=tmp_path / "serve.log", env=env)
    try:
        url = f"http://127.0.0.1:{port}/services/dualrole/"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(url, timeout=2).json() == {"service": "dualrole", "version": _version(), "store": "open"}:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise AssertionError("the service did not answer")
        children = _children(service.pid)
        assert len(children) == 2
        # Whichever process takes a new connection, each has opened the store on its own.
        for _ in range(6):
            assert httpx.get(url, timeout=10).json()["store"] == "open"
        service.send_signal(signal.SIGTERM)  # what JupyterHub sends its managed service
        assert service.wait(30) == 0
        assert not any(Path(f"/proc/{pid}").exists() for pid in children)
    finally:
        stop(service)


def _version() -> str:
    from widgets import __version__

    return __version__


@pytest.mark.parametrize("mistake", [["--processes", "2"], ["--min-class", "2"], ["--processes", "many"]])
def test_serve_with_a_setting_it_cannot_work_with_starts_and_says_why(tmp_path, mistake):
    # Exiting would take the Hub down with it: the service runs, one process, and its probe says so.
    env = dict(os.environ, PYTHONPATH=str(REPO), DUALROLE_HOME=str(tmp_path / "home"),
               JUPYTERHUB_API_TOKEN="not-a-hub-token")
    port = free_port()
    log = tmp_path / "serve.log"
    service = start([sys.executable, "-m", "widgets", "serve", *mistake, "--port", str(port),
                     "--store", str(tmp_path / "class.sqlite")], log=log, env=env)
    try:
        url = f"http://127.0.0.1:{port}/services/dualrole/"
        deadline = time.monotonic() + 60
        while True:
            assert service.poll() is None, log.read_text()
            try:
                probe = httpx.get(url, timeout=2).json()
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        assert probe["store"] == "not_configured"
        said = log.read_text()
        assert "misconfigured" in said and "Traceback" not in said
        assert ("need a PostgreSQL store" if mistake == ["--processes", "2"] else mistake[0]) in said
        service.send_signal(signal.SIGTERM)
        assert service.wait(30) == 0
    finally:
        stop(service)


def test_many_requests_that_find_the_instructors_stale_ask_the_hub_once():
    import asyncio

    from widgets.service.app import Instructors

    asked = []

    class CountingInstructors(Instructors):
        async def _fetch(self):
            asked.append(1)
            await asyncio.sleep(0.05)  # the Hub's answer takes a while; the others arrive meanwhile
            return frozenset({"teacher"})

    instructors = CountingInstructors(hub_auth=None, group="instructors", ttl=15)

    async def lecture_hall():
        return await asyncio.gather(*(instructors.has(name) for name in ["teacher"] + [f"l{i}" for i in range(300)]))

    # On a thread of its own: browser tests earlier in the session leave this thread's event loop running.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        answers = pool.submit(asyncio.run, lecture_hall()).result()
    assert asked == [1]
    assert answers[0] is True and not any(answers[1:])

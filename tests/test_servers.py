"""The servers the tests start are stopped with everything they started, however a test ends (tests/servers.py).

The stand-in server here has the shape that once outlived a test run: ``dualrole course`` runs Voila
as its child, and Voila runs each kernel in a session of its own. It is "ready" once all three run.
"""

from __future__ import annotations

import sys
import time

import psutil
import pytest
import servers
from servers import running, start, stop_all

SERVER = '''
import os, signal, subprocess, sys, time
role, pids = sys.argv[1], sys.argv[2]
if "stubborn" in sys.argv:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
if role == "server":    # dualrole course
    subprocess.Popen([sys.executable, __file__, "child", *sys.argv[2:]])
elif role == "child":   # its Voila, in the same session; the kernel it starts has a session of its own
    kernel = subprocess.Popen([sys.executable, __file__, "kernel", *sys.argv[2:]], start_new_session=True)
    with open(pids + ".part", "w") as out:
        out.write(f"{os.getppid()} {os.getpid()} {kernel.pid}")
    os.rename(pids + ".part", pids)
time.sleep(600)
'''


@pytest.fixture
def server(tmp_path):
    """The stand-in's command (``stubborn``: every process of it ignores SIGTERM), and its processes once up."""
    script = tmp_path / "server.py"
    script.write_text(SERVER, encoding="utf-8")
    pids = tmp_path / "pids"
    found: list[psutil.Process] = []

    def command(*flags: str) -> list[str]:
        return [sys.executable, str(script), "server", str(pids), *flags]

    def all_three_run() -> bool:
        if pids.exists() and not found:
            found.extend(psutil.Process(int(pid)) for pid in pids.read_text().split())
        return bool(found)

    return command, all_three_run, found


def still_running(processes: list[psutil.Process]) -> list[psutil.Process]:
    left = []
    for p in processes:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                left.append(p)
        except psutil.NoSuchProcess:
            pass
    return left


def test_a_server_that_never_becomes_ready_is_stopped_with_all_it_started(server, tmp_path):
    command, all_three_run, found = server

    def up_but_never_ready() -> bool:
        while not all_three_run():  # a readiness poll: the stand-in starts all three, then never answers
            time.sleep(0.05)
        return False

    with pytest.raises(RuntimeError, match="was not ready within 0 s"), \
            running(command(), up_but_never_ready, log=tmp_path / "server.log", timeout=0):
        pass
    assert len(found) == 3
    assert still_running(found) == []


def test_a_test_that_fails_mid_way_stops_a_server_that_ignores_sigterm(server, tmp_path):
    command, all_three_run, found = server
    with pytest.raises(AssertionError, match="the test failed"), \
            running(command("stubborn"), all_three_run, grace=0.5):
        assert still_running(found) == found
        raise AssertionError("the test failed")
    assert still_running(found) == []


def test_the_session_s_safety_net_stops_a_server_no_fixture_stopped(server, monkeypatch):
    command, all_three_run, found = server
    # Only this test's server in the net: the session's own servers (JupyterLab for the browser
    # tests on this worker) must outlive this test.
    monkeypatch.setattr(servers, "_started", {})
    start(command())
    while not all_three_run():
        time.sleep(0.05)
    stop_all()  # tests/conftest.py calls it when the session finishes, and it runs at exit
    assert still_running(found) == []

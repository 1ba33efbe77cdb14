"""Servers the tests start as processes (JupyterLab, Voila, JupyterHub, the class service, an LRS), and
their stopping: whatever a test starts here is stopped, with everything it started, however the test ends.

Each server runs in a session of its own, so one signal reaches every process it started in its
session (``dualrole course`` runs Voila as its child). Its descendants are listed *before* any
signal, because some start sessions of their own (jupyter_client gives each kernel one, JupyterHub
its services and proxy) and, once the server dies, nothing else links them to it: those still
running when the server is gone are stopped one by one. A server that ignores SIGTERM is killed.

:func:`running` stops the server on every way out of its block: a start-up that fails or times
out, a test that fails or raises. The last safety net is :func:`stop_all`, which stops every server
started here and not yet stopped (a fixture whose teardown never ran): ``tests/conftest.py`` calls
it when the pytest session finishes, and it runs at interpreter exit should pytest die first.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil

START_TIMEOUT = 60  # seconds; a cold start on 2 cores takes about 2
GRACE = 15  # seconds a server has to stop (and stop its kernels) before it is killed

_started: dict[int, subprocess.Popen] = {}


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd: list[str], *, log: Path | None = None, **popen) -> subprocess.Popen:
    """Start ``cmd`` in a session of its own, its output in ``log``; stop it with :func:`stop`."""
    if log is None:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                                **popen)
    else:
        with log.open("wb") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **popen)
    _started[proc.pid] = proc
    return proc


def log_tail(log: Path | None, chars: int = 4000) -> str:
    """The end of a server's log, for a failure message."""
    try:
        return log.read_text(errors="replace")[-chars:] if log is not None else ""
    except FileNotFoundError:
        return ""


def answers(url: str) -> Callable[[], bool]:
    """A readiness check: ``url`` answers 200."""

    def check() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    return check


def wait_until(ready: Callable[[], bool], proc: subprocess.Popen, *, what: str, log: Path | None = None,
               timeout: float = START_TIMEOUT) -> None:
    """Return once ``ready()`` is true; raise RuntimeError, with the log's end, if the server exits first or
    ``timeout`` seconds pass. The caller stops the server either way."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}; log:\n{log_tail(log)}")
        if ready():
            return
        if time.monotonic() >= deadline:
            raise RuntimeError(f"{what} was not ready within {timeout} s; log:\n{log_tail(log)}")
        time.sleep(0.2)


@contextlib.contextmanager
def running(cmd: list[str], ready: str | Callable[[], bool], *, what: str = "the server", log: Path | None = None,
            timeout: float = START_TIMEOUT, grace: float = GRACE, **popen) -> Iterator[subprocess.Popen]:
    """Start a server, wait until it is ready (``ready`` a URL that must answer 200, or a check), and
    stop it with all it started when the block ends, however it ends."""
    proc = start(cmd, log=log, **popen)
    try:
        wait_until(answers(ready) if isinstance(ready, str) else ready, proc, what=what, log=log, timeout=timeout)
        yield proc
    finally:
        stop(proc, grace)


def _family(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _session(sid: int) -> list[psutil.Process]:
    found = []
    for p in psutil.process_iter():
        with contextlib.suppress(OSError, psutil.Error):
            if os.getsid(p.pid) == sid:
                found.append(p)
    return found


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def stop(proc: subprocess.Popen, grace: float = GRACE) -> None:
    """Stop a server started by :func:`start` and every process it started, and wait for them.

    SIGTERM to its session first, so a Jupyter server shuts its kernels down itself; SIGKILL for
    what is still running ``grace`` seconds later.
    """
    family = _family(proc.pid)  # before any signal: an orphan's parent is no longer the server
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    # What outlived the server: kernels in sessions of their own, and whatever is left of its session.
    left = [p for p in {*family, *_session(proc.pid)} if _alive(p)]
    for p in left:
        with contextlib.suppress(psutil.Error):
            p.terminate()
    _, still = psutil.wait_procs(left, timeout=grace)
    for p in still:
        with contextlib.suppress(psutil.Error):
            p.kill()
    psutil.wait_procs(still, timeout=grace)
    _started.pop(proc.pid, None)


def stop_all() -> None:
    """Stop every server started here that is not stopped yet (the last safety net)."""
    for proc in list(_started.values()):
        stop(proc)


atexit.register(stop_all)

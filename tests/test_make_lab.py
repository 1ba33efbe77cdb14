"""`make lab` starts JupyterLab with the venv's bin first on PATH, so `dualrole` works in a Lab terminal."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest
from servers import free_port, start, stop  # tests/servers.py

REPO = Path(__file__).resolve().parent.parent


def test_make_lab_puts_the_venv_bin_first_on_path(tmp_path):
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    venv = Path(sys.prefix)
    runtime = tmp_path / "runtime"
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(runtime), "DUALROLE_HOME": str(tmp_path / "home"),
           "PATH": "/usr/bin:/bin"}
    args = f"--no-browser --port={free_port()} --ServerApp.ip=127.0.0.1 --ServerApp.token=test-token"
    # VENV points at the venv running the tests; -o keeps make from reinstalling into it.
    proc = start(["make", "-s", "lab", f"VENV={venv}", "-o", f"{venv}/.installed", f"LAB_ARGS={args}"],
                 cwd=REPO, env=env)
    try:
        server = None
        for _ in range(600):  # wait for the server to announce itself (a readiness poll, not a timed assertion)
            found = sorted(runtime.glob("jpserver-*.json")) if runtime.exists() else []
            if found:
                server = json.loads(found[0].read_text(encoding="utf-8"))
                break
            if proc.poll() is not None:
                pytest.fail(f"make lab exited with status {proc.returncode}")
            time.sleep(0.1)
        assert server is not None, "the server never started"
        # A kernel or terminal inherits the server's environment: read it as they would.
        environ = Path(f"/proc/{server['pid']}/environ").read_bytes().split(b"\0")
        path = next(v.decode()[5:] for v in environ if v.startswith(b"PATH="))
        first = path.split(":")[0]
        assert Path(first).resolve() == (venv / "bin").resolve()
        assert shutil.which("dualrole", path=path) == str(Path(first) / "dualrole")
        # Its kernels load the hint for a card cell run before the lesson's first code cell.
        ipython_dir = next(v.decode()[len("IPYTHONDIR="):] for v in environ if v.startswith(b"IPYTHONDIR="))
        config = Path(ipython_dir) / "profile_default" / "ipython_kernel_config.py"
        assert "widgets.learner.hints" in config.read_text(encoding="utf-8")
    finally:
        stop(proc)

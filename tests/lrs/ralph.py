"""A real Ralph LRS for the tests: its file-system backend, served by uvicorn on 127.0.0.1.

Ralph runs from its own virtual environment, ``tests/lrs/.venv`` (``make test`` creates it from
``tests/lrs/requirements.txt``), or from the Python named by ``DUALROLE_RALPH_PYTHON``. Without it a
local run skips, and ``CI=true`` fails.

The file-system backend writes every new statement to one file and refuses to write that file a
second time ("overwrite is not allowed"). A POST of statements the LRS already holds, identical,
writes nothing (xAPI 1.0.3 answers 204), which is exactly what a second upload of an export must do.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

import httpx
from servers import answers, free_port, wait_until
from servers import start as start_process
from servers import stop as stop_process

HERE = Path(__file__).resolve().parent
VENV_PYTHON = HERE / ".venv" / "bin" / "python"
XAPI_VERSION = "1.0.3"


def ralph_python() -> Path | None:
    """The Python that has Ralph installed, or None."""
    chosen = Path(os.environ.get("DUALROLE_RALPH_PYTHON", VENV_PYTHON))
    if not chosen.exists():
        return None
    found = subprocess.run([str(chosen), "-c", "import ralph, bcrypt, uvicorn"], capture_output=True)
    return chosen if found.returncode == 0 else None


class RalphLRS:
    """One Ralph LRS process with its statements file and one user, in a temporary folder."""

    def __init__(self, python: Path):
        self.python = python
        self.folder = Path(tempfile.mkdtemp(prefix="dualrole-lrs-"))
        self.statements_dir = self.folder / "statements"
        self.user, self.password = "dualrole", secrets.token_hex(12)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/xAPI/"
        self.log = self.folder / "ralph.log"
        self.process: subprocess.Popen | None = None

    def _write_credentials(self) -> Path:
        # Ralph's own format (``ralph auth``): a bcrypt hash and the scope "all".
        code = ("import bcrypt, json, sys; h = bcrypt.hashpw(sys.argv[2].encode(), bcrypt.gensalt()).decode(); "
                "print(json.dumps([{'agent': {'objectType': 'Agent', 'account': {'homePage': "
                "'https://dualrole.invalid/', 'name': sys.argv[1]}}, 'scopes': ['all'], 'hash': h, "
                "'username': sys.argv[1]}]))")
        done = subprocess.run([str(self.python), "-c", code, self.user, self.password], capture_output=True,
                              text=True, check=True)
        path = self.folder / "auth.json"
        path.write_text(done.stdout, encoding="utf-8")
        return path

    def start(self, timeout: float = 60) -> None:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.folder),
               "RALPH_APP_DIR": str(self.folder / "app"), "RALPH_AUTH_FILE": str(self._write_credentials()),
               "RALPH_RUNSERVER_BACKEND": "fs",
               "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(self.statements_dir)}
        self.process = start_process([str(self.python), "-m", "uvicorn", "ralph.api:app", "--host", "127.0.0.1",
                                      "--port", str(self.port), "--log-level", "warning"],
                                     log=self.log, cwd=self.folder, env=env)
        try:
            wait_until(answers(f"http://127.0.0.1:{self.port}/__heartbeat__"), self.process, what="Ralph",
                       log=self.log, timeout=timeout)
        except BaseException:
            stop_process(self.process)
            raise

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, grace=20)
        shutil.rmtree(self.folder, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, auth=(self.user, self.password), timeout=300,
                            headers={"X-Experience-API-Version": XAPI_VERSION})

    def stored_lines(self) -> int:
        """How many statements the backend has written, counted in its files (not through the API)."""
        return sum(len(p.read_text(encoding="utf-8").splitlines()) for p in self.statements_dir.glob("*")
                   if p.is_file())

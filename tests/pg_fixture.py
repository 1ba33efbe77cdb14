"""A real PostgreSQL server for the store tests, started by the tests and stopped at session end.

Debian's PostgreSQL 15 binaries run ``initdb`` into a temporary folder and serve on a free port of
127.0.0.1. PostgreSQL refuses to run as root, so under root (CI containers) the server runs as the
``postgres`` system user when it exists, else as ``nobody``. Each test gets a fresh database.
Without the binaries a local run skips these tests with a message; under ``CI=true`` they fail.

Loaded from ``tests/conftest.py`` with ``pytest_plugins``. Fixtures: ``pg_server`` (session) and
``store_url`` (parametrised: ``sqlite`` and ``postgresql``).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

PG_BIN = Path(os.environ.get("DUALROLE_PG_BIN", "/usr/lib/postgresql/15/bin"))
SUPERUSER = "dualrole"


def _skip_or_fail(reason: str):
    from conftest import skip_or_fail

    skip_or_fail(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_account() -> pwd.struct_passwd | None:
    """The unprivileged account to run as, or None when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    return None


class PostgresServer:
    """One throw-away PostgreSQL cluster in a temporary folder."""

    def __init__(self, binaries: Path = PG_BIN, superuser: str = SUPERUSER):
        self.bin = binaries
        self.superuser = superuser
        self.account = _server_account()
        self.folder = Path(tempfile.mkdtemp(prefix="dualrole-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.port: int | None = None
        if self.account is not None:
            os.chown(self.folder, self.account.pw_uid, self.account.pw_gid)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        kwargs = {}
        if self.account is not None:
            kwargs = {"user": self.account.pw_uid, "group": self.account.pw_gid, "extra_groups": []}
        env = {"PATH": f"{self.bin}:/usr/bin:/bin", "LC_ALL": "C.UTF-8", "HOME": str(self.folder)}
        return subprocess.run([str(self.bin / args[0]), *args[1:]], capture_output=True, text=True,
                              env=env, cwd=self.folder, check=check, timeout=120, **kwargs)

    def start(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", self.superuser, "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync")
        last = ""
        for _attempt in range(3):  # another process may take the free port before the server does
            self.port = _free_port()
            done = self._pg_ctl_start()
            if done.returncode == 0:
                return
            last = done.stdout + done.stderr + self.log_tail()
        raise RuntimeError(f"PostgreSQL did not start:\n{last}")

    def _pg_ctl_start(self) -> subprocess.CompletedProcess:
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                   "-c max_connections=200 -c fsync=off -c full_page_writes=off")
        return self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options,
                         "-w", "-t", "30", "start", check=False)

    def pause(self) -> None:
        """Stop the server, keeping its data and port: the database is "down"."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        """Start a paused server again on the same port."""
        done = self._pg_ctl_start()
        if done.returncode != 0:
            raise RuntimeError(f"PostgreSQL did not restart:\n{done.stdout}{done.stderr}{self.log_tail()}")

    def psql(self, script: str) -> subprocess.CompletedProcess:
        """Run a psql script as the cluster's superuser, as ``sudo -u postgres psql`` would, stopping at an error."""
        kwargs = {}
        if self.account is not None:
            kwargs = {"user": self.account.pw_uid, "group": self.account.pw_gid, "extra_groups": []}
        env = {"PATH": f"{self.bin}:/usr/bin:/bin", "LC_ALL": "C.UTF-8", "HOME": str(self.folder),
               "PGHOST": "127.0.0.1", "PGPORT": str(self.port), "PGUSER": self.superuser, "PGDATABASE": "postgres"}
        return subprocess.run([str(self.bin / "psql"), "-v", "ON_ERROR_STOP=1", "-X", "-q"], input=script,
                              capture_output=True, text=True, env=env, cwd=self.folder, timeout=60, **kwargs)

    def stop(self) -> None:
        if self.data.exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)
        shutil.rmtree(self.folder, ignore_errors=True)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.superuser}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """Create an empty database and return its SQLAlchemy URL."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user={self.superuser} dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@pytest.fixture(scope="session")
def pg_server():
    """A running PostgreSQL 15 server on 127.0.0.1 for the whole session."""
    if not (PG_BIN / "initdb").exists():
        _skip_or_fail(f"PostgreSQL 15 binaries not found in {PG_BIN}: install the Debian package "
                      "postgresql-15 to run the PostgreSQL store tests")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _skip_or_fail("psycopg is not installed: pip install 'psycopg[binary]' to run the PostgreSQL tests")
    server = PostgresServer()
    try:
        server.start()
    except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
        server.stop()
        _skip_or_fail(f"could not start a PostgreSQL test server: {exc}")
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request, tmp_path):
    """A URL for an empty store: a SQLite file, or a fresh database on the test PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    return request.getfixturevalue("pg_server").new_database()

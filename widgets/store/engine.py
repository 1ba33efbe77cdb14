"""Store URLs and the SQLAlchemy engine behind a store: SQLite set up for safe concurrent use, or
PostgreSQL through psycopg 3."""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from widgets.errors import StoreError
from widgets.paths import home, private_folder

# How long a kernel waits for another one's lock on a SQLite store before it gives up.
SQLITE_WAIT_SECONDS = 30


def default_url() -> str:
    """``DUALROLE_STORE`` (a SQLAlchemy URL or a file path), else ``responses.sqlite`` in the data folder."""
    configured = os.environ.get("DUALROLE_STORE", "").strip()
    if configured:
        return resolve_url(configured)
    return f"sqlite:///{home() / 'responses.sqlite'}"


def resolve_url(value: str) -> str:
    """A store URL from what a user typed: a SQLAlchemy URL, or a path to a SQLite file.

    ``postgresql://`` and ``postgres://`` mean the psycopg 3 driver, the one dualrole installs.

    Examples
    --------
    >>> resolve_url("postgres://teacher@db/class")
    'postgresql+psycopg://teacher@db/class'
    """
    value = value.strip()
    if "://" not in value:
        return f"sqlite:///{Path(value).expanduser().resolve()}"
    scheme, rest = value.split("://", 1)
    if scheme in ("postgresql", "postgres"):
        return f"postgresql+psycopg://{rest}"
    return value


UNENCODED_PASSWORD = ("the store URL's password holds a character a URL reserves ('@', say): "
                      "percent-encode the password ('@' as %40, ':' as %3A, '/' as %2F, '#' as %23), "
                      "for example with python3 -c \"import sys, urllib.parse; "
                      "print(urllib.parse.quote(sys.argv[1], safe=''))\" 'the password'")


def _unencoded_password(url: str) -> bool:
    """True when the URL's authority holds more than one '@': a password with a bare '@' in it,
    which a URL parser would split in the wrong place (showing part of the password as the host)."""
    _scheme, _sep, rest = url.partition("://")
    return rest.split("/", 1)[0].count("@") > 1


def read_url_file(path: Path | str) -> str:
    """The store URL kept in a root-only file (the deployment guide's ``/etc/dualrole/store-url``).

    Raises :class:`StoreError` naming the file and what to do when it is missing, unreadable or
    empty; the URL itself is never part of a message.
    """
    path = Path(path)
    fix = "write the store's URL into it, one line, mode 600 (docs/deploy-jupyterhub.md)"
    try:
        value = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise StoreError(f"the store-URL file {path} does not exist: {fix}") from None
    except PermissionError:
        raise StoreError(f"the store-URL file {path} cannot be read by the service's user: check its "
                         "owner (the Hub's user) and mode (600)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreError(f"the store-URL file {path} cannot be read ({exc.__class__.__name__}): {fix}") from None
    if not value:
        raise StoreError(f"the store-URL file {path} is empty: {fix}")
    return resolve_url(value)


def describe_url(url: str) -> str:
    """A URL fit to show a user: the password is masked (and an unreadable URL is not shown at all)."""
    if _unencoded_password(url):
        return "(a store URL whose password is not percent-encoded)"
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "(a value that is not a store URL)"


def reason(exc: DBAPIError) -> str:
    """The driver's own message, first line only (no SQL, no parameters)."""
    return str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)


def insert_for(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        raise StoreError(f"dualrole stores responses in SQLite or PostgreSQL, not {dialect}")
    return insert


def enter_wal(cursor, wait: float = SQLITE_WAIT_SECONDS) -> None:
    """Put a SQLite file in WAL mode, waiting out other kernels that are doing the same.

    Switching a new file to WAL needs an exclusive lock. When several kernels open the same new
    store at once, SQLite answers "database is locked" at once instead of calling the busy handler
    (waiting could deadlock), so the switch is retried, with jitter, until ``wait`` runs out.
    Once the file is in WAL mode (it stays so) the pragma takes no exclusive lock and passes first time.
    """
    deadline = time.monotonic() + wait
    pause = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause * random.uniform(0.5, 1.5))
        pause = min(pause * 2, 0.25)


def create_private(path: Path) -> None:
    """Create an empty SQLite file readable and writable by its owner only (mode 600), if absent.

    A store holds answers; a class store, everyone's. SQLite would create the file with the umask's
    mode (often 644, readable by every user of the host), and its -wal and -shm files copy the
    database file's mode, so making the file first keeps all three private.
    """
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


class OpenSqliteFiles:
    """Which SQLite files this process has open through store engines, and a way to read one alone.

    A reader that links its own copy of the SQLite library (ADBC's driver) must not open a file
    while a store's connection (Python's SQLite) is open on it in the same process: the two copies
    do not share their bookkeeping of POSIX locks, which are held per process, so each copy takes
    itself for the file's only user. Closing the reader then deletes the WAL (and its index) under
    the store's connections, whose later commits go to the deleted file (lost to everyone else) and
    whose next open fails with "disk I/O error"; closing its file descriptors also drops the locks
    the store's connections hold. So the engines record each connection they open, and a reader
    asks :meth:`alone` for a file no connection is open on, which none opens while it reads.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        # Keyed by the pool's record of each connection: a record the pool lets go (a disposed
        # pool's, say) is garbage-collected with its connection, which closes it, and leaves here.
        self._open: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._detached: dict[int, str] = {}  # connections taken out of their pool, by id
        self._read_alone: set[str] = set()

    def track(self, engine: sa.Engine, database: str) -> None:
        """Record the connections ``engine`` opens on the SQLite file ``database`` until they close."""
        path = os.path.realpath(database)

        @sa.event.listens_for(engine, "do_connect")
        def _connect(dialect, record, cargs, cparams):
            # Made under the lock, so that no reader starts between the wait and the record.
            with self._changed:
                self._changed.wait_for(lambda: path not in self._read_alone)
                connection = dialect.loaded_dbapi.connect(*cargs, **cparams)
                self._open[record] = path
            return connection

        @sa.event.listens_for(engine, "close")
        def _closed(_connection, record):
            with self._changed:
                self._open.pop(record, None)

        @sa.event.listens_for(engine, "detach")
        def _detached(connection, record):
            with self._changed:
                self._open.pop(record, None)
                self._detached[id(connection)] = path

        @sa.event.listens_for(engine, "close_detached")
        def _closed_detached(connection):
            with self._changed:
                self._detached.pop(id(connection), None)

    @contextmanager
    def alone(self, database: str) -> Iterator[bool]:
        """Whether no store connection of this process is open on ``database``; while True, none opens."""
        path = os.path.realpath(database)
        with self._changed:
            opened = [*self._open.values(), *self._detached.values(), *self._read_alone]
            alone = path not in opened
            if alone:
                self._read_alone.add(path)
        try:
            yield alone
        finally:
            if alone:
                with self._changed:
                    self._read_alone.discard(path)
                    self._changed.notify_all()


SQLITE_FILES = OpenSqliteFiles()


def make_engine(url: str) -> sa.Engine:
    """The engine for a store URL; SQLite files get WAL, a busy timeout and explicit transactions."""
    if _unencoded_password(url):
        raise StoreError(UNENCODED_PASSWORD)
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        raise StoreError(f"{describe_url(url)} is not a store URL: use a file path, sqlite:///path/to/file.sqlite "
                         "or postgresql+psycopg://user@host/database") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            try:
                private_folder(Path(parsed.database).parent)
                create_private(Path(parsed.database))
            except OSError as exc:
                raise StoreError(f"cannot open the response store {describe_url(url)}: cannot create "
                                 f"it or its folder ({exc.strerror}: {exc.filename})") from None
        engine = sa.create_engine(parsed, connect_args={"timeout": SQLITE_WAIT_SECONDS})
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            SQLITE_FILES.track(engine, parsed.database)

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            # The busy timeout makes concurrent writers wait; WAL lets readers and one writer work at
            # once; FULL sync makes a commit survive a power cut, so "saved" in the card is true.
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below): real transactions
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout={SQLITE_WAIT_SECONDS * 1000}")
            enter_wal(cur)
            cur.execute("PRAGMA synchronous=FULL")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _begin(conn):
            # pysqlite would otherwise run DDL outside any transaction and begin lazily at the first
            # write; an explicit BEGIN makes one bundle, or one schema creation, all-or-nothing.
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    if backend != "postgresql":
        raise StoreError(f"dualrole stores responses in SQLite or PostgreSQL, not '{backend}' ({describe_url(url)})")
    if parsed.get_driver_name() != "psycopg":
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        return sa.create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 10})
    except ModuleNotFoundError:
        raise StoreError("a PostgreSQL store needs the psycopg driver: pip install 'dualrole[postgres]'") from None



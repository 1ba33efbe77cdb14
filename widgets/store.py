"""The append-only response store, on SQLAlchemy 2 Core.

An embedded SQLite file in the learner's data folder by default; any SQLAlchemy URL (PostgreSQL for
a shared class store) through ``DUALROLE_STORE``. A change of mind is a new row, never an update.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable
from uuid import uuid4

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError

from .errors import AlreadyAnswered, StoreError
from .paths import home

SCHEMA_VERSION = 1

metadata = sa.MetaData()

responses_table = sa.Table(
    "responses",
    metadata,
    sa.Column("response_id", sa.String(36), primary_key=True),
    sa.Column("learner", sa.String(200), nullable=False, index=True),
    sa.Column("cohort", sa.String(200), nullable=False, index=True),
    sa.Column("case_id", sa.String(60), nullable=False, index=True),
    sa.Column("case_version", sa.String(64), nullable=False),
    sa.Column("option_id", sa.String(60), nullable=False),
    sa.Column("stance", sa.String(40), nullable=False),
    sa.Column("confidence", sa.Integer, nullable=False),
    sa.Column("kitchener_expectations", sa.String(10)),
    sa.Column("kitchener_obligations", sa.String(10)),
    sa.Column("kitchener_power", sa.String(10)),
    sa.Column("justification", sa.Text, nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("phase", sa.String(10), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("client", sa.String(20), nullable=False),
    sa.Column("consent", sa.Boolean, nullable=False, default=False),
    # One row per learner, case, phase and attempt: a double click can never write two answers.
    sa.UniqueConstraint("learner", "cohort", "case_id", "phase", "attempt", name="one_answer_per_attempt"),
    sa.CheckConstraint("confidence BETWEEN 0 AND 100", name="confidence_range"),
    sa.CheckConstraint("attempt IN (1, 2)", name="attempt_one_or_two"),
)

consents_table = sa.Table(
    "consents",
    metadata,
    sa.Column("learner", sa.String(200), nullable=False, index=True),
    sa.Column("consent", sa.Boolean, nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
)

meta_table = sa.Table(
    "dualrole_meta",
    metadata,
    sa.Column("key", sa.String(40), primary_key=True),
    sa.Column("value", sa.String(200), nullable=False),
)

COLUMNS = [c.name for c in responses_table.columns]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Response:
    """One committed answer: the row the store keeps."""

    learner: str
    cohort: str
    case_id: str
    case_version: str
    option_id: str
    stance: str
    confidence: int
    justification: str
    attempt: int = 1
    phase: str = "practice"
    kitchener_expectations: str | None = None
    kitchener_obligations: str | None = None
    kitchener_power: str | None = None
    started_at: datetime | None = None
    submitted_at: datetime = field(default_factory=utcnow)
    client: str = "lab"
    consent: bool = False
    response_id: str = field(default_factory=lambda: str(uuid4()))

    def row(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k in COLUMNS}


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


def describe_url(url: str) -> str:
    """A URL fit to show a user: the password is masked."""
    return sa.engine.make_url(url).render_as_string(hide_password=True)


class Store:
    """A response store at one URL. Open with :func:`open_store`."""

    def __init__(self, url: str):
        self.url = url
        self.engine = _engine(url)
        self._ensure_schema()

    # -- writing -------------------------------------------------------------------------------

    def add(self, response: Response) -> Response:
        """Commit one response durably; raise :class:`AlreadyAnswered` if that attempt exists."""
        try:
            with self.engine.begin() as conn:
                conn.execute(responses_table.insert(), response.row())
        except IntegrityError as exc:
            raise AlreadyAnswered(
                f"attempt {response.attempt} at case '{response.case_id}' ({response.phase}) is already recorded"
            ) from exc
        except OperationalError as exc:
            raise StoreError(f"could not save to {describe_url(self.url)}: {exc.orig}") from exc
        return response

    def add_many(self, rows: Iterable[dict], conn=None) -> int:
        """Insert rows in one transaction (used by collect); duplicates of ``response_id`` are skipped."""
        rows = list(rows)
        if not rows:
            return 0
        if conn is None:
            with self.engine.begin() as c:
                return self.add_many(rows, c)
        ids = [r["response_id"] for r in rows]
        existing = set()
        for chunk in range(0, len(ids), 500):
            existing |= set(conn.scalars(sa.select(responses_table.c.response_id).where(
                responses_table.c.response_id.in_(ids[chunk:chunk + 500]))))
        fresh = [r for r in rows if r["response_id"] not in existing]
        if fresh:
            conn.execute(responses_table.insert(), fresh)
        return len(fresh)

    def set_consent(self, learner: str, consent: bool) -> None:
        """Record a research-consent choice; the latest one wins in research exports."""
        with self.engine.begin() as conn:
            conn.execute(consents_table.insert(), {"learner": learner, "consent": bool(consent), "recorded_at": utcnow()})

    def consent(self, learner: str) -> bool:
        """The learner's latest consent choice (False when never given)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(consents_table.c.consent).where(consents_table.c.learner == learner)
                .order_by(consents_table.c.recorded_at.desc()).limit(1)
            ).first()
        return bool(row[0]) if row else False

    def erase_learner(self, learner: str) -> int:
        """Delete every response and consent record of one learner; return how many responses went."""
        with self.engine.begin() as conn:
            n = conn.execute(responses_table.delete().where(responses_table.c.learner == learner)).rowcount
            conn.execute(consents_table.delete().where(consents_table.c.learner == learner))
        return n

    # -- reading -------------------------------------------------------------------------------

    def responses(self, learner: str | None = None, case_id: str | None = None,
                  cohort: str | None = None, phase: str | None = None) -> list[dict]:
        """Rows as dicts, oldest first, filtered by any of the arguments."""
        q = sa.select(responses_table)
        for name, value in (("learner", learner), ("case_id", case_id), ("cohort", cohort), ("phase", phase)):
            if value is not None:
                q = q.where(responses_table.c[name] == value)
        q = q.order_by(responses_table.c.submitted_at, responses_table.c.attempt)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def cohort_answers(self, case_id: str, cohort: str, phase: str) -> dict[str, int]:
        """Each learner's latest answer to a case in a cohort and phase, counted by option id."""
        latest = (
            sa.select(responses_table.c.learner, sa.func.max(responses_table.c.attempt).label("attempt"))
            .where(responses_table.c.case_id == case_id, responses_table.c.cohort == cohort,
                   responses_table.c.phase == phase)
            .group_by(responses_table.c.learner).subquery()
        )
        r = responses_table
        q = (
            sa.select(r.c.option_id, sa.func.count().label("n"))
            .join(latest, sa.and_(r.c.learner == latest.c.learner, r.c.attempt == latest.c.attempt))
            .where(r.c.case_id == case_id, r.c.cohort == cohort, r.c.phase == phase)
            .group_by(r.c.option_id)
        )
        with self.engine.connect() as conn:
            return {row.option_id: row.n for row in conn.execute(q)}

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.scalar(sa.select(sa.func.count()).select_from(responses_table))

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")))

    # -- schema --------------------------------------------------------------------------------

    def _ensure_schema(self) -> None:
        try:
            with self.engine.begin() as conn:
                inspector = sa.inspect(conn)
                tables = set(inspector.get_table_names())
                if "dualrole_meta" not in tables:
                    if "responses" in tables:
                        raise StoreError(
                            f"{describe_url(self.url)} has a 'responses' table but no dualrole version "
                            "record: it was not made by dualrole, so it is left untouched"
                        )
                    metadata.create_all(conn)
                    conn.execute(meta_table.insert(), {"key": "schema_version", "value": str(SCHEMA_VERSION)})
                    return
                found = int(conn.scalar(sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")))
                if found > SCHEMA_VERSION:
                    raise StoreError(
                        f"{describe_url(self.url)} was written by a newer dualrole (store schema {found}; "
                        f"this version reads schema {SCHEMA_VERSION}). Upgrade with: pip install -U dualrole. "
                        "Nothing was changed."
                    )
                for version in range(found, SCHEMA_VERSION):
                    MIGRATIONS[version](conn)
                    conn.execute(meta_table.update().where(meta_table.c.key == "schema_version")
                                 .values(value=str(version + 1)))
        except OperationalError as exc:
            raise StoreError(f"cannot open the response store {describe_url(self.url)}: {exc.orig}") from exc


# version -> function migrating a connection from that version to the next, inside one transaction.
MIGRATIONS: dict[int, callable] = {}


def _engine(url: str) -> sa.Engine:
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the store's folder {folder}: {exc.strerror}") from exc
        engine = sa.create_engine(url, connect_args={"timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            # WAL lets readers and one writer work at once; FULL sync makes a commit survive a power
            # cut, so "saved" in the card is true; the busy timeout makes concurrent writers wait.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def open_store(url: str | None = None) -> Store:
    """Open (creating or migrating) the store at ``url``, or the default one.

    Example::

        >>> store = open_store("sqlite:///:memory:")   # doctest: +SKIP
        >>> store.count()                              # doctest: +SKIP
        0
    """
    return Store(url or default_url())

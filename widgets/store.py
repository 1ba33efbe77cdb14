"""The append-only response store, on SQLAlchemy 2 Core.

An embedded SQLite file in the learner's data folder by default; any SQLAlchemy URL (PostgreSQL for
a shared class store) through ``DUALROLE_STORE``. A change of mind is a new row, never an update.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Iterable
from uuid import uuid4

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from .engine import default_url, describe_url, insert_for, make_engine, reason, resolve_url
from .errors import AlreadyAnswered, StoreError

SCHEMA_VERSION = 1

metadata = sa.MetaData()


class UTCDateTime(sa.TypeDecorator):
    """A UTC timestamp, timezone-aware in Python on every backend.

    PostgreSQL keeps the offset; SQLite has no timezone type, so the UTC wall time is stored and
    the UTC offset put back on reading. A naive value written by a caller is taken to be UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        """To UTC; naive UTC wall time for SQLite."""
        if value is None:
            return None
        value = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        """Always timezone-aware, in UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


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
    sa.Column("started_at", UTCDateTime()),
    sa.Column("submitted_at", UTCDateTime(), nullable=False),
    sa.Column("client", sa.String(20), nullable=False),
    sa.Column("consent", sa.Boolean, nullable=False, default=False),
    # One row per learner, case, phase and attempt: a double click can never write two answers.
    sa.UniqueConstraint("learner", "cohort", "case_id", "phase", "attempt", name="one_answer_per_attempt"),
    sa.CheckConstraint("confidence BETWEEN 0 AND 100", name="confidence_range"),
    sa.CheckConstraint("attempt IN (1, 2)", name="attempt_one_or_two"),
    # The reveal's cohort count (cohort_answers) reads one case, cohort and phase: without this
    # index SQLite walks every answer to the case in every cohort, 80 ms at a million responses
    # (issue 8); with it, the learners and attempts come from the index alone.
    sa.Index("ix_responses_cohort_answers", "case_id", "cohort", "phase", "learner", "attempt"),
)
# Indexes added after stores were first made. They change no data, so they need no schema version
# (an older dualrole still opens the store); each open creates any that are missing.
LATER_INDEXES = ("ix_responses_cohort_answers",)

consents_table = sa.Table(
    "consents",
    metadata,
    sa.Column("learner", sa.String(200), nullable=False, index=True),
    sa.Column("consent", sa.Boolean, nullable=False),
    sa.Column("recorded_at", UTCDateTime(), nullable=False),
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


class Store:
    """A response store at one URL. Open with :func:`open_store`."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        # Writes take SQLite's write lock when they begin (BEGIN IMMEDIATE), so a transaction that
        # reads before it writes waits its turn instead of failing with "database is locked".
        self._writer = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        self._ensure_schema()

    @property
    def backend(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    # -- writing -------------------------------------------------------------------------------

    @contextmanager
    def transaction(self):
        """A write transaction: everything done on the yielded connection commits together or not at all.

        Example::

            >>> with store.transaction() as conn:        # doctest: +SKIP
            ...     store.add_many(rows, conn)
        """
        try:
            with self._writer.begin() as conn:
                yield conn
        except (IntegrityError, AlreadyAnswered):
            raise
        except DBAPIError as exc:
            raise StoreError(f"could not write to {describe_url(self.url)}: {reason(exc)}") from exc

    def add(self, response: Response) -> Response:
        """Commit one response durably; raise :class:`AlreadyAnswered` if that attempt exists."""
        try:
            with self.transaction() as conn:
                conn.execute(responses_table.insert(), response.row())
        except IntegrityError as exc:
            raise AlreadyAnswered(
                f"attempt {response.attempt} at case '{response.case_id}' ({response.phase}) is already recorded"
            ) from exc
        return response

    def add_many(self, rows: Iterable[dict], conn=None) -> int:
        """Insert rows in one transaction (used by collect); duplicates of ``response_id`` are skipped.

        Returns how many rows were new. Safe against a concurrent import of the same rows: the
        insert itself skips a ``response_id`` that is already there (``ON CONFLICT DO NOTHING``).
        """
        rows = list(rows)
        if not rows:
            return 0
        if conn is None:
            with self.transaction() as c:
                return self.add_many(rows, c)
        insert = insert_for(conn.dialect.name)
        added = 0
        for start in range(0, len(rows), 500):
            stmt = insert(responses_table).on_conflict_do_nothing(index_elements=["response_id"])
            result = conn.execute(stmt.returning(responses_table.c.response_id), rows[start:start + 500])
            added += len(result.all())
        return added

    def existing_ids(self, response_ids: Iterable[str], conn=None) -> set[str]:
        """The ones among ``response_ids`` that the store already holds."""
        ids = list(dict.fromkeys(response_ids))
        if conn is None:
            with self.engine.connect() as c:
                return self.existing_ids(ids, c)
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            found |= set(conn.scalars(sa.select(responses_table.c.response_id)
                                      .where(responses_table.c.response_id.in_(ids[start:start + 500]))))
        return found

    def set_consent(self, learner: str, consent: bool) -> None:
        """Record a research-consent choice; the latest one wins in research exports."""
        with self.transaction() as conn:
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
        with self.transaction() as conn:
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
            with self._writer.begin() as conn:
                if conn.dialect.name == "postgresql":
                    # Many kernels may open a new class database at the same moment: one creates the
                    # tables while the others wait here, then find them made (DDL is transactional).
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
                tables = set(sa.inspect(conn).get_table_names())
                if "dualrole_meta" not in tables:
                    if "responses" in tables:
                        raise StoreError(
                            f"{describe_url(self.url)} has a 'responses' table but no dualrole version "
                            "record: it was not made by dualrole, so it is left untouched"
                        )
                    metadata.create_all(conn)
                    conn.execute(meta_table.insert(), {"key": "schema_version", "value": str(SCHEMA_VERSION)})
                    return
                found = _read_version(conn)
                if found is None:
                    raise StoreError(f"{describe_url(self.url)} has a dualrole_meta table without a schema "
                                     "version: it is damaged or not dualrole's, so it is left untouched")
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
                present = {i["name"] for i in sa.inspect(conn).get_indexes("responses")}
                for index in responses_table.indexes:
                    if index.name in LATER_INDEXES and index.name not in present:
                        index.create(conn)
        except DBAPIError as exc:
            raise StoreError(f"cannot open the response store {describe_url(self.url)}: {reason(exc)}") from exc


# version -> function migrating a connection from that version to the next, inside one transaction.
MIGRATIONS: dict[int, callable] = {}

# Any fixed 64-bit number: the PostgreSQL advisory lock that serialises schema creation.
_SCHEMA_LOCK = 0x6475616C726F6C65  # "dualrole"


def _read_version(conn) -> int | None:
    value = conn.scalar(sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version"))
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def open_store(url: str | None = None) -> Store:
    """Open (creating or migrating) the store at ``url``, or the default one.

    Example::

        >>> store = open_store("sqlite:///:memory:")   # doctest: +SKIP
        >>> store.count()                              # doctest: +SKIP
        0

    With no ``url``, on a hub whose class service is configured (``DUALROLE_SERVICE_URL``, or
    detected), this returns a :class:`~widgets.client.ServiceClient` with the same reading and
    writing methods: the learner's kernel then holds no database credentials (issue 6).
    """
    if url is None:
        from .discovery import service_from_env

        service = service_from_env()
        if service is not None:
            return service
    return Store(url or default_url())

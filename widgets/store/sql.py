"""The append-only response store, on SQLAlchemy 2 Core.

An embedded SQLite file in the learner's data folder by default; any SQLAlchemy URL (PostgreSQL for
a shared class store) through ``DUALROLE_STORE``. A change of mind is a new row, never an update.
"""

from __future__ import annotations

import functools
import hashlib
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from widgets.errors import AlreadyAnswered, StoreError
from widgets.paths import home, private_folder
from widgets.responses.contract import ATTEMPT_KEY, Reflection, Response, Script, utcnow
from widgets.responses.disclosure import CohortCounts
from widgets.store.engine import (
    SQLITE_FILES,
    default_url,
    describe_url,
    insert_for,
    make_engine,
    reason,
    resolve_url,
)
from widgets.store.migrations import migrate
from widgets.store.schema import (
    ROW_ID,
    codings_table,
    consents_table,
    erasures_table,
    feedback_table,
    final_scores_table,
    meta_table,
    reflections_table,
    responses_table,
    scores_table,
    scripts_table,
)

# How many pages of WAL a writer (collect) lets grow before SQLite copies them into the database.
WRITER_CHECKPOINT_PAGES = 10_000

# The columns a row must name for add_many's prepared statement (a row may leave consent to its default).
_FULL_ROW = frozenset(c.name for c in responses_table.columns)


@dataclass(frozen=True)
class ReadState:
    """What a copy of the responses (the analysis layer's columnar snapshot) must match to be current.

    The store is append-only: a change of mind is a new row, and the only deletion (erasing a
    learner) raises ``erasures`` in its own transaction. So a copy holding ``rows`` rows up to
    ``last_id`` of the same store, schema and erasure count is brought up to date by adding the
    rows above ``last_id``; anything else (another store, a migration, an erasure, a row count that
    does not add up) means reading the store again.
    """

    #: The store's random identity (``dualrole_meta``'s ``store_id``).
    store_id: str
    #: The schema version and the migrations applied, as one text.
    schema: str
    #: How many erasures have removed answers (``dualrole_erasures``).
    erasures: int
    #: How many responses the store holds.
    rows: int
    #: The highest row id (0 when empty): SQLite's rowid, PostgreSQL's ``row_id``.
    last_id: int

    @classmethod
    def of(cls, meta: dict, erasures, rows, last_id) -> ReadState:
        """From the rows of ``dualrole_meta``, the erasure count, the row count and the highest row id."""
        migrations = sorted(k for k in meta if k.startswith("migration:"))
        digest = hashlib.sha256("\n".join(migrations).encode()).hexdigest()[:16]
        return cls(store_id=str(meta.get("store_id", "")), schema=f"{meta.get('schema_version')}:{digest}",
                   erasures=int(erasures or 0), rows=int(rows or 0), last_id=int(last_id or 0))


class Store:
    """A response store at one URL, opened on this machine: a :class:`~widgets.store.protocol.ResponseStore`.

    Open with :func:`open_store`.
    """

    follows_class = False

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        # Writes take SQLite's write lock when they begin (BEGIN IMMEDIATE), so a transaction that
        # reads before it writes waits its turn instead of failing with "database is locked".
        self._writer = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        self._bulk: tuple[str, list[tuple[str, Callable | None]]] | None = None
        self._ensure_schema()

    @property
    def backend(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    @property
    def sqlite_path(self) -> str | None:
        """The SQLite file behind this store, or None (PostgreSQL, or a database in memory).

        A reader that opens the file itself (the analysis layer's Arrow reader) runs the statements
        of :data:`SQLITE_READS` on it.
        """
        if self.backend != "sqlite":
            return None
        database = self.engine.url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        return database

    @contextmanager
    def file_read_alone(self):
        """The SQLite file behind this store, for a reader with its own copy of the SQLite library;
        None (read through :meth:`read_since` instead) while this process has a connection open on it.

        The store's idle connections are closed first (they are opened again when next needed), and
        none opens until the block ends. Two copies of SQLite on one file in one process delete the
        WAL under each other (:class:`~widgets.store.engine.OpenSqliteFiles` says why).
        """
        path = self.sqlite_path
        if path is None:
            yield None
            return
        self.engine.dispose()  # only idle connections: one in use (a writer's, say) stays open and counted
        with SQLITE_FILES.alone(path) as alone:
            yield path if alone else None

    # -- writing -------------------------------------------------------------------------------

    @contextmanager
    def transaction(self, conn: sa.Connection | None = None,
                    commit_later: Callable[[Callable[[], None]], None] | None = None):
        """A write transaction: everything done on the yielded connection commits together or not at all.

        ``conn``, from :meth:`writer`, runs the transaction on a connection held across many of them.
        ``commit_later`` (with ``conn``) is handed the transaction's commit instead of running it: the
        caller runs it (on another thread, say) and begins nothing on ``conn`` until it has ended.

        Example::

            >>> with store.transaction() as conn:        # doctest: +SKIP
            ...     store.add_many(rows, conn)
        """
        try:
            if conn is None:
                with self._writer.begin() as conn:
                    yield conn
            elif commit_later is None:
                with conn.begin():
                    yield conn
            else:
                began = conn.begin()
                try:
                    yield conn
                except BaseException:
                    began.rollback()
                    raise
                commit_later(functools.partial(self._commit, began))
        except (IntegrityError, AlreadyAnswered):
            raise
        except DBAPIError as exc:
            raise StoreError(f"could not write to {describe_url(self.url)}: {reason(exc)}") from exc

    def _commit(self, began: sa.RootTransaction) -> None:
        try:
            began.commit()
        except DBAPIError as exc:
            raise StoreError(f"could not write to {describe_url(self.url)}: {reason(exc)}") from exc

    @contextmanager
    def writer(self):
        """One connection for many write transactions in a row, each begun by :meth:`transaction`.

        Collect writes one transaction per bundle, thousands of them: on one connection, each costs
        no pool checkout (on PostgreSQL, no liveness ping), only its BEGIN and COMMIT.
        """
        try:
            with self._writer.connect() as conn:
                sqlite = conn.dialect.name == "sqlite"
                if sqlite:
                    # A bundle's transaction touches a page in each index for each line; SQLite copies the
                    # WAL into the database (a checkpoint, with its own fsync) every 1,000 pages by default,
                    # so every few bundles. Every 10,000 pages (40 MB), a page that many bundles touch is
                    # copied once, not once every few bundles. Each commit stays as durable as before: it
                    # is in the WAL, synced (synchronous=FULL), before the commit returns.
                    conn.connection.driver_connection.execute(f"PRAGMA wal_autocheckpoint={WRITER_CHECKPOINT_PAGES}")
                try:
                    yield conn
                finally:
                    if sqlite:
                        conn.connection.driver_connection.execute("PRAGMA wal_autocheckpoint=1000")
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
        if not _FULL_ROW.issubset(rows[0]):
            return self._add_many_general(rows, conn)
        # One prepared statement and one DBAPI executemany per call (psycopg pipelines it): collect
        # calls this once per bundle, and SQLAlchemy's compiled multi-row INSERT ... RETURNING cost
        # more than the database did. The values go through the columns' own bind processors, so
        # the stored rows are those the statement below would store (tests/store/test_store.py checks).
        sql, binds = self._bulk_insert()
        params = [tuple(row[name] if bind is None else bind(row[name]) for name, bind in binds) for row in rows]
        return conn.exec_driver_sql(sql, params).rowcount

    def _add_many_general(self, rows: list[dict], conn) -> int:
        """The straightforward statement, for rows that leave a column to its default."""
        insert = insert_for(conn.dialect.name)
        added = 0
        for start in range(0, len(rows), 500):
            stmt = insert(responses_table).on_conflict_do_nothing(index_elements=["response_id"])
            result = conn.execute(stmt.returning(responses_table.c.response_id), rows[start:start + 500])
            added += len(result.all())
        return added

    def _bulk_insert(self) -> tuple[str, list[tuple[str, Callable | None]]]:
        """The INSERT ... ON CONFLICT DO NOTHING text for this backend's driver, and each column's bind processor."""
        if self._bulk is None:
            dialect = self.engine.dialect
            insert_for(dialect.name)  # SQLite or PostgreSQL only, as everywhere else
            quote = dialect.identifier_preparer.quote
            mark = "?" if dialect.paramstyle == "qmark" else "%s"
            columns = list(responses_table.columns)
            sql = (f"INSERT INTO {quote(responses_table.name)} ({', '.join(quote(c.name) for c in columns)}) "
                   f"VALUES ({', '.join([mark] * len(columns))}) "
                   f"ON CONFLICT ({quote('response_id')}) DO NOTHING")
            self._bulk = sql, [(c.name, c.type.dialect_impl(dialect).bind_processor(dialect)) for c in columns]
        return self._bulk

    def set_consent(self, learner: str, consent: bool) -> None:
        """Record a research-consent choice; the latest one wins in research exports."""
        with self.transaction() as conn:
            conn.execute(consents_table.insert(),
                         {"learner": learner, "consent": bool(consent), "recorded_at": utcnow()})

    def consent(self, learner: str) -> bool:
        """The learner's latest consent choice (False when never given)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(consents_table.c.consent).where(consents_table.c.learner == learner)
                .order_by(consents_table.c.recorded_at.desc()).limit(1)
            ).first()
        return bool(row[0]) if row else False

    def consent_records(self, learner: str | None = None) -> list[dict]:
        """Consent choices as dicts (``learner``, ``consent``, ``recorded_at``), oldest first.

        A learner's bundle carries their records, so a withdrawal made offline reaches the
        instructor's store with the answers (see :meth:`add_consent_records`).
        """
        q = sa.select(consents_table)
        if learner is not None:
            q = q.where(consents_table.c.learner == learner)
        with self.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(q)]
        return sorted(rows, key=lambda r: (r["learner"], r["recorded_at"]))

    def add_consent_records(self, rows: Iterable[dict], conn) -> int:
        """Insert consent records on a connection (collect); a record already kept is skipped.

        A record is the same when learner, choice and time agree, so collecting a bundle twice
        adds nothing, and a record made in the shared store keeps its place among the offline ones.
        """
        rows = [{"learner": r["learner"], "consent": bool(r["consent"]), "recorded_at": r["recorded_at"]}
                for r in rows]
        if not rows:
            return 0
        learners = sorted({r["learner"] for r in rows})
        held = {(r.learner, bool(r.consent), r.recorded_at) for r in conn.execute(
            sa.select(consents_table).where(consents_table.c.learner.in_(learners)))}
        fresh = [r for r in rows if (r["learner"], r["consent"], r["recorded_at"]) not in held]
        if fresh:
            conn.execute(consents_table.insert(), fresh)
        return len(fresh)

    def erase_learner(self, learner: str) -> int:
        """Delete every response, reflection, script and consent record of one learner.

        Returns how many responses went.
        """
        with self.transaction() as conn:
            n = conn.execute(responses_table.delete().where(responses_table.c.learner == learner)).rowcount
            conn.execute(reflections_table.delete().where(reflections_table.c.learner == learner))
            conn.execute(scripts_table.delete().where(scripts_table.c.learner == learner))
            conn.execute(consents_table.delete().where(consents_table.c.learner == learner))
            # Scores, feedback and codings are about the learner's answers: they go with them.
            conn.execute(scores_table.delete().where(scores_table.c.learner == learner))
            conn.execute(codings_table.delete().where(codings_table.c.learner == learner))
            conn.execute(feedback_table.delete().where(feedback_table.c.learner == learner))
            conn.execute(final_scores_table.delete().where(final_scores_table.c.learner == learner))
            if n:
                # Counted with the deletion, atomically: a reader comparing answer counts must see a
                # removal even when new answers have since brought a case's count back to the same.
                insert = insert_for(conn.dialect.name)(erasures_table).values(store="responses", erasures=1)
                conn.execute(insert.on_conflict_do_update(
                    index_elements=["store"], set_={"erasures": erasures_table.c.erasures + 1}))
        self.forget_analysis_copy()
        return n

    @property
    def analysis_copy_path(self) -> Path | None:
        """Where the analysis layer keeps its columnar copy of the responses (None: nowhere).

        Beside a SQLite file (``<store>.analysis.parquet``, private like the store); for a server
        store, in ``analysis-cache`` in the user's private data folder, named by a digest of the URL
        without its password. An in-memory store has none.
        """
        if self.sqlite_path is not None:
            return Path(self.sqlite_path + ".analysis.parquet")
        if self.backend == "sqlite":
            return None
        where = self.engine.url.render_as_string(hide_password=True)
        return home() / "analysis-cache" / (hashlib.sha256(where.encode()).hexdigest()[:32] + ".parquet")

    def analysis_copy_folder(self) -> Path | None:
        """The folder of :attr:`analysis_copy_path`, made private (700) if this makes it."""
        path = self.analysis_copy_path
        return None if path is None else private_folder(path.parent)

    def forget_analysis_copy(self) -> None:
        """Delete the analysis copy of the responses on this machine (after an erasure: the learner's
        answers must not outlive it there; the next analysis reads the store again)."""
        path = self.analysis_copy_path
        if path is None or not path.parent.is_dir():
            return
        for stale in path.parent.glob(path.name + "*"):  # the copy and any half-written one
            try:
                os.remove(stale)
            except FileNotFoundError:
                pass

    def erasures(self, conn=None) -> int:
        """How many erasures have removed answers from this store (see ``erasures_table``)."""
        if conn is None:
            with self.engine.connect() as c:
                return self.erasures(c)
        return conn.scalar(sa.select(erasures_table.c.erasures)) or 0

    def add_reflection(self, reflection: Reflection) -> Reflection:
        """Keep one saved reflection; saving again adds a newer row, the latest of which is shown."""
        with self.transaction() as conn:
            conn.execute(reflections_table.insert(), reflection.row())
        return reflection

    def add_reflections(self, rows: Iterable[dict], conn) -> int:
        """Insert reflection rows on a connection (collect); a ``reflection_id`` already kept is skipped."""
        rows = list(rows)
        if not rows:
            return 0
        insert = insert_for(conn.dialect.name)
        stmt = insert(reflections_table).on_conflict_do_nothing(index_elements=["reflection_id"])
        return len(conn.execute(stmt.returning(reflections_table.c.reflection_id), rows).all())

    def reflections(self, learner: str | None = None, cohort: str | None = None,
                    lesson: str | None = None, kind: str | None = None) -> list[dict]:
        """Saved reflections as dicts, oldest first, filtered by any of the arguments."""
        q = sa.select(reflections_table)
        for name, value in (("learner", learner), ("cohort", cohort), ("lesson", lesson), ("kind", kind)):
            if value is not None:
                q = q.where(reflections_table.c[name] == value)
        q = q.order_by(reflections_table.c.saved_at)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def save_script(self, script: Script) -> Script:
        """Keep one saved script (checked by :func:`~widgets.responses.contract.check_script`); saving
        again adds a newer row, and the latest counts."""
        with self.transaction() as conn:
            conn.execute(scripts_table.insert(), script.row())
        return script

    def add_scripts(self, rows: Iterable[dict], conn) -> int:
        """Insert script rows on a connection (collect); a ``script_id`` already kept is skipped."""
        rows = list(rows)
        if not rows:
            return 0
        insert = insert_for(conn.dialect.name)
        stmt = insert(scripts_table).on_conflict_do_nothing(index_elements=["script_id"])
        return len(conn.execute(stmt.returning(scripts_table.c.script_id), rows).all())

    def scripts(self, learner: str | None = None, cohort: str | None = None,
                case_id: str | None = None) -> list[dict]:
        """Every saved script as a dict (earlier saves too), oldest first, filtered by any of the arguments."""
        q = _filtered(sa.select(scripts_table), scripts_table, learner=learner, cohort=cohort, case_id=case_id)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q.order_by(scripts_table.c.created_at))]

    def latest_scripts(self, learner: str | None = None, cohort: str | None = None,
                       case_id: str | None = None) -> list[dict]:
        """Each learner's latest script for each case (the one that counts), filtered by any of the
        arguments, ordered by learner and case."""
        t = scripts_table
        newest = sa.func.row_number().over(partition_by=(t.c.learner, t.c.case_id),
                                           order_by=(t.c.created_at.desc(), t.c.script_id.desc()))
        ranked = _filtered(sa.select(t, newest.label("newest")), t, learner=learner, cohort=cohort,
                           case_id=case_id).subquery()
        q = (sa.select(*(ranked.c[c.name] for c in t.columns)).where(ranked.c.newest == 1)
             .order_by(ranked.c.learner, ranked.c.case_id))
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

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

    def cohort_answers(self, case_id: str, cohort: str, phase: str) -> CohortCounts:
        """Each learner's latest answer to a case in a cohort and phase, counted by option id."""
        counts = self.answer_counts(case_id, cohort, phase)["latest"]
        return CohortCounts(counts, total=sum(counts.values()))

    def answer_counts(self, case_id: str, cohort: str, phase: str, conn=None) -> dict[str, dict[str, int]]:
        """A case's answers in a cohort and phase counted by option: ``first`` (everyone's attempt 1)
        and ``latest`` (each learner's latest answer). Options nobody chose are left out."""
        if conn is None:
            with self.engine.connect() as c:
                return self.answer_counts(case_id, cohort, phase, c)
        rows = conn.execute(_ANSWER_COUNTS, {"cohort": cohort, "case_id": case_id, "phase": phase}).all()
        return {"first": {option: int(n) for option, n, _ in rows if n},
                "latest": {option: int(n) for option, _, n in rows if n}}

    def response(self, response_id: str, conn=None) -> dict | None:
        """The stored response with this id, or None."""
        if conn is None:
            with self.engine.connect() as c:
                return self.response(response_id, c)
        row = conn.execute(sa.select(responses_table).where(responses_table.c.response_id == response_id)).first()
        return dict(row._mapping) if row else None

    def held(self, conn, response_ids: list[str], learners: list[str]) -> tuple[dict[str, tuple], dict[tuple, str]]:
        """What the store holds of a batch of answers (a bundle, in collect): which of ``response_ids``
        (each with its :data:`ATTEMPT_KEY` values), and every attempt the ``learners`` have answered
        (:data:`ATTEMPT_KEY` values to response id).

        One query a batch (in chunks for a huge one), on the caller's transaction.
        """
        t = responses_table
        columns = (t.c.response_id, *(t.c[k] for k in ATTEMPT_KEY))
        existing: dict[str, tuple] = {}
        taken: dict[tuple, str] = {}
        wanted = set(response_ids)
        for start in range(0, len(response_ids), 500):
            where = t.c.response_id.in_(response_ids[start:start + 500])
            if start == 0:
                where = sa.or_(where, t.c.learner.in_(learners))
            for response_id, *key in conn.execute(sa.select(*columns).where(where)):
                if response_id in wanted:
                    existing[response_id] = tuple(key)
                if key[0] in learners:
                    taken[tuple(key)] = response_id
        return existing, taken

    def read_since(self, read: Callable, columns: list[str], after: int | None,
                   wanted: Callable[[ReadState], bool] = lambda state: True):
        """The store's :class:`ReadState`, its responses' ``columns`` with a row id above ``after`` (all
        when None), in row-id order, and every consent record, in one snapshot: ``(state, responses,
        consents)``, each read by ``read(statement, connection)``.

        ``wanted(state)`` is asked first: when it says False, no rows are read (both are None).
        """
        unknown = set(columns) - set(responses_table.c.keys())
        if unknown:
            raise ValueError(f"not columns of the responses table: {sorted(unknown)}")
        with self._snapshot().connect() as conn, conn.begin():
            state = self.read_state(conn)
            if not wanted(state):
                return state, None, None
            row_id = sa.literal_column(ROW_ID[conn.dialect.name])
            q = sa.select(*(responses_table.c[c] for c in columns)).order_by(row_id)
            if after is not None:
                q = q.where(row_id > int(after))
            return state, read(q, conn), read(sa.select(consents_table), conn)

    def read_state(self, conn) -> ReadState:
        """The store's :class:`ReadState`, read on ``conn`` (in the caller's snapshot)."""
        meta = dict(conn.execute(sa.select(meta_table.c.key, meta_table.c.value)).all())
        row_id = sa.literal_column(ROW_ID[conn.dialect.name])
        # Asked apart (see SQLITE_READS.rowid_range): SQLite then counts the rows without reading
        # them and finds the highest at the end, three times faster at 8 million responses.
        count = sa.select(sa.func.count()).select_from(responses_table).scalar_subquery()
        highest = sa.select(sa.func.max(row_id)).select_from(responses_table).scalar_subquery()
        rows, last_id = conn.execute(sa.select(count, highest)).one()
        return ReadState.of(meta, self.erasures(conn), rows, last_id)

    def _snapshot(self) -> sa.Engine:
        """The engine, reading in one snapshot per transaction (SQLite's read transactions already do)."""
        if self.backend == "postgresql":
            return self.engine.execution_options(isolation_level="REPEATABLE READ")
        return self.engine

    def feedback(self, learner: str, case_id: str | None = None) -> list[dict]:
        """Feedback released to ``learner`` (on one case, if given), oldest first."""
        f = feedback_table
        q = sa.select(f).where(f.c.learner == learner)
        if case_id is not None:
            q = q.where(f.c.case_id == case_id)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q.order_by(f.c.released_at))]

    def answering(self) -> bool:
        """Whether the database answers now: one round trip on a connection, reading no table."""
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except DBAPIError:
            return False
        return True

    def count(self, *, except_cohorts_starting: str | None = None) -> int:
        """How many responses the store holds (leaving out cohorts whose name starts with the text given)."""
        q = sa.select(sa.func.count()).select_from(responses_table)
        if except_cohorts_starting is not None:
            q = q.where(~responses_table.c.cohort.startswith(except_cohorts_starting))
        with self.engine.connect() as conn:
            return conn.scalar(q)

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")))

    # -- schema --------------------------------------------------------------------------------

    def _ensure_schema(self) -> None:
        try:
            with self._writer.begin() as conn:
                migrate(conn, describe_url(self.url))
        except DBAPIError as exc:
            raise StoreError(f"cannot open the response store {describe_url(self.url)}: {reason(exc)}") from exc



def _filtered(query: sa.Select, table: sa.Table, **filters) -> sa.Select:
    """``query`` kept to the rows whose columns equal every filter given (None: any)."""
    for name, value in filters.items():
        if value is not None:
            query = query.where(table.c[name] == value)
    return query


def _answer_counts() -> sa.Select:
    """The one "each learner's latest answer" statement: a case's answers in a cohort and phase, by option,
    at attempt 1 and as each learner's latest.

    One pass over the case's answers, each learner's last numbered by a window function. A join of
    the answers with each learner's highest attempt made PostgreSQL compare every answer with every
    other: 10-30 ms a read in a class of a thousand, read by all at once. Built once, with bound
    parameters: building the expression anew cost the class service more than running it.
    """
    r = responses_table
    newest = sa.func.row_number().over(partition_by=r.c.learner, order_by=r.c.attempt.desc())
    answers = (sa.select(r.c.option_id, r.c.attempt, newest.label("newest"))
               .where(r.c.cohort == sa.bindparam("cohort"), r.c.case_id == sa.bindparam("case_id"),
                      r.c.phase == sa.bindparam("phase")).subquery())
    return (sa.select(answers.c.option_id,
                      sa.func.sum(sa.case((answers.c.attempt == 1, 1), else_=0)),
                      sa.func.sum(sa.case((answers.c.newest == 1, 1), else_=0)))
            .group_by(answers.c.option_id))


_ANSWER_COUNTS = _answer_counts()


class SQLITE_READS:  # noqa: N801 - a namespace of statement texts, read like constants
    """The statements a reader that opens a store's SQLite file itself runs (the analysis layer's
    Arrow reader, :mod:`widgets.analysis._load`): plain SQL text, for a driver outside SQLAlchemy."""

    #: The lowest and highest rowid of the responses (a reader splits the table between threads by them).
    #: Asked apart: SQLite finds a lone min() or max() at an end of the table, but both in one
    #: SELECT walk every row (half a second at 8 million responses).
    rowid_range = (f"SELECT (SELECT min(rowid) FROM {responses_table.name}), "
                   f"(SELECT max(rowid) FROM {responses_table.name})")
    #: Every consent record.
    consents = f"SELECT learner, consent, recorded_at FROM {consents_table.name}"
    #: For :meth:`ReadState.of`: the store's records, its erasure count, and its row count and highest rowid.
    meta = f"SELECT key, value FROM {meta_table.name}"
    erasures = f"SELECT erasures FROM {erasures_table.name} WHERE store = 'responses'"
    row_count = (f"SELECT (SELECT count(*) FROM {responses_table.name}) AS rows_held, "
                 f"(SELECT max(rowid) FROM {responses_table.name}) AS last_id")

    #: The cohort and learner of the rows with the rowids listed (``{rowids}``): where a reader may split
    #: the analysis index (``ix_responses_analysis``, led by them) between its threads.
    split_points = f"SELECT cohort, learner FROM {responses_table.name} WHERE rowid IN ({{rowids}})"

    @staticmethod
    def responses(columns: list[str], *, above: int | None = None, upto: int | None = None,
                  learners: str | None = None, blank_nulls: tuple[str, ...] = ()) -> str:
        """The responses' ``columns``, a NULL in any of ``blank_nulls`` read as ''; with ``above`` or
        ``upto``, only the rows whose rowid is above or up to it, in rowid order.

        ``learners`` splits by (cohort, learner) instead, bound as two parameters: ``"before"`` the
        rows below them, ``"from"`` the rest. When ``columns`` are all in the analysis index
        (``ANALYSIS_COLUMNS``), SQLite reads the rows from the index alone, in its order.
        """
        unknown = set(columns) - set(responses_table.c.keys())
        if unknown:
            raise ValueError(f"not columns of the responses table: {sorted(unknown)}")
        listed = ", ".join(f"coalesce({c}, '') AS {c}" if c in blank_nulls else c for c in columns)
        sql = f"SELECT {listed} FROM {responses_table.name}"
        if learners is not None:
            compare = {"before": "<", "from": ">="}[learners]
            return sql + f" WHERE (cohort, learner) {compare} (?, ?)"
        bounds = ([f"rowid > {int(above)}"] if above is not None else []) + (
            [f"rowid <= {int(upto)}"] if upto is not None else [])
        return sql + (f" WHERE {' AND '.join(bounds)} ORDER BY rowid" if bounds else "")


def open_store(url: str | None = None) -> Store:
    """Open (creating or migrating) the store at ``url``, or the default one, on this machine.

    ``url`` is a SQLAlchemy URL or a path to a SQLite file (see :func:`~widgets.store.engine.resolve_url`);
    the default is ``DUALROLE_STORE``, else ``responses.sqlite`` in the learner's data folder. This
    never reaches the class service: :func:`widgets.learner.connect.response_store` chooses between them.

    Example::

        >>> store = open_store("sqlite:///:memory:")   # doctest: +SKIP
        >>> store.count()                              # doctest: +SKIP
        0
    """
    return Store(resolve_url(url) if url else default_url())


def open_class_store(url: str) -> Store:
    """Open an instructor's existing class store to read it: never create one.

    A command that only reads (grades, a roster check, feedback files) must not turn a mistyped path
    into an empty store and then report on nothing: a SQLite file that does not exist, or a store
    with no answers in it, is a :class:`~widgets.errors.StoreError` that names the store.
    """
    url = resolve_url(url)
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        if not Path(parsed.database).is_file():
            raise StoreError(f"there is no class store at {parsed.database}: check the path "
                             "(--store or DUALROLE_STORE); nothing was created")
    store = Store(url)
    if store.count() == 0:
        raise StoreError(f"the class store {describe_url(url)} holds no answers: collect the class first "
                         "(dualrole collect), or check the path")
    return store

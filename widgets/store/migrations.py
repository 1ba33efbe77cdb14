"""How a store's schema changes: one ordered list of migrations, each applied once and recorded.

Every change made to the tables since stores were first made is a :class:`Migration` in
:data:`MIGRATIONS`, in order. Opening a store applies the ones it has not recorded, in the
transaction that opens it (on PostgreSQL under a lock, so many kernels opening a new class database
at once wait for one of them), and records each in ``dualrole_meta`` as ``migration:<name>``. A
store that records them all is opened with one read, and no look at its tables.

``schema_version`` stays what an older dualrole compares: a migration raises it only when an older
release could no longer read the store (it refuses a store whose version is newer than its own).
A migration that only adds (a table, an index) leaves it, so an older dualrole still opens the store.
Stores from before migrations were recorded say only their ``schema_version``: a migration that
raised the version to at most that is taken as applied; one that only adds checks what is there.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Callable

import sqlalchemy as sa

from widgets.errors import StoreError
from widgets.responses.contract import utcnow
from widgets.store.schema import (
    ROW_ID_DDL,
    codings_table,
    meta_table,
    metadata,
    reflections_table,
    responses_table,
)

_RECORD = "migration:"
# Any fixed 64-bit number: the PostgreSQL advisory lock that serialises schema changes.
_SCHEMA_LOCK = 0x6475616C726F6C65  # "dualrole"


@dataclass(frozen=True)
class Migration:
    """One change to the store's schema: ``apply`` makes it on a connection inside a transaction."""

    name: str
    apply: Callable[[sa.Connection], None]
    #: The store's schema version once applied: raised only by a change an older dualrole cannot read.
    schema_version: int


def _add_shown_and_reflections(conn: sa.Connection) -> None:
    """Keep what the learner was shown (option order, reference seen, class stage), and the
    reflections table (saved reflections and decision-model ratings)."""
    for name in ("option_order", "reference_seen", "stage"):
        kind = responses_table.c[name].type.compile(dialect=conn.dialect)
        conn.execute(sa.text(f"ALTER TABLE {responses_table.name} ADD COLUMN {name} {kind}"))
    reflections_table.create(conn, checkfirst=True)


def _add_distribution_seen(conn: sa.Connection) -> None:
    """Keep whether the learner had been shown the class's counts before committing (null in older rows).

    Only adds a nullable column: an older dualrole still reads and writes the store, leaving it null.
    """
    if "distribution_seen" in {c["name"] for c in sa.inspect(conn).get_columns(responses_table.name)}:
        return
    kind = responses_table.c.distribution_seen.type.compile(dialect=conn.dialect)
    conn.execute(sa.text(f"ALTER TABLE {responses_table.name} ADD COLUMN distribution_seen {kind}"))


def _add_codings_unit(conn: sa.Connection) -> None:
    """Say what a coding sheet coded, the reasoning or a script (null in older sheets: the reasoning).

    Only adds a nullable column: an older dualrole still reads and writes the store, leaving it null.
    """
    if "unit" in {c["name"] for c in sa.inspect(conn).get_columns(codings_table.name)}:
        return
    kind = codings_table.c.unit.type.compile(dialect=conn.dialect)
    conn.execute(sa.text(f"ALTER TABLE {codings_table.name} ADD COLUMN unit {kind}"))


def _tables(*names: str) -> Callable[[sa.Connection], None]:
    """Create the named tables (with their indexes) where missing."""

    def create(conn: sa.Connection) -> None:
        for name in names:
            metadata.tables[name].create(conn, checkfirst=True)

    return create


def _index(name: str, only_on: str | None = None) -> Callable[[sa.Connection], None]:
    """Create one index of the responses table where missing (``only_on``: in that dialect alone,
    as the schema's ``ddl_if`` makes it)."""

    def create(conn: sa.Connection) -> None:
        present = {i["name"] for i in sa.inspect(conn).get_indexes(responses_table.name)}
        if name not in present and only_on in (None, conn.dialect.name):
            next(i for i in responses_table.indexes if i.name == name).create(conn)

    return create


def _add_row_ids(conn: sa.Connection) -> None:
    """Number the responses in the order they were added (PostgreSQL; SQLite has its rowid)."""
    if conn.dialect.name == "postgresql":
        for statement in ROW_ID_DDL:
            conn.execute(sa.text(statement))


def _record_identity(conn: sa.Connection) -> None:
    """Give the store a random identity of its own (``store_id``), kept for its whole life.

    A copy of the responses made for analysis records it: a different store at the same path or
    URL (a file restored from elsewhere, a database recreated) is then never taken for this one.
    """
    if conn.scalar(sa.select(meta_table.c.value).where(meta_table.c.key == "store_id")) is None:
        conn.execute(meta_table.insert(), {"key": "store_id", "value": uuid.uuid4().hex})


MIGRATIONS: tuple[Migration, ...] = (
    Migration("shown_and_reflections", _add_shown_and_reflections, 2),
    Migration("grading_tables", _tables("dualrole_scores", "dualrole_feedback"), 2),
    Migration("erasures_table", _tables("dualrole_erasures"), 2),
    Migration("cohort_answers_index", _index("ix_responses_cohort_answers"), 2),
    Migration("class_state_table", _tables("dualrole_class_state"), 2),
    Migration("final_scores_table", _tables("dualrole_final_scores"), 2),
    Migration("codings_table", _tables("dualrole_codings"), 2),
    Migration("distribution_seen_column", _add_distribution_seen, 2),
    Migration("scripts_table", _tables("scripts"), 2),
    Migration("codings_unit_column", _add_codings_unit, 2),
    Migration("row_ids", _add_row_ids, 2),
    Migration("store_identity", _record_identity, 2),
    Migration("learner_answers_index", _index("ix_responses_learner_answers"), 2),
    Migration("analysis_index", _index("ix_responses_analysis", only_on="sqlite"), 2),
)
SCHEMA_VERSION = max(m.schema_version for m in MIGRATIONS)


def migrate(conn: sa.Connection, where: str) -> None:
    """Bring the store on ``conn`` (shown to people as ``where``) to the current schema, or create it.

    Runs inside the caller's transaction: a migration that fails leaves nothing of itself behind.
    """
    migrations = MIGRATIONS
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
    newest = max(m.schema_version for m in migrations)
    tables = set(sa.inspect(conn).get_table_names())
    if meta_table.name not in tables:
        if responses_table.name in tables:
            raise StoreError(f"{where} has a 'responses' table but no dualrole version record: it was not made "
                             "by dualrole, so it is left untouched")
        metadata.create_all(conn)
        applied = utcnow().isoformat()
        conn.execute(meta_table.insert(), [{"key": "schema_version", "value": str(newest)}]
                     + [{"key": _RECORD + m.name, "value": applied} for m in migrations])
        _record_identity(conn)
        return
    recorded = dict(conn.execute(sa.select(meta_table.c.key, meta_table.c.value)).all())
    try:
        found = int(recorded.get("schema_version"))
    except (TypeError, ValueError):
        raise StoreError(f"{where} has a dualrole_meta table without a schema version: it is damaged or not "
                         "dualrole's, so it is left untouched") from None
    if found > newest:
        raise StoreError(f"{where} was written by a newer dualrole (store schema {found}; this version reads "
                         f"schema {newest}). Upgrade with: pip install -U dualrole. Nothing was changed.")
    before = 1
    for migration in migrations:
        raises = migration.schema_version > before
        before = max(before, migration.schema_version)
        if _RECORD + migration.name in recorded:
            continue
        if not (raises and found >= migration.schema_version):  # else applied before records were kept
            migration.apply(conn)
        conn.execute(meta_table.insert(), {"key": _RECORD + migration.name, "value": utcnow().isoformat()})
        if migration.schema_version > found:
            found = migration.schema_version
            conn.execute(meta_table.update().where(meta_table.c.key == "schema_version").values(value=str(found)))

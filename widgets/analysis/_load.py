"""Reading a store into pandas quickly.

``pandas.read_sql`` through SQLAlchemy turns every value into a Python object and every timestamp
into a ``datetime`` one row at a time: about 13 s for a million responses on 2 cores. A SQLite
store is read instead through the ADBC SQLite driver, which fills Arrow columns in C, and only the
columns the analysis uses are read (about 3 s for a million). The frame is the same as
``read_sql``'s after :func:`~widgets.analysis.frame.tidy` (``tests/test_analysis_load.py``), and
any other store (PostgreSQL, the class service, an in-memory SQLite) still goes through
SQLAlchemy. ``benchmarks/loading.py`` measures the alternatives (DuckDB's SQLite scanner, a
Parquet copy, the sqlite3 module).
"""

from __future__ import annotations

import pandas as pd

# Text columns the analysis reads. Those that tidy() makes categorical come back as categoricals
# straight from Arrow; tidy() then recodes a handful of categories instead of a million strings.
TEXT = ("learner", "cohort", "case_id", "case_version", "phase", "option_id", "stance",
        "kitchener_expectations", "kitchener_obligations", "kitchener_power", "justification")
CODED = ("case_id", "phase", "stance", "kitchener_expectations", "kitchener_obligations", "kitchener_power")
# Type inference in the ADBC SQLite driver looks at the first batch only: a column that is NULL in
# all of its rows (no Kitchener ratings yet) would be typed as an integer and then fail on text.
# One batch for the whole result makes the inference see every row.
_ONE_BATCH = {"adbc.sqlite.query.batch_rows": str(1_000_000_000)}


def sqlite_file(store) -> str | None:
    """The SQLite file behind a store, or None when it is not a SQLite file (PostgreSQL, memory)."""
    engine = getattr(store, "engine", None)
    if engine is None or engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database


def fast_read_available() -> bool:
    """True when the ADBC SQLite driver is installed."""
    try:
        import adbc_driver_sqlite.dbapi  # noqa: F401
    except ImportError:
        return False
    return True


# Stores at least this large (in rowids) are read in two halves at once (see _read_in_halves).
SPLIT_ROWS = 200_000


def read_sqlite(path: str, columns: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The responses (``columns``) and the consent records of a SQLite store, as pandas frames.

    Both are read from one snapshot of the store. A large store is read in two halves at once
    (:func:`_read_in_halves`); otherwise, and whenever that cannot be done, in one transaction.
    """
    import adbc_driver_sqlite.dbapi as adbc

    halves = _read_in_halves(path, columns)
    if halves is not None:
        return halves
    with adbc.connect(path) as conn:
        cursor = conn.cursor()
        try:
            responses = _fetch(cursor, f"SELECT {', '.join(columns)} FROM responses")
            consents = _fetch(cursor, "SELECT learner, consent, recorded_at FROM consents")
        finally:
            cursor.close()
    return _to_pandas(responses), _consents(consents)


def _fetch(cursor, sql: str):
    cursor.adbc_statement.set_options(**_ONE_BATCH)
    cursor.execute(sql)
    return cursor.fetch_arrow_table()


def _read_in_halves(path: str, columns: list[str]):
    """The responses read by two connections at once, both in one snapshot; None if not possible.

    SQLite steps through rows one at a time on one core: reading the lower and the upper half of
    the rowids on two connections in two threads takes about half as long on two cores (1.2 s
    against 0.6 s for a million responses). Two connections see the same snapshot only
    if nothing is committed between the starts of their read transactions, so a third connection
    holds the write lock (``BEGIN IMMEDIATE``, which waits for no one: a busy store, or one that
    cannot be written, is read the ordinary way) while both transactions start, and lets go at
    once: writers wait a few milliseconds at most.
    """
    import sqlite3
    import threading

    import adbc_driver_sqlite.dbapi as adbc
    import pyarrow as pa

    try:
        lock = sqlite3.connect(path, timeout=0, isolation_level=None)
    except sqlite3.Error:
        return None
    readers = []
    try:
        try:
            lock.execute("BEGIN IMMEDIATE")
        except sqlite3.Error:
            return None
        try:
            for _ in range(2):
                conn = adbc.connect(path)
                readers.append(conn)
                cursor = conn.cursor()
                cursor.execute("SELECT min(rowid), max(rowid) FROM responses")  # starts the snapshot
                low, high = cursor.fetchone()
                cursor.close()
        finally:
            lock.execute("ROLLBACK")
        if low is None or high - low < SPLIT_ROWS:
            return None
        middle = (low + high) // 2
        select = f"SELECT {', '.join(columns)} FROM responses"
        tables, errors = [None, None], []

        def read(i: int, where: str) -> None:
            cursor = readers[i].cursor()
            try:
                tables[i] = _fetch(cursor, f"{select} WHERE {where} ORDER BY rowid")
            except Exception as error:  # noqa: BLE001 - re-raised below, in the caller's thread
                errors.append(error)
            finally:
                cursor.close()

        threads = [threading.Thread(target=read, args=(0, f"rowid <= {middle}")),
                   threading.Thread(target=read, args=(1, f"rowid > {middle}"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        cursor = readers[0].cursor()
        try:
            consents = _fetch(cursor, "SELECT learner, consent, recorded_at FROM consents")
        finally:
            cursor.close()
        parts = [_texts(t) for t in tables if t.num_rows]
        try:
            responses = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # the halves' types differ: read it whole
            return None
        return _to_pandas(responses), _consents(consents)
    finally:
        for conn in readers:
            conn.close()
        lock.close()


def _texts(table):
    """The text columns as text, whatever type SQLite's first rows suggested (see ``_ONE_BATCH``)."""
    import pyarrow as pa

    for name in table.column_names:
        column = table.column(name)
        if name in TEXT and not pa.types.is_string(column.type):
            # An all-NULL column (typed int64 by inference) or NULLs only: text with nulls.
            column = pa.nulls(len(column), pa.string()) if column.null_count == len(column) else _text(column)
            table = table.set_column(table.schema.get_field_index(name), name, column)
    return table


def _text(column):
    import pyarrow as pa

    return column if pa.types.is_string(column.type) else column.cast(pa.string())


def _to_pandas(table) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.compute as pc

    table = _texts(table)
    for name in table.column_names:
        if name in CODED:
            column = table.column(name)
            if column.num_chunks > 1:  # one dictionary for the whole column
                column = pa.chunked_array([pa.concat_arrays(column.chunks)], column.type)
            column = pc.dictionary_encode(column)
            table = table.set_column(table.schema.get_field_index(name), name, column)
    if "submitted_at" in table.column_names:
        parsed = _arrow_timestamps(table.column("submitted_at"))
        if parsed is not None:
            table = table.set_column(table.schema.get_field_index("submitted_at"), "submitted_at", parsed)
    frame = table.to_pandas()
    for name in frame.columns:
        if name in TEXT and name not in CODED:
            frame[name] = frame[name].astype("str")
    if "submitted_at" in frame and not isinstance(frame["submitted_at"].dtype, pd.DatetimeTZDtype):
        frame["submitted_at"] = _timestamps(frame["submitted_at"])
    if "consent" in frame:
        frame["consent"] = frame["consent"].fillna(0).astype(bool)
    return frame


# How SQLAlchemy writes a DateTime on SQLite: "2025-01-13 09:00:00.000000", always 26 characters.
_STORED_LENGTH = 26


def _arrow_timestamps(column):
    """The store's UTC wall-time text parsed by Arrow, or None to leave it to pandas.

    Arrow parses the text in C (pandas' ISO 8601 parser took a fifth of a second at a million
    rows). Only text all in the store's own format (no nulls, no offsets: every value
    26 characters) is parsed here, so the result is what pandas gives: microseconds, UTC.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return None
    if len(column) == 0 or column.null_count:
        return None
    lengths = pc.min_max(pc.utf8_length(column))
    if lengths["min"].as_py() != _STORED_LENGTH or lengths["max"].as_py() != _STORED_LENGTH:
        return None
    try:
        return column.cast(pa.timestamp("us")).cast(pa.timestamp("us", tz="UTC"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _timestamps(values: pd.Series) -> pd.Series:
    # The store keeps UTC wall time as text on SQLite ("2025-01-13 09:00:00.000000").
    return pd.to_datetime(values.astype("str"), utc=True, format="ISO8601")


def _consents(table) -> pd.DataFrame:
    frame = table.to_pandas()
    if frame.empty:
        return pd.DataFrame({"learner": pd.Series([], dtype="str"), "consent": pd.Series([], dtype=bool),
                             "recorded_at": pd.Series([], dtype="datetime64[us, UTC]")})
    frame["learner"] = frame["learner"].astype("str")
    frame["consent"] = frame["consent"].fillna(0).astype(bool)
    frame["recorded_at"] = _timestamps(frame["recorded_at"])
    return frame

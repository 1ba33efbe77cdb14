"""Reading a store into pandas quickly (issue 8).

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


def read_sqlite(path: str, columns: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The responses (``columns``) and the consent records of a SQLite store, as pandas frames.

    Both are read in one read transaction, so they are a consistent snapshot.
    """
    import adbc_driver_sqlite.dbapi as adbc

    with adbc.connect(path) as conn:
        cursor = conn.cursor()
        try:
            cursor.adbc_statement.set_options(**_ONE_BATCH)
            cursor.execute(f"SELECT {', '.join(columns)} FROM responses")
            responses = cursor.fetch_arrow_table()
            cursor.adbc_statement.set_options(**_ONE_BATCH)
            cursor.execute("SELECT learner, consent, recorded_at FROM consents")
            consents = cursor.fetch_arrow_table()
        finally:
            cursor.close()
    return _to_pandas(responses), _consents(consents)


def _text(column):
    import pyarrow as pa

    return column if pa.types.is_string(column.type) else column.cast(pa.string())


def _to_pandas(table) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.compute as pc

    for name in table.column_names:
        column = table.column(name)
        if name in TEXT:
            if pa.types.is_null(column.type) or not pa.types.is_string(column.type):
                # An all-NULL column (typed int64 by inference) or NULLs only: text with nulls.
                column = pa.nulls(len(column), pa.string()) if column.null_count == len(column) else _text(column)
            if name in CODED:
                column = pc.dictionary_encode(column)
            table = table.set_column(table.schema.get_field_index(name), name, column)
    frame = table.to_pandas()
    for name in frame.columns:
        if name in TEXT and name not in CODED:
            frame[name] = frame[name].astype("str")
    if "submitted_at" in frame:
        frame["submitted_at"] = _timestamps(frame["submitted_at"])
    if "consent" in frame:
        frame["consent"] = frame["consent"].fillna(0).astype(bool)
    return frame


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

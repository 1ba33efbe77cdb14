"""Loading a store into pandas: read_sql (SQLAlchemy, as the code first did), read_sql on a bare
sqlite3 connection, the ADBC SQLite driver (adopted), DuckDB's SQLite scanner, and a Parquet copy.

Each alternative reads the columns the analysis uses into a pandas frame; the figure is that
read. Each frame is then checked: tidied, it must equal ``widgets.analysis.responses`` exactly.
The Parquet copy is what a cache keyed on the store's state would read; writing it is timed too.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import pandas as pd

from .measure import median, timed


def _columns() -> list[str]:
    from widgets.analysis.frame import STORE_COLUMNS

    return list(STORE_COLUMNS)


def read_sqlalchemy(path: Path) -> pd.DataFrame:
    import sqlalchemy as sa

    from widgets.store.schema import responses_table

    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            return pd.read_sql(sa.select(*(responses_table.c[c] for c in _columns())), conn)
    finally:
        engine.dispose()


def read_sqlite3(path: Path) -> pd.DataFrame:
    with sqlite3.connect(path) as conn:
        return pd.read_sql(f"SELECT {', '.join(_columns())} FROM responses", conn)


def read_adbc(path: Path) -> pd.DataFrame:
    from widgets.analysis._load import read_sqlite

    return read_sqlite(str(path), _columns())[0]


def read_duckdb(path: Path) -> pd.DataFrame:
    from .pipelines import duckdb_connect

    conn = duckdb_connect()
    try:
        quoted = str(path).replace("'", "''")
        return conn.execute(f"SELECT {', '.join(_columns())} FROM sqlite_scan('{quoted}', 'responses')").df()
    finally:
        conn.close()


READERS = {"read_sql (SQLAlchemy)": read_sqlalchemy, "read_sql (sqlite3)": read_sqlite3,
           "ADBC SQLite → Arrow (adopted)": read_adbc, "DuckDB sqlite_scan": read_duckdb}


def run(path: Path, runs: int = 3) -> list[dict]:
    from widgets import analysis
    from widgets.analysis.frame import tidy

    expected = analysis.responses(Path(path))
    consents = None
    with sqlite3.connect(path) as conn:
        consents = pd.read_sql("SELECT learner, consent, recorded_at FROM consents", conn)
    consents["recorded_at"] = pd.to_datetime(consents["recorded_at"], utc=True, format="ISO8601")
    rows = []
    for name, reader in READERS.items():
        times = []
        for _ in range(runs):
            seconds, raw = timed(reader, path)
            times.append(seconds)
        same = _same(tidy(raw, consents=consents), expected)
        rows.append({"reader": name, "seconds": median(times), "same_frame": same})
    with tempfile.TemporaryDirectory() as folder:
        cache = Path(folder) / "responses.parquet"
        raw = read_adbc(path)
        write_seconds, _ = timed(raw.to_parquet, cache, index=False)
        times = []
        for _ in range(runs):
            seconds, back = timed(pd.read_parquet, cache)
            times.append(seconds)
        rows.append({"reader": "Parquet copy (a cache)", "seconds": median(times),
                     "same_frame": _same(tidy(back, consents=consents), expected), "write_seconds": write_seconds})
    return rows


def _same(left: pd.DataFrame, right: pd.DataFrame) -> bool:
    try:
        pd.testing.assert_frame_equal(left, right)
    except AssertionError:
        return False
    return True

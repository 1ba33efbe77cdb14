"""Reading a store into pandas quickly.

``pandas.read_sql`` through SQLAlchemy turns every value into a Python object and every timestamp
into a ``datetime`` one row at a time: about 13 s for a million responses on 2 cores. A SQLite
store is read instead through the ADBC SQLite driver, which fills Arrow columns in C, and only the
columns the analysis uses are read (about 3 s for a million). The frame is the same as
``read_sql``'s after :func:`~widgets.analysis.frame.tidy` (``tests/analysis/test_analysis_load.py``), and
any other store (PostgreSQL, the class service, an in-memory SQLite) still goes through
SQLAlchemy. ``benchmarks/loading.py`` measures the alternatives (DuckDB's SQLite scanner, a
Parquet copy, the sqlite3 module).
"""

from __future__ import annotations

from functools import cache

import pandas as pd

from widgets.store.schema import ANALYSIS_COLUMNS
from widgets.store.sql import SQLITE_READS, ReadState

# Text columns the analysis reads. All but response_id come back as pandas categoricals: each
# batch of rows is dictionary-encoded as it arrives, so no column of text is held per row (at
# 8 million responses the justifications alone would be about 2.5 GB as text).
TEXT = ("response_id", "learner", "cohort", "case_id", "case_version", "phase", "option_id", "stance",
        "kitchener_expectations", "kitchener_obligations", "kitchener_power", "justification")
CODED = tuple(c for c in TEXT if c != "response_id")
# Columns the store allows to be NULL. The ADBC SQLite driver types a column from its first batch,
# so one that is NULL throughout that batch (no Kitchener ratings yet) would be typed as an integer
# and then fail on text: they are read as '' and turned back into NULL here.
_NULLABLE_TEXT = ("kitchener_expectations", "kitchener_obligations", "kitchener_power")
# Larger batches cost fewer passes of the driver and smaller dictionaries to unify; each raw batch
# (about 100 MB at this size) is let go as soon as it is encoded.
BATCH_ROWS = 262_144
_BATCHES = {"adbc.sqlite.query.batch_rows": str(BATCH_ROWS)}


def fast_read_available() -> bool:
    """True when the ADBC SQLite driver is installed."""
    try:
        import adbc_driver_sqlite.dbapi  # noqa: F401
    except ImportError:
        return False
    return True


# Stores at least this large (in rowids) are read in two halves at once (see _read_in_halves).
SPLIT_ROWS = 200_000


def read_sqlite(path: str, columns: list[str], *, with_state: bool = False):
    """The responses (``columns``) and the consent records of a SQLite store, as pandas frames.

    Both are read from one snapshot of the store. A large store is read in two halves at once
    (:func:`_read_in_halves`); otherwise, and whenever that cannot be done, in one transaction.
    The text columns but ``response_id`` are categoricals (see ``CODED``), in rowid order, or in the
    analysis index's order when only its columns are read (the tidy frame sorts them either way).
    With ``with_state``, the store's :class:`~widgets.store.sql.ReadState` in that snapshot comes third.
    """
    import adbc_driver_sqlite.dbapi as adbc

    halves = _read_in_halves(path, columns, with_state)
    if halves is not None:
        return halves
    with adbc.connect(path) as conn:
        cursor = conn.cursor()
        try:
            responses = _read_batches(cursor, _select(columns))
            consents = _fetch(cursor, SQLITE_READS.consents)
            state = _state(cursor) if with_state else None
        finally:
            cursor.close()
    read = _to_pandas(columns, responses), _consents(consents)
    return (*read, state) if with_state else read


def _state(cursor) -> ReadState:
    """The store's state (its identity, schema, erasures, rows and highest rowid) in the cursor's snapshot."""
    meta = {row["key"]: row["value"] for row in _fetch(cursor, SQLITE_READS.meta).to_pylist()}
    erasures = _fetch(cursor, SQLITE_READS.erasures).to_pylist()
    (counted,) = _fetch(cursor, SQLITE_READS.row_count).to_pylist()
    rows, last_id = counted.values()
    return ReadState.of(meta, next(iter(erasures[0].values())) if erasures else 0, rows, last_id)


def _select(columns: list[str], **split) -> str:
    return SQLITE_READS.responses(columns, blank_nulls=_NULLABLE_TEXT, **split)


def _fetch(cursor, sql: str):
    """A small result (the consent records) as one Arrow table."""
    cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(1_000_000_000)})
    cursor.execute(sql)
    return cursor.fetch_arrow_table()


def _read_batches(cursor, sql: str, parameters: tuple | None = None) -> list:
    """The rows of ``sql``, each batch encoded (:func:`_encoded`) as it arrives and then let go.

    A batch that came through the driver is freed only when all of its columns are, so each one
    is turned into fresh arrays at once: peak memory is the encoded rows plus one raw batch.
    """
    cursor.adbc_statement.set_options(**_BATCHES)
    cursor.execute(sql, parameters)
    return [_encoded(batch) for batch in cursor.fetch_record_batch()]


def _encoded(batch) -> dict:
    """One batch of rows as new arrays: text dictionary-encoded, timestamps parsed, the rest copied."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out = {}
    for name, column in zip(batch.schema.names, batch.columns):
        if name in CODED:
            column = _text(column)
            if name in _NULLABLE_TEXT:
                column = pc.if_else(pc.equal(column, ""), pa.scalar(None, pa.string()), column)
            encoded = pc.dictionary_encode(column)
            # The batch's own dictionary, and its codes in the smallest integer type that holds them.
            out[name] = (encoded.dictionary, _small(encoded.indices.fill_null(-1).to_numpy(), len(encoded.dictionary)))
        elif name == "submitted_at":
            parsed = _arrow_timestamps(column)
            out[name] = parsed if parsed is not None else pa.concat_arrays([_text(column)])
        else:
            out[name] = pa.concat_arrays([_text(column) if name in TEXT else column])
    return out


def _read_in_halves(path: str, columns: list[str], with_state: bool = False):
    """The responses read by two connections at once, both in one snapshot; None if not possible.

    SQLite steps through rows one at a time on one core: reading two halves on two connections in
    two threads takes about half as long on two cores (1.2 s against 0.6 s for a million
    responses). A read of only the analysis index's columns (``ANALYSIS_COLUMNS``, as a cohort
    report's) reads the index alone, split at a learner (:func:`_learner_pivot`); any other is
    split at the middle rowid. Two connections see the same snapshot only
    if nothing is committed between the starts of their read transactions, so a third connection
    holds the write lock (``BEGIN IMMEDIATE``, which waits for no one: a busy store, or one that
    cannot be written, is read the ordinary way) while both transactions start, and lets go at
    once: writers wait a few milliseconds at most. The lock is taken through ADBC too: a
    connection of Python's own SQLite open on the file while ADBC's close would have its WAL
    deleted under it (see :class:`widgets.store.engine.OpenSqliteFiles`).
    """
    import threading

    import adbc_driver_sqlite.dbapi as adbc

    try:
        lock = adbc.connect(path, autocommit=True)
    except adbc.Error:
        return None
    readers = []
    locking = lock.cursor()
    try:
        try:
            locking.execute("BEGIN IMMEDIATE")  # ADBC sets no busy timeout: a busy store fails at once
        except adbc.Error:
            return None
        try:
            for _ in range(2):
                conn = adbc.connect(path)
                readers.append(conn)
                cursor = conn.cursor()
                cursor.execute(SQLITE_READS.rowid_range)  # starts the snapshot
                low, high = cursor.fetchone()
                cursor.close()
        finally:
            locking.execute("ROLLBACK")
        if low is None or high - low < SPLIT_ROWS:
            return None
        pivot = _learner_pivot(readers[0], low, high) if set(columns) <= ANALYSIS_COLUMNS else None
        if pivot is not None:  # the analysis index alone, split at a learner
            halves = [(_select(columns, learners="before"), pivot), (_select(columns, learners="from"), pivot)]
        else:  # the table, split at the middle rowid
            middle = (low + high) // 2
            halves = [(_select(columns, upto=middle), None), (_select(columns, above=middle), None)]
        parts, errors = [None, None], []
        keep_freed_memory_for_reuse()  # a large store: its read and its analyses reuse freed memory

        def read(i: int) -> None:
            cursor = readers[i].cursor()
            try:
                parts[i] = _read_batches(cursor, *halves[i])
            except Exception as error:  # noqa: BLE001 - re-raised below, in the caller's thread
                errors.append(error)
            finally:
                cursor.close()

        threads = [threading.Thread(target=read, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        cursor = readers[0].cursor()
        try:
            consents = _fetch(cursor, SQLITE_READS.consents)
            state = _state(cursor) if with_state else None
        finally:
            cursor.close()
        batches = parts[0] + parts[1]
        parts.clear()  # each column's batches are let go as it is converted
        read = _to_pandas(columns, batches), _consents(consents)
        return (*read, state) if with_state else read
    finally:
        for conn in readers:
            conn.close()
        locking.close()
        lock.close()


# How many rows, spread evenly over the rowids, are looked at to choose where to split the index.
_SPLIT_SAMPLE = 257


def _learner_pivot(conn, low: int, high: int) -> tuple[str, str] | None:
    """A (cohort, learner) about half of the responses sort below: the middle one of a sample of rows
    spread evenly over the rowids (a few hundred lookups, not a pass over the index). None when no
    sampled rowid is in use."""
    step = max((high - low) // (_SPLIT_SAMPLE - 1), 1)
    rowids = ", ".join(str(r) for r in range(low, high + 1, step))
    cursor = conn.cursor()
    try:
        cursor.execute(SQLITE_READS.split_points.format(rowids=rowids))
        sampled = sorted(tuple(row) for row in cursor.fetchall())
    finally:
        cursor.close()
    return sampled[len(sampled) // 2] if sampled else None


def _text(column):
    """A column as text, whatever type SQLite's first rows suggested (an all-NULL one: int64)."""
    import pyarrow as pa

    if pa.types.is_string(column.type):
        return column
    if column.null_count == len(column):
        return pa.nulls(len(column), pa.string())
    return column.cast(pa.string())


def _to_pandas(columns: list[str], batches: list[dict]) -> pd.DataFrame:
    """The encoded batches as one frame, a column at a time (each column's batches let go once used)."""
    import pyarrow as pa

    data = {}
    for name in columns:
        chunks = [batch.pop(name) for batch in batches]
        if name in CODED:
            data[name] = _categorical(chunks)
        elif name == "submitted_at":
            parts = [c.to_pandas() for c in chunks]
            parts = [p if isinstance(p.dtype, pd.DatetimeTZDtype) else _timestamps(p) for p in parts]
            data[name] = pd.concat(parts, ignore_index=True) if parts else _timestamps(pd.Series([], dtype="str"))
        else:
            types = {c.type for c in chunks}
            if len(types) > 1:  # an integer column NULL in a whole first batch, text later: as text
                chunks = [_text(c) for c in chunks]
            kind = chunks[0].type if chunks else (pa.string() if name in TEXT else pa.int64())
            data[name] = pa.chunked_array(chunks, kind).to_pandas()
            if name in TEXT:
                data[name] = data[name].astype("str")
    frame = pd.DataFrame(data, copy=False)  # each column as it is: not copied into one block per type
    # The raw batches were freed to Arrow's allocator, which keeps freed pages for reuse: hand
    # them back, so they do not stay counted against the process while the analyses run.
    pa.default_memory_pool().release_unused()
    _release_freed_memory()
    if "consent" in frame:
        frame["consent"] = frame["consent"].fillna(0).astype(bool)
    return frame


def _release_freed_memory() -> None:
    """Ask the C allocator to hand freed pages back to the system (glibc only; elsewhere nothing).

    The reader threads free their row buffers in many small pieces that glibc keeps for reuse;
    without this they stay counted against the process, and push its peak, while the analyses run.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        ctypes.CDLL(name).malloc_trim(0)
    except (OSError, AttributeError, TypeError):
        pass


# glibc's mallopt parameters (malloc.h) and the values set by keep_freed_memory_for_reuse.
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4
_TRIM_ABOVE = 1 << 30


@cache  # once per process
def keep_freed_memory_for_reuse() -> None:
    """Have the C allocator reuse freed large arrays instead of mapping each one anew (glibc only).

    The analyses of a large frame allocate and free arrays of tens of megabytes again and again.
    glibc maps every block over 32 MB straight from the system and unmaps it when freed, so each
    new array is page-faulted in afresh: a fifth of the analysis time at 8 million responses.
    With no separate maps, and the heap trimmed only above 1 GB free, freed arrays are reused.
    The reader still hands its buffers back at once (:func:`_release_freed_memory`), so the peak
    barely grows (2.21 to 2.27 GB at 8M). It applies to the whole process, once, and only once a
    large store is read (from the start of the read: the run right after the store was read into
    a nearly full page cache faulted its fresh pages in slowest).
    """
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        libc.mallopt(_M_MMAP_MAX, 0)
        libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_ABOVE)
    except (OSError, AttributeError, TypeError):
        pass


def _small(codes, size: int):
    """Integer codes (-1 for missing) as the smallest integer type that holds ``size`` values."""
    import numpy as np

    kind = np.int8 if size < 2**7 else np.int16 if size < 2**15 else np.int32
    return codes.astype(kind)


def _categorical(parts: list) -> pd.Categorical:
    """Batches of (dictionary, codes) as one pandas categorical, its categories sorted like text.

    The categories are the distinct values of all the batches' (small) dictionaries; each batch's
    codes are translated through its dictionary straight into the final codes.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    distinct = pc.unique(pa.chunked_array([dictionary for dictionary, _ in parts], pa.string()))
    # Sorted as pd.factorize(sort=True) numbers text: the frame's order and every grouping by
    # these columns then come out as they did on text.
    order = pd.Index(distinct.to_pandas(), dtype="str").argsort()
    categories = distinct.take(pa.array(order))
    codes = _small(np.empty(sum(len(c) for _, c in parts), dtype=np.int8), len(categories))
    start = 0
    for dictionary, batch_codes in parts:
        position = pc.index_in(dictionary, value_set=categories).to_numpy(zero_copy_only=False)
        translate = np.append(position, -1).astype(codes.dtype)  # the last entry: code -1 stays missing
        np.take(translate, batch_codes, out=codes[start:start + len(batch_codes)])
        start += len(batch_codes)
    return pd.Categorical.from_codes(codes, categories=pd.Index(categories.to_pandas(), dtype="str"), validate=False)


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

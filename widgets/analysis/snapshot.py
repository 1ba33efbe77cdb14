"""The analysis snapshot: a columnar copy of the columns the analysis reads, brought up to date
by reading only the rows added since it was written.

Instructors rerun the cohort review as answers come in, and researchers rerun their notebook: each
run read the whole store again (about a second per million responses from SQLite, more from
PostgreSQL). The store is append-only (a change of mind is a new row) and its one deletion, erasing
a learner, raises a counter in the same transaction, so a copy keyed by the store's identity, its
schema, its erasure count, its row count and its highest row id is current once the rows above
that id are added to it (:class:`~widgets.store.sql.ReadState`). Anything else rebuilds it: another
store, a migration, an erasure, a row count that does not add up (a row committed late below the
highest id, on PostgreSQL), a copy written for other columns. A copy that cannot be read, does not
say what it holds, holds another number of rows than it says, or is not private (mode 600, owned by
this user) is never trusted: it is read from the store again and written anew.

The copy holds learners' answers and reasoning, so it is kept as the store is: a Parquet file beside
a SQLite store (``<store>.analysis.parquet``, mode 600), or for a server store in the user's private
data folder (``analysis-cache/``, mode 700). Erasing a learner deletes it
(:meth:`widgets.store.sql.Store.forget_analysis_copy`), and a copy of rows read before an erasure
that is put in place after it is deleted by its writer, which asks the erasure count again once the
copy is in place. ``DUALROLE_ANALYSIS_SNAPSHOT=off`` turns it off wherever it is on.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import pandas as pd

from widgets.analysis._load import CODED, fast_read_available, read_sqlite
from widgets.store.sql import ReadState, Store

#: Written into the copy's metadata: a copy of another format, or of other columns, is rebuilt.
FORMAT = "dualrole-analysis-snapshot/1"
_KEY = b"dualrole.analysis_snapshot"
#: Appends larger than this share of the copy (or at least this many rows) are read as a rebuild:
#: the store's own reader is faster than adding them row by row through SQLAlchemy.
_REBUILD_SHARE, _REBUILD_ROWS = 0.5, 50_000
#: Rows added since the copy was written are read from the store until there are this many; then
#: the copy is written anew with them (writing a million rows takes about half a second).
APPEND_ROWS = 10_000
_OPTIONAL_BOOLS = ("reference_seen", "distribution_seen")
#: A smaller store is read whole and keeps no snapshot: reading it takes less than keeping a copy up
#: to date (at 100,000 responses the warm report measured slower than the cold one; at 1M, faster).
MIN_ROWS = 200_000


def enabled(asked: bool) -> bool:
    """Whether a read asked to use the snapshot uses it: ``DUALROLE_ANALYSIS_SNAPSHOT=off`` (or 0, no,
    false) turns it off everywhere."""
    setting = os.environ.get("DUALROLE_ANALYSIS_SNAPSHOT", "").strip().lower()
    return asked and setting not in ("off", "0", "no", "false")


def read(store: Store, kept: list[str], columns: list[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The responses' ``columns`` (default: ``kept``) and the consent records, through the store's
    analysis snapshot of the columns ``kept``.

    None when the store has no place for one (a store in memory): the caller reads it as usual.
    Rows added since the copy was written are read from the store and joined to it; the copy is
    written anew only once they are ``APPEND_ROWS`` or more, so that a report rerun as a few answers
    come in does not pay for writing a million rows each time.
    """
    columns = kept if columns is None else columns
    path = store.analysis_copy_path
    if path is None:
        return None
    key = _trusted_key(path, kept)
    if key is not None:

        def current(state: ReadState) -> bool:
            added = state.rows - key["rows"]
            same = (state.store_id, state.schema, state.erasures) == (key["store_id"], key["schema"], key["erasures"])
            small = 0 <= added <= max(_REBUILD_ROWS, _REBUILD_SHARE * key["rows"])
            return same and small and state.last_id >= key["last_id"]

        state, added, consents = store.read_since(pd.read_sql, kept, key["last_id"], current)
        if added is not None and key["rows"] + len(added) == state.rows:
            rewrite = len(added) >= APPEND_ROWS
            table = _load(path, key, kept if rewrite else columns)
            if table is not None:
                if len(added):
                    import pyarrow as pa

                    table = _sorted_dictionaries(pa.concat_tables([table, _arrow(added, table.column_names)]))
                if rewrite:
                    _write(store, table, state, kept)
                    table = table.select(columns)
                return _pandas(table), consents
    raw, consents, state = _read_store(store, kept)
    _write(store, _sorted_dictionaries(_arrow(raw, kept)), state, kept)
    return raw[columns], consents


def _sorted_dictionaries(table):
    """``table`` with each text column's dictionary shared by all its chunks and in sorted order.

    The frame's text categories are sorted (:func:`~widgets.analysis.frame.responses`): a snapshot
    whose dictionaries already are becomes them without reordering (recoding a million rows'
    categories after the fact cost more than the whole read of the snapshot).
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    table = table.unify_dictionaries()
    for i, field in enumerate(table.schema):
        if not pa.types.is_dictionary(field.type) or table.column(i).num_chunks == 0:
            continue
        column = table.column(i)
        dictionary = column.chunk(0).dictionary
        order = pc.array_sort_indices(dictionary).to_numpy()
        if (order == np.arange(len(order))).all():
            continue
        rank = np.empty(len(order), dtype=np.int32)
        rank[order] = np.arange(len(order), dtype=np.int32)
        ranks, ordered = pa.array(rank), dictionary.take(pa.array(order))
        chunks = [pa.DictionaryArray.from_arrays(pc.take(ranks, chunk.indices), ordered) for chunk in column.chunks]
        table = table.set_column(i, field, pa.chunked_array(chunks, field.type))
    return table


def _read_store(store: Store, columns: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, ReadState]:
    """Every response, the consents and the store's state, in one snapshot of the store."""
    if store.sqlite_path is not None and fast_read_available():
        with store.file_read_alone() as path:  # see frame._read_store
            if path is not None:
                return read_sqlite(path, columns, with_state=True)
    state, raw, consents = store.read_since(pd.read_sql, columns, None)
    return raw, consents, state


def _schema(columns: list[str]):
    import pyarrow as pa

    kinds = {"response_id": pa.string(), "attempt": pa.int64(), "confidence": pa.int64(),
             "submitted_at": pa.timestamp("us", tz="UTC"), "consent": pa.bool_(),
             **{c: pa.bool_() for c in _OPTIONAL_BOOLS}}
    text = pa.dictionary(pa.int32(), pa.string())
    return pa.schema([(c, text if c in CODED else kinds[c]) for c in columns])


def _arrow(raw: pd.DataFrame, columns: list[str]):
    """The store's rows (as either reader gives them) as an Arrow table of the snapshot's schema."""
    import numpy as np
    import pyarrow as pa

    schema = _schema(columns)
    arrays = []
    for field in schema:
        values = raw[field.name]
        if field.name in CODED:
            if isinstance(values.dtype, pd.CategoricalDtype):
                codes = values.cat.codes.to_numpy().astype(np.int32)
                array = pa.DictionaryArray.from_arrays(
                    pa.array(codes, mask=codes < 0),
                    pa.array(values.cat.categories.astype(str).to_numpy(dtype=object), pa.string()))
            else:
                array = pa.array(values.astype(object).where(values.notna(), None), pa.string(),
                                 from_pandas=True).dictionary_encode()
        elif field.name == "submitted_at":
            stamps = pd.to_datetime(values, utc=True, format="ISO8601")
            array = pa.array(stamps).cast(field.type)
        elif field.name in _OPTIONAL_BOOLS:
            # 0/1 (the Arrow reader), True/False (SQLAlchemy), missing where the store kept none.
            array = pa.array(values.astype(object).where(values.notna(), None), from_pandas=True).cast(pa.bool_())
        elif field.name == "consent":
            array = pa.array(values.fillna(False).astype(bool), pa.bool_())
        elif field.name == "response_id":
            array = pa.array(values.astype(object).where(values.notna(), None), pa.string(), from_pandas=True)
        else:
            array = pa.array(pd.to_numeric(values).astype("int64"), field.type)
        arrays.append(array.cast(field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def _pandas(table) -> pd.DataFrame:
    """The snapshot as the raw frame the store's readers give (text columns as categoricals)."""
    frame = table.to_pandas()
    for column in _OPTIONAL_BOOLS:
        if column in frame:
            frame[column] = pd.array(table[column].to_pandas(types_mapper={_bool(): pd.BooleanDtype()}.get))
    return frame


def _bool():
    import pyarrow as pa

    return pa.bool_()


def _trusted_key(path: Path, kept: list[str]) -> dict | None:
    """The key of the snapshot at ``path``, or None when there is none to trust."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        status = path.stat()
    except OSError:
        return None
    if status.st_uid != os.getuid() or status.st_mode & 0o077:
        return None  # not private: not written by this, so not trusted (and rewritten privately)
    try:
        key = json.loads((pq.read_schema(path).metadata or {})[_KEY])
    except (OSError, KeyError, ValueError, TypeError, pa.ArrowException):
        return None
    fields = ("store_id", "schema", "erasures", "rows", "last_id")
    if key.get("format") != FORMAT or key.get("columns") != kept:
        return None
    if not all(isinstance(key.get(f), (str if f in ("store_id", "schema") else int)) for f in fields):
        return None
    return key


def _load(path: Path, key: dict, columns: list[str]):
    """The snapshot's ``columns``, or None when it is damaged or not what ``key`` says it holds."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path, page_checksum_verification=True)
        if json.loads((parquet.schema_arrow.metadata or {})[_KEY]) != key:
            return None  # replaced since its key was read
        table = parquet.read(columns=columns)
    except (OSError, KeyError, ValueError, TypeError, pa.ArrowException):
        return None
    table = table.replace_schema_metadata(None)
    if table.num_rows != key["rows"] or not table.schema.equals(_schema(columns)):
        return None
    return table


def _write(store: Store, table, state: ReadState, columns: list[str]) -> None:
    """Write the snapshot (private, replacing the old one at once); a store whose folder cannot be
    written is read without one."""
    import pyarrow.parquet as pq

    key = {"format": FORMAT, "columns": columns, "store_id": state.store_id, "schema": state.schema,
           "erasures": state.erasures, "rows": state.rows, "last_id": state.last_id}
    if table.num_rows != state.rows or state.rows < max(MIN_ROWS, 1):
        return  # a small store is read whole; an empty one has nothing to keep
    table = table.replace_schema_metadata({_KEY: json.dumps(key)})
    try:
        store.analysis_copy_folder()
        path = store.analysis_copy_path
        partial = path.with_name(f"{path.name}.{secrets.token_hex(6)}.partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:
        return
    try:
        with os.fdopen(descriptor, "wb") as out:
            pq.write_table(table, out, compression="zstd", write_page_checksum=True)
        os.replace(partial, path)
    except OSError:
        return
    finally:
        if partial.exists():
            partial.unlink()
    if not _no_erasure_since(store, state):
        path.unlink(missing_ok=True)


def _no_erasure_since(store: Store, state: ReadState) -> bool:
    """Whether no erasure has committed since ``state`` was read (asked once the copy is in place).

    An erasure deletes the copy once it has committed (:meth:`~widgets.store.sql.Store.erase_learner`).
    A copy of rows read before an erasure and put in place before it committed is deleted by it; one
    put in place after it committed is seen here by the count, and deleted. Either way the erased
    learner's answers do not stay in a copy, and no read after the erasure serves them: its count
    differs from the copy's.
    """
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return store.erasures() == state.erasures
    except SQLAlchemyError:
        return False  # the store cannot say now: keep no copy that might hold an erased learner

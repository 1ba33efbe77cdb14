"""The analysis snapshot gives the frame read straight from the store, and is never trusted blindly.

After appends, a revote, an erasure and a schema migration, on SQLite and on PostgreSQL, the frame
read through the snapshot equals the frame read from the store without one; only new rows are read
when nothing else changed; a damaged, truncated, foreign or non-private snapshot is rebuilt.
"""

from __future__ import annotations

import os
import shutil
import stat

import pandas as pd
import pytest

from widgets.analysis import snapshot as snapshots
from widgets.analysis.frame import STORE_COLUMNS, responses
from widgets.cases.library import load_case
from widgets.reporting.simulate import into_store, simulate
from widgets.store import open_store
from widgets.store.schema import meta_table
from widgets.store.sql import ReadState, Store


@pytest.fixture(autouse=True)
def small_stores_keep_a_snapshot(monkeypatch):
    """The tests' stores are small: they keep a snapshot as a large one does."""
    monkeypatch.setattr(snapshots, "MIN_ROWS", 1)


@pytest.fixture
def class_store(store_url):
    store = open_store(store_url)
    into_store(simulate(learners=12, cohorts=2, seed=3), store)
    return store


def same_frame(store) -> pd.DataFrame:
    """The frame through the snapshot, checked against the frame read straight from the store."""
    through = responses(store, snapshot=True)
    straight = responses(store)
    pd.testing.assert_frame_equal(through, straight)
    return through


def spy(monkeypatch) -> list:
    """Record each read of the store that ``read_since`` makes: the row id it reads above (None: all)."""
    calls = []
    original = Store.read_since

    def read_since(self, read, columns, after, wanted=lambda state: True):
        result = original(self, read, columns, after, wanted)
        calls.append((after, None if result[1] is None else len(result[1])))
        return result

    monkeypatch.setattr(Store, "read_since", read_since)
    return calls


def answer(store, make_response, learner, option=None, **kwargs):
    store.add(make_response(learner, option, **kwargs))


def held(path):
    """The snapshot at ``path`` and its key, as a read would trust them (None when it would not)."""
    key = snapshots._trusted_key(path, STORE_COLUMNS)
    table = None if key is None else snapshots._load(path, key, STORE_COLUMNS)
    return None if table is None else (table, key)


def test_appends_and_a_revote_are_read_alone_and_give_the_stores_frame(class_store, make_response, monkeypatch):
    first = same_frame(class_store)
    path = class_store.analysis_copy_path
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    calls = spy(monkeypatch)
    options = load_case("cosmetics").option_ids
    answer(class_store, make_response, "synthetic-new-1", options[0], cohort="synthetic-x")
    answer(class_store, make_response, "synthetic-new-1", options[1], cohort="synthetic-x", attempt=2)  # a revote
    frame = same_frame(class_store)
    assert len(frame) == len(first) + 2
    # The snapshot read two new rows above its highest id; only the check without it read everything.
    assert calls[0][0] is not None and calls[0][1] == 2
    assert (frame["learner"] == "synthetic-new-1").sum() == 2


def test_a_few_new_rows_are_joined_to_the_snapshot_until_enough_to_write_it_anew(
        class_store, make_response, monkeypatch):
    """A report rerun as answers come in reads the new ones each time, and rewrites the copy only
    once they add up: writing a million-row copy costs more than the whole warm read."""
    monkeypatch.setattr(snapshots, "APPEND_ROWS", 3)
    same_frame(class_store)
    path = class_store.analysis_copy_path
    written = held(path)[1]
    options = load_case("cosmetics").option_ids
    for n, option in enumerate(options[:2]):
        answer(class_store, make_response, f"synthetic-new-{n}", option, cohort="synthetic-x")
    frame = same_frame(class_store)
    assert set(frame["learner"].astype(str)) >= {"synthetic-new-0", "synthetic-new-1"}
    assert held(path)[1] == written  # two new rows: read from the store, the copy left as it was
    answer(class_store, make_response, "synthetic-new-2", options[0], cohort="synthetic-x")
    calls = spy(monkeypatch)
    same_frame(class_store)
    assert calls[0] == (written["last_id"], 3)  # the three rows since the copy was written
    assert held(path)[1]["rows"] == written["rows"] + 3  # enough: written anew with them
    calls.clear()
    same_frame(class_store)
    assert calls[0] == (held(path)[1]["last_id"], 0)


def test_a_read_of_some_columns_gives_those_of_the_full_frame(class_store, make_response):
    full = same_frame(class_store)
    answer(class_store, make_response, "synthetic-new-4", cohort="synthetic-x")
    few = responses(class_store, snapshot=True, columns=["reference_seen"])
    assert "justification" not in few and "consent" not in few
    pd.testing.assert_frame_equal(few, responses(class_store, columns=["reference_seen"]))
    pd.testing.assert_frame_equal(few.iloc[:, :3], responses(class_store)[few.columns[:3]])
    assert len(few) == len(full) + 1


def test_a_second_read_with_nothing_new_reads_no_rows(class_store, monkeypatch):
    responses(class_store, snapshot=True)
    calls = spy(monkeypatch)
    responses(class_store, snapshot=True)
    assert calls == [(calls[0][0], 0)] and calls[0][0] > 0


def test_erasing_a_learner_deletes_the_snapshot_and_the_next_read_rebuilds_it(class_store, make_response):
    same_frame(class_store)
    path = class_store.analysis_copy_path
    learner = "synthetic-learner-0002"
    assert class_store.erase_learner(learner) > 0
    assert not path.exists()  # the erased answers do not outlive the erasure in the copy
    frame = same_frame(class_store)
    assert learner not in set(frame["learner"].astype(str))
    assert path.exists()


@pytest.mark.parametrize("read", ["whole", "appended"])
def test_an_erasure_between_a_read_and_its_snapshot_leaves_no_copy_of_the_learner(read, class_store, make_response,
                                                                                  monkeypatch):
    """A read races an erasure: it reads the rows, the learner is erased, then it writes its copy."""
    learner, erased = "synthetic-learner-0003", []

    def then_erase(result):
        if not erased:  # commits, deletes the copy, returns
            erased.append(class_store.erase_learner(learner))
        return result

    if read == "whole":  # no copy yet: the store is read whole
        whole = snapshots._read_store
        monkeypatch.setattr(snapshots, "_read_store", lambda store, columns: then_erase(whole(store, columns)))
    else:  # a copy, and a new answer: the rows above its highest id are read, joined to it and written
        same_frame(class_store)
        answer(class_store, make_response, "synthetic-new-3", cohort="synthetic-x")
        monkeypatch.setattr(snapshots, "APPEND_ROWS", 1)
        load = snapshots._load
        monkeypatch.setattr(snapshots, "_load", lambda *args: then_erase(load(*args)))
    raced = responses(class_store, snapshot=True)
    assert erased[0] > 0 and learner in set(raced["learner"].astype(str))  # it read before the erasure
    path = class_store.analysis_copy_path
    assert not path.exists() or learner not in set(pd.read_parquet(path)["learner"].astype(str))
    assert learner not in set(same_frame(class_store)["learner"].astype(str))


def test_an_erasure_the_snapshot_missed_rebuilds_it(class_store, make_response, monkeypatch, tmp_path):
    """An erasure made elsewhere (another machine, the class service) leaves a copy here: its count rebuilds it."""
    same_frame(class_store)
    path = class_store.analysis_copy_path
    kept = tmp_path / "kept.parquet"
    shutil.copy2(path, kept)
    class_store.erase_learner("synthetic-learner-0001")
    # A new answer after the erasure: the highest id and the row count alone would not tell.
    answer(class_store, make_response, "synthetic-new-2", cohort="synthetic-x")
    shutil.copy2(kept, path)
    calls = spy(monkeypatch)
    frame = same_frame(class_store)
    assert "synthetic-learner-0001" not in set(frame["learner"].astype(str))
    assert calls[0] == (calls[0][0], None)  # the snapshot's key did not match: no rows read above it


def test_a_migration_rebuilds_the_snapshot(class_store, make_response, monkeypatch):
    same_frame(class_store)
    with class_store.engine.begin() as conn:  # a migration recorded since the snapshot was written
        conn.execute(meta_table.insert(), {"key": "migration:a_later_one", "value": "2026-12-07"})
    answer(class_store, make_response, "synthetic-new-3", cohort="synthetic-x")
    calls = spy(monkeypatch)
    frame = same_frame(class_store)
    assert calls[0][1] is None  # not brought up to date: read again
    assert "synthetic-new-3" in set(frame["learner"].astype(str))


def test_a_row_committed_below_the_highest_id_is_not_missed(class_store, make_response, monkeypatch):
    """On PostgreSQL a row can commit after a higher-numbered one was read: the row count tells."""
    same_frame(class_store)
    table, key = held(class_store.analysis_copy_path)
    # The same snapshot, one row short, still claiming the store's highest id.
    short = table.slice(1)
    state = ReadState(key["store_id"], key["schema"], key["erasures"], key["rows"] - 1, key["last_id"])
    snapshots._write(class_store, short, state, STORE_COLUMNS)
    assert held(class_store.analysis_copy_path)[1]["rows"] == key["rows"] - 1
    same_frame(class_store)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "flipped", "empty", "foreign", "readable"])
def test_a_damaged_or_foreign_snapshot_is_ignored_and_rebuilt(damage, class_store, tmp_path, make_response):
    same_frame(class_store)
    path = class_store.analysis_copy_path
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"PAR1 not a snapshot at all")
    elif damage == "flipped":  # a byte changed inside the data pages
        middle = len(data) // 3
        path.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "foreign":  # another store's snapshot, copied in place of this one's
        other = open_store(f"sqlite:///{tmp_path / 'other.sqlite'}")
        into_store(simulate(learners=4, cohorts=1, seed=9), other)
        responses(other, snapshot=True)
        shutil.copy2(other.analysis_copy_path, path)
    elif damage == "readable":  # not private: not this reader's, so not trusted
        os.chmod(path, 0o644)
    frame = same_frame(class_store)
    assert len(frame) == class_store.count()
    assert held(path) is not None  # written anew, private
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_empty_store_keeps_no_snapshot_and_reads_alike(store_url):
    store = open_store(store_url)
    same_frame(store)
    same_frame(store)
    assert not store.analysis_copy_path.exists()


def test_a_small_store_is_read_whole_and_keeps_no_snapshot(class_store, monkeypatch):
    monkeypatch.setattr(snapshots, "MIN_ROWS", class_store.count() + 1)
    same_frame(class_store)
    assert not class_store.analysis_copy_path.exists()


def test_the_snapshot_can_be_turned_off(class_store, monkeypatch):
    monkeypatch.setenv("DUALROLE_ANALYSIS_SNAPSHOT", "off")
    responses(class_store, snapshot=True)
    assert not class_store.analysis_copy_path.exists()


def test_a_server_stores_snapshot_lives_in_a_private_cache_folder(store_url):
    store = open_store(store_url)
    path = store.analysis_copy_path
    if store.backend == "sqlite":
        assert path == type(path)(store.sqlite_path + ".analysis.parquet")
        return
    assert "@" not in path.name and ":" not in path.name  # named by a digest, never by the URL
    into_store(simulate(learners=3, cohorts=1, seed=1), store)
    same_frame(store)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_row_ids_follow_the_order_rows_were_added(store_url, make_response):
    """The snapshot reads 'rows above N': each new row's id is above every earlier one's."""
    store = open_store(store_url)
    for n in range(3):
        answer(store, make_response, f"synthetic-r{n}")
    with store.engine.connect() as conn:
        state = store.read_state(conn)
    assert state.rows == 3 and state.last_id >= 3 and len(state.store_id) == 32
    _state, rows, _consents = store.read_since(pd.read_sql, ["learner"], state.last_id - 1)
    assert list(rows["learner"]) == ["synthetic-r2"]
    with store.engine.connect() as conn:  # a store keeps its identity across opens
        again = open_store(store_url).read_state(conn)
    assert again.store_id == state.store_id


def test_the_column_list_is_checked(store_url):
    with pytest.raises(ValueError):
        open_store(store_url).read_since(pd.read_sql, ["learner; DROP TABLE responses"], None)

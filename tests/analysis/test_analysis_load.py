"""The fast paths give exactly what the plain pandas code gave.

Reading a SQLite store through ADBC/Arrow must give the same tidy frame as ``pandas.read_sql``
through SQLAlchemy; choosing first or final answers on integer codes must pick the same rows as a
stable sort and ``drop_duplicates``; kappa on integer codes must equal scikit-learn's on the text.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from sklearn.metrics import cohen_kappa_score

from widgets import analysis
from widgets.analysis import _load, frame
from widgets.cases.library import load_case
from widgets.errors import DualroleError
from widgets.reporting.simulate import into_store, simulate
from widgets.responses.contract import Response
from widgets.store import open_store
from widgets.store.schema import consents_table, responses_table
from widgets.vocab import STANCES


def read_sql_frame(store) -> pd.DataFrame:
    """The frame as the plain code built it: read_sql through SQLAlchemy, then tidy."""
    with store.engine.connect() as conn:
        raw = pd.read_sql(sa.select(responses_table), conn)
        consents = pd.read_sql(sa.select(consents_table), conn)
    return frame.tidy(raw, consents=consents)


def test_a_sqlite_store_is_read_through_arrow_and_gives_the_read_sql_frame(fresh_store, monkeypatch):
    assert _load.fast_read_available()
    into_store(simulate(learners=30, cohorts=2, seed=4), fresh_store)
    fresh_store.set_consent("synthetic-learner-0003", False)  # a withdrawal wins over the rows' flag
    calls = []
    monkeypatch.setattr(_load, "read_sqlite", lambda *a: calls.append(a) or _read_sqlite(*a))
    fast = analysis.responses(fresh_store)
    assert calls, "the SQLite store was not read through the fast path"
    pd.testing.assert_frame_equal(fast, read_sql_frame(fresh_store))
    assert not fast.loc[fast["learner"] == "synthetic-learner-0003", "consent"].any()


_read_sqlite = _load.read_sqlite


def count_in_another_process(path: str) -> int:
    """How many responses a fresh process (another kernel, say) finds in the SQLite file."""
    code = "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM responses').fetchone()[0])"
    return int(subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True, check=True).stdout)


def later_answers(seed: int = 2) -> pd.DataFrame:
    later = simulate(learners=20, cohorts=1, seed=seed)
    later["cohort"] = "synthetic-later"
    return later


def test_reading_a_store_this_process_has_open_loses_no_later_answer(tmp_path, monkeypatch):
    # ADBC links its own SQLite: read while the store's connections were open, its close deleted the
    # WAL under them, so the answers written next were lost and the next open failed (disk I/O error).
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    store = open_store(url)
    into_store(simulate(learners=10, cohorts=1, seed=1), store)
    expected = read_sql_frame(store)
    calls = []
    monkeypatch.setattr(_load, "read_sqlite", lambda *a: calls.append(a) or _read_sqlite(*a))
    read = analysis.responses(url)
    pd.testing.assert_frame_equal(read, expected)
    later = later_answers()
    into_store(later, store)
    written = store.count()
    assert written == len(read) + len(later)
    assert count_in_another_process(store.sqlite_path) == written
    assert open_store(url).count() == written
    assert not calls, "ADBC opened a file this process has open through a store"


def test_a_store_connection_in_use_keeps_its_write_while_the_store_is_read(fresh_store, monkeypatch):
    into_store(simulate(learners=10, cohorts=1, seed=1), fresh_store)
    expected = read_sql_frame(fresh_store)
    calls = []
    monkeypatch.setattr(_load, "read_sqlite", lambda *a: calls.append(a) or _read_sqlite(*a))
    rows = later_answers().to_dict("records")
    with fresh_store.writer() as conn:  # held across transactions, as collect holds it
        read = analysis.responses(fresh_store)
        with fresh_store.transaction(conn):
            fresh_store.add_many(rows, conn)
    pd.testing.assert_frame_equal(read, expected)
    assert count_in_another_process(fresh_store.sqlite_path) == len(read) + len(rows)
    assert not calls, "ADBC opened a file while a store connection was open on it"


def test_a_store_file_no_connection_has_open_is_still_read_through_arrow(fresh_store, monkeypatch):
    into_store(simulate(learners=10, cohorts=1, seed=1), fresh_store)
    expected = read_sql_frame(fresh_store)
    fresh_store.engine.dispose()  # as a report process that opened no store of its own
    calls = []
    monkeypatch.setattr(_load, "read_sqlite", lambda *a: calls.append(a) or _read_sqlite(*a))
    read = analysis.responses(fresh_store.url)
    assert calls, "a store file open nowhere else in the process was not read through the fast path"
    pd.testing.assert_frame_equal(read, expected)
    later = later_answers()
    into_store(later, fresh_store)  # the store reopens its connections and writes as before
    assert count_in_another_process(fresh_store.sqlite_path) == len(read) + len(later)


def test_columns_null_in_the_first_rows_or_everywhere_keep_their_text(fresh_store):
    # The ADBC driver types a column from the rows it sees first: a column that is NULL there
    # (no Kitchener ratings yet) must still come back as text, and an all-NULL one as missing.
    case = load_case("cosmetics")
    rows = [Response(learner=f"l{i:04d}", cohort="c", case_id=case.id, case_version=case.case_version,
                     option_id=case.options[i % len(case.options)].id,
                     stance=case.options[i % len(case.options)].stance, confidence=50,
                     justification="a reason long enough", phase="pre",
                     kitchener_power="high" if i >= 1500 else None).row() for i in range(1600)]
    fresh_store.add_many(rows)
    fast = analysis.responses(fresh_store)
    pd.testing.assert_frame_equal(fast, read_sql_frame(fresh_store))
    assert fast["kitchener_power"].notna().sum() == 100
    assert fast["kitchener_expectations"].isna().all()


def test_an_empty_store_and_an_in_memory_store_read_alike(fresh_store):
    pd.testing.assert_frame_equal(analysis.responses(fresh_store), read_sql_frame(fresh_store))
    memory = open_store("sqlite:///:memory:")
    assert memory.sqlite_path is None  # ADBC cannot see SQLAlchemy's private memory database
    assert analysis.responses(memory).empty


def old_answers(df, phase=None, attempt="first"):
    """answers() as first written."""
    if phase is not None:
        df = df[df["phase"] == phase]
    ordered = df.sort_values("attempt", kind="stable")
    keep = "first" if attempt == "first" else "last"
    return ordered.drop_duplicates(["learner", "cohort", "case_id", "phase"], keep=keep).sort_index()


@pytest.mark.parametrize("attempt", ["first", "final"])
@pytest.mark.parametrize("phase", [None, "pre", "post"])
def test_first_and_final_answers_are_the_rows_drop_duplicates_picked(phase, attempt):
    df = analysis.sample()
    # Shuffled rows, repeated rows with repeated index labels, a missing cohort.
    messy = pd.concat([df, df.sample(300, random_state=1)]).sample(frac=1, random_state=2)
    messy.loc[messy.index[:7], "cohort"] = np.nan
    for data in (df, messy):
        pd.testing.assert_frame_equal(analysis.answers(data, phase=phase, attempt=attempt),
                                      old_answers(data, phase, attempt))


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_reference_kappa_on_codes_equals_scikit_learn_on_the_text(weights):
    post = analysis.answers(analysis.sample(), phase="post")
    paired = analysis.with_reference(post)
    expected = cohen_kappa_score(paired["stance"].astype(str), paired["reference"].astype(str),
                                 labels=list(STANCES), weights=weights)
    assert analysis.reference_kappa(post, weights=weights) == pytest.approx(expected, abs=1e-12)
    by_option = analysis.with_reference(post, "option_id")
    expected = cohen_kappa_score(by_option["option_id"].astype(str), by_option["reference"].astype(str))
    assert analysis.reference_kappa(post, "option_id") == pytest.approx(expected, abs=1e-12)


def test_the_reference_for_an_unknown_case_or_a_missing_answer():
    post = analysis.answers(analysis.sample(), phase="post").head(20).copy()
    post["case_id"] = post["case_id"].cat.add_categories(["retired_case"])
    post.loc[post.index[:3], "case_id"] = "retired_case"
    post.loc[post.index[3], "stance"] = np.nan
    paired = analysis.with_reference(post)
    assert len(paired) == 17  # no reference for a case no longer in the library
    case = load_case(str(post.loc[post.index[3], "case_id"]))
    assert paired.loc[post.index[3], "reference"] == list(dict.fromkeys(case.reference_stances))[0]


def test_rows_read_in_many_small_batches_give_the_read_sql_frame(fresh_store, monkeypatch):
    # Each batch is dictionary-encoded on its own and the dictionaries unified afterwards; whole
    # batches without any Kitchener rating must still give text where later batches have one.
    monkeypatch.setattr(_load, "_BATCHES", {"adbc.sqlite.query.batch_rows": "37"})
    case = load_case("cosmetics")

    def answer(i, rating):
        option = case.options[i % len(case.options)]
        return Response(learner=f"l{i:03d}", cohort="c", case_id=case.id, case_version=case.case_version,
                        option_id=option.id, stance=option.stance, confidence=40,
                        justification=f"reason number {i % 7} is long enough", phase="pre",
                        kitchener_expectations=rating).row()

    fresh_store.add_many([answer(i, None) for i in range(100)] + [answer(i, "low") for i in range(100, 150)])
    fast = analysis.responses(fresh_store)
    pd.testing.assert_frame_equal(fast, read_sql_frame(fresh_store))
    assert fast.loc[fast["cohort"] == "c", "kitchener_expectations"].notna().sum() == 50


def test_batches_with_their_own_dictionaries_make_the_categorical_factorize_makes():
    import pyarrow as pa

    values = [["b", "a", None, "b"], ["c", "a"], [], [None], ["é", "b", "Z"]]
    chunks = [_load._encoded(pa.record_batch({"learner": pa.array(v, pa.string())}))["learner"] for v in values]
    flat = pd.Series([x for v in values for x in v], dtype="str")
    codes, uniques = pd.factorize(flat, sort=True)
    expected = pd.Categorical.from_codes(codes, categories=pd.Index(uniques, dtype="str"))
    got = _load._categorical(chunks)
    pd.testing.assert_extension_array_equal(got, expected)
    assert list(got.categories) == ["Z", "a", "b", "c", "é"]  # sorted as text, as SQLite and pandas sort it


def test_the_tidy_frame_is_the_plain_sorted_frame_and_the_callers_frame_is_left_alone():
    raw = pd.read_csv(analysis.sample_path(), keep_default_na=False, na_values=[""]).sample(frac=1, random_state=3)
    before = raw.copy()
    tidy = frame.tidy(raw)
    pd.testing.assert_frame_equal(raw, before)
    # The straightforward version: type each column, then one stable sort of the whole frame.
    plain = raw.copy()
    for column in frame.CATEGORICAL_TEXT:
        plain[column] = pd.Categorical(plain[column].astype("str"),
                                       categories=pd.Index(sorted(plain[column].astype("str").unique()), dtype="str"))
    plain["case_id"] = tidy["case_id"].dtype.categories.get_indexer(plain["case_id"])
    plain["phase"] = plain["phase"].map({p: i for i, p in enumerate(tidy["phase"].dtype.categories)})
    plain = plain.sort_values(frame.SORT_KEYS, kind="stable")
    assert (tidy["response_id"].to_numpy() == plain["response_id"].astype("str").to_numpy()).all()
    for column in frame.CATEGORICAL_TEXT:
        pd.testing.assert_series_equal(tidy[column], plain[column].reset_index(drop=True))


def test_a_frame_read_from_a_store_is_moved_into_the_tidy_frame_not_copied(fresh_store):
    # responses() hands the rows it read to _tidy, which takes each column out of them as it puts
    # it in order: the raw rows and the tidy frame are never both held whole.
    into_store(simulate(learners=6, cohorts=1, seed=2), fresh_store)
    raw, consents = _load.read_sqlite(fresh_store.sqlite_path, frame.STORE_COLUMNS)
    kept = raw.copy()
    moved = frame._tidy(raw, consents=consents)
    assert raw.columns.empty
    pd.testing.assert_frame_equal(moved, frame.tidy(kept, consents=consents))


def test_single_key_kappa_uses_one_key_per_case_and_the_credited_variant_is_named():
    from widgets.cases.library import load_library

    post = analysis.answers(analysis.sample(), phase="post")
    first_key = {c.id: c.reference_stances[0] for c in load_library()}
    keyed = post["case_id"].astype(str).map(first_key)
    expected = cohen_kappa_score(post["stance"].astype(str), keyed, labels=list(STANCES))
    assert analysis.reference_kappa(post) == pytest.approx(expected, abs=1e-12)
    credited = analysis.reference_kappa(post, key="credited")
    assert credited >= analysis.reference_kappa(post)
    from widgets.errors import DualroleError

    with pytest.raises(DualroleError, match="key must be one of single, credited"):
        analysis.reference_kappa(post, key="pooled")


def test_a_read_of_fewer_columns_gives_those_columns_of_the_whole_frame(store_url):
    """A report reads no reasoning: the rest of its frame is the whole frame's, on either reader."""
    store = open_store(store_url)
    into_store(simulate(learners=20, cohorts=2, seed=6), store)
    whole = analysis.responses(store)
    few = analysis.responses(store, columns=["reference_seen"])
    assert [c for c in few.columns if c not in frame.REQUIRED_COLUMNS] == [
        "reference_seen", "score", "matches_reference"]
    pd.testing.assert_frame_equal(few, whole[few.columns])
    # A report's analyses need nothing more.
    pd.testing.assert_frame_equal(analysis.case_summary(few), analysis.case_summary(whole))


def test_asking_for_a_column_that_is_not_an_optional_one_names_them(fresh_store):
    with pytest.raises(DualroleError, match="not optional columns: reasoning; they are: .*justification"):
        analysis.responses(fresh_store, columns=["reasoning"])

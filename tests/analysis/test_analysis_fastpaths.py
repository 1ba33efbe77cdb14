"""The fast paths added for the speed targets give exactly what the plain code gave.

Reading a large SQLite store in two halves at once must give the frame ``read_sql`` gives, also
when a column's type differs between the halves and when the store is busy; picking rows, ordering
on combined integer keys and the learner-by-case matrix must equal pandas' and numpy's own.
"""

from __future__ import annotations

import subprocess
import sys
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from widgets import analysis
from widgets.analysis import _load, frame, items
from widgets.cases.library import load_case
from widgets.reporting.simulate import into_store, simulate
from widgets.responses.contract import Response
from widgets.store.schema import consents_table, responses_table


def read_sql_frame(store) -> pd.DataFrame:
    with store.engine.connect() as conn:
        raw = pd.read_sql(sa.select(responses_table), conn)
        consents = pd.read_sql(sa.select(consents_table), conn)
    return frame.tidy(raw, consents=consents)


@pytest.fixture
def halves(monkeypatch):
    """Read every store in halves (as a large one is), and record whether the halves were used."""
    monkeypatch.setattr(_load, "SPLIT_ROWS", 0)
    used = []
    original = _load._read_in_halves
    monkeypatch.setattr(_load, "_read_in_halves", lambda *a: used.append(r := original(*a)) or r)
    return used


def test_a_store_read_in_two_halves_gives_the_read_sql_frame(fresh_store, halves):
    into_store(simulate(learners=30, cohorts=2, seed=5), fresh_store)
    fresh_store.set_consent("synthetic-learner-0004", False)
    fast = analysis.responses(fresh_store)
    assert halves and halves[0] is not None, "the store was not read in halves"
    pd.testing.assert_frame_equal(fast, read_sql_frame(fresh_store))
    assert not fast.loc[fast["learner"] == "synthetic-learner-0004", "consent"].any()


def test_a_report_read_splits_the_analysis_index_at_a_learner_and_gives_the_read_sql_frame(
        fresh_store, halves, monkeypatch):
    """A report's columns come from the analysis index alone, in two halves split at a (cohort,
    learner) chosen from a sample of rows: every row once, whichever learner the split falls on."""
    into_store(simulate(learners=40, cohorts=3, seed=6), fresh_store)
    report = ["reference_seen", "distribution_seen"]
    expected = read_sql_frame(fresh_store)[[*frame.REQUIRED_COLUMNS, *report, "score", "matches_reference"]]
    pivots = []
    original = _load._learner_pivot
    monkeypatch.setattr(_load, "_learner_pivot", lambda *a: pivots.append(p := original(*a)) or p)
    pd.testing.assert_frame_equal(analysis.responses(fresh_store, columns=report), expected)
    assert halves[-1] is not None and pivots[-1] is not None, "the index was not split at a learner"
    lower = (expected["cohort"].astype(str) + "\0" + expected["learner"].astype(str)) < "\0".join(pivots[-1])
    assert 0.25 < lower.mean() < 0.75  # the sample's middle learner splits the rows near their middle
    for skewed in [("", ""), (chr(0x10FFFF), "")]:  # every row on one side: still each once
        monkeypatch.setattr(_load, "_learner_pivot", lambda *a, at=skewed: at)
        pd.testing.assert_frame_equal(analysis.responses(fresh_store, columns=report), expected)


def test_a_column_null_in_one_half_only_keeps_its_text(fresh_store, halves):
    case = load_case("cosmetics")
    rows = [Response(learner=f"l{i:04d}", cohort="c", case_id=case.id, case_version=case.case_version,
                     option_id=case.options[i % len(case.options)].id,
                     stance=case.options[i % len(case.options)].stance, confidence=50,
                     justification="a reason long enough", phase="pre",
                     kitchener_power="high" if i >= 150 else None).row() for i in range(200)]
    fresh_store.add_many(rows)
    fast = analysis.responses(fresh_store)
    assert halves and halves[0] is not None
    pd.testing.assert_frame_equal(fast, read_sql_frame(fresh_store))
    assert fast["kitchener_power"].notna().sum() == 50


@contextmanager
def another_kernel_writing(path: str):
    """Another process holding the store's write lock until the block ends.

    A process, not a connection here: SQLite's locks are held per process, so this process's
    own lock would not stop the reader's copy of SQLite (and two copies on one file must not meet).
    """
    code = ("import sqlite3, sys\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "c.execute('BEGIN IMMEDIATE')\n"
            "print('locked', flush=True)\n"
            "sys.stdin.readline()\n"
            "c.execute('ROLLBACK')\n")
    writer = subprocess.Popen([sys.executable, "-c", code, path], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "locked"
        yield
    finally:
        writer.stdin.close()
        writer.wait()


def test_a_busy_store_is_read_in_one_transaction_instead(fresh_store, halves):
    into_store(simulate(learners=10, cohorts=1, seed=6), fresh_store)
    with another_kernel_writing(fresh_store.sqlite_path):  # no common snapshot for two readers
        fast = analysis.responses(fresh_store)
    assert halves == [None]
    pd.testing.assert_frame_equal(fast, read_sql_frame(fresh_store))


def test_picking_rows_equals_iloc_with_text_and_missing_values():
    df = pd.DataFrame({"learner": pd.array(["a", None, "c", "d"], dtype="str"), "n": [1, 2, 3, 4],
                       "phase": pd.Categorical(["pre", "post", None, "pre"])}, index=[10, 11, 12, 13])
    for positions in ([2, 0, 3], [], [1, 1]):
        pd.testing.assert_frame_equal(frame.take(df, np.array(positions, dtype=int)), df.iloc[positions])


def test_orders_on_combined_keys_equal_lexsort():
    rng = np.random.default_rng(8)
    for _ in range(100):
        n = int(rng.integers(1, 40))
        keys = [rng.integers(-3, 4, n) for _ in range(3)]
        assert (frame._lexical_order(keys) == np.lexsort(keys[::-1])).all()
        values = rng.integers(0, 4, n).astype(float)
        values[rng.random(n) < 0.2] = np.nan
        expected = np.lexsort((np.where(np.isnan(values), np.inf, values), keys[0]))
        assert (frame._stable_order(keys[0] + 3, values) == expected).all()


def test_first_and_last_answers_of_a_frame_in_order_equal_drop_duplicates():
    """A frame in order (as the tidy frame is) takes the shortcut; one out of order does not; both
    pick what a stable sort on the attempt and drop_duplicates pick, also with missing keys."""
    rng = np.random.default_rng(11)
    keys = ["cohort", "learner", "case_id", "phase"]
    shortcuts = 0
    for trial in range(60):
        n = int(rng.integers(2, 60))
        df = pd.DataFrame({k: pd.Categorical(rng.choice(["a", "b", "c", None], n)) for k in keys})
        df["attempt"] = rng.integers(1, 3, n)
        if trial % 2 == 0:  # in order, missing codes (-1) first, as codes compare
            df = df.iloc[np.lexsort([df["attempt"]] + [df[k].cat.codes for k in keys[::-1]])]
        df = df.reset_index(drop=True)
        shortcuts += frame._changes_if_in_order(df, keys, df["attempt"]) is not None
        for last in (False, True):
            ordered = df.assign(_row=np.arange(n)).sort_values("attempt", kind="stable")
            rows = ordered.drop_duplicates(keys, keep="last" if last else "first")["_row"]
            expected = np.isin(np.arange(n), rows.to_numpy())
            assert (frame._one_per_group(df, keys, df["attempt"], last=last) == expected).all()
    assert 30 <= shortcuts < 60  # every frame in order took it, and (nearly) none out of order did
    tidy = analysis.sample()
    assert frame._changes_if_in_order(tidy, frame.ANSWER_KEYS, tidy["attempt"]) is not None


def test_the_learner_by_case_matrix_equals_pivot_table():
    chosen = items._one_phase(analysis.sample(), "pre").copy()
    chosen.loc[chosen.sample(frac=0.2, random_state=1).index, "score"] = np.nan
    again = chosen.head(30).assign(cohort="another", score=0.25)  # the same learners in a second cohort
    chosen = pd.concat([chosen, again]).sample(frac=1, random_state=2)
    expected = chosen.pivot_table(index="learner", columns="case_id", values="score", aggfunc="first",
                                  observed=True).astype(float)
    pd.testing.assert_frame_equal(items._matrix(chosen, "score"), expected)


def test_forms_and_items_looked_up_per_case_equal_the_per_row_map():
    from widgets.analysis.prepost import with_forms
    from widgets.cases.forms import assessment_forms

    df = analysis.sample()
    df = df.assign(case_id=df["case_id"].cat.add_categories(["retired_case"]))
    df.loc[df.index[:5], "case_id"] = "retired_case"
    df.loc[df.index[5:8], "case_id"] = np.nan
    got = with_forms(df)
    forms = assessment_forms()
    ids = df["case_id"].astype(object)
    form = ids.map(lambda c: forms.form_of(c) if isinstance(c, str) else None)
    item = [forms.pair_label(forms.pair_of(c)) if isinstance(f, str) else c for c, f in zip(ids, form)]
    pd.testing.assert_series_equal(got["form"], pd.Series(pd.Categorical(form, categories=["A", "B"]), index=df.index,
                                                         name="form"))
    assert [None if pd.isna(x) else x for x in got["item"]] == [None if pd.isna(x) else x for x in item]

"""The reveal's cohort count stays fast on a large store: its index exists on new and old stores.

A later release added ``ix_responses_cohort_answers``. A store made before it gets the index when it is
next opened, without a schema version change (an older dualrole can still open it) and without
touching a row.
"""

from __future__ import annotations

import sqlalchemy as sa

from widgets.reporting.simulate import into_store, simulate
from widgets.store import open_store


def index_names(url: str) -> set[str]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        names = {i["name"] for i in sa.inspect(conn).get_indexes("responses")}
    engine.dispose()
    return names


def test_a_store_made_before_the_index_gets_it_on_open_with_its_rows_and_version_kept(store_url):
    store = open_store(store_url)
    into_store(simulate(learners=12, cohorts=2, seed=3), store)
    before = (store.count(), store.schema_version(), store.cohort_answers("cosmetics", "synthetic-cohort-1", "post"))
    store.engine.dispose()
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:  # as a store made made by an older release was
        conn.execute(sa.text("DROP INDEX ix_responses_cohort_answers"))
        conn.execute(sa.text("DELETE FROM dualrole_meta WHERE key = 'migration:cohort_answers_index'"))
    engine.dispose()
    assert "ix_responses_cohort_answers" not in index_names(store_url)

    reopened = open_store(store_url)

    assert "ix_responses_cohort_answers" in index_names(store_url)
    assert (reopened.count(), reopened.schema_version(),
            reopened.cohort_answers("cosmetics", "synthetic-cohort-1", "post")) == before
    assert sum(before[2].counts.values()) > 0


def test_sqlite_answers_the_cohort_count_from_the_index(fresh_store):
    with fresh_store.engine.connect() as conn:
        plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT learner, max(attempt) FROM responses "
            "WHERE case_id = 'cosmetics' AND cohort = 'c' AND phase = 'post' GROUP BY learner"))
    assert "ix_responses_cohort_answers" in plan


def test_a_cards_own_attempts_are_found_through_the_learner_index(fresh_store, make_response):
    """SQLite keeps no statistics here: with the learner and case indexes alone it once searched every
    answer to the case for a card's own attempts (about 30 ms a submit at a million responses)."""
    fresh_store.add(make_response("learner-1"))
    sent = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))

    sa.event.listen(fresh_store.engine, "before_cursor_execute", keep)
    try:
        fresh_store.responses(learner="learner-1", case_id="cosmetics", phase="pre")
    finally:
        sa.event.remove(fresh_store.engine, "before_cursor_execute", keep)
    statement, parameters = next((s, p) for s, p in sent if "FROM responses" in s)
    with fresh_store.engine.connect() as conn:
        plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters))
    assert "ix_responses_learner_answers (learner=? AND case_id=? AND phase=?)" in plan


def test_a_report_reads_the_analysis_index_alone_on_sqlite(fresh_store):
    """A cohort report's columns are all in ix_responses_analysis, so SQLite reads no row of the
    table (whose reasoning is most of each row), whether it reads the store whole or a half of it."""
    from widgets.store.schema import ANALYSIS_COLUMNS
    from widgets.store.sql import SQLITE_READS

    columns = sorted(ANALYSIS_COLUMNS)
    with fresh_store.engine.connect() as conn:
        for statement, parameters in [(SQLITE_READS.responses(columns), ()),
                                      (SQLITE_READS.responses(columns, learners="before"), ("c", "l")),
                                      (SQLITE_READS.responses(columns, learners="from"), ("c", "l"))]:
            plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement,
                                                                           parameters))
            assert "USING COVERING INDEX ix_responses_analysis" in plan, statement
        plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + SQLITE_READS.responses([*columns, "justification"])))
        assert "ix_responses_analysis" not in plan  # the reasoning is in the table alone


def test_the_readers_find_the_ends_of_the_rowids_without_walking_the_table(fresh_store):
    """min() and max() asked in one SELECT walk every row (half a second at 8M, twice per read, while
    writers wait for the readers to start); asked apart, SQLite looks at the ends of the table."""
    from widgets.store.sql import SQLITE_READS

    with fresh_store.engine.connect() as conn:
        plan = [str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + SQLITE_READS.rowid_range)]
    assert not [step for step in plan if step.startswith("SCAN responses")], plan
    assert sum(step == "SEARCH responses" for step in plan) == 2, plan


def test_the_store_state_counts_the_rows_without_reading_them(fresh_store, make_response):
    """A warm report reads the store's state first: counted in one SELECT with max(), SQLite read
    every row of an index (0.65 s at 8M); counted alone, it uses its row counter walk (0.17 s)."""
    from widgets.store.sql import SQLITE_READS

    statements = []
    sa.event.listen(fresh_store.engine, "before_cursor_execute", lambda *a: statements.append((a[2], a[3])))
    fresh_store.add(make_response("learner-1"))
    with fresh_store.engine.connect() as conn:
        state = fresh_store.read_state(conn)
    assert (state.rows, state.last_id) == (1, 1)
    statement, parameters = next((s, p) for s, p in statements if "count(" in s)
    with fresh_store.engine.connect() as conn:
        for sql, args in [(statement, parameters), (SQLITE_READS.row_count, ())]:
            plan = [str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, args)]
            assert "SEARCH responses" in plan and "SCALAR SUBQUERY 1" in plan, plan

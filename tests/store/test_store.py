"""The response store, run on both backends: a SQLite file and a real PostgreSQL server.

``store_url`` (tests/pg_fixture.py) is parametrised, so every test here runs twice. The writers are
separate processes, like learners' kernels; every learner in these tests is synthetic.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
from collections import Counter
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from _store_workers import (
    CASE,
    COHORT,
    commit_then_hang,
    context,
    count_rows,
    open_only,
    submit_and_read,
    synthetic_response,
    write_responses,
)

from widgets.errors import AlreadyAnswered, StoreError
from widgets.responses.contract import Response
from widgets.store import open_store, resolve_url
from widgets.store.engine import enter_wal
from widgets.store.migrations import MIGRATIONS, SCHEMA_VERSION


def run_processes(target, args_for, n):
    """Start ``n`` processes at once; return what each put on the results queue."""
    ctx = context()
    barrier = ctx.Barrier(n)
    results = ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args_for(i), barrier, results)) for i in range(n)]
    for p in procs:
        p.start()
    out = [results.get(timeout=180) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    return out


def in_new_process(url):
    ctx = context()
    results = ctx.Queue()
    p = ctx.Process(target=count_rows, args=(url, results))
    p.start()
    found = results.get(timeout=120)
    p.join(timeout=60)
    return found


def test_answers_survive_a_new_process(store_url):
    store = open_store(store_url)
    saved = store.add(synthetic_response("synthetic-a"))
    store.engine.dispose()

    count, ids = in_new_process(store_url)

    assert count == 1
    assert ids == [saved.response_id]


def test_timestamps_come_back_in_utc_on_every_backend(store_url):
    store = open_store(store_url)
    when = datetime(2025, 3, 1, 9, 30, tzinfo=timezone.utc)
    store.add(synthetic_response("synthetic-a", submitted_at=when, started_at=when))

    row = store.responses()[0]

    assert row["submitted_at"] == when
    assert row["submitted_at"].tzinfo is not None


def test_a_double_submit_of_one_attempt_is_refused(store_url):
    store = open_store(store_url)
    store.add(synthetic_response("synthetic-a"))

    with pytest.raises(AlreadyAnswered):
        store.add(synthetic_response("synthetic-a"))
    assert store.count() == 1


def test_16_learners_at_once_lose_nothing_and_duplicate_nothing(store_url):
    open_store(store_url).engine.dispose()  # the class store exists before the class starts

    outcomes = dict(run_processes(submit_and_read, lambda i: (store_url, i, 20), 16))

    assert [o["errors"] for o in outcomes.values()] == [[]] * 16
    # The shared attempt was submitted 16 times at once: exactly one was recorded.
    assert sum(o["won"] for o in outcomes.values()) == 1
    assert sum(o["already"] for o in outcomes.values()) == 15
    store = open_store(store_url)
    rows = store.responses(cohort=COHORT)
    assert len(rows) == 16 * 20 + 1
    assert len({r["response_id"] for r in rows}) == len(rows)
    assert store.cohort_answers(CASE, COHORT, "practice").counts == {"o1": 16 * 20 + 1}


def test_32_writers_times_200_all_arrive_without_error(store_url):
    open_store(store_url).engine.dispose()

    outcomes = dict(run_processes(write_responses, lambda i: (store_url, i, 200), 32))

    assert {w: e for w, e in outcomes.items() if e} == {}
    store = open_store(store_url)
    rows = store.responses()
    assert len(rows) == 6400
    assert len({r["response_id"] for r in rows}) == 6400
    per_worker = Counter(r["learner"].split("-")[1] for r in rows)
    assert per_worker == {f"w{i:02d}": 200 for i in range(32)}


def test_many_kernels_opening_a_new_store_at_once_create_it_once(store_url):
    outcomes = run_processes(open_only, lambda i: (store_url,), 12)

    assert outcomes == [("ok", SCHEMA_VERSION)] * 12
    store = open_store(store_url)
    with store.engine.connect() as conn:
        # Made once: one version record, one identity, and each migration recorded once.
        assert conn.scalar(sa.text("SELECT count(*) FROM dualrole_meta")) == 2 + len(MIGRATIONS)


def _locked_new_file(path):
    """A new SQLite file (not yet WAL) whose exclusive lock another kernel holds."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE made_first (x)")
    holder.execute("BEGIN EXCLUSIVE")
    # No busy handler: the pragma fails at once, as it does when kernels race to make one new store.
    opener = sqlite3.connect(path, isolation_level=None, timeout=0)
    return holder, opener


def test_switching_a_new_store_to_wal_waits_for_another_kernels_lock(tmp_path):
    holder, opener = _locked_new_file(tmp_path / "store.sqlite")
    threading.Timer(0.3, holder.execute, ("COMMIT",)).start()

    enter_wal(opener.cursor(), wait=10)

    assert opener.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_switching_to_wal_gives_up_when_the_lock_is_never_released(tmp_path):
    holder, opener = _locked_new_file(tmp_path / "store.sqlite")

    with pytest.raises(sqlite3.OperationalError, match="locked"):
        enter_wal(opener.cursor(), wait=0.2)
    holder.execute("COMMIT")


def test_kill_9_mid_transaction_loses_nothing_committed_and_leaves_no_partial_row(store_url):
    open_store(store_url).engine.dispose()
    ctx = context()
    in_transaction = ctx.Event()
    writer = ctx.Process(target=commit_then_hang, args=(store_url, 5, in_transaction, 3))
    writer.start()
    assert in_transaction.wait(timeout=120), "the writer never reached its open transaction"

    os.kill(writer.pid, signal.SIGKILL)
    writer.join(timeout=30)

    assert writer.exitcode == -signal.SIGKILL
    store = open_store(store_url)
    learners = sorted(r["learner"] for r in store.responses())
    assert learners == [f"synthetic-committed-{j}" for j in range(5)]
    # The store is not left locked: the next learner's submit goes through.
    store.add(synthetic_response("synthetic-after"))
    assert store.count() == 6


def test_a_newer_schema_is_refused_with_a_message_to_upgrade(store_url):
    store = open_store(store_url)
    store.add(synthetic_response("synthetic-a"))
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE dualrole_meta SET value = :v WHERE key = 'schema_version'"),
                     {"v": str(SCHEMA_VERSION + 1)})
    store.engine.dispose()

    with pytest.raises(StoreError) as refused:
        open_store(store_url)

    message = str(refused.value)
    assert f"store schema {SCHEMA_VERSION + 1}" in message
    assert "Upgrade" in message and "pip install -U dualrole" in message
    assert "Nothing was changed" in message
    engine = sa.create_engine(store_url)
    with engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT value FROM dualrole_meta WHERE key = 'schema_version'")) == str(SCHEMA_VERSION + 1)
        assert conn.scalar(sa.text("SELECT count(*) FROM responses")) == 1
    engine.dispose()


def test_a_foreign_responses_table_is_left_untouched(store_url):
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE responses (id INTEGER PRIMARY KEY, survey TEXT)"))
        conn.execute(sa.text("INSERT INTO responses VALUES (1, 'not ours')"))

    with pytest.raises(StoreError, match="not made by dualrole, so it is left untouched"):
        open_store(store_url)

    with engine.connect() as conn:
        assert sa.inspect(conn).get_table_names() == ["responses"]
        assert conn.execute(sa.text("SELECT id, survey FROM responses")).all() == [(1, "not ours")]
    engine.dispose()


def test_add_many_skips_known_ids_and_rolls_back_as_one(store_url):
    store = open_store(store_url)
    first = synthetic_response("synthetic-a")
    store.add(first)
    batch = [first.row(), synthetic_response("synthetic-b").row(), synthetic_response("synthetic-c").row()]

    assert store.add_many(batch) == 2
    assert store.add_many(batch) == 0
    assert store.count() == 3

    class Crash(Exception):
        pass

    with pytest.raises(Crash), store.transaction() as conn:
        store.add_many([synthetic_response("synthetic-d").row()], conn)
        raise Crash
    assert sorted(r["learner"] for r in store.responses()) == ["synthetic-a", "synthetic-b", "synthetic-c"]


def test_add_many_stores_exactly_what_the_plain_insert_stores(store_url, tmp_path, request):
    """add_many's prepared executemany (collect's path) against SQLAlchemy's own INSERT, value by value."""
    from datetime import timedelta

    from widgets.store.schema import responses_table

    eastern = timezone(timedelta(hours=-5))
    rows = [
        synthetic_response("synthetic-a").row(),
        synthetic_response("synthetic-b", 2, started_at=datetime(2025, 3, 1, 9, 30, 15, 123456, tzinfo=eastern),
                           submitted_at=datetime(2025, 3, 1, 9, 45, tzinfo=eastern), consent=True,
                           kitchener_power="high", option_order="o1,o2", reference_seen=True, distribution_seen=False,
                           stage="vote",
                           justification="Synthetic: «quotes», 'apostrophes' and a café.").row(),
        synthetic_response("synthetic-c", submitted_at=datetime(2025, 3, 2, 23, 59, 59)).row(),  # naive: UTC
    ]
    fast = open_store(store_url)
    plain = open_store(f"sqlite:///{tmp_path / 'plain.sqlite'}" if fast.backend == "sqlite"
                       else request.getfixturevalue("pg_server").new_database())
    with plain.transaction() as conn:
        conn.execute(responses_table.insert(), rows)

    assert fast.add_many(rows) == 3

    def stored(store):  # the raw values in the database, not read back through SQLAlchemy's types
        with store.engine.connect() as conn:
            return conn.exec_driver_sql("SELECT * FROM responses ORDER BY response_id").all()

    assert stored(fast) == stored(plain)
    assert [r["response_id"] for r in fast.responses()] == [r["response_id"] for r in plain.responses()]
    assert [r["distribution_seen"] for r in fast.responses(learner="synthetic-b")] == [False]
    plain.engine.dispose()


def test_add_many_fills_a_default_the_rows_leave_out(store_url):
    store = open_store(store_url)
    row = synthetic_response("synthetic-a").row()
    del row["consent"]

    assert store.add_many([row]) == 1
    assert store.responses()[0]["consent"] is False


def test_an_unreachable_postgresql_is_a_plain_store_error(pg_server):
    url = pg_server.url("postgres").replace(f":{pg_server.port}/", ":1/")

    with pytest.raises(StoreError, match=r"cannot open the response store postgresql\+psycopg://"):
        open_store(url)


def test_a_store_that_cannot_be_written_is_a_plain_store_error(tmp_path):
    folder = tmp_path / "a-folder-not-a-file"
    folder.mkdir()

    with pytest.raises(StoreError, match="cannot open the response store"):
        open_store(f"sqlite:///{folder}")


def test_plain_postgresql_urls_use_the_installed_driver():
    assert resolve_url("postgresql://t@db:5432/class") == "postgresql+psycopg://t@db:5432/class"
    assert resolve_url("postgres://t@db/class") == "postgresql+psycopg://t@db/class"
    assert resolve_url("sqlite:////srv/class.sqlite") == "sqlite:////srv/class.sqlite"


def test_a_password_never_appears_in_a_store_error():
    with pytest.raises(StoreError) as failed:
        open_store("postgresql+psycopg://teacher:s3cret@127.0.0.1:1/class")

    assert "s3cret" not in str(failed.value)
    assert "***" in str(failed.value)


def test_an_older_schema_is_migrated_in_one_transaction(store_url, monkeypatch):
    import widgets.store.migrations as migrations

    open_store(store_url).add(synthetic_response("synthetic-a"))

    def add_index(conn):
        conn.execute(sa.text("CREATE INDEX responses_by_phase ON responses (phase)"))

    def half_done_then_fail(conn):
        add_index(conn)
        raise RuntimeError("migration bug")

    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, migrations.Migration(
        "test_phase_index", half_done_then_fail, SCHEMA_VERSION + 1)))
    with pytest.raises(RuntimeError):
        open_store(store_url)
    engine = sa.create_engine(store_url)
    with engine.connect() as conn:  # nothing of the failed migration is left behind
        assert "responses_by_phase" not in {i["name"] for i in sa.inspect(conn).get_indexes("responses")}
    engine.dispose()

    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS[:-1], migrations.Migration(
        "test_phase_index", add_index, SCHEMA_VERSION + 1)))
    migrated = open_store(store_url)

    assert migrated.schema_version() == SCHEMA_VERSION + 1
    assert migrated.count() == 1
    with migrated.engine.connect() as conn:
        assert "responses_by_phase" in {i["name"] for i in sa.inspect(conn).get_indexes("responses")}
    open_store(store_url)  # recorded: opening again does not apply it twice


def test_a_version_1_store_gains_the_columns_of_what_the_learner_was_shown(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    store = open_store(url)
    store.add(Response(learner="ana", cohort="c", case_id="cosmetics", case_version="v", option_id="decline_only",
                       stance="decline", confidence=60, justification="An answer given before the upgrade."))
    store.engine.dispose()
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # as version 1 made it
        conn.execute(sa.text("DROP INDEX ix_responses_analysis"))  # added later, on these columns
        for name in ("option_order", "reference_seen", "stage", "distribution_seen"):
            conn.execute(sa.text(f"ALTER TABLE responses DROP COLUMN {name}"))
        conn.execute(sa.text("UPDATE dualrole_meta SET value = '1' WHERE key = 'schema_version'"))
        conn.execute(sa.text("DELETE FROM dualrole_meta WHERE key LIKE 'migration:%'"))  # kept by none then
    engine.dispose()

    upgraded = open_store(url)

    assert upgraded.schema_version() == SCHEMA_VERSION == 2
    [row] = upgraded.responses()
    assert row["justification"] == "An answer given before the upgrade."
    assert (row["option_order"], row["reference_seen"], row["stage"], row["distribution_seen"]) == (None,) * 4

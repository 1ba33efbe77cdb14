"""Scripts in the store, on both backends: append-only, the latest of each learner and case counts,
erased with the learner, and carried by collect like reflections. Every learner here is synthetic."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from widgets.responses.contract import Script
from widgets.store import open_store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def script(learner: str, case_id: str = "cosmetics", minutes: int = 0, text: str = "First words I would say.",
           checks=(0, 2)) -> Script:
    return Script(learner=learner, cohort="synthetic-class", case_id=case_id, case_version="v1",
                  response_id="0f8fad5b-d9cb-469f-a165-70867728950e", kind="script", text=text,
                  checks=list(checks), created_at=T0 + timedelta(minutes=minutes))


def test_a_saved_script_comes_back_whole(store_url):
    store = open_store(store_url)
    saved = store.save_script(script("synthetic-ana"))
    [row] = store.scripts(learner="synthetic-ana")
    assert row == saved.row()
    assert row["checks"] == [0, 2] and row["created_at"] == T0


def test_a_later_save_is_a_new_row_and_the_latest_counts(store_url):
    store = open_store(store_url)
    store.save_script(script("synthetic-ana", minutes=0, text="First words I would say."))
    store.save_script(script("synthetic-ana", minutes=5, text="Better words, said the second time.", checks=[1]))
    store.save_script(script("synthetic-ana", case_id="gift_scarf", minutes=1))
    store.save_script(script("synthetic-ben", minutes=2))

    assert [r["text"] for r in store.scripts(learner="synthetic-ana", case_id="cosmetics")] == [
        "First words I would say.", "Better words, said the second time."]
    latest = store.latest_scripts(cohort="synthetic-class")
    assert [(r["learner"], r["case_id"], r["text"], r["checks"]) for r in latest] == [
        ("synthetic-ana", "cosmetics", "Better words, said the second time.", [1]),
        ("synthetic-ana", "gift_scarf", "First words I would say.", [0, 2]),
        ("synthetic-ben", "cosmetics", "First words I would say.", [0, 2]),
    ]
    assert [r["learner"] for r in store.latest_scripts(case_id="cosmetics", learner="synthetic-ben")] == [
        "synthetic-ben"]


def test_scripts_go_with_the_learner_who_erases(store_url):
    store = open_store(store_url)
    store.save_script(script("synthetic-ana"))
    store.save_script(script("synthetic-ben"))
    store.erase_learner("synthetic-ana")
    assert [r["learner"] for r in store.scripts()] == ["synthetic-ben"]


def test_collect_adds_each_script_once(store_url):
    store = open_store(store_url)
    rows = [script("synthetic-ana").row(), script("synthetic-ben").row()]
    with store.transaction() as conn:
        assert store.add_scripts(rows, conn) == 2
    with store.transaction() as conn:
        assert store.add_scripts(rows, conn) == 0
    assert len(store.scripts()) == 2


def test_a_store_from_before_scripts_gains_the_table(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    open_store(url).engine.dispose()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE scripts")
        conn.exec_driver_sql("DELETE FROM dualrole_meta WHERE key = 'migration:scripts_table'")
    engine.dispose()
    store = open_store(url)
    store.save_script(script("synthetic-ana"))
    assert len(store.latest_scripts()) == 1

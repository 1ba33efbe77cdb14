"""One way the store's schema changes: a store written by the previous release is migrated on open,
its rows kept and its schema version left where an older dualrole still reads it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa

from widgets.responses.contract import utcnow
from widgets.responses.pacing import ClassState
from widgets.store import open_store
from widgets.store.class_state import ClassBook
from widgets.store.migrations import MIGRATIONS, SCHEMA_VERSION

PREVIOUS_RELEASE = Path(__file__).resolve().parents[1] / "data" / "store-previous-release.sql"


def previous_release_store(tmp_path) -> str:
    path = tmp_path / "previous.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript(PREVIOUS_RELEASE.read_text(encoding="utf-8"))
    conn.close()
    return f"sqlite:///{path}"


def meta(url: str) -> dict[str, str]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = dict(conn.execute(sa.text("SELECT key, value FROM dualrole_meta")).all())
    engine.dispose()
    return rows


def test_a_store_written_by_the_previous_release_is_migrated_on_open(tmp_path, make_response):
    url = previous_release_store(tmp_path)
    assert not any(key.startswith("migration:") for key in meta(url))  # the previous release kept no records

    store = open_store(url)

    recorded = meta(url)
    assert {f"migration:{m.name}" for m in MIGRATIONS} <= set(recorded)
    assert recorded["schema_version"] == str(SCHEMA_VERSION) == "2"  # the previous release still opens it
    with store.engine.connect() as conn:
        assert "dualrole_class_state" in sa.inspect(conn).get_table_names()
    rows = store.responses(cohort="synthetic-previous-release")
    assert sorted((r["learner"], r["attempt"]) for r in rows) == [("synthetic-ana", 1), ("synthetic-ana", 2),
                                                                   ("synthetic-ben", 1)]
    assert {r["distribution_seen"] for r in rows} == {None}  # older rows: not recorded
    assert store.consent("synthetic-ana") and len(store.reflections(learner="synthetic-ana")) == 1
    # The migrated store works as a new one does: answers, counts and class mode.
    counts = store.answer_counts("cosmetics", "synthetic-previous-release", "practice")
    assert sum(counts["latest"].values()) == 2 and sum(counts["first"].values()) == 2
    store.add(make_response("synthetic-cai", cohort="synthetic-previous-release", distribution_seen=False))
    store.add(make_response("synthetic-cai", cohort="synthetic-previous-release", attempt=2, distribution_seen=True,
                            justification="Seeing the class split made me weigh the harm to the client again."))
    kept = store.responses(learner="synthetic-cai", cohort="synthetic-previous-release")
    assert sorted((r["attempt"], r["distribution_seen"]) for r in kept) == [(1, False), (2, True)]
    book = ClassBook(store)
    book.put(ClassState("synthetic-previous-release", "cosmetics", "voting", updated_at=utcnow(), updated_by="dr-lee"))
    assert book.get("synthetic-previous-release", "cosmetics").stage == "voting"


def test_a_migrated_store_opens_again_without_applying_anything(tmp_path):
    url = previous_release_store(tmp_path)
    open_store(url).engine.dispose()
    first = meta(url)

    open_store(url)

    assert meta(url) == first  # every migration recorded once, with the time it was applied

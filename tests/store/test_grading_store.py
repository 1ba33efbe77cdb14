"""Scores and released feedback in the store, on SQLite and on a real PostgreSQL server.

Score sheets are append-only (who scored, when, under which rubric version); the latest sheet of
each scorer counts. A store made before these tables existed gets them when it is next opened,
with its rows and schema version unchanged. Every learner here is synthetic.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from _store_workers import synthetic_response

from widgets.errors import DualroleError
from widgets.grading.files import default_rubric
from widgets.store import open_store
from widgets.store.scores import ScoreBook


def scored_store(url):
    store = open_store(url)
    for learner in ("synthetic-ana", "synthetic-ben"):
        store.add(synthetic_response(learner))
    return store, ScoreBook(store)


def response_of(store, learner):
    return store.responses(learner=learner)[0]


def test_score_sheets_are_appended_and_the_latest_of_each_scorer_counts(store_url):
    store, book = scored_store(store_url)
    rubric = default_rubric()
    ana = response_of(store, "synthetic-ana")["response_id"]
    book.record(ana, "dr-lee", rubric, {"roles": 1, "risks": 0}, "First pass.")
    book.record(ana, "dr-lee", rubric, {"roles": 2, "risks": 1, "standard": 2}, "Reread: the roles are clear.")
    book.record(ana, "dr-kim", rubric, {"roles": 1}, "")

    every = book.sheets(latest=False)
    latest = book.sheets()

    assert len(every) == 3  # nothing overwritten
    assert {(r["scorer"], tuple(sorted(r["levels"].items()))) for r in latest} == {
        ("dr-lee", (("risks", 1), ("roles", 2), ("standard", 2))), ("dr-kim", (("roles", 1),))}
    sheet = next(r for r in latest if r["scorer"] == "dr-lee")
    assert sheet["rubric_id"] == "ethical_reasoning" and sheet["rubric_version"] == rubric.version
    assert sheet["learner"] == "synthetic-ana" and sheet["scored_at"].tzinfo is not None
    assert sheet["comment"] == "Reread: the roles are clear."


@pytest.mark.parametrize("levels, message", [
    ({"roles": 3}, "criterion 'roles' takes a level from 0 to 2, not 3"),
    ({"tone": 1}, "'tone' is not a criterion of rubric 'ethical_reasoning'"),
])
def test_a_level_outside_the_rubric_is_refused_and_nothing_is_stored(fresh_store, levels, message):
    fresh_store.add(synthetic_response("synthetic-ana"))
    book = ScoreBook(fresh_store)
    with pytest.raises(DualroleError, match=message):
        book.record(response_of(fresh_store, "synthetic-ana")["response_id"], "dr-lee", default_rubric(), levels)
    assert book.sheets(latest=False) == []


def test_released_feedback_is_kept_per_learner_and_erased_with_their_answers(store_url):
    store, book = scored_store(store_url)
    ana = response_of(store, "synthetic-ana")
    levels = {"roles": 2, "risks": 1, "standard": 1, "action": 0, "alternative": 2}
    book.record(ana["response_id"], "dr-lee", default_rubric(), levels, "Good: both roles named.")

    released = book.release(ana["response_id"], released_by="dr-lee", rubric=default_rubric())

    assert released["case_version"] == ana["case_version"]
    assert released["levels"][0] == {"criterion": "roles", "label": "Names the roles involved", "level": 2,
                                     "top": 2, "descriptor": "Names both roles and where they overlap."}
    assert [level["level"] for level in released["levels"]] == [2, 1, 1, 0, 2]
    assert [f["comment"] for f in store.feedback("synthetic-ana")] == ["Good: both roles named."]
    assert store.feedback("synthetic-ben") == []
    assert store.feedback("synthetic-ana", case_id="another_case") == []
    book.reconcile(ana["response_id"], "dr-lee", default_rubric(), levels)
    store.erase_learner("synthetic-ana")
    assert store.feedback("synthetic-ana") == [] and book.sheets(latest=False) == [] and book.reconciled() == []


def test_releasing_an_unscored_answer_is_refused(fresh_store):
    fresh_store.add(synthetic_response("synthetic-ana"))
    with pytest.raises(DualroleError, match="not scored yet"):
        ScoreBook(fresh_store).release(response_of(fresh_store, "synthetic-ana")["response_id"], "dr-lee",
                                       default_rubric())


def test_a_store_made_before_the_grading_tables_gets_them_on_open(store_url):
    store = open_store(store_url)
    store.add(synthetic_response("synthetic-ana"))
    version = store.schema_version()
    store.engine.dispose()
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:  # as a store made by an earlier release was
        conn.execute(sa.text("DROP TABLE dualrole_scores"))
        conn.execute(sa.text("DROP TABLE dualrole_feedback"))
        conn.execute(sa.text("DELETE FROM dualrole_meta WHERE key = 'migration:grading_tables'"))
    engine.dispose()

    reopened = open_store(store_url)

    with reopened.engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
    assert {"dualrole_scores", "dualrole_feedback"} <= tables
    assert reopened.count() == 1 and reopened.schema_version() == version
    ScoreBook(reopened).record(response_of(reopened, "synthetic-ana")["response_id"], "dr-lee",
                               default_rubric(), {"action": 1})

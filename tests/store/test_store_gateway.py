"""The store as the one gateway to its tables: what callers ask of it by intent, and the one
"each learner's latest answer" statement, against the analysis layer's pandas fast path."""

from __future__ import annotations

import random

import pytest

from widgets.analysis.frame import answers, responses
from widgets.cases.library import load_case
from widgets.store import open_store
from widgets.store.sql import SQLITE_READS

CASES = ("cosmetics", "small_holiday_gift")


@pytest.fixture
def mixed_class(store_url, make_response):
    """Two cohorts, two phases, two cases: everyone answers once, some change their mind (attempt 2)."""
    store = open_store(store_url)
    rng = random.Random(7)
    rows = []
    for n in range(24):
        learner, cohort = f"synthetic-{n:02d}", f"synthetic-{'ab'[n % 2]}"
        for case_id in CASES:
            options = load_case(case_id).option_ids
            for phase in ("pre", "post"):
                if rng.random() < 0.2:
                    continue  # not everyone answers everything
                rows.append(make_response(learner, rng.choice(options), case_id=case_id, cohort=cohort, phase=phase))
                if rng.random() < 0.4:
                    rows.append(make_response(learner, rng.choice(options), case_id=case_id, cohort=cohort,
                                              phase=phase, attempt=2))
    store.add_many(r.row() for r in rows)
    return store


def _frame_counts(df, case_id, cohort, phase, attempt):
    chosen = answers(df, phase=phase, attempt=attempt)
    chosen = chosen[(chosen["case_id"] == case_id) & (chosen["cohort"] == cohort)]
    counts = chosen["option_id"].astype(str).value_counts()
    return {option: int(n) for option, n in counts.items() if n}


def test_the_latest_answer_statement_and_the_frames_fast_path_agree(mixed_class):
    """``Store.answer_counts`` (one window-function pass in SQL) and ``analysis.answers`` (pandas over
    codes) are two ways to take each learner's first and latest answer: they must count alike."""
    df = responses(mixed_class)
    checked = 0
    for case_id in CASES:
        for cohort in ("synthetic-a", "synthetic-b"):
            for phase in ("pre", "post"):
                counts = mixed_class.answer_counts(case_id, cohort, phase)
                assert counts["latest"] == _frame_counts(df, case_id, cohort, phase, "final")
                assert counts["first"] == _frame_counts(df, case_id, cohort, phase, "first")
                shown = mixed_class.cohort_answers(case_id, cohort, phase)
                assert shown.counts == counts["latest"] and shown.total == sum(counts["latest"].values())
                checked += sum(counts["latest"].values())
    assert checked > 50  # the scenario answered enough to mean something


def test_a_changed_mind_counts_once_in_latest_and_once_in_first(fresh_store, make_response):
    case = load_case("cosmetics")
    first, second = case.option_ids[:2]
    fresh_store.add(make_response("synthetic-ana", first, phase="pre"))
    fresh_store.add(make_response("synthetic-ana", second, phase="pre", attempt=2))
    fresh_store.add(make_response("synthetic-ben", first, phase="pre"))
    counts = fresh_store.answer_counts("cosmetics", "synthetic-class", "pre")
    assert counts == {"first": {first: 2}, "latest": {first: 1, second: 1}}


def test_held_finds_a_batchs_known_ids_and_its_learners_taken_attempts(fresh_store, make_response):
    kept = fresh_store.add(make_response("synthetic-ana", phase="pre"))
    new = make_response("synthetic-ana", phase="post")
    with fresh_store.transaction() as conn:
        existing, taken = fresh_store.held(conn, [kept.response_id, new.response_id], ["synthetic-ana"])
    key = ("synthetic-ana", "synthetic-class", "cosmetics", "pre", 1)
    assert existing == {kept.response_id: key}
    assert taken == {key: kept.response_id}


def test_count_can_leave_out_synthetic_cohorts(fresh_store, make_response):
    fresh_store.add(make_response("synthetic-ana", cohort="synthetic-class"))
    fresh_store.add(make_response("ana", cohort="psy501"))
    assert fresh_store.count() == 2
    assert fresh_store.count(except_cohorts_starting="synthetic-") == 1


def test_the_raw_readers_statements_name_only_real_columns():
    assert SQLITE_READS.responses(["learner", "kitchener_power"], blank_nulls=("kitchener_power",), upto=9) == (
        "SELECT learner, coalesce(kitchener_power, '') AS kitchener_power FROM responses "
        "WHERE rowid <= 9 ORDER BY rowid")
    with pytest.raises(ValueError, match="not columns"):
        SQLITE_READS.responses(["learner; DROP TABLE responses"])


def _longest(spec: dict) -> int | None:
    """The longest text the JSON Schema lets a field hold, or None when it does not bound it."""
    import re

    if "maxLength" in spec:
        return spec["maxLength"]
    if "enum" in spec:
        return max(len(v) for v in spec["enum"] if isinstance(v, str))
    if "pattern" in spec and spec["pattern"].startswith("^[0-9a-f]{8}-"):
        return 36  # a UUID
    bounded = re.fullmatch(r"\^\[[^\]]+\]\{1,(\d+)\}\$", spec.get("pattern", ""))
    return int(bounded.group(1)) if bounded else None


def test_the_stores_column_widths_are_the_json_schemas_limits():
    """The JSON Schema states each field's limit once; the tables must hold exactly what it allows."""
    import sqlalchemy as sa

    from widgets.responses.contract import response_schema
    from widgets.store.schema import reflections_table, responses_table

    schema = response_schema()
    checked = 0
    for table, properties in ((responses_table, schema["properties"]),
                              (reflections_table, schema["$defs"]["reflection"]["properties"])):
        for column in table.columns:
            if not isinstance(column.type, sa.String) or column.name not in properties:
                continue
            limit = _longest(properties[column.name])
            width = column.type.length
            if width is None:  # Text: unbounded in the store, so the schema must bound it
                assert limit is not None, f"{table.name}.{column.name}: neither bounds the text"
            elif "maxLength" in properties[column.name]:
                assert width == limit, f"{table.name}.{column.name}: {width} wide, the schema allows {limit}"
            else:
                assert limit is not None and width >= limit, f"{table.name}.{column.name}: {width} < {limit}"
            checked += 1
    assert checked >= 20

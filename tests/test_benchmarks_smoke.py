"""The benchmark code still works: a small run of each piece, checking results, never time.

The cohort report is made three ways on a small synthetic store and must agree number for number;
the other benchmarks run at toy sizes and must report what they did. ``make bench`` runs the real
sizes and writes ``benchmarks/results.md``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("duckdb", reason="the benchmark baselines need DuckDB: pip install -e '.[test]'")

from benchmarks import cohort, data, lecture, loading, measure, pipelines, report, startup, submit  # noqa: E402
from widgets.cases import load_library  # noqa: E402

SMALL = 10_000


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "cohort.synthetic.sqlite"
    built, rows = data.build_store(SMALL, path=path)
    return built, rows


def test_the_synthetic_store_holds_the_simulated_rows_as_the_store_itself_would(store, fresh_store):
    from widgets import analysis
    from widgets.reporting.simulate import into_store

    path, rows = store
    assert 9_000 < rows < 14_000  # about 10k, scaled by the number of lesson cases
    # The benchmark's bulk insert writes what Store.add_many writes: the same tidy frame back.
    cohort = data.cohort(2_000)
    into_store(cohort, fresh_store)
    bulk = path.with_name("bulk.sqlite")
    data.Store(f"sqlite:///{bulk}").engine.dispose()
    data.bulk_insert(bulk, cohort)
    data.add_consents(bulk, cohort)
    pd.testing.assert_frame_equal(analysis.responses(bulk), analysis.responses(fresh_store))
    assert analysis.is_synthetic(analysis.responses(bulk))


def test_dualrole_duckdb_and_plain_pandas_give_the_same_report(store):
    path, _ = store
    reports = {name: pipelines.PIPELINES[name](path) for name in ("dualrole", "duckdb", "pandas")}
    assert pipelines.compare(reports["dualrole"], reports["duckdb"]) == []
    assert pipelines.compare(reports["dualrole"], reports["pandas"]) == []
    ours = reports["dualrole"]
    assert set(ours) == {"summary", "kappa", "items", "prepost", "calibration", "cohorts", "brier"}
    lesson_cases = sum(1 for c in load_library() if c.use == "lesson")
    assert len(ours["summary"]) == 2 * lesson_cases and len(ours["items"]) == 2 * lesson_cases  # pre and post
    assert ours["kappa"]["kappa"].between(-1, 1).all()
    assert int(ours["calibration"]["n"].sum()) == int(ours["summary"]["n"].sum())


def test_the_warm_report_and_duckdb_over_the_snapshot_agree_after_new_answers(store, monkeypatch):
    path, rows = store
    monkeypatch.setattr(data, "build_store", lambda size: (path, rows))
    warm = cohort.run_warm(SMALL, reps=1)
    assert warm["agree"] and warm["appended"] > 0 and warm["responses"] == rows
    assert set(warm["seconds"]) == {"dualrole_warm", "duckdb_parquet"}
    assert pipelines.count_rows(path) == rows  # the new answers went into a copy: the cached store is as built


def test_start_up_is_timed_against_a_bare_interpreter_and_names_heavy_imports():
    figures = startup.imports(runs=1)
    assert figures["python_s"] > 0 and figures["help_s"] > 0 and figures["import_widgets_s"] > 0
    assert figures["heavy_after_import"] == [] and figures["heavy_after_help"] == []


def test_compare_names_the_first_number_that_differs(store):
    path, _ = store
    ours = pipelines.dualrole_report(path)
    changed = {name: frame.copy() for name, frame in ours.items()}
    changed["items"].iloc[3, changed["items"].columns.get_loc("difficulty")] += 1e-6
    problems = pipelines.compare(ours, changed)
    assert len(problems) == 1 and problems[0].startswith("items.difficulty at ")


def test_every_loader_gives_the_adopted_frame(store):
    path, _ = store
    rows = loading.run(path, runs=1)
    assert [r["reader"] for r in rows][-1] == "Parquet copy (a cache)"
    assert all(r["same_frame"] for r in rows), rows


def test_submit_latency_commits_and_reveals_every_sample(store, monkeypatch):
    path, rows = store
    monkeypatch.setattr(data, "build_store", lambda size: (path, rows))
    figures = submit.run(SMALL, samples=5)
    assert figures["samples"] == 5 and figures["responses"] == rows
    assert 0 < figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"]


@pytest.mark.parametrize("backend", ["SQLite", pytest.param("PostgreSQL", marks=pytest.mark.postgres)])
def test_lecture_hall_through_a_real_hub_records_each_answer_once_and_shows_it_to_all(backend):
    from conftest import skip_or_fail

    try:
        import jupyterhub  # noqa: F401
    except ImportError:
        skip_or_fail("JupyterHub is not installed: pip install -e '.[test]' to run the lecture-hall benchmark")
    from hub.realhub import proxy_command
    from pg_fixture import PG_BIN

    if proxy_command() is None:
        skip_or_fail("configurable-http-proxy not found: run 'npm ci --prefix tests/hub'")
    if backend == "PostgreSQL" and not (PG_BIN / "initdb").exists():
        skip_or_fail(f"PostgreSQL 15 binaries not found in {PG_BIN}: install postgresql-15")
    # Twenty learners vote within half a second and read within another: the benchmark's spread (a 2 s
    # window, a 3 s poll) would only add idle time, and a tighter burst is the harder case.
    hall = lecture.run_one(backend, learners=20, window=0.5, workers=8, poll=0.5)
    assert hall["first_errors"] == [] and hall["errors"] == 0
    assert hall["answers"] == hall["stored"] == hall["class_total"] == 20
    assert hall["lost"] == 0 and hall["duplicated"] == 0 and hall["everyone_saw_all"]
    # Every learner's token was checked by the Hub itself at least once (HubAuth's cache keeps the rest).
    assert hall["hub_lookups"] >= 20
    assert 0 < hall["post_p50_ms"] <= hall["post_p99_ms"] and 0 < hall["dist_p50_ms"] <= hall["dist_p99_ms"]


def test_lecture_hall_counts_lost_and_duplicated_answers():
    names = [lecture.learner_name(i) for i in range(3)]
    stored = [{"learner": names[0]}, {"learner": names[0]}, {"learner": names[2]}]
    figures = lecture._figures(3, 2.0, 2.0, [], [5.0] * 3, [6.0] * 3, [4.0] * 3, [3, 3, 2], stored,
                               {"latest": {"a": 2, "b": 1}}, [1.0], 3, names)
    assert figures["lost"] == 1 and figures["duplicated"] == 1 and figures["stored"] == 3
    assert not figures["everyone_saw_all"] and not lecture.met(figures)


HALL = {"learners": 1000, "window_s": 20.0, "voted_s": 20.1, "errors": 0, "first_errors": [], "answers": 1000,
        "stored": 1000, "lost": 0, "duplicated": 0, "class_total": 1000, "everyone_saw_all": True,
        "post_p50_ms": 12.0, "post_p99_ms": 80.0, "state_p99_ms": 120.0, "dist_p50_ms": 9.0, "dist_p99_ms": 60.0,
        "hub_check_p50_ms": 6.0, "hub_check_p99_ms": 11.0, "hub_lookups": 1001, "service_post_p99_ms": 70.0,
        "service_dist_p99_ms": 50.0, "read_s": 3.1, "read_cpu_ms": 2.5, "read_cpu_share": 0.8,
        "learners_cpu_share": 0.9}


def figures(cohort: list[dict]) -> dict:
    """A whole run's figures around the given cohort rows, as benchmarks.run gathers them."""
    burst = {"warm": True, "learners": 3, "answers": 15, "window_s": 6, "elapsed_s": 6.1, "ok": 15, "errors": 0,
             "first_errors": [], "throughput": 2.5, "p50_ms": 9.0, "p99_ms": 40.0, "reveal_p50_ms": 12.0,
             "reveal_p99_ms": 50.0}
    return {
        "machine": {"date": "2025-01-13 09:00 UTC", "cores": 2, "cpu": "test", "memory_gb": 24, "python": "3.11",
                    "pandas": pd.__version__, "numpy": np.__version__, "sqlalchemy": "2", "duckdb": "1",
                    "load": (1.0, 1.0, 1.0), "load_after": (1.0, 1.0, 1.0)},
        "data": {"lesson_cases": 49, "rows_per_learner": 101.4, "learners_per_cohort": 500},
        "quick": False, "cohort": cohort,
        "loading": {"responses": 10_000, "rows": [{"reader": "x", "seconds": 0.1, "same_frame": True}]},
        "collect": [{"backend": "SQLite", "bundles": 2, "responses": 160, "seconds": 1.0, "per_second": 160.0,
                     "bulk_seconds": 0.1, "bulk_per_second": 1600.0, "ratio": 10.0}],
        "submit": {"responses": 10_000, "samples": 5, "p50_ms": 3.0, "p99_ms": 60.0, "max_ms": 61.0},
        "burst": burst, "burst_cold": dict(burst, warm=False, p99_ms=900.0),
        "lecture": [dict(HALL, backend="PostgreSQL", processes=1), dict(HALL, backend="SQLite", dist_p99_ms=300.0)],
        "imports": {"python_s": 0.02, "import_widgets_s": 0.2, "help_s": 0.25, "import_analysis_s": 1.5, "runs": 3,
                    "heavy_after_import": [], "heavy_after_help": []},
        "warm": [{"size": 1_000_000, "responses": 1_000_000, "reps": 1, "appended": 101,
                  "seconds": {"dualrole_warm": 1.5, "duckdb_parquet": 0.5},
                  "peak_mb": {"dualrole_warm": 600.0, "duckdb_parquet": 300.0}}],
        "notebooks": None, "profiles": {"collect": "profiles/collect-10000.txt"},
    }


def test_results_file_and_plot_are_written_from_figures(tmp_path):
    cohort = [{"size": s, "responses": s, "reps": 1, "seconds": {"dualrole": 2e-6 * s, "duckdb": 1e-6 * s, "pandas": 1e-5 * s},
               "peak_mb": {"dualrole": 500.0, "duckdb": 400.0, "pandas": 900.0}} for s in (10_000, 1_000_000)]
    results = figures(cohort)
    report.write_results(results, tmp_path / "results.md")
    report.write_plot(results, tmp_path / "cohort.png")
    text = (tmp_path / "results.md").read_text()
    assert "**2 cores**" in text and "2025-01-13" in text
    assert "| 1,000,000 | 1 | 101 | 1.50 s | 0.50 s | 3.00× | 1.3× | 600 / 300 MB |" in text
    assert "1M: warm within 1.0x of DuckDB over the snapshot: **missed**" in text
    assert "| `dualrole --help` | 0.25 s |" in text
    assert "| 1,000,000 | 1 | 2.00 s | 1.00 s | 10.00 s | 2.00× | 5.0× |" in text
    assert "1M: cold within 1.0x of DuckDB: **missed**" in text and "1M: 5x faster than plain pandas: met" in text
    assert "| 5 | 60.0 ms" not in text and "| 3.0 ms | 60.0 ms | 61.0 ms | **missed** |" in text
    assert "cold start" in text and "PostgreSQL: not measured" in text
    assert "| PostgreSQL | 1 | 1,000 in 20.1 s | 0 | 0 | 0 | yes | 12 / 80 ms | 120 ms | 9 / 60 ms | 1,001 | met |" in text
    assert "| SQLite | 1 | 1,000 in 20.1 s |" in text and "| 9 / 300 ms | 1,001 | **missed** |" in text
    assert "| PostgreSQL | 1 | 3.1 s | 50 ms | 60 ms | 2.5 ms | 80% of a core | 90% of a core |" in text
    assert (tmp_path / "cohort.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_8m_run_reports_each_target_and_explains_the_memory(tmp_path):
    cohort = [{"size": s, "responses": s, "reps": 1, "seconds": {"dualrole": 3e-6 * s, "duckdb": 1e-6 * s, "pandas": 2e-5 * s},
               "peak_mb": {"dualrole": 0.0008 * s, "duckdb": 400.0, "pandas": 900.0}} for s in (1_000_000, 8_000_000)]
    results = figures(cohort)
    report.write_results(results, tmp_path / "results.md")
    text = (tmp_path / "results.md").read_text()
    assert "8M: cold within 1.0x of DuckDB: **missed**" in text and "8M: 5x faster than plain pandas: met" in text
    assert "8M: peak memory < 3 GB: **missed**" in text and "8M: 8M <= 8.5x the 1M time: met" in text
    assert "At 8M the peak was 6,400 MB, about 800 MB per million responses:" in text
    assert "From 1M to 8M dualrole's time grew 8.0× and DuckDB's 8.0×, for 8.0× the responses." in text


def test_a_baseline_killed_for_want_of_memory_is_reported_as_a_lower_bound(tmp_path):
    cohort = [{"size": s, "responses": s, "reps": 1, "seconds": {"dualrole": 3e-6 * s, "duckdb": 2.5e-6 * s, "pandas": 2e-5 * s},
               "peak_mb": {"dualrole": 0.0003 * s, "duckdb": 400.0, "pandas": 900.0}} for s in (1_000_000, 8_000_000)]
    cohort[1]["seconds"]["pandas"], cohort[1]["peak_mb"]["pandas"] = None, None
    cohort[1]["killed"] = {"pandas": 480.0}
    results = figures(cohort)
    report.write_results(results, tmp_path / "results.md")
    report.write_plot(results, tmp_path / "cohort.png")
    text = (tmp_path / "results.md").read_text()
    assert "| killed after 480 s (out of memory) | 1.20× | ≥ 20.0× |" in text
    assert "8M: 5x faster than plain pandas: met" in text and "the ratio against it is a lower bound" in text


def test_a_child_killed_by_a_signal_is_told_apart_from_a_failure():
    with pytest.raises(measure.Killed) as caught:
        measure.in_child("os:abort")
    assert caught.value.signal == 6 and caught.value.seconds > 0


def test_a_childs_peak_memory_is_its_own_not_the_runners():
    """A runner holding a large frame must not lend its size to every pipeline it starts (Linux carries a
    forked child's ru_maxrss across exec, which once made DuckDB and dualrole read the same 2,038 MB)."""
    held = bytearray(400 * 1024 * 1024)
    held[:: 4096] = b"x" * len(held[:: 4096])  # touch every page, so the runner really holds it
    figures = measure.in_child("os:getpid")
    assert figures["peak_mb"] < 300, figures
    del held

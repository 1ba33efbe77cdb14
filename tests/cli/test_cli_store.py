"""``--store`` is one option with one meaning: every command takes a bare file path as a SQLite store."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from widgets import analysis
from widgets.analysis import snapshot
from widgets.cli import cli
from widgets.learner import identity
from widgets.store import open_store


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DUALROLE_STORE", raising=False)
    return tmp_path


def run(*args):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result


def test_simulate_then_report_and_research_export_on_a_bare_path(in_tmp, monkeypatch):
    monkeypatch.setattr(snapshot, "MIN_ROWS", 1)  # this small store keeps a snapshot as a large one does
    made = run("simulate", "--learners", "12", "--cohorts", "1", "--seed", "3", "--store", "class.sqlite")
    assert made.exit_code == 0, made.output
    assert (in_tmp / "class.sqlite").is_file()
    report = run("report", "--store", "class.sqlite", "--out", "report", "--min-cell", "5")
    assert report.exit_code == 0, report.output
    assert (in_tmp / "report" / "report.html").is_file()
    # The report read through the analysis snapshot, kept beside the store and as private as it.
    assert oct((in_tmp / "class.sqlite.analysis.parquet").stat().st_mode & 0o777) == "0o600"
    export = run("research-export", "--store", "class.sqlite", "--out", "export", "--min-cell", "5",
                 "--crosswalk", str(in_tmp / "private" / "crosswalk.csv"))
    assert export.exit_code == 0, export.output
    assert any((in_tmp / "export").iterdir())


def test_export_erase_and_collect_on_bare_paths(in_tmp, monkeypatch):
    monkeypatch.setattr(snapshot, "MIN_ROWS", 1)
    learner = identity.learner_id()
    run("simulate", "--learners", "3", "--cohorts", "1", "--seed", "1", "--store", "mine.sqlite")
    store = open_store(os.path.join(in_tmp, "mine.sqlite"))
    rows = [r for r in store.responses() if r["learner"] == store.responses()[0]["learner"]]
    for row in rows[:5]:
        row = {**row, "learner": learner, "response_id": row["response_id"][:-4] + "beef"}
        store.add_many([row])
    exported = run("export", "--store", "mine.sqlite", "--out", "mine.jsonl")
    assert exported.exit_code == 0, exported.output
    assert "Wrote 5 response(s)" in exported.output
    collected = run("collect", "mine.jsonl", "--store", "class.sqlite")
    assert collected.exit_code == 0, collected.output
    assert len(open_store(str(in_tmp / "class.sqlite")).responses()) == 5
    analysis.responses(in_tmp / "mine.sqlite", snapshot=True)  # as the cohort review notebook reads
    assert (in_tmp / "mine.sqlite.analysis.parquet").is_file()
    erased = run("erase", "--me", "--store", "mine.sqlite", "--yes")
    assert erased.exit_code == 0 and "Erased 5 response(s)" in erased.output
    assert not (in_tmp / "mine.sqlite.analysis.parquet").exists()  # the erased answers left the snapshot too


def test_collect_without_a_store_says_which_option_to_give(in_tmp):
    result = run("collect", str(in_tmp))
    assert result.exit_code == 1
    assert "collect needs the cohort store: --store PATH|URL" in result.output

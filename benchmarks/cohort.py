"""The cohort report at 10k to 8M responses: dualrole vs DuckDB vs plain pandas, same numbers.

Each pipeline runs in a fresh process per repetition (so its peak RSS is its own), in turn with
the others, so a change in the machine's load touches all three alike. Every run's report is
checked against dualrole's: the benchmark fails if any number differs.
"""

from __future__ import annotations

import pickle
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from . import data, pipelines
from .measure import Killed, in_child, median


def run_one(name: str, store: str, out: str) -> None:
    """Child process entry: run one pipeline and pickle its report."""
    if name == "dualrole_warm":
        from widgets.analysis import snapshot

        snapshot.MIN_ROWS = 1  # a snapshot of a store of any size (see pipelines.dualrole_warm_report)
    report = pipelines.PIPELINES[name](Path(store))
    Path(out).write_bytes(pickle.dumps(report))


def _run_and_check(name: str, path: Path, folder: str, tag: str, reference: dict | None) -> tuple[dict, dict]:
    """Run pipeline ``name`` on the store at ``path`` in a fresh process: its figures and its report,
    checked against ``reference`` (the first pipeline's report of the same round; None for it)."""
    out = Path(folder) / f"{name}-{tag}.pickle"
    into_page_cache(path)
    figures = in_child("benchmarks.cohort:run_one", name, str(path), str(out))
    report = pickle.loads(out.read_bytes())
    if reference is not None:
        problems = pipelines.compare(reference, report)
        if problems:
            raise AssertionError(f"{name} disagrees at {path.name}: {problems[:5]}")
    return figures, report


def into_page_cache(path: Path) -> None:
    """Read the store's files once (not timed), so that every pipeline starts with them in memory.

    An 8M store is 8.4 GB: what the page cache holds of it depends on what ran before (the warm
    runs copy it), and the pipeline run first would otherwise pay for the disk reads the next one
    finds done. The Parquet snapshot beside it is read too. The files are read by another process:
    closing a descriptor of a SQLite file drops every lock this process holds on it, and a store
    connection left open here would then lose its write-ahead log.
    """
    files = [str(f) for f in (path, Path(f"{path}-wal"), pipelines.snapshot_path(path)) if f.exists()]
    subprocess.run(["cat", *files], stdout=subprocess.DEVNULL, check=True)


def run(size: int, reps: int = 3, names=("dualrole", "duckdb", "pandas")) -> dict:
    path, rows = data.build_store(size)
    times = {n: [] for n in names}
    peaks = {n: [] for n in names}
    killed = {}  # a baseline pipeline the machine could not hold: how long it ran before it was killed
    with tempfile.TemporaryDirectory() as folder:
        for rep in range(reps):
            reference = None
            for name in names:
                if name in killed:
                    continue
                try:
                    figures, report = _run_and_check(name, path, folder, str(rep), reference)
                except Killed as error:
                    if name == names[0]:
                        raise
                    killed[name] = error.seconds
                    continue
                reference = reference or report
                times[name].append(figures["seconds"])
                peaks[name].append(figures["peak_mb"])
    every = ("dualrole", "duckdb", "pandas")  # a pipeline not run here has no figures (None)
    return {"size": size, "responses": rows, "reps": reps, "ran": list(names),
            "seconds": {n: median(times[n]) if times.get(n) else None for n in every}, "all_seconds": times,
            "peak_mb": {n: max(peaks[n]) if peaks.get(n) else None for n in every}, "killed": killed, "agree": True}


# Answers added before each warm run: one new learner's, as a report rerun during a class would find.
WARM_LEARNERS = 1


def append_answers(path: Path, rep: int) -> int:
    """Add a few new learners' answers to the store at ``path`` (not timed); how many rows."""
    from widgets.reporting.simulate import simulate
    from widgets.store import open_store

    frame = simulate(learners=WARM_LEARNERS, cohorts=1, seed=10_000 + rep, library=data._lesson_cases())
    frame["cohort"] = f"synthetic-warm-{rep}"
    frame["learner"] = frame["learner"].astype(str) + f"-warm-{rep}"
    frame["response_id"] = [str(uuid.uuid4()) for _ in range(len(frame))]
    store = open_store(f"sqlite:///{path}")
    try:
        return store.add_many(frame.to_dict("records"))
    finally:
        store.engine.dispose()


def bring_snapshot_up_to_date(path: Path) -> None:
    """Write the store's analysis snapshot anew with every row (not timed).

    dualrole joins a few new answers to its snapshot without writing it; DuckDB's peer is handed a
    snapshot already holding them, so it pays nothing to bring it up to date.
    """
    from widgets import analysis
    from widgets.analysis import snapshot

    kept = snapshot.MIN_ROWS, snapshot.APPEND_ROWS
    snapshot.MIN_ROWS, snapshot.APPEND_ROWS = 1, 0
    try:
        analysis.responses(path, snapshot=True)
    finally:
        snapshot.MIN_ROWS, snapshot.APPEND_ROWS = kept


def run_warm(size: int, reps: int = 3, names=("dualrole_warm", "duckdb_parquet")) -> dict:
    """The report when the analysis snapshot is up to date but for a few new answers, against DuckDB
    over the same Parquet snapshot holding them too. On a copy of the cohort's store (the cached
    one stays as built)."""
    source, rows = data.build_store(size)
    times = {n: [] for n in names}
    peaks = {n: [] for n in names}
    appended = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / source.name
        shutil.copyfile(source, path)
        bring_snapshot_up_to_date(path)
        for rep in range(reps):
            appended.append(append_answers(path, rep))
            reference = None
            for name in names:
                if name == "duckdb_parquet":
                    bring_snapshot_up_to_date(path)
                figures, report = _run_and_check(name, path, folder, str(rep), reference)
                reference = reference or report
                times[name].append(figures["seconds"])
                peaks[name].append(figures["peak_mb"])
    return {"size": size, "responses": rows, "reps": reps, "appended": median(appended),
            "seconds": {n: median(times[n]) for n in names}, "all_seconds": times,
            "peak_mb": {n: max(peaks[n]) for n in names}, "agree": True}

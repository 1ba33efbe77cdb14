"""The cohort report at 10k to 8M responses: dualrole vs DuckDB vs plain pandas, same numbers.

Each pipeline runs in a fresh process per repetition (so its peak RSS is its own), in turn with
the others, so a change in the machine's load touches all three alike. Every run's report is
checked against dualrole's: the benchmark fails if any number differs.
"""

from __future__ import annotations

import pickle
import shutil
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


def run(size: int, reps: int = 3, names=("dualrole", "duckdb", "pandas")) -> dict:
    path, rows = data.build_store(size)
    times = {n: [] for n in names}
    peaks = {n: [] for n in names}
    killed = {}  # a baseline pipeline the machine could not hold: how long it ran before it was killed
    with tempfile.TemporaryDirectory() as folder:
        for rep in range(reps):
            for name in names:
                if name in killed:
                    continue
                out = Path(folder) / f"{name}-{rep}.pickle"
                try:
                    figures = in_child("benchmarks.cohort:run_one", name, str(path), str(out))
                except Killed as error:
                    if name == names[0]:
                        raise
                    killed[name] = error.seconds
                    continue
                times[name].append(figures["seconds"])
                peaks[name].append(figures["peak_mb"])
                report = pickle.loads(out.read_bytes())
                if name == names[0]:
                    reference = report
                problems = pipelines.compare(reference, report)
                if problems:
                    raise AssertionError(f"{name} disagrees with {names[0]} at {rows} responses: {problems[:5]}")
    return {"size": size, "responses": rows, "reps": reps,
            "seconds": {n: median(times[n]) if times[n] else None for n in names}, "all_seconds": times,
            "peak_mb": {n: max(peaks[n]) if peaks[n] else None for n in names}, "killed": killed, "agree": True}


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


def run_warm(size: int, reps: int = 3, names=("dualrole_warm", "duckdb_parquet")) -> dict:
    """The report when the analysis snapshot is up to date but for a few new answers, against DuckDB
    over the same Parquet snapshot. On a copy of the cohort's store (the cached one stays as built)."""
    from widgets import analysis

    source, rows = data.build_store(size)
    times = {n: [] for n in names}
    peaks = {n: [] for n in names}
    appended = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / source.name
        shutil.copyfile(source, path)
        from widgets.analysis import snapshot

        kept, snapshot.MIN_ROWS = snapshot.MIN_ROWS, 1
        try:
            analysis.responses(path, snapshot=True)  # the snapshot made once, not timed
        finally:
            snapshot.MIN_ROWS = kept
        for rep in range(reps):
            appended.append(append_answers(path, rep))
            for name in names:  # dualrole first: it brings the snapshot DuckDB then reads up to date
                out = Path(folder) / f"{name}-{rep}.pickle"
                figures = in_child("benchmarks.cohort:run_one", name, str(path), str(out))
                times[name].append(figures["seconds"])
                peaks[name].append(figures["peak_mb"])
                report = pickle.loads(out.read_bytes())
                if name == names[0]:
                    reference = report
                problems = pipelines.compare(reference, report)
                if problems:
                    raise AssertionError(f"{name} disagrees with {names[0]} at {rows} responses: {problems[:5]}")
    return {"size": size, "responses": rows, "reps": reps, "appended": median(appended),
            "seconds": {n: median(times[n]) for n in names}, "all_seconds": times,
            "peak_mb": {n: max(peaks[n]) for n in names}, "agree": True}

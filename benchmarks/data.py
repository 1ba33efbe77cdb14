"""Synthetic cohorts of a given size, from the seeded simulator, in a SQLite store (cached on disk).

Large cohorts are simulated in blocks of learners (one seed per block) so that memory stays flat;
each block's learners and cohorts get a block prefix, so every id is unique. Everything is
labelled synthetic, as the simulator does.
"""

from __future__ import annotations

import functools
import hashlib
import math
import sqlite3
from pathlib import Path

import pandas as pd

from widgets.cases.library import load_library
from widgets.reporting.simulate import simulate
from widgets.store import Store
from widgets.store.schema import COLUMNS

OUT = Path(__file__).resolve().parent / "out"
BLOCK_LEARNERS = 6000     # about 500k responses per simulated block
LEARNERS_PER_COHORT = 500  # a cohort is a class; a MOOC pools many of them
SEED = 20250113


@functools.cache
def rows_per_learner(seed: int = SEED) -> float:
    """Rows one simulated learner gives on the current library (pre and post, some revotes).

    Measured on a small simulation rather than written down, so that a size keeps meaning that many
    responses when lesson cases are added.
    """
    sample = 400
    return len(simulate(learners=sample, cohorts=1, seed=seed, library=_lesson_cases())) / sample


def describe() -> dict:
    """What a synthetic cohort is made of, for the report."""
    return {"lesson_cases": len(_lesson_cases()), "rows_per_learner": rows_per_learner(),
            "learners_per_cohort": LEARNERS_PER_COHORT}


def plan(responses: int) -> tuple[int, int]:
    """How many learners and cohorts give about ``responses`` rows."""
    learners = max(24, round(responses / rows_per_learner()))
    return learners, max(2, math.ceil(learners / LEARNERS_PER_COHORT))


def _lesson_cases():
    return [c for c in load_library() if c.use == "lesson"]


def blocks(responses: int, seed: int = SEED):
    """The cohort as frames of store rows, one block of learners at a time."""
    learners, cohorts = plan(responses)
    n_blocks = max(1, math.ceil(learners / BLOCK_LEARNERS))
    for b in range(n_blocks):
        size = learners // n_blocks + (1 if b < learners % n_blocks else 0)
        per_block = max(1, round(cohorts / n_blocks))
        # Lesson cases only, each answered pre and post: the three pipelines compared pair pre and
        # post answers on the same case (the assessment forms' pairing is tested in the unit tests).
        frame = simulate(learners=size, cohorts=min(per_block, size), seed=seed + b, library=_lesson_cases())
        if n_blocks > 1:
            prefix = f"b{b:03d}-"
            frame["learner"] = frame["learner"].str.replace("synthetic-", "synthetic-" + prefix, n=1)
            frame["cohort"] = frame["cohort"].str.replace("synthetic-", "synthetic-" + prefix, n=1)
        yield frame


def cohort(responses: int, seed: int = SEED) -> pd.DataFrame:
    """The whole cohort in memory (small sizes only)."""
    return pd.concat(list(blocks(responses, seed)), ignore_index=True)


def _library_key() -> str:
    digest = hashlib.sha256()
    for case in load_library():
        digest.update(f"{case.id}:{case.case_version};".encode())
    return digest.hexdigest()[:10]


def store_path(responses: int, seed: int = SEED) -> Path:
    learners, _ = plan(responses)
    return OUT / f"cohort-{responses}-{seed}-{_library_key()}-{learners}.synthetic.sqlite"


def sqlite_values(frame: pd.DataFrame) -> list[tuple]:
    """Rows as SQLite stores them through the store (UTC wall time text, 0/1 booleans)."""
    columns = []
    for name in COLUMNS:
        values = frame[name]
        if name in ("started_at", "submitted_at"):
            text = pd.to_datetime(values, utc=True).dt.strftime("%Y-%m-%d %H:%M:%S.%f")
            columns.append(text.astype(object).where(values.notna(), None).tolist())
        elif name == "consent":
            columns.append(values.astype(bool).astype(int).tolist())
        elif values.dtype.kind in "iu":
            columns.append(values.astype(int).tolist())
        else:
            columns.append(values.astype(object).where(values.notna(), None).tolist())
    return list(zip(*columns))


def bulk_insert(path: Path, frame: pd.DataFrame) -> None:
    """A bare bulk insert with the sqlite3 module: one transaction, ``executemany``."""
    placeholders = ", ".join("?" * len(COLUMNS))
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(f"INSERT INTO responses ({', '.join(COLUMNS)}) VALUES ({placeholders})",
                         sqlite_values(frame))
        conn.execute("COMMIT")
    finally:
        conn.close()


def add_consents(path: Path, frame: pd.DataFrame) -> None:
    """One consent record per learner, as ``simulate.into_store`` writes them."""
    latest = frame.groupby("learner", sort=False)["consent"].first()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO consents (learner, consent, recorded_at) VALUES (?, ?, ?)",
                         [(k, int(bool(v)), "2025-01-13 08:00:00.000000") for k, v in latest.items()])
        conn.execute("COMMIT")
    finally:
        conn.close()


def build_store(responses: int, seed: int = SEED, path: Path | None = None) -> tuple[Path, int]:
    """A SQLite store holding the synthetic cohort (reused when already built); (path, rows)."""
    path = path or store_path(responses, seed)
    if path.exists():
        Store(f"sqlite:///{path}").engine.dispose()  # adds any index made since it was built
        with sqlite3.connect(path) as conn:
            return path, conn.execute("SELECT count(*) FROM responses").fetchone()[0]
    path.parent.mkdir(parents=True, exist_ok=True)
    # A cohort built for an older case library is never read again, and at 8M it takes 5.6 GB.
    for stale in path.parent.glob(f"cohort-{responses}-{seed}-*.synthetic.sqlite*"):
        stale.unlink()
    partial = path.with_name(path.name + ".partial")
    for p in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        p.unlink(missing_ok=True)
    Store(f"sqlite:///{partial}").engine.dispose()  # the store's own schema
    total = 0
    for frame in blocks(responses, seed):
        bulk_insert(partial, frame)
        add_consents(partial, frame)
        total += len(frame)
    with sqlite3.connect(partial) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    partial.rename(path)
    for leftover in (Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    return path, total

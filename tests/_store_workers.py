"""Writer processes for the store's concurrency and crash tests (run through multiprocessing).

They live in their own module so child processes import them without importing a test file. All
learners here are synthetic.
"""

from __future__ import annotations

import multiprocessing
import time

CASE = "cosmetics"
COHORT = "synthetic-class"


def context():
    """A forkserver context that imports the store once, so 32 writers start in well under a second.

    Each child is forked from a clean server process (never from pytest), like ``spawn`` but
    without importing the package 32 times.
    """
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["widgets.store.sql", "sqlalchemy", "psycopg"])
    return ctx


def synthetic_response(learner: str, attempt: int = 1, **changes):
    from widgets.responses.contract import Response

    fields = dict(learner=learner, cohort=COHORT, case_id=CASE, case_version="synthetic",
                  option_id="o1", stance="decline", confidence=50, attempt=attempt,
                  justification="A synthetic answer written by a store test.", client="script")
    return Response(**(fields | changes))


def write_responses(url: str, worker: int, n: int, barrier, results) -> None:
    """One learner kernel: submit ``n`` answers one transaction at a time, as the card does."""
    from widgets.store import open_store

    errors: list[str] = []
    try:
        store = open_store(url)
        barrier.wait(timeout=120)
        for j in range(n):
            try:
                store.add(synthetic_response(f"synthetic-w{worker:02d}-{j:03d}"))
            except Exception as exc:  # noqa: BLE001 - every error a learner would see is recorded
                errors.append(f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # noqa: BLE001
        errors.append(f"{type(exc).__name__}: {exc}")
    results.put((worker, errors))


def submit_and_read(url: str, worker: int, n: int, barrier, results) -> None:
    """A learner who submits, reads the cohort's answers, and double-clicks one shared attempt."""
    from widgets.errors import AlreadyAnswered
    from widgets.store import open_store

    outcome = {"errors": [], "already": 0, "won": 0}
    try:
        store = open_store(url)
        barrier.wait(timeout=120)
        for j in range(n):
            store.add(synthetic_response(f"synthetic-w{worker:02d}-{j:03d}"))
            store.cohort_answers(CASE, COHORT, "practice")
        try:
            # Every worker submits attempt 1 of the same learner at once: only one may win.
            store.add(synthetic_response("synthetic-shared"))
            outcome["won"] += 1
        except AlreadyAnswered:
            outcome["already"] += 1
    except Exception as exc:  # noqa: BLE001
        outcome["errors"].append(f"{type(exc).__name__}: {exc}")
    results.put((worker, outcome))


def open_only(url: str, barrier, results) -> None:
    """A kernel opening a store for the first time (possibly at the same moment as many others)."""
    try:
        from widgets.store import open_store

        barrier.wait(timeout=120)
        store = open_store(url)
        results.put(("ok", store.schema_version()))
    except Exception as exc:  # noqa: BLE001
        results.put(("error", f"{type(exc).__name__}: {exc}"))


def count_rows(url: str, results) -> None:
    from widgets.store import open_store

    store = open_store(url)
    results.put((store.count(), [r["response_id"] for r in store.responses()]))


def commit_then_hang(url: str, committed: int, in_transaction, hang_rows: int) -> None:
    """Commit ``committed`` answers, then stop inside an open transaction until killed."""
    from widgets.store import open_store
    from widgets.store.schema import responses_table

    store = open_store(url)
    for j in range(committed):
        store.add(synthetic_response(f"synthetic-committed-{j}"))
    with store.transaction() as conn:
        for j in range(hang_rows):
            conn.execute(responses_table.insert(), synthetic_response(f"synthetic-uncommitted-{j}").row())
        in_transaction.set()
        time.sleep(600)  # the test kills this process with SIGKILL here

"""Submit latency: a CaseCard's submit, through to the reveal being ready, on a store of 1M responses.

In process, on a copy of the synthetic cohort's SQLite store: each sample is a new learner of a
real synthetic cohort answering a post-test case, so the reveal counts that cohort's answers
among a million rows. The time runs from the button's click to the click handler's return, when
the row is on disk (``synchronous=FULL``) and the reveal's HTML is set.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from . import data


def run(responses: int, samples: int = 300) -> dict:
    source, rows = data.build_store(responses)
    work = Path(tempfile.mkdtemp(prefix="dualrole-bench-submit-"))
    old_home = os.environ.get("DUALROLE_HOME")
    os.environ["DUALROLE_HOME"] = str(work / "home")
    try:
        path = work / "store.sqlite"
        shutil.copyfile(source, path)
        with sqlite3.connect(path) as conn:
            cohorts = [r[0] for r in conn.execute(
                "SELECT cohort, count(*) AS n FROM responses GROUP BY cohort ORDER BY n DESC LIMIT 3")]
        return _measure(path, cohorts, samples) | {"responses": rows}
    finally:
        if old_home is None:
            os.environ.pop("DUALROLE_HOME", None)
        else:
            os.environ["DUALROLE_HOME"] = old_home
        shutil.rmtree(work, ignore_errors=True)


def _measure(path: Path, cohorts: list[str], samples: int) -> dict:
    from widgets.cases.library import load_library
    from widgets.store import open_store
    from widgets.ui.card import CaseCard

    from .measure import median, percentile

    store = open_store(f"sqlite:///{path}")
    cases = list(load_library())
    times = []
    for i in range(samples + 5):  # the first five warm the caches and are not counted
        case = cases[i % len(cases)]
        card = CaseCard(case, phase="post", store=store, learner=f"synthetic-bench-{i:05d}",
                        cohort=cohorts[i % len(cohorts)])
        card.options.value = case.preferred[0]
        card.confidence.value = 70
        card.justification.value = "[synthetic] the second role could cloud my judgement here."
        start = time.perf_counter()
        card.submit.click()
        elapsed = time.perf_counter() - start
        if not card.session.committed or not card.reveal.value:
            raise RuntimeError(f"sample {i}: the submit did not commit and reveal: {card.status.value!r}")
        if i >= 5:
            times.append(elapsed * 1000)
        card.close()
    store.engine.dispose()
    return {"samples": len(times), "p50_ms": median(times), "p99_ms": percentile(times, 99),
            "max_ms": max(times), "cohorts": cohorts}

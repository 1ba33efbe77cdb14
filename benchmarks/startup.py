"""Start-up: ``import widgets`` (a fresh interpreter each time) and the nbval notebook suite's wall time."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from .measure import median

REPO = Path(__file__).resolve().parent.parent


def _wall(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, capture_output=True)
    return time.perf_counter() - start


def imports(runs: int = 7) -> dict:
    """Median wall time of a bare interpreter, ``import widgets``, and ``from widgets import analysis``."""
    bare = median(_wall("pass") for _ in range(runs))
    package = median(_wall("import widgets") for _ in range(runs))
    analysis = median(_wall("from widgets import analysis") for _ in range(runs))
    return {"python_s": bare, "import_widgets_s": package, "import_analysis_s": analysis, "runs": runs}


def notebooks() -> dict:
    """One run of the whole nbval notebook suite, as ``make test`` runs it."""
    env = dict(os.environ)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "notebooks"],
                          cwd=REPO, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    tail = (done.stdout.strip().splitlines() or [""])[-1]
    return {"seconds": seconds, "outcome": tail, "ok": done.returncode == 0,
            "notebooks": len(list((REPO / "notebooks").glob("*.ipynb")))}

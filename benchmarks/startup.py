"""Start-up: ``import widgets`` and ``dualrole --help`` (a fresh interpreter each time) against a bare
``python -c pass``, and the nbval notebook suite's wall time."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from .measure import median

REPO = Path(__file__).resolve().parent.parent


# What the console script ``dualrole`` runs (``widgets.cli:main``), as a fresh interpreter runs it.
HELP = "import sys; sys.argv = ['dualrole', '--help']; from widgets.cli import main; main()"
HEAVY = ("pandas", "numpy", "sqlalchemy")


def _wall(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, capture_output=True,
                   env=dict(os.environ, PYTHONPATH=str(REPO)))
    return time.perf_counter() - start


def _help_wall() -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", HELP], cwd=REPO, capture_output=True,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))
    if done.returncode != 0:  # click exits 0 after --help
        raise RuntimeError(f"dualrole --help failed: {done.stderr[-2000:]!r}")
    return time.perf_counter() - start


def heavy_modules(code: str) -> list[str]:
    """Which of pandas, numpy and SQLAlchemy a fresh interpreter has loaded after ``code``."""
    probe = f"{code}\nimport sys\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))
    return [m for m in done.stdout.strip().split(",") if m]


def imports(runs: int = 7) -> dict:
    """Median wall times of a bare interpreter, ``import widgets``, ``dualrole --help`` and
    ``from widgets import analysis``, and the heavy libraries the first two load."""
    bare = median(_wall("pass") for _ in range(runs))
    package = median(_wall("import widgets") for _ in range(runs))
    cli_help = median(_help_wall() for _ in range(runs))
    analysis = median(_wall("from widgets import analysis") for _ in range(runs))
    return {"python_s": bare, "import_widgets_s": package, "help_s": cli_help, "import_analysis_s": analysis,
            "runs": runs, "heavy_after_import": heavy_modules("import widgets"),
            "heavy_after_help": heavy_modules("import widgets.cli")}


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

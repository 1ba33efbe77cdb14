"""A pytest plugin (loaded with ``-p tests.nbval_isolation``) that isolates every notebook run.

It cannot live in tests/conftest.py, which pytest applies only to tests under tests/; the notebooks
are collected from notebooks/.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# -- notebooks under nbval ---------------------------------------------------------------------
# nbval starts one kernel per notebook, and the kernel inherits this process's environment. So
# before each notebook's first cell, point the kernel at a fresh data folder and store of its own.
_current_notebook = {"path": None}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    path = getattr(item, "path", None)
    if path is None or path.suffix != ".ipynb" or _current_notebook["path"] == path:
        return
    import tempfile

    _current_notebook["path"] = path
    folder = Path(tempfile.mkdtemp(prefix=f"dualrole-nb-{path.stem}-"))
    os.environ["DUALROLE_HOME"] = str(folder / "home")
    os.environ.pop("DUALROLE_STORE", None)
    os.environ.pop("DUALROLE_CASES", None)
    os.environ.pop("JUPYTERHUB_USER", None)
    os.environ["MPLBACKEND"] = "Agg"


def pytest_collectstart(collector):
    # Widget views carry random model ids, and pandas may add HTML beside text: compare text only.
    if getattr(collector, "path", None) is not None and collector.path.suffix == ".ipynb":
        collector.skip_compare += ("text/html", "application/javascript", "stderr")


def pytest_configure(config):
    # A safety net under the per-test and per-notebook folders: even code that ignored
    # DUALROLE_HOME would land in a throwaway XDG data folder, never in the user's real one.
    import tempfile

    os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="dualrole-xdg-")

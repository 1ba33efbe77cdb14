"""Every notebook that shows a widget, opened from a temporary copy in JupyterLab and run top to
bottom, renders cleanly: no widget error or "model not found", no traceback, no browser console
error, and axe-core finds no serious or critical violation on its case cards.

Notebooks without widgets (the analysis notebooks: tables and plots only) gain nothing from a
browser that nbval has not already checked, and are the slowest to run, so they are left to the
notebook layer; the cohort review is also rendered by Voila in test_dashboard.py.

One page serves all notebooks: each is opened in the running JupyterLab, so the sweep costs one page
load. Each notebook starts a kernel of its own and stops it when done, as a student's would: a kernel
shared with the notebooks before would hand each new page all their widgets to rebuild too, hundreds of
models at once, each of which anywidget gives two seconds to start. The harness cell gives each
notebook its own data folder.
"""

from __future__ import annotations

import json
import re

import pytest

from .conftest import AXE, NOTEBOOKS, new_watched_page, save_failure_screenshot
from .jlab import (
    close_current,
    code_cell_count,
    error_outputs,
    open_in_app,
    open_notebook,
    run_all,
    run_axe,
    screenshot,
    serious,
    widget_outputs,
    widget_problems,
)

WIDGET_IMPORT = re.compile(r"^\s*from widgets(?:\.\w+)* import [^\n]*\b[A-Z]\w+|^\s*import ipywidgets", re.M)


def shows_widgets(path) -> bool:
    """True when the notebook imports a widget class (``from widgets import CaseCard``) or ipywidgets."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return bool(WIDGET_IMPORT.search("\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")))


WIDGET_NOTEBOOKS = [p for p in sorted(NOTEBOOKS.glob("*.ipynb")) if shows_widgets(p)]


@pytest.fixture(scope="module")
def shared_page(chromium, lab):
    pg = new_watched_page(chromium)
    pg.loaded = False  # JupyterLab is loaded once, by the first notebook
    yield pg
    pg.context.close()
    lab.shutdown_kernels()


@pytest.mark.browser
@pytest.mark.parametrize("notebook", WIDGET_NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_clean_in_jupyterlab(notebook, shared_page, lab, tmp_path, request):
    page = shared_page
    watch = page.watch
    for seen in (watch.console_errors, watch.page_errors, watch.dialogs):
        seen.clear()
    path = lab.notebook(f"lesson-{notebook.stem}", [], tmp_path / "home", source=notebook)
    try:
        if page.loaded:
            open_in_app(page, path)
        else:
            open_notebook(page, lab, path)
            page.loaded = True
        run_all(page)

        cells, executed = code_cell_count(page)
        assert executed == cells, f"only {executed} of {cells} code cells ran"
        assert error_outputs(page) == []
        assert widget_problems(page) == []
        expected, drawn = widget_outputs(page)
        assert expected > 0 and drawn == expected, f"{expected - drawn} of {expected} widgets were not drawn"
        assert watch.console_errors == [] and watch.page_errors == []
        # The server's DUALROLE_CASES holds the injection probe, so case lists show its title too.
        assert watch.dialogs == [] and page.evaluate("() => typeof window.__pw") == "undefined"
        cards = page.locator(".dualrole-card")
        if cards.count():
            result = run_axe(page, ".dualrole-card", AXE)
            assert serious(result["violations"]) == [], result["violations"]
        screenshot(page, f"notebook-{notebook.stem}")
    except BaseException:
        save_failure_screenshot(page, request.node.name)
        raise
    finally:
        close_current(page)

"""Every notebook, opened from a temporary copy in JupyterLab and run top to bottom, renders cleanly:
no widget error or "model not found", no traceback, no browser console error (issue 7, section 1).

One page serves all notebooks (each opened in the running JupyterLab, its kernel stopped after), so
the whole sweep costs one page load.
"""

from __future__ import annotations

import pytest

from .conftest import AXE, NOTEBOOKS, new_watched_page, save_failure_screenshot
from .jlab import (close_current, code_cell_count, error_outputs, open_in_app, open_notebook, run_all,
                   run_axe, screenshot, serious, widget_problems)

ALL_NOTEBOOKS = sorted(NOTEBOOKS.glob("*.ipynb"))


@pytest.fixture(scope="module")
def shared_page(chromium, lab):
    pg = new_watched_page(chromium)
    pg.loaded = False
    yield pg
    pg.context.close()
    lab.shutdown_kernels()


@pytest.mark.browser
@pytest.mark.parametrize("notebook", ALL_NOTEBOOKS, ids=lambda p: p.stem)
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
        assert watch.console_errors == [] and watch.page_errors == []
        assert watch.dialogs == []
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

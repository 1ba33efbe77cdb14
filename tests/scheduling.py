"""A pytest plugin (loaded with ``-p tests.scheduling``) that shares ``make test`` between two workers.

``make test`` runs pytest-xdist with two workers. Each test file goes to one worker whole (the cells
of a notebook depend on each other, and module fixtures such as a running Hub are started once),
and every browser test goes to the same worker: two JupyterLabs and two Chromiums at once would
double the page load that anywidget gives two seconds to initialise a model in. While that worker
drives the browser, the other runs the rest. Without xdist (``pytest tests/x.py``) the hook is unused.
"""

from __future__ import annotations

import pytest

BROWSER = "tests/browser/"


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadFileScheduling

    class FilesWithOneBrowser(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return BROWSER if path.startswith(BROWSER) else path

    return FilesWithOneBrowser(config, log)

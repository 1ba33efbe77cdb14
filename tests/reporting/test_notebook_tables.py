"""No instructor or research notebook ends a cell by showing a bare DataFrame.

A table an instructor reads should look like the HTML report's (headings in words, percentages, no
index): :func:`widgets.reporting.tables.styled`. This test runs each notebook top to bottom with
nbclient in a fresh kernel of this environment and reads what it displays. A DataFrame shown as is
renders as ``<table border="1" class="dataframe">`` (pandas' ``_repr_html_``), which a Styler never
emits, so that class in any ``text/html`` output is a bare frame. This reads the rendered output
rather than the source, so it also catches a frame returned by a helper, and it cannot be fooled by
variable names. A notebook with a bare frame, run the same way, shows the check can fail.
"""

from __future__ import annotations

import os
from pathlib import Path

import ipykernel.kernelspec
import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = ["instructor_cohort_review", "instructor_live", "research_response_patterns"]
BARE_FRAME = 'class="dataframe"'


class ThisEnvironment(KernelSpecManager):
    """The kernel of the Python running the tests, whatever kernels are installed (as nbval's current-env)."""

    def get_kernel_spec(self, kernel_name):
        return self.kernel_spec_class(resource_dir=ipykernel.kernelspec.RESOURCES,
                                      **ipykernel.kernelspec.get_kernel_dict())


def displayed_html(nb, folder: Path, monkeypatch) -> list[tuple[int, str]]:
    """Run ``nb`` in ``folder`` and return each code cell's ``text/html`` outputs with the cell's index."""
    # The kernel imports this checkout's widgets, and the autouse fixture's data folder, like the tests.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    km = KernelManager(kernel_name="python3", kernel_spec_manager=ThisEnvironment())
    NotebookClient(nb, km=km, timeout=600, resources={"metadata": {"path": str(folder)}}).execute()
    return [(i, output["data"]["text/html"]) for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
            for output in cell.outputs if "text/html" in output.get("data", {})]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_no_cell_shows_a_bare_dataframe(name, monkeypatch):
    path = REPO / "notebooks" / f"{name}.ipynb"
    shown = displayed_html(nbformat.read(path, as_version=4), path.parent, monkeypatch)
    bare = [i for i, html in shown if BARE_FRAME in html]
    assert not bare, f"{name}: cell(s) {bare} show a bare DataFrame; show it with report.styled(table, kind)"
    if name != "instructor_live":  # the live dashboard shows widgets, not tables, without a class service
        assert any('class="dualrole-table"' in html for _, html in shown), "no styled table was shown at all"


def test_the_check_sees_a_bare_dataframe(tmp_path, monkeypatch):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import pandas as pd\npd.DataFrame({'n': [1]})")])
    shown = displayed_html(nb, tmp_path, monkeypatch)
    assert any(BARE_FRAME in html for _, html in shown)

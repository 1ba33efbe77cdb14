"""A card cell run before the lesson's first code cell says which cell to run, not NameError."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """
from IPython.testing.globalipapp import start_ipython
ip = start_ipython()
ip.run_line_magic("load_ext", "widgets.learner.hints")
ip.run_cell('CaseCard("cosmetics")')
ip.run_cell('undefined_name_of_the_learner')
"""


def test_a_missing_course_tool_is_named_with_the_cell_to_run_and_other_errors_are_unchanged():
    from widgets.learner.hints import hint

    assert "run the first code cell of this notebook" in hint("CaseCard")
    assert hint("my_variable") is None
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=REPO, timeout=120)
    out = done.stdout + done.stderr
    assert "CaseCard is not loaded yet: run the first code cell of this notebook" in out
    assert "NameError" in out and "undefined_name_of_the_learner" in out  # any other name: the usual error
    assert "name 'CaseCard' is not defined" not in out  # no traceback for the course's own names


def test_the_lab_kernel_config_loads_the_extension():
    namespace = {"get_config": lambda: type("C", (), {"InteractiveShellApp": type("S", (), {})()})()}
    exec((REPO / "tools" / "ipython" / "ipython_kernel_config.py").read_text(encoding="utf-8"), namespace)
    assert namespace["c"].InteractiveShellApp.extensions == ["widgets.learner.hints"]

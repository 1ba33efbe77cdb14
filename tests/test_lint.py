"""ruff's rules (pyproject.toml, [tool.ruff]) hold for the package, the tests, the tools, the benchmarks and the notebooks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "widgets", "tests", "tools",
                             "benchmarks", "notebooks"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr

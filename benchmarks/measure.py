"""Timing helpers: the median of several runs, and peak memory measured in a fresh process.

Each pipeline whose memory is reported runs in its own child process (``python -m
benchmarks.measure MODULE:FUNCTION ARGS``), which prints its wall time and peak RSS as JSON. The
peak is the child's own high-water mark (``VmHWM``), not ``ru_maxrss``: on Linux a forked child's
``ru_maxrss`` starts at the parent's resident size and survives ``exec``, so a runner holding 2 GB
made every child report at least 2 GB.
"""

from __future__ import annotations

import importlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def median(values) -> float:
    return float(statistics.median(values))


def percentile(values, q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation, as numpy computes it."""
    import numpy as np

    return float(np.percentile(list(values), q))


def timed(function, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


class Killed(RuntimeError):
    """The child was killed by a signal (on Linux, most often the kernel's out-of-memory killer)."""

    def __init__(self, target: str, signal: int, seconds: float):
        super().__init__(f"{target} was killed by signal {signal} after {seconds:.0f} s")
        self.signal, self.seconds = signal, seconds


def in_child(target: str, *args: str, timeout: float = 3600) -> dict:
    """Run ``module:function(*args)`` in a fresh interpreter; its wall time (s) and peak RSS (MB).

    The child imports the module and warms the case library first, so the time is the function's
    own; the peak RSS is the child's whole life (imports included).
    """
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "benchmarks.measure", target, *args], capture_output=True,
                          text=True, cwd=REPO, env=env, timeout=timeout)
    if done.returncode < 0:
        raise Killed(target, -done.returncode, time.perf_counter() - start)
    if done.returncode != 0:
        raise RuntimeError(f"{target} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _child(target: str, args: list[str]) -> None:
    module, name = target.split(":")
    function = getattr(importlib.import_module(module), name)
    from widgets.cases.library import load_library

    load_library()
    seconds, _ = timed(function, *args)
    print(json.dumps({"seconds": seconds, "peak_mb": own_peak_mb()}))


def own_peak_mb() -> float:
    """This process's peak resident memory in MB, counted from its own ``exec``."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError("/proc/self/status has no VmHWM line: peak memory is measured on Linux only")


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2:])

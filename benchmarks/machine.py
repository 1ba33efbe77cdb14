"""What the figures were measured on: cores, memory, load, versions, date."""

from __future__ import annotations

import datetime as dt
import os
import platform


def describe() -> dict:
    import numpy
    import pandas
    import sqlalchemy

    try:
        import duckdb

        duck = duckdb.__version__
    except ImportError:
        duck = "not installed"
    with open("/proc/meminfo", encoding="ascii") as f:
        total_kb = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "memory_gb": round(total_kb / 1024 / 1024, 1),
        "cpu": _cpu_name(),
        "python": platform.python_version(),
        "pandas": pandas.__version__,
        "numpy": numpy.__version__,
        "sqlalchemy": sqlalchemy.__version__,
        "duckdb": duck,
        "load": os.getloadavg(),
    }


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"

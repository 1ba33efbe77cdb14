"""The case library: case files (YAML front matter and a Markdown body), read, checked and indexed.

:mod:`~widgets.cases.casefile` reads and checks one file, :mod:`~widgets.cases.library` holds the
cases by id, and :mod:`~widgets.cases.authoring` helps instructors write their own. Nothing here
imports ipywidgets.
"""

from __future__ import annotations

from widgets.cases.library import (
    Case,
    Library,
    Option,
    Say,
    load_case,
    load_library,
    parse_case,
    validate_paths,
)

__all__ = ["Case", "Library", "Option", "load_case", "load_library", "parse_case", "Say", "validate_paths"]

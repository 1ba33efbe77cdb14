"""dualrole: a Jupyter curriculum on dual-role relationships and confidentiality in psychotherapy.

``import widgets`` is cheap and side-effect free: it opens no store, creates no file, and does not
import ipywidgets until a card is asked for, so scripts and the analysis layer run without it.
"""

from __future__ import annotations

from widgets.cases.library import Case, load_case, load_library, parse_case, validate_paths
from widgets.errors import CaseError, DualroleError, StoreError, UnknownCase
from widgets.responses.contract import Response
from widgets.store import Store, open_store

__version__ = "0.1.0"

__all__ = [
    "Assessment",
    "CaseCard",
    "DecisionModel",
    "CaseList",
    "ConsentChoice",
    "Case",
    "CaseError",
    "DualroleError",
    "Response",
    "Store",
    "StoreError",
    "UnknownCase",
    "load_case",
    "load_library",
    "open_store",
    "parse_case",
    "validate_paths",
    "__version__",
]

_LAZY = {
    "Assessment": "assessment",
    "CaseCard": "card",
    "CaseList": "lesson",
    "ConsentChoice": "lesson",
    "DecisionModel": "decision",
}


def __getattr__(name: str):
    # The widget classes pull in ipywidgets, so they load on first use only.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'widgets' has no attribute {name!r}")

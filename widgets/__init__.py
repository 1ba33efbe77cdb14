"""dualrole: a Jupyter curriculum on dual-role relationships and confidentiality in psychotherapy.

``import widgets`` is cheap and side-effect free: it opens no store, creates no file, and imports
neither ipywidgets nor pandas, numpy or SQLAlchemy until a card or a store is asked for (a test
checks ``sys.modules``), so scripts and the analysis layer run without the widgets.
Lessons import only the names below; instructor and research notebooks also use the documented
subpackages (:mod:`widgets.analysis`, :mod:`widgets.reporting`, :mod:`widgets.responses`).
"""

from __future__ import annotations

from widgets.cases import Case, load_case, load_library, parse_case, validate_paths
from widgets.errors import CaseError, DualroleError, StoreError, UnknownCase
from widgets.responses.contract import Response

__version__ = "0.2.0"

__all__ = [
    "AnalysisRubric",
    "Assessment",
    "Case",
    "CaseAnalysis",
    "CaseCard",
    "CaseError",
    "CaseList",
    "ConsentChoice",
    "DecisionModel",
    "DualroleError",
    "MyAnswers",
    "ReflectionBox",
    "Response",
    "Store",
    "StoreError",
    "UnknownCase",
    "__version__",
    "load_case",
    "load_library",
    "open_store",
    "parse_case",
    "validate_paths",
]

# The widget classes pull in ipywidgets, and the store SQLAlchemy, so they load on first use only: a
# script that reads one case, or ``dualrole --help``, does not pay for them.
_LAZY = {
    "Store": "widgets.store",
    "open_store": "widgets.store",
    "Assessment": "widgets.ui.assessment",
    "AnalysisRubric": "widgets.ui.case_analysis",
    "CaseAnalysis": "widgets.ui.case_analysis",
    "CaseCard": "widgets.ui.card",
    "CaseList": "widgets.ui.lesson",
    "ConsentChoice": "widgets.ui.lesson",
    "DecisionModel": "widgets.ui.decision",
    "MyAnswers": "widgets.ui.myanswers",
    "ReflectionBox": "widgets.ui.myanswers",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'widgets' has no attribute {name!r}")

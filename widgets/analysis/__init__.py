"""Cohort analysis: pure pandas functions over the tidy response frame.

Imports no ipywidgets, so researchers can use it from a script::

    from widgets import analysis
    df = analysis.responses("sqlite:///class.sqlite")   # or analysis.sample()
    analysis.case_summary(df)

Every statistic is computed by a well-kept library (scipy, statsmodels, scikit-learn,
krippendorff); these modules shape the data and guard against the libraries' pitfalls. Pass any
aggregate through :func:`widgets.privacy.gate` before showing it to anyone but the learner.
"""

from __future__ import annotations

from widgets.analysis.agreement import (
    UndefinedAgreement,
    cohen_kappa,
    complete_raters,
    fleiss_kappa,
    krippendorff_alpha,
    reference_kappa,
    with_reference,
)
from widgets.analysis.bootstrap import (
    Interval,
    alpha_interval,
    bootstrap_ci,
    brier_interval,
    gain_interval,
    kappa_interval,
    share_matching,
)
from widgets.analysis.calibration import (
    brier,
    calibration_table,
    expected_calibration_error,
    overconfidence,
)
from widgets.analysis.frame import (
    FRAME_COLUMNS,
    answers,
    case_flags,
    is_synthetic,
    options_frame,
    read_export,
    responses,
    sample,
    sample_path,
    tidy,
    without_contested,
)
from widgets.analysis.items import distractors, item_analysis, score_groups, score_matrix
from widgets.analysis.prepost import (
    bank_answers,
    form_effect,
    form_reliability,
    homogeneity,
    paired,
    prepost,
    prepost_by_cases,
    stance_shift,
    stance_table,
    with_forms,
)
from widgets.analysis.revote import first_answer_outcomes, revote_summary, revote_timing, revotes
from widgets.analysis.summary import case_summary, most_divided, option_counts, stance_counts

__all__ = [
    "FRAME_COLUMNS",
    "Interval",
    "UndefinedAgreement",
    "answers",
    "bootstrap_ci",
    "brier",
    "calibration_table",
    "case_flags",
    "case_summary",
    "cohen_kappa",
    "distractors",
    "expected_calibration_error",
    "first_answer_outcomes",
    "fleiss_kappa",
    "homogeneity",
    "is_synthetic",
    "item_analysis",
    "krippendorff_alpha",
    "most_divided",
    "option_counts",
    "options_frame",
    "overconfidence",
    "paired",
    "prepost",
    "prepost_by_cases",
    "read_export",
    "alpha_interval",
    "brier_interval",
    "gain_interval",
    "kappa_interval",
    "bank_answers",
    "form_effect",
    "form_reliability",
    "reference_kappa",
    "complete_raters",
    "responses",
    "revote_summary",
    "revote_timing",
    "revotes",
    "sample",
    "sample_path",
    "score_groups",
    "score_matrix",
    "share_matching",
    "stance_counts",
    "stance_shift",
    "stance_table",
    "with_forms",
    "tidy",
    "with_reference",
    "without_contested",
]

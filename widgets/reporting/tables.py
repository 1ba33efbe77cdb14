"""How a report table looks: human headings, percentages, hidden cells marked, no index.

:func:`styled` is the one place a table of the cohort review is given its headings and number
formats. The HTML report writes its tables with it and the instructor and research notebooks
display them with it, so a heading is worded once and a share reads "64%" wherever it appears.
It takes only tables that came through the disclosure rule (gated for the public, or exact for
the instructor), so styling can never become a way round the gate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.io.formats.style import Styler

from widgets.errors import DualroleError
from widgets.privacy import HIDDEN, TOTAL
from widgets.render import text
from widgets.responses.disclosure import cleared

# Every column a report table may show, in words an instructor uses. Phases and revote outcomes
# appear as columns of the option and revote tables, so they are here too.
HEADINGS: dict[str, str] = {
    "title": "Case",
    "case_id": "Case id",
    "cases": "Cases",
    "phase": "Phase",
    "option": "Option",
    "cohort": "Cohort",
    "contested": "Contested",
    "context_dependent": "Depends on context",
    "matching": "Matching the reference",
    "not_matching": "Not matching",
    "n": "Learners",
    "n_cases": "Cases",
    "n_answers": "Answers",
    "n_matching": "Learners matching",
    "share_matching": "Share matching",
    "mean_confidence": "Mean confidence",
    "evenness": "How divided (0 agreed, 1 evenly split)",
    "pre_matching": "Matching before",
    "post_matching": "Matching after",
    "improved": "Moved to the reference",
    "worsened": "Moved away from it",
    "pre_share": "Share before",
    "post_share": "Share after",
    "pre_low": "Before: 95% low",
    "pre_high": "Before: 95% high",
    "post_low": "After: 95% low",
    "post_high": "After: 95% high",
    "cohens_h": "Change (Cohen's h)",
    "pvalue": "McNemar p",
    "overconfidence": "Over-confidence",
    "brier": "Brier score",
    "low": "Confidence from",
    "high": "Confidence to",
    "learners": "Learners in the bin",
    "gap": "Confidence minus accuracy",
    "difficulty": "Share matching (difficulty)",
    "point_biserial": "Point-biserial",
    "discrimination": "Upper minus lower 27%",
    "top_group_choice": "Top group's choice",
    "contested_key": "Top group chose another option",
    "practice": "Practice",
    "pre": "Before (pre)",
    "post": "After (post)",
    "no_revote": "No revote",
    "stayed": "Same option again",
    "toward": "Toward the reference",
    "away": "Away from the reference",
    "lateral": "To another non-reference option",
    "seen": "Seen before the revote",
    TOTAL: "Total",
}

# Where a column means something else in one kind of table: the calibration bins count answers,
# and the pooled pre/post table counts pairs of a learner and a case, not learners.
KIND_HEADINGS: dict[str, dict[str, str]] = {
    "bins": {"n": "Answers in the bin"},
    "prepost_cases": {"cases": "Set of cases", "n_cases": "Cases in the set", "n": "Pairs (learner and case)"},
}

PERCENT = {"share_matching", "mean_confidence", "pre_share", "post_share", "pre_low", "pre_high", "post_low",
           "post_high", "difficulty", "low", "high"}
TWO_PLACES = {"cohens_h", "overconfidence", "brier", "gap", "point_biserial", "discrimination"}
ONE_PLACE = {"evenness"}
FLAGS = {"contested", "context_dependent", "contested_key"}

# The columns each kind of table shows, in order; None shows every column (the option and revote
# tables, whose columns are the phases or the outcomes present).
KINDS: dict[str, list[str] | None] = {
    "overview": ["title", "phase", "contested", "context_dependent", "matching", "not_matching", "n",
                 "share_matching", "mean_confidence", "evenness"],
    "divided": ["title", "phase", "contested", "context_dependent", "n", "evenness"],
    "options": None,
    "prepost": ["title", "contested", "context_dependent", "n", "pre_matching", "post_matching", "improved",
                "worsened", "pre_share", "post_share", "cohens_h", "pvalue"],
    "prepost_cases": ["cases", "n_cases", "n", "pre_share", "pre_low", "pre_high", "post_share", "post_low",
                      "post_high", "cohens_h"],
    "items": ["title", "contested", "context_dependent", "n", "n_matching", "difficulty", "point_biserial",
              "discrimination", "top_group_choice", "contested_key"],
    "calibration": ["cases", "cohort", "n", "n_answers", "mean_confidence", "share_matching", "overconfidence",
                    "brier"],
    "bins": ["low", "high", "n", "learners", "mean_confidence", "share_matching", "gap"],
    "revote": None,
    "revote_timing": None,
}


def heading(column) -> str:
    """The words a column is shown under (its own name, spaced, when it has none here)."""
    return HEADINGS.get(str(column), str(column).replace("_", " "))


def _percent(value) -> str:
    return f"{100 * float(value):.0f}%"


def _two(value) -> str:
    return f"{float(value):.2f}"


def _one(value) -> str:
    return f"{float(value):.1f}"


def _pvalue(value) -> str:
    return "<0.001" if float(value) < 0.001 else f"{float(value):.3f}"


def _flag(value) -> str:
    return "yes" if bool(value) else ""


def _whole(value) -> str:
    return f"{int(value)}"


def formatter(column):
    """The function that writes one value of ``column``, or None for plain text."""
    column = str(column)
    if column in PERCENT:
        return _percent
    if column in TWO_PLACES:
        return _two
    if column in ONE_PLACE:
        return _one
    if column == "pvalue":
        return _pvalue
    if column in FLAGS:
        return _flag
    return None


def styled(table: pd.DataFrame, kind: str, *, caption: str | None = None) -> Styler:
    """A table of the cohort review as it should be read: headings in words, shares as percentages,
    hidden cells as "—", and no index.

    Parameters
    ----------
    table : DataFrame
        A table from :mod:`widgets.reporting.report` (it must have come through the disclosure rule).
    kind : str
        Which table it is (one of :data:`KINDS`): chooses the columns shown and their order. The
        option and revote tables show their row labels as the first column.
    caption : str, optional
        A caption, read first by screen readers.

    Returns
    -------
    pandas.io.formats.style.Styler
        Shows itself in Jupyter; ``.to_html()`` gives the report's HTML. Every cell carries the class
        ``count``, ``stat`` or ``text``, and ``hidden`` when the gate withheld it.

    Examples
    --------
    >>> from widgets import analysis
    >>> from widgets.reporting import report
    >>> html = styled(report.case_overview(analysis.sample()), "overview").to_html()
    >>> "Matching the reference" in html and "share_matching" not in html
    True
    """
    if kind not in KINDS:
        raise DualroleError(f"unknown kind of table {kind!r}: expected one of {', '.join(KINDS)}")
    if not cleared(table):
        raise DualroleError("reports show only gated tables (or exact ones, for the instructor)")
    counts = {str(c) for c in table.attrs.get("count_columns", [])}
    columns = KINDS[kind]
    if columns is None:
        label = {"options": "option", "revote_timing": "seen"}.get(kind, "phase")
        body = table.reset_index(names=label)
        columns = [label, *map(str, table.columns)]
        body.columns = [label, *map(str, table.columns)]
    else:
        body = table  # every column shown is a column of the table; its index (a case id) is not shown
        columns = [c for c in columns if c in body.columns]
    body = body[columns].reset_index(drop=True)
    kinds = {c: "count" if c in counts else "text flag" if c in FLAGS else "stat" if formatter(c) else "text"
             for c in columns}
    labels = np.array([kinds[c] for c in columns], dtype=object)
    hidden = body.isna().to_numpy(dtype=bool).reshape(len(body), len(columns))
    classes = pd.DataFrame(np.where(hidden, labels + " hidden", labels), index=body.index, columns=columns)
    # The Styler writes its caption into the page as it is; a case title in it may come from any case file.
    style = Styler(body, cell_ids=False, caption=text(caption) if caption else None)
    style = style.hide(axis="index")
    style = style.format(escape="html", na_rep=HIDDEN)
    for column in columns:
        write = formatter(column) or (_whole if column in counts else None)
        if write is not None:
            style = style.format(write, subset=[column], na_rep=HIDDEN, escape="html")
    words = KIND_HEADINGS.get(kind, {})
    style = style.format_index(lambda c: words.get(str(c)) or heading(c), axis="columns", escape="html")
    style = style.set_td_classes(classes)
    style = style.set_table_attributes('class="dualrole-table"')
    return style


def table_html(table: pd.DataFrame, kind: str, *, caption: str | None = None) -> str:
    """:func:`styled` as HTML for the report file, each heading marked as the heading of its column."""
    html = styled(table, kind, caption=caption).to_html()
    return html.replace('<th class="col_heading', '<th scope="col" class="col_heading')

"""How a report table looks: human headings, percentages, hidden cells marked, no index.

:func:`styled` is the one place a table of the cohort review is given its headings and number
formats. The HTML report writes its tables with it and the instructor and research notebooks
display them with it, so a heading is worded once and a share reads "64%" wherever it appears.
It takes only tables that came through the disclosure rule (gated for the public, or exact for
the instructor), so styling can never become a way round the gate.

The research notebook works on the restricted research export, whose tables are exact and never
gated: :func:`research_styled` gives them the same look, under its own name, so that no such table
passes for one gated for the public.
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
    "delayed": "Later (delayed post)",
    "no_revote": "No revote",
    "stayed": "Same option again",
    "toward": "Toward the reference",
    "away": "Away from the reference",
    "lateral": "To another non-reference option",
    "seen": "Seen before the revote",
    "change": "Change (after minus before)",
    "option_id": "Option",
    "code": "Code",
    TOTAL: "Total",
}

# Where a column means something else in one kind of table: the calibration bins count answers,
# and the pooled pre/post table counts pairs of a learner and a case, not learners.
KIND_HEADINGS: dict[str, dict[str, str]] = {
    "bins": {"n": "Answers in the bin"},
    "prepost_cases": {"cases": "Set of cases", "n_cases": "Cases in the set", "n": "Pairs (learner and case)"},
    "codes_by_choice": {"n": "Answers"},
    "codes_pre_post": {"n": "Learners coded in both phases"},
}

PERCENT = {"share_matching", "mean_confidence", "pre_share", "post_share", "pre_low", "pre_high", "post_low",
           "post_high", "difficulty", "low", "high"}
TWO_PLACES = {"cohens_h", "overconfidence", "brier", "gap", "point_biserial", "discrimination"}
ONE_PLACE = {"evenness"}
FLAGS = {"contested", "context_dependent", "contested_key"}

# The research tables' columns, in the words of a methods section. A research table counts learners
# or answers where the public tables count other things, so these headings belong to its kinds only.
RESEARCH_HEADINGS: dict[str, str] = {
    "case_id": "Case id",
    "form": "Form",
    "item": "Item (case or matched pair)",
    "option_id": "Option",
    "learners": "Learners",
    "items": "Items",
    "mean": "Mean score",
    "kr20": "KR-20",
    "model": "Model",
    "term": "Term",
    "log_odds": "Log-odds",
    "low": "95% low (log-odds)",
    "high": "95% high (log-odds)",
    "odds_ratio": "Odds ratio",
    "pvalue": "p",
    "answers": "Answers",
    "pvalue_holm": "McNemar p (Holm)",
    "revoted": "Revoted",
    "switched": "Switched option",
    "revote_rate": "Share revoted",
    "switch_rate": "Share of revotes switching",
    "after": "Revote after seeing",
    "code": "Code",
    "alpha": "Krippendorff's alpha (nominal)",
    "coders": "Coders",
    "first": "First coder",
    "second": "Second coder",
    "agreement": "Raw agreement",
    "kappa": "Cohen's kappa",
    "case | phase": "Case | phase",
}

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
    "codes_by_choice": None,
    "codes_pre_post": ["code", "n", "pre", "post", "change"],
}

# The kinds of the research tables (exact, from the restricted export; :func:`research_styled`).
RESEARCH_KINDS: dict[str, list[str] | None] = {
    "choices": ["form", "item", "case_id", "option_id", "learners"],
    "reliability": ["form", "phase", "learners", "items", "mean", "kr20"],
    "form_effect": ["model", "term", "log_odds", "low", "high", "odds_ratio", "pvalue", "learners", "answers"],
    "prepost_pairs": ["case_id", "n", "pre_share", "post_share", "improved", "worsened", "pvalue", "pvalue_holm"],
    "revote_summary": ["phase", "n", "revoted", "switched", "toward", "away", "lateral", "stayed", "revote_rate",
                       "switch_rate"],
    "revote_after": ["after", "revoted", "switched", "toward", "away", "lateral", "stayed", "switch_rate"],
    "stance_counts": None,
    "code_alpha": ["code", "alpha", "answers", "coders"],
    "pair_kappa": ["code", "first", "second", "n", "agreement", "kappa"],
}

# Headings one kind of research table gives a column differently.
KIND_HEADINGS.update({
    "form_effect": {"learners": "Learners (clusters)"},
    "prepost_pairs": {"case_id": "Case or matched pair", "n": "Learners with both tests", "pvalue": "McNemar p"},
    "revote_summary": {"n": "First answers"},
    "code_alpha": {"answers": "Answers coded by two or more"},
    "pair_kappa": {"n": "Answers both coded"},
})


def heading(column) -> str:
    """The words a column is shown under (its own name, spaced, when it has none here)."""
    return HEADINGS.get(str(column), str(column).replace("_", " "))


# Columns that name something (a case, an option, a code) rather than measure it.
TEXT = {"title", "case_id", "option_id", "stance", "group", "code", "phase", "cohort", "form", "item", "model",
        "term", "after", "first", "second", "case | phase", "cases"}


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


def formatter(column, kind: str | None = None):
    """The function that writes one value of ``column`` in a table of ``kind``, or None for plain text."""
    column = str(column)
    if column in KIND_FORMATS.get(kind, {}):
        return KIND_FORMATS[kind][column]
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
    if column not in TEXT:
        return OTHER_COLUMNS.get(kind)
    return None


# A research column whose number reads differently from the public column of the same name.
KIND_FORMATS: dict[str, dict] = {
    "reliability": {"mean": _two, "kr20": _two},
    "form_effect": {"log_odds": _two, "low": _two, "high": _two, "odds_ratio": _two},
    "prepost_pairs": {"pvalue_holm": _pvalue},
    "revote_summary": {"revote_rate": _percent, "switch_rate": _percent},
    "revote_after": {"switch_rate": _percent},
    "code_alpha": {"alpha": _two},
    "pair_kappa": {"agreement": _percent, "kappa": _two},
    "codes_pre_post": {"change": _percent},
}

# How the columns a kind has no list for read: the code tables' columns are the codebook's codes
# (shares of answers), the public stance counts' columns are the stances (counts).
OTHER_COLUMNS = {"codes_by_choice": _percent, "codes_pre_post": _percent, "stance_counts": _whole}


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
    return _style(table, kind, KINDS[kind], caption)


def research_styled(table: pd.DataFrame, kind: str, *, caption: str | None = None) -> Styler:
    """A table of the restricted research export, styled as :func:`styled` styles a report's.

    The research export holds exact, row-level data of the consenting learners, for use under an
    ethics approval and never published; its tables are not gated and do not claim to be. This is
    the path for them, by name, so that :func:`styled` keeps taking only tables that came through
    the disclosure rule.

    Parameters
    ----------
    table : DataFrame
        A table computed from the research export (:func:`widgets.analysis.read_export`).
    kind : str
        One of :data:`RESEARCH_KINDS`, or a kind of :data:`KINDS` whose columns the table has
        (the calibration bins, say).
    caption : str, optional
        A caption, read first by screen readers.

    Returns
    -------
    pandas.io.formats.style.Styler
        As :func:`styled`.

    Examples
    --------
    >>> import pandas as pd
    >>> reliability = pd.DataFrame({"form": ["A"], "phase": ["pre"], "learners": [15], "items": [8],
    ...                             "mean": [4.73], "kr20": [0.5399]})
    >>> html = research_styled(reliability, "reliability").to_html()
    >>> "KR-20" in html and "0.54" in html and "kr20" not in html
    True
    """
    columns = RESEARCH_KINDS[kind] if kind in RESEARCH_KINDS else KINDS.get(kind, [])
    if kind not in RESEARCH_KINDS and kind not in KINDS:
        raise DualroleError(f"unknown kind of research table {kind!r}: expected one of "
                            f"{', '.join([*RESEARCH_KINDS, *KINDS])}")
    return _style(table, kind, columns, caption,
                  words={**RESEARCH_HEADINGS, **KIND_HEADINGS.get(kind, {})} if kind in RESEARCH_KINDS else None)


def _style(table: pd.DataFrame, kind: str, columns: list[str] | None, caption: str | None, *,
           words: dict[str, str] | None = None) -> Styler:
    counts = {str(c) for c in table.attrs.get("count_columns", [])}
    if columns is None and kind in {"options", "revote", "revote_timing"}:
        label = {"options": "option", "revote_timing": "seen"}.get(kind, "phase")
        body = table.reset_index(names=label)
        columns = [label, *map(str, table.columns)]
        body.columns = [label, *map(str, table.columns)]
    elif columns is None:  # every column, and no index (a row number)
        body = table.set_axis(list(map(str, table.columns)), axis="columns")
        columns = list(body.columns)
    else:
        # A research table may keep what its rows are in a named index (a pair of cases, a phase).
        named = table.index.name is not None and table.index.name in columns and table.index.name not in table
        body = table.reset_index() if named else table  # else its index (a case id) is not shown
        columns = [c for c in columns if c in body.columns]
    body = body[columns].reset_index(drop=True)
    kinds = {c: "count" if c in counts else "text flag" if c in FLAGS else "stat" if formatter(c, kind) else "text"
             for c in columns}
    labels = np.array([kinds[c] for c in columns], dtype=object)
    hidden = body.isna().to_numpy(dtype=bool).reshape(len(body), len(columns))
    classes = pd.DataFrame(np.where(hidden, labels + " hidden", labels), index=body.index, columns=columns)
    # The Styler writes its caption into the page as it is; a case title in it may come from any case file.
    style = Styler(body, cell_ids=False, caption=text(caption) if caption else None)
    style = style.hide(axis="index")
    style = style.format(escape="html", na_rep=HIDDEN)
    for column in columns:
        write = formatter(column, kind)
        if column in counts and write in (None, OTHER_COLUMNS.get(kind)):
            write = _whole  # a count of the code tables (their n) is not one of their shares
        if write is not None:
            style = style.format(write, subset=[column], na_rep=HIDDEN, escape="html")
    words = words if words is not None else KIND_HEADINGS.get(kind, {})
    style = style.format_index(lambda c: words.get(str(c)) or heading(c), axis="columns", escape="html")
    style = style.set_td_classes(classes)
    style = style.set_table_attributes('class="dualrole-table"')
    return style


def table_html(table: pd.DataFrame, kind: str, *, caption: str | None = None) -> str:
    """:func:`styled` as HTML for the report file, each heading marked as the heading of its column."""
    html = styled(table, kind, caption=caption).to_html()
    return html.replace('<th class="col_heading', '<th scope="col" class="col_heading')

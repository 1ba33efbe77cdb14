"""The instructor's cohort report: gated tables, plots and one self-contained HTML file.

Each table function takes an ``audience`` (see :mod:`widgets.responses.disclosure`): ``public``,
the default, passes every table through :func:`widgets.privacy.gate`; ``instructor`` gives the
same tables exact, for the instructor's eyes only, and the HTML file then says so in a banner at
its top. The plot and table functions refuse anything that has not come through that rule. The
notebooks and ``dualrole report`` use the same functions, and :func:`widgets.reporting.tables.styled`
gives every table its headings and formats. Plots use matplotlib's object API with the Agg canvas
chosen inside the function, so nothing changes matplotlib's global state.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from widgets import analysis
from widgets.analysis.frame import CASE_SETS
from widgets.analysis.revote import OUTCOMES
from widgets.errors import DualroleError
from widgets.privacy import HIDDEN, MIN_CELL, TOTAL, check_min_cell
from widgets.render import text
from widgets.reporting.plots import (  # noqa: F401  (re-exported: the notebooks call report.plot_*)
    Plot,
    plot_calibration,
    plot_matching,
    plot_options,
    plot_prepost,
    synthetic_title,
)
from widgets.reporting.tables import styled, table_html  # noqa: F401  (styled: the notebooks call report.styled)
from widgets.responses.disclosure import aggregate, check_report_audience, gates_small_cells, mark

#: The store's optional columns the report reads (whether a revote came after the reveal). It
#: shows no reasoning, and leaving the reasoning unread makes a large store's report much faster.
READS = ("reference_seen", "distribution_seen")

INSTRUCTOR_BANNER = (
    "<div class='audience-banner' role='note'><strong>For the instructor only: do not share.</strong> "
    "This report shows exact counts, small ones included, so a learner's answer could be worked out from "
    "it. Keep it with your own files. To share a review, run <code>dualrole report --audience public</code>, "
    "which hides small counts.</div>")

# -- gated tables ------------------------------------------------------------------------------

def _titles() -> dict[str, str]:
    return {c.id: c.title for c in analysis.frame.load_library()}


def case_overview(df: pd.DataFrame, min_cell: int = MIN_CELL, *, audience: str = "public") -> pd.DataFrame:
    """How the class answered each case (first answers): learners matching the reference or not.

    A gated count table (rows: case and phase; columns: matching, not matching, total), with
    ``share_matching``, ``mean_confidence`` (as a share) and ``evenness`` (0 everyone agreed, 1 an
    even split; one decimal) added where their counts are shown, and the case's ``contested`` and
    ``context_dependent`` flags. The most divided cases come first: they are where a discussion starts.

    Examples
    --------
    >>> from widgets import analysis, privacy
    >>> table = case_overview(analysis.sample())
    >>> privacy.passes(table)
    True
    """
    summary = analysis.case_summary(df)
    counts = pd.DataFrame({"matching": summary["n_matching"],
                           "not_matching": summary["n"] - summary["n_matching"]})
    counts.index = [f"{case}|{phase}" for case, phase in summary.index]
    gated = aggregate(counts, audience, min_cell)
    body = gated.drop(index=TOTAL)
    shown = body["matching"].notna() & body["not_matching"].notna()
    total_shown = body[TOTAL].notna()
    body = body.assign(
        share_matching=(body["matching"] / body[TOTAL]).where(shown).astype("Float64"),
        mean_confidence=pd.Series((summary["mean_confidence"] / 100).round(2).to_numpy(), index=body.index)
        .where(total_shown).astype("Float64"),
        evenness=pd.Series(summary["evenness"].round(1).to_numpy(), index=body.index)
        .where(total_shown).astype("Float64"),
        contested=summary["contested"].to_numpy(), context_dependent=summary["context_dependent"].to_numpy(),
    )
    keys = body.index.str.split("|")
    body.insert(0, "case_id", [k[0] for k in keys])
    body.insert(1, "phase", [k[1] for k in keys])
    titles = _titles()
    body.insert(1, "title", [titles.get(c, c) for c in body["case_id"]])
    body = body.rename(columns={TOTAL: "n"}).reset_index(drop=True)
    body = body.sort_values("evenness", ascending=False, kind="stable", na_position="last").reset_index(drop=True)
    body.attrs.update(gated.attrs, count_columns=["matching", "not_matching", "n"])
    return body


def divided_cases(df: pd.DataFrame, k: int = 5, min_cell: int = MIN_CELL, *, audience: str = "public") -> pd.DataFrame:
    """The ``k`` most divided cases among those with at least ``min_cell`` learners (any, for the instructor).

    Evenness (0 = everyone agreed, 1 = answers spread evenly over every option) is rounded to
    one decimal: it summarises the distribution without exposing small counts.
    """
    top = analysis.most_divided(df, k=k, min_n=min_cell if gates_small_cells(audience) else 1).reset_index()
    titles = _titles()
    table = pd.DataFrame({
        "case_id": top["case_id"].astype(str), "title": [titles.get(str(c), str(c)) for c in top["case_id"]],
        "phase": top["phase"].astype(str), "n": top["n"], "evenness": top["evenness"].round(1),
        "contested": top["contested"].astype(bool), "context_dependent": top["context_dependent"].astype(bool),
    })
    return aggregate(table, audience, min_cell, n="n")


def option_breakdown(df: pd.DataFrame, case_id: str, min_cell: int = MIN_CELL, *,
                     audience: str = "public") -> pd.DataFrame:
    """Learners choosing each option of one case, by phase: a gated count table with totals."""
    counts = analysis.option_counts(df, case_id)
    options = analysis.options_frame()
    labels = options[options["case_id"] == case_id].set_index("option_id")
    counts.index = [_option_label(o, labels) for o in counts.index]
    counts.index.name = "option"
    return aggregate(counts, audience, min_cell)


def prepost_overview(df: pd.DataFrame, min_cell: int = MIN_CELL, *, audience: str = "public") -> pd.DataFrame:
    """Matching the reference before and after, per case, each case's 2×2 table of pairs gated.

    The 2×2 table (matching before × matching after) goes through the gate with its margins;
    shares, Wilson intervals and Cohen's h are shown where their margins are, and the exact
    McNemar p where both discordant counts (improved, worsened) are.
    """
    table = analysis.prepost(df)
    titles = _titles()
    rows = []
    for case_id, r in table.iterrows():
        cells = pd.DataFrame(
            [[r["pre_matching"] - r["worsened"], r["worsened"]],
             [r["improved"], r["n"] - r["pre_matching"] - r["improved"]]],
            index=["pre_yes", "pre_no"], columns=["post_yes", "post_no"]).astype("int64")
        g = aggregate(cells, audience, min_cell)
        shown = g.notna()
        pre_ok = shown.loc["pre_yes", TOTAL] and shown.loc["pre_no", TOTAL] and shown.loc[TOTAL, TOTAL]
        post_ok = shown.loc[TOTAL, "post_yes"] and shown.loc[TOTAL, "post_no"] and shown.loc[TOTAL, TOTAL]
        row = {"case_id": str(case_id), "title": titles.get(str(case_id), str(case_id)),
               "n": g.loc[TOTAL, TOTAL], "pre_matching": g.loc["pre_yes", TOTAL],
               "post_matching": g.loc[TOTAL, "post_yes"], "improved": g.loc["pre_no", "post_yes"],
               "worsened": g.loc["pre_yes", "post_no"]}
        for name, ok in (("pre", pre_ok), ("post", post_ok)):
            for col in ("share", "low", "high"):
                row[f"{name}_{col}"] = r[f"{name}_{col}"] if ok else pd.NA
        row["cohens_h"] = r["cohens_h"] if pre_ok and post_ok else pd.NA
        row["pvalue"] = r["pvalue"] if shown.loc["pre_no", "post_yes"] and shown.loc["pre_yes", "post_no"] else pd.NA
        row["contested"], row["context_dependent"] = bool(r["contested"]), bool(r["context_dependent"])
        rows.append(row)
    out = pd.DataFrame(rows).set_index("case_id")
    counts = ["n", "pre_matching", "post_matching", "improved", "worsened"]
    flags = ["title", "contested", "context_dependent"]
    out = out.astype({c: "Int64" for c in counts} | {c: "Float64" for c in out.columns if c not in counts + flags})
    out.attrs["count_columns"] = counts
    return mark(out, audience, min_cell)  # each case's 2x2 table came through aggregate() above


def prepost_cases(df: pd.DataFrame, min_cell: int = MIN_CELL, *, audience: str = "public") -> pd.DataFrame:
    """Pre/post change pooled over cases, with and without contested or context-dependent cases.

    A row is shown when at least ``min_cell`` learners stand behind it (the pooled counts are pairs,
    and one learner gives many). See :func:`widgets.analysis.prepost_by_cases`.
    """
    table = analysis.prepost_by_cases(df)
    shown = aggregate(table, audience, min_cell, n="learners")
    shown.attrs["count_columns"] = ["learners", "n", "n_cases"]
    return shown


def item_overview(df: pd.DataFrame, phase: str, min_cell: int = MIN_CELL, *, audience: str = "public") -> pd.DataFrame:
    """Item analysis of one phase, gated: difficulty is shown where the matching and the
    non-matching learners are both at least ``min_cell``; discrimination where the case has them."""
    items = analysis.item_analysis(df, phase=phase).reset_index()
    items["case_id"] = items["case_id"].astype(str)
    titles = _titles()
    items.insert(1, "title", [titles.get(c, c) for c in items["case_id"]])
    columns = ["case_id", "title", "contested", "context_dependent", "n", "n_matching", "difficulty",
               "point_biserial", "discrimination", "top_group_choice", "contested_key"]
    return aggregate(items[columns], audience, min_cell, n="n", counts={"n_matching": ["difficulty"]})


def calibration_overview(df: pd.DataFrame, min_cell: int = MIN_CELL, *, audience: str = "public") -> pd.DataFrame:
    """Over- or under-confidence per cohort (first answers), gated by the number of learners: once over
    every case and once without contested or context-dependent ones (the ``cases`` column)."""
    first = analysis.answers(df)
    tables = []
    for exclude, label in ((False, CASE_SETS["all"]), (True, CASE_SETS["settled"])):
        table = analysis.overconfidence(first, by="cohort", exclude_contested=exclude).reset_index()
        table.insert(0, "cases", label)
        tables.append(table)
    return aggregate(pd.concat(tables, ignore_index=True), audience, min_cell, n="n")


def calibration_bins(df: pd.DataFrame, min_cell: int = MIN_CELL, *, audience: str = "public",
                     exclude_contested: bool = False) -> pd.DataFrame:
    """Confidence bins of the first answers with the share matching in each, gated.

    A bin counts answers, and one learner gives many: a bin is shown only when at least
    ``min_cell`` learners stand behind it, so one very sure learner cannot make a bin of their own.
    """
    table = analysis.calibration_table(analysis.answers(df), exclude_contested=exclude_contested)
    return aggregate(table, audience, min_cell, n="learners")


def revote_overview(df: pd.DataFrame, min_cell: int = MIN_CELL, *, audience: str = "public") -> pd.DataFrame:
    """After the reveal: first answers by what happened next (no revote, stayed, toward, away, lateral).

    The cells count answers, and one learner gives many; so a cell is also hidden when fewer than
    ``min_cell`` learners stand behind it.
    """
    outcomes = analysis.first_answer_outcomes(df)
    outcomes["phase"] = outcomes["phase"].astype(str)
    # A phase without any revote had no reveal to react to (pre-tests hold it back): leave it out.
    revoted = outcomes.loc[outcomes["outcome"] != "no_revote", "phase"].unique()
    outcomes = outcomes[outcomes["phase"].isin(revoted)]
    columns = list(OUTCOMES)
    counts = pd.crosstab(outcomes["phase"], outcomes["outcome"], dropna=False).reindex(columns=columns, fill_value=0)
    learners = (pd.crosstab(outcomes["phase"], outcomes["outcome"], values=outcomes["learner"], aggfunc="nunique",
                            margins=True, margins_name=TOTAL, dropna=False)
                .reindex(index=[*counts.index, TOTAL], columns=[*columns, TOTAL]).fillna(0))
    counts.columns = pd.Index(columns)
    learners.columns = pd.Index([*columns, TOTAL])
    counts.index.name = learners.index.name = None
    return aggregate(counts, audience, min_cell, learners=learners)


def revote_timing_overview(df: pd.DataFrame, min_cell: int = MIN_CELL, *, audience: str = "public") -> pd.DataFrame:
    """Revotes by what they came after (the class, the reference, not recorded) and which way they went.

    A change after seeing the class is peer instruction at work; a change after the key may be copying
    it. Cells count answers, so a cell is also hidden when fewer than ``min_cell`` learners stand behind it.
    A row or direction no revote falls in is a structural zero: shown as 0, hiding nothing else.
    """
    changes = analysis.revotes(df)
    columns = list(analysis.revote.DIRECTIONS)
    rows = list(analysis.revote.AFTER)
    counts = (pd.crosstab(changes["after"], changes["direction"], dropna=False)
              .reindex(index=rows, columns=columns, fill_value=0))
    learners = (pd.crosstab(changes["after"], changes["direction"], values=changes["learner"], aggfunc="nunique",
                            margins=True, margins_name=TOTAL, dropna=False)
                .reindex(index=[*rows, TOTAL], columns=[*columns, TOTAL]).fillna(0))
    counts.columns = pd.Index(columns)
    learners.columns = pd.Index([*columns, TOTAL])
    counts.index.name = learners.index.name = None
    # Every row and direction is shown, an empty one as 0: cards never show the reference before
    # a revote, and a case may allow no lateral change, so such zeros say nothing about anyone.
    return aggregate(counts, audience, min_cell, learners=learners, structural_zeros=True)


def _option_label(option_id: str, labels: pd.DataFrame) -> str:
    if option_id not in labels.index:
        return option_id
    row = labels.loc[option_id]
    mark = " (reference)" if row["preferred"] else " (acceptable)" if row["acceptable"] else ""
    return f"{row['label']}{mark}"


# -- plots that need the responses ------------------------------------------------------------

def plot_case(df: pd.DataFrame, case_id: str, min_cell: int = MIN_CELL, *, audience: str = "public") -> Plot:
    """The gated answers to one case, by phase, as a bar chart (labelled synthetic when it is)."""
    return plot_options(option_breakdown(df, case_id, min_cell, audience=audience), _titles().get(case_id, case_id),
                        synthetic=analysis.is_synthetic(df))


# -- the HTML report ---------------------------------------------------------------------------

def write_report(df: pd.DataFrame, out_dir: Path | str, *, min_cell: int = MIN_CELL, k: int = 5,
                 audience: str = "public", progress=None) -> Path:
    """Write ``report.html`` (tables and plots, all text escaped) into ``out_dir``.

    ``audience="public"`` (the default) gates every number; ``"instructor"`` shows exact counts
    under a banner saying the file is for the instructor only (see :mod:`widgets.responses.disclosure`).

    Examples
    --------
    >>> import tempfile
    >>> from widgets import analysis
    >>> path = write_report(analysis.sample(), tempfile.mkdtemp())
    >>> path.name
    'report.html'
    """
    min_cell = check_min_cell(min_cell)
    check_report_audience(audience)
    gated = gates_small_cells(audience)
    say = progress or (lambda message: None)
    if df.empty:
        raise DualroleError("there are no responses to report on")
    synthetic = analysis.is_synthetic(df)
    parts: list[str] = [] if gated else [INSTRUCTOR_BANNER]
    heading = synthetic_title("Cohort review" if gated else "Cohort review (instructor only)", synthetic)
    cohorts = sorted(df["cohort"].astype(str).unique())
    learners = aggregate(int(df["learner"].nunique()), audience, min_cell)
    answers = aggregate(int(len(analysis.answers(df))), audience, min_cell)
    parts.append(f"<h1>{text(heading)}</h1>")
    if synthetic:
        parts.append("<p class='synthetic'><strong>Synthetic data.</strong> Every learner and answer "
                     "here was made by <code>dualrole simulate</code>.</p>")
    rule = (f"Counts under {min_cell} are hidden ({HIDDEN}), and so are a few more where a hidden count "
            "could otherwise be worked out from the totals." if gated
            else "Every count is exact, however small: nothing is hidden.")
    parts.append(f"<p>Cohorts: {text(', '.join(cohorts))}. Learners: {_cell(learners)}. "
                 f"First answers: {_cell(answers)}. {rule}</p>")
    parts.append("<p>Cases marked <em>contested</em> (ethicists disagree on the answer) or <em>depends on "
                 "context</em> (the answer turns on facts the vignette leaves open) have no single key, so "
                 "matching the reference means less there; before-and-after change and calibration are "
                 "shown with and without them.</p>")
    if learners is pd.NA:
        # Counts of answers could still reach min_cell, but they would describe a handful of people.
        parts.append(f"<p>Fewer than {min_cell} learners answered, so nothing more can be shown.</p>")
        return _write(out_dir, heading, parts, min_cell, audience)
    say("case overview")
    overview = case_overview(df, min_cell, audience=audience)
    parts.append("<h2>How the class answered each case</h2>")
    parts.append(table_html(overview, "overview", caption="First answers per case and phase, most divided first"))
    parts.append(plot_matching(overview, synthetic=synthetic).html())
    say("most divided cases")
    divided = divided_cases(df, k=k, min_cell=min_cell, audience=audience)
    parts.append("<h2>Most divided cases: where to start the discussion</h2>")
    parts.append(table_html(divided, "divided"))
    for case_id, title in dict(zip(divided["case_id"], divided["title"])).items():
        breakdown = option_breakdown(df, case_id, min_cell, audience=audience)
        parts.append(f"<h3>{text(title)}</h3>")
        parts.append(table_html(breakdown, "options", caption=f"Learners choosing each option: {title}"))
        parts.append(plot_options(breakdown, title, synthetic=synthetic).html())
    if {"pre", "post"} <= set(df["phase"].astype(str)):
        say("pre/post change")
        try:
            change = prepost_overview(df, min_cell, audience=audience)
        except DualroleError:
            change = None
        if change is not None:
            parts.append("<h2>Before and after</h2>")
            parts.append("<p>Learners who answered a case in both the pre and the post phase: the share "
                         "matching the reference, with 95% Wilson intervals, Cohen's h and the exact "
                         "McNemar p-value.</p>")
            parts.append(table_html(prepost_cases(df, min_cell, audience=audience), "prepost_cases",
                                    caption="Pooled over cases, with and without contested or context-dependent ones"))
            parts.append(table_html(change, "prepost", caption="Per case"))
            parts.append(plot_prepost(change, synthetic=synthetic).html())
    say("calibration")
    parts.append("<h2>Confidence and accuracy</h2>")
    parts.append("<p>Over-confidence is mean confidence minus the share matching the reference: "
                 "positive values mean the class was surer than it was right.</p>")
    parts.append(table_html(calibration_overview(df, min_cell, audience=audience), "calibration"))
    bins = calibration_bins(df, min_cell, audience=audience)
    parts.append(plot_calibration(bins, synthetic=synthetic).html())
    say("revotes")
    revote = revote_overview(df, min_cell, audience=audience)
    parts.append("<h2>Reconsidering</h2>")
    parts.append("<p>First answers by what happened next: no revote, a revote to the same option, or a "
                 "switch toward, away from, or beside the reference.</p>")
    if len(revote) > 1:
        parts.append(table_html(revote, "revote"))
        parts.append("<p>Revotes by what they came after: seeing the class (peer instruction) or seeing the "
                     "reference (answers recorded before the card kept this show as not recorded).</p>")
        parts.append(table_html(revote_timing_overview(df, min_cell, audience=audience), "revote_timing"))
    else:
        parts.append("<p>Nobody revoted.</p>")
    say("writing report.html")
    return _write(out_dir, heading, parts, min_cell, audience)


def _write(out_dir: Path | str, heading: str, parts: list[str], min_cell: int, audience: str) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    rule = f"minimum cell {min_cell}" if gates_small_cells(audience) else "exact counts, for the instructor only"
    parts.append(f"<footer>Made by dualrole on {text(stamp)}; {rule}.</footer>")
    out_dir = Path(out_dir).expanduser()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "report.html"
    path.write_text(_page(heading, "\n".join(parts)), encoding="utf-8")
    return path


def _cell(value) -> str:
    return HIDDEN if value is None or pd.isna(value) else text(value)


def _page(title: str, body: str) -> str:
    style = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
             "table{border-collapse:collapse;margin:1rem 0;font-size:.85rem;max-width:100%}"
             # Long headings and case titles wrap, so a wide table never needs sideways scrolling.
             "th,td{border:1px solid #ccc;padding:.2rem .5rem;overflow-wrap:anywhere}"
             "td.count,td.stat{text-align:right}td.hidden{color:#888}"
             ".synthetic{background:#fff3cd;padding:.5rem}img{max-width:100%}"
             ".audience-banner{background:#842029;color:#fff;padding:.75rem 1rem;font-size:1.05rem}"
             ".audience-banner code{color:#fff}")
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>{text(title)}</title>"
            f"<style>{style}</style></head><body>\n{body}\n</body></html>\n")

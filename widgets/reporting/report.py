"""The instructor's cohort report: gated tables, plots and one self-contained HTML file.

Each ``*_overview`` function returns a table that has passed :func:`widgets.privacy.gate`; the
plot functions refuse anything that has not. The notebook and ``dualrole report`` use the same
functions. Plots use matplotlib's object API with the Agg canvas chosen inside the function,
so nothing changes matplotlib's global state.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from widgets import analysis
from widgets.analysis.revote import OUTCOMES
from widgets.errors import DualroleError
from widgets.privacy import HIDDEN, MIN_CELL, TOTAL, check_min_cell, gate
from widgets.render import text
from widgets.reporting.plots import (  # noqa: F401  (re-exported: the notebooks call report.plot_*)
    Plot,
    plot_calibration,
    plot_matching,
    plot_options,
    plot_prepost,
    synthetic_title,
)

# -- gated tables ------------------------------------------------------------------------------

def _titles() -> dict[str, str]:
    return {c.id: c.title for c in analysis.frame.load_library()}


def case_overview(df: pd.DataFrame, min_cell: int = MIN_CELL) -> pd.DataFrame:
    """How the class answered each case (first answers): learners matching the reference or not.

    A gated count table (rows: case and phase; columns: matching, not matching, total), with
    ``share_matching`` and ``mean_confidence`` added where their counts are shown.

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
    gated = gate(counts, min_cell)
    body = gated.drop(index=TOTAL)
    shown = body["matching"].notna() & body["not_matching"].notna()
    body = body.assign(
        share_matching=(body["matching"] / body[TOTAL]).where(shown).astype("Float64"),
        mean_confidence=pd.Series(summary["mean_confidence"].round(0).to_numpy(), index=body.index)
        .where(body[TOTAL].notna()).astype("Float64"),
    )
    keys = body.index.str.split("|")
    body.insert(0, "case_id", [k[0] for k in keys])
    body.insert(1, "phase", [k[1] for k in keys])
    titles = _titles()
    body.insert(1, "title", [titles.get(c, c) for c in body["case_id"]])
    body = body.rename(columns={TOTAL: "n"}).reset_index(drop=True)
    body.attrs.update(gated.attrs, count_columns=["matching", "not_matching", "n"])
    return body


def divided_cases(df: pd.DataFrame, k: int = 5, min_cell: int = MIN_CELL) -> pd.DataFrame:
    """The ``k`` most divided cases among those with at least ``min_cell`` learners.

    Evenness (0 = everyone agreed, 1 = answers spread evenly over every option) is rounded to
    one decimal: it summarises the distribution without exposing small counts.
    """
    top = analysis.most_divided(df, k=k, min_n=min_cell).reset_index()
    titles = _titles()
    table = pd.DataFrame({
        "case_id": top["case_id"].astype(str), "title": [titles.get(str(c), str(c)) for c in top["case_id"]],
        "phase": top["phase"].astype(str), "n": top["n"], "evenness": top["evenness"].round(1),
    })
    return gate(table, min_cell, n="n")


def option_breakdown(df: pd.DataFrame, case_id: str, min_cell: int = MIN_CELL) -> pd.DataFrame:
    """Learners choosing each option of one case, by phase: a gated count table with totals."""
    counts = analysis.option_counts(df, case_id)
    options = analysis.options_frame()
    labels = options[options["case_id"] == case_id].set_index("option_id")
    counts.index = [_option_label(o, labels) for o in counts.index]
    counts.index.name = "option"
    return gate(counts, min_cell)


def prepost_overview(df: pd.DataFrame, min_cell: int = MIN_CELL) -> pd.DataFrame:
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
        g = gate(cells, min_cell)
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
        rows.append(row)
    out = pd.DataFrame(rows).set_index("case_id")
    counts = ["n", "pre_matching", "post_matching", "improved", "worsened"]
    out = out.astype({c: "Int64" for c in counts} | {c: "Float64" for c in out.columns if c not in counts + ["title"]})
    out.attrs.update({"gated": True, "min_cell": check_min_cell(min_cell), "count_columns": counts})
    return out


def item_overview(df: pd.DataFrame, phase: str, min_cell: int = MIN_CELL) -> pd.DataFrame:
    """Item analysis of one phase, gated: difficulty is shown where the matching and the
    non-matching learners are both at least ``min_cell``; discrimination where the case has them."""
    items = analysis.item_analysis(df, phase=phase).reset_index()
    items["case_id"] = items["case_id"].astype(str)
    columns = ["case_id", "n", "n_matching", "difficulty", "point_biserial", "discrimination",
               "top_group_choice", "contested_key", "contested_in_file"]
    return gate(items[columns], min_cell, n="n", counts={"n_matching": ["difficulty"]})


def calibration_overview(df: pd.DataFrame, min_cell: int = MIN_CELL) -> pd.DataFrame:
    """Over- or under-confidence per cohort (first answers), gated by the number of learners."""
    table = analysis.overconfidence(analysis.answers(df), by="cohort").reset_index()
    return gate(table, min_cell, n="n")


def calibration_bins(df: pd.DataFrame, min_cell: int = MIN_CELL) -> pd.DataFrame:
    """Confidence bins of the first answers with the share matching in each, gated.

    A bin counts answers, and one learner gives many: a bin is shown only when at least
    ``min_cell`` learners stand behind it, so one very sure learner cannot make a bin of their own.
    """
    return gate(analysis.calibration_table(analysis.answers(df)), min_cell, n="learners")


def revote_overview(df: pd.DataFrame, min_cell: int = MIN_CELL) -> pd.DataFrame:
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
    return gate(counts, min_cell, learners=learners)


def _option_label(option_id: str, labels: pd.DataFrame) -> str:
    if option_id not in labels.index:
        return option_id
    row = labels.loc[option_id]
    mark = " (reference)" if row["preferred"] else " (acceptable)" if row["acceptable"] else ""
    return f"{row['label']}{mark}"


# -- plots that need the responses ------------------------------------------------------------

def plot_case(df: pd.DataFrame, case_id: str, min_cell: int = MIN_CELL) -> Plot:
    """The gated answers to one case, by phase, as a bar chart (labelled synthetic when it is)."""
    return plot_options(option_breakdown(df, case_id, min_cell), _titles().get(case_id, case_id),
                        synthetic=analysis.is_synthetic(df))


# -- the HTML report ---------------------------------------------------------------------------

def write_report(df: pd.DataFrame, out_dir: Path | str, *, min_cell: int = MIN_CELL, k: int = 5,
                 progress=None) -> Path:
    """Write ``report.html`` (tables and plots, every number gated, all text escaped) into ``out_dir``.

    Examples
    --------
    >>> import tempfile
    >>> from widgets import analysis
    >>> path = write_report(analysis.sample(), tempfile.mkdtemp())
    >>> path.name
    'report.html'
    """
    min_cell = check_min_cell(min_cell)
    say = progress or (lambda message: None)
    if df.empty:
        raise DualroleError("there are no responses to report on")
    synthetic = analysis.is_synthetic(df)
    parts: list[str] = []
    heading = synthetic_title("Cohort review", synthetic)
    cohorts = sorted(df["cohort"].astype(str).unique())
    learners = gate(int(df["learner"].nunique()), min_cell)
    answers = gate(int(len(analysis.answers(df))), min_cell)
    parts.append(f"<h1>{text(heading)}</h1>")
    if synthetic:
        parts.append("<p class='synthetic'><strong>Synthetic data.</strong> Every learner and answer "
                     "here was made by <code>dualrole simulate</code>.</p>")
    parts.append(
        f"<p>Cohorts: {text(', '.join(cohorts))}. Learners: {_cell(learners)}. First answers: {_cell(answers)}. "
        f"Counts under {min_cell} are hidden ({HIDDEN}), and so are a few more where a hidden count "
        "could otherwise be worked out from the totals.</p>")
    if learners is pd.NA:
        # Counts of answers could still reach min_cell, but they would describe a handful of people.
        parts.append(f"<p>Fewer than {min_cell} learners answered, so nothing more can be shown.</p>")
        return _write(out_dir, heading, parts, min_cell)
    say("case overview")
    overview = case_overview(df, min_cell)
    parts.append("<h2>How the class answered each case</h2>")
    overview_columns = ["title", "phase", "matching", "not_matching", "n", "share_matching", "mean_confidence"]
    parts.append(_table(overview, overview_columns,
                        {"share_matching": _percent, "mean_confidence": _plain}))
    parts.append(plot_matching(overview, synthetic=synthetic).html())
    say("most divided cases")
    divided = divided_cases(df, k=k, min_cell=min_cell)
    parts.append("<h2>Most divided cases: where to start the discussion</h2>")
    parts.append(_table(divided, ["title", "phase", "n", "evenness"], {"evenness": _plain}))
    for case_id, title in dict(zip(divided["case_id"], divided["title"])).items():
        breakdown = option_breakdown(df, case_id, min_cell)
        parts.append(f"<h3>{text(title)}</h3>")
        parts.append(_table(breakdown.reset_index(), ["option", *breakdown.columns], {}))
        parts.append(plot_options(breakdown, title, synthetic=synthetic).html())
    if {"pre", "post"} <= set(df["phase"].astype(str)):
        say("pre/post change")
        try:
            change = prepost_overview(df, min_cell)
        except DualroleError:
            change = None
        if change is not None:
            parts.append("<h2>Before and after</h2>")
            parts.append("<p>Learners who answered a case in both the pre and the post phase: the share "
                         "matching the reference, with 95% Wilson intervals, Cohen's h and the exact "
                         "McNemar p-value.</p>")
            parts.append(_table(change.reset_index(), ["title", "n", "pre_matching", "post_matching", "improved",
                                                       "worsened", "pre_share", "post_share", "cohens_h", "pvalue"],
                                {"pre_share": _percent, "post_share": _percent, "cohens_h": _two, "pvalue": _pvalue}))
            parts.append(plot_prepost(change, synthetic=synthetic).html())
    say("calibration")
    parts.append("<h2>Confidence and accuracy</h2>")
    parts.append("<p>Over-confidence is mean confidence minus the share matching the reference: "
                 "positive values mean the class was surer than it was right.</p>")
    parts.append(_table(calibration_overview(df, min_cell), ["cohort", "n", "mean_confidence", "share_matching",
                                                              "overconfidence", "brier"],
                        {"mean_confidence": _percent, "share_matching": _percent, "overconfidence": _two,
                         "brier": _two}))
    bins = calibration_bins(df, min_cell)
    parts.append(plot_calibration(bins, synthetic=synthetic).html())
    say("revotes")
    revote = revote_overview(df, min_cell)
    parts.append("<h2>After the reveal</h2>")
    parts.append("<p>First answers by what happened next: no revote, a revote to the same option, or a "
                 "switch toward, away from, or beside the reference.</p>")
    if len(revote) > 1:
        parts.append(_table(revote.reset_index(names="phase"), ["phase", *revote.columns], {}))
    else:
        parts.append("<p>Nobody revoted.</p>")
    say("writing report.html")
    return _write(out_dir, heading, parts, min_cell)


def _write(out_dir: Path | str, heading: str, parts: list[str], min_cell: int) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts.append(f"<footer>Made by dualrole on {text(stamp)}; minimum cell {min_cell}.</footer>")
    out_dir = Path(out_dir).expanduser()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "report.html"
    path.write_text(_page(heading, "\n".join(parts)), encoding="utf-8")
    return path


def _cell(value) -> str:
    return HIDDEN if value is None or pd.isna(value) else text(value)


def _percent(value) -> str:
    return f"{100 * float(value):.0f}%"


def _two(value) -> str:
    return f"{float(value):.2f}"


def _plain(value) -> str:
    return f"{float(value):g}"


def _pvalue(value) -> str:
    return "<0.001" if float(value) < 0.001 else f"{float(value):.3f}"


def _table(table: pd.DataFrame, columns: list[str], formats: dict) -> str:
    if not table.attrs.get("gated"):
        raise DualroleError("reports show only gated tables")
    counts = set(table.attrs.get("count_columns", []))
    head = "".join(f"<th scope='col'>{text(str(c).replace('_', ' '))}</th>" for c in columns)
    body = []
    for _, row in table.iterrows():
        cells = []
        for column in columns:
            value = row[column]
            kind = "count" if column in counts else "stat" if column in formats else "text"
            if value is None or pd.isna(value):
                cells.append(f"<td class='{kind} hidden'>{HIDDEN}</td>")
            elif column in formats:
                cells.append(f"<td class='{kind}'>{text(formats[column](value))}</td>")
            else:
                cells.append(f"<td class='{kind}'>{text(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _page(title: str, body: str) -> str:
    style = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
             "table{border-collapse:collapse;margin:1rem 0;font-size:.85rem}th,td{border:1px solid #ccc;"
             "padding:.2rem .5rem}td.count,td.stat{text-align:right}td.hidden{color:#888}"
             ".synthetic{background:#fff3cd;padding:.5rem}img{max-width:100%}")
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>{text(title)}</title>"
            f"<style>{style}</style></head><body>\n{body}\n</body></html>\n")

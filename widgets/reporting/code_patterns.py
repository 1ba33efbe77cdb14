"""Codes in the reasoning, as tables and plots for a researcher: by choice, pre to post, and by change of mind.

Each table goes through the disclosure rule for its ``audience``
(:func:`widgets.responses.disclosure.aggregate`): for the ``public`` a group of fewer than
``min_cell`` answers is hidden, and so is a code's share when the answers with it, or without it,
are fewer than ``min_cell``. Plots take only tables that came through it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from widgets.analysis import coded_reasoning as coding
from widgets.privacy import MIN_CELL
from widgets.reporting.plots import Plot, _figure, _render, _require_gated, synthetic_title
from widgets.responses.disclosure import aggregate


def _gated_shares(table: pd.DataFrame, codes: list[str], audience: str, min_cell: int) -> pd.DataFrame:
    """Shares per code with their counts, through the disclosure rule; the counts are dropped after."""
    full = table.copy()
    for code in codes:
        full[f"{code}_count"] = (full[code] * full["n"]).round().astype(int)
    shown = aggregate(full, audience, min_cell, n="n", counts={f"{c}_count": [c] for c in codes})
    kept = shown.drop(columns=[f"{c}_count" for c in codes])
    kept.attrs.update(shown.attrs)
    return kept


def codes_by_choice(coded: pd.DataFrame, codes: list[str], by=("case_id", "option_id"), *,
                    min_cell: int = MIN_CELL, audience: str = "public") -> pd.DataFrame:
    """Per case and option (or ``by``): how many first answers, and the share carrying each code."""
    first = coded[coded["attempt"] == 1]
    return _gated_shares(coding.codes_by_choice(first, codes, by), codes, audience, min_cell)


def codes_pre_post(coded: pd.DataFrame, codes: list[str], *, min_cell: int = MIN_CELL,
                   audience: str = "public") -> pd.DataFrame:
    """Each code's share of first answers pre and post, among learners coded in both (the matched forms)."""
    table = coding.codes_pre_post(coded, codes).rename(columns={"learners": "n"})
    return aggregate(table, audience, min_cell, n="n")


def codes_by_change(coded: pd.DataFrame, frame: pd.DataFrame, codes: list[str], *, min_cell: int = MIN_CELL,
                    audience: str = "public") -> pd.DataFrame:
    """The first-answer codes of learners who changed their answer at the revote, and of those who kept it."""
    return _gated_shares(coding.codes_by_change(coded, frame, codes), codes, audience, min_cell)


def plot_codes_by(table: pd.DataFrame, codes: list[str], names: dict[str, str], by: str,
                  synthetic: bool = False) -> Plot:
    """A heat map: the share of answers carrying each code (columns), per row of ``by``; hidden cells blank."""
    _require_gated(table)
    values = table[codes].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    rows = [f"{label} (n={'—' if pd.isna(n) else int(n)})" for label, n in zip(table[by].astype(str), table["n"])]
    figure = _figure(max(2.6, 0.32 * len(rows) + 1.8), left=0.3, width=8.5)
    axes = figure.add_subplot()
    image = axes.imshow(np.ma.masked_invalid(values), vmin=0, vmax=1, cmap="viridis", aspect="auto")
    axes.set_xticks(range(len(codes)), [names.get(c, c) for c in codes], rotation=40, ha="right", fontsize=7)
    axes.set_yticks(range(len(rows)), rows, fontsize=7)
    figure.colorbar(image, ax=axes, label="share of answers with the code")
    figure.subplots_adjust(bottom=0.35)
    title = synthetic_title(f"Codes in the reasoning by {by}", synthetic)
    axes.set_title(title, fontsize=9)
    return _render(figure, title)


def plot_codes_pre_post(table: pd.DataFrame, names: dict[str, str], synthetic: bool = False) -> Plot:
    """Each code's share pre and post, one line per code from the pre share to the post share."""
    _require_gated(table)
    shown = table.dropna(subset=["pre", "post"])
    figure = _figure(max(2.6, 0.3 * len(shown) + 1.2), left=0.34, width=7.0)
    axes = figure.add_subplot()
    y = np.arange(len(shown))
    axes.hlines(y, shown["pre"].astype(float), shown["post"].astype(float), color="#999")
    axes.plot(shown["pre"].astype(float), y, "o", color="#DD8452", label="pre")
    axes.plot(shown["post"].astype(float), y, "s", color="#4C72B0", label="post")
    axes.set_yticks(y, [names.get(c, c) for c in shown["code"]], fontsize=8)
    axes.set_xlim(0, 1)
    axes.set_xlabel("share of first answers with the code")
    axes.legend(fontsize=7)
    title = synthetic_title("Codes before and after the course (matched forms)", synthetic)
    axes.set_title(title, fontsize=9)
    return _render(figure, title)

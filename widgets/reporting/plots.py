"""Plots for the cohort report: gated tables in, PNG images out, labelled synthetic when they are.

matplotlib's object API with an Agg canvas chosen inside each call, so nothing changes matplotlib's
global state and pyplot is never imported.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import numpy as np
import pandas as pd

from widgets.errors import DualroleError
from widgets.privacy import HIDDEN, TOTAL
from widgets.render import text
from widgets.responses.disclosure import cleared

SYNTHETIC_TITLE = "SYNTHETIC DATA: "


@dataclass
class Plot:
    """A rendered plot: shows itself in Jupyter and embeds in HTML."""

    png: bytes
    title: str

    def _repr_png_(self) -> bytes:
        return self.png

    def _repr_html_(self) -> str:
        # Preferred by Jupyter over the bare PNG: the same image, with its title as alt text.
        return self.html()

    def html(self) -> str:
        data = base64.b64encode(self.png).decode("ascii")
        return f'<figure><img src="data:image/png;base64,{data}" alt="{text(self.title)}"></figure>'


def _require_gated(table: pd.DataFrame) -> None:
    if not cleared(table):
        raise DualroleError("plots show only gated tables: pass the table through widgets.privacy.gate first "
                            "(or widgets.responses.disclosure.aggregate, for the instructor's exact view)")


def _figure(height: float, left: float = 0.38, width: float = 7.5):
    # The object API with an Agg canvas: no pyplot, no global backend switch (datascience #445).
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height))
    FigureCanvasAgg(figure)
    figure.subplots_adjust(left=left, right=0.97, top=1 - 0.5 / height, bottom=0.7 / height)
    return figure


def _render(figure, title: str) -> Plot:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    return Plot(buffer.getvalue(), title)


def synthetic_title(title: str, synthetic: bool) -> str:
    """The title, marked as synthetic data when it is, so no plot of simulated answers passes for real."""
    return (SYNTHETIC_TITLE + title) if synthetic else title


def plot_matching(overview: pd.DataFrame, synthetic: bool = False) -> Plot:
    """Share of learners matching the reference per case, one marker per phase; hidden ones are left out."""
    _require_gated(overview)
    titles = list(dict.fromkeys(overview["title"]))
    figure = _figure(max(2.5, 0.22 * len(titles) + 1))
    axes = figure.add_subplot()
    y = {t: i for i, t in enumerate(titles)}
    for phase, color in zip(dict.fromkeys(overview["phase"]), ("#DD8452", "#4C72B0", "#55A868")):
        rows = overview[(overview["phase"] == phase) & overview["share_matching"].notna()]
        axes.plot(rows["share_matching"].astype(float), [y[t] for t in rows["title"]], "o", color=color,
                  label=str(phase), ms=4)
    axes.set_yticks(range(len(titles)), [_wrap(t) for t in titles], fontsize=7)
    axes.invert_yaxis()
    axes.set_xlim(0, 1)
    axes.grid(axis="x", alpha=0.3)
    axes.set_xlabel("share matching the reference (first answers)")
    axes.legend(fontsize=7)
    title = synthetic_title("How the class matched the reference", synthetic)
    axes.set_title(title)
    return _render(figure, title)


def plot_options(breakdown: pd.DataFrame, case_title: str, synthetic: bool = False) -> Plot:
    """Learners per option and phase for one case (hidden counts are left out and marked)."""
    _require_gated(breakdown)
    body = breakdown.drop(index=TOTAL, errors="ignore").drop(columns=TOTAL, errors="ignore")
    figure = _figure(max(2.2, 0.45 * len(body) + 1))
    axes = figure.add_subplot()
    y = np.arange(len(body))
    height = 0.8 / max(1, len(body.columns))
    for k, phase in enumerate(body.columns):
        values = body[phase].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        axes.barh(y + k * height, np.nan_to_num(values), height=height, label=str(phase))
        for i, v in enumerate(values):
            if np.isnan(v):
                axes.text(0.2, i + k * height, HIDDEN + " hidden", va="center", fontsize=7, color="#666")
    axes.set_yticks(y + height * (len(body.columns) - 1) / 2, [_wrap(s) for s in body.index], fontsize=7)
    axes.invert_yaxis()
    axes.set_xlabel("learners (first answers)")
    axes.legend(fontsize=7)
    title = synthetic_title(f"Answers to '{case_title}'", synthetic)
    axes.set_title(title, fontsize=9)
    return _render(figure, title)


def plot_prepost(overview: pd.DataFrame, synthetic: bool = False) -> Plot:
    """Pre and post share matching the reference, with Wilson intervals, where shown."""
    _require_gated(overview)
    rows = overview[overview["pre_share"].notna() & overview["post_share"].notna()]
    figure = _figure(max(2.5, 0.3 * len(rows) + 1.2))
    axes = figure.add_subplot()
    y = np.arange(len(rows))
    for name, color, offset in (("pre", "#DD8452", -0.15), ("post", "#4C72B0", 0.15)):
        share = rows[f"{name}_share"].astype(float).to_numpy()
        low, high = rows[f"{name}_low"].astype(float).to_numpy(), rows[f"{name}_high"].astype(float).to_numpy()
        axes.errorbar(share, y + offset, xerr=[share - low, high - share], fmt="o", color=color, label=name, ms=4)
    axes.set_yticks(y, list(rows["title"]), fontsize=7)
    axes.invert_yaxis()
    axes.set_xlim(0, 1)
    axes.set_xlabel("share matching the reference (95% Wilson interval)")
    axes.legend(fontsize=7)
    if rows.empty:
        axes.text(0.5, 0.5, "no case has enough pairs to show", ha="center", transform=axes.transAxes)
    title = synthetic_title("Before and after: matching the reference", synthetic)
    axes.set_title(title)
    return _render(figure, title)


def plot_calibration(bins: pd.DataFrame, synthetic: bool = False) -> Plot:
    """Share matching against mean confidence per bin; the diagonal is perfect calibration."""
    _require_gated(bins)
    shown = bins.dropna(subset=["mean_confidence", "share_matching"])
    figure = _figure(4.2, left=0.14, width=5.0)
    axes = figure.add_subplot()
    axes.plot([0, 1], [0, 1], ls="--", color="#999", label="perfectly calibrated")
    axes.plot(shown["mean_confidence"].astype(float), shown["share_matching"].astype(float), "o-", label="learners")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_xlabel("mean confidence in the bin")
    axes.set_ylabel("share matching the reference")
    axes.legend(fontsize=7)
    title = synthetic_title("Confidence and accuracy", synthetic)
    axes.set_title(title)
    return _render(figure, title)


def _wrap(label: str, width: int = 48) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"

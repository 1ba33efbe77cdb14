"""Who sees what of a class's answers: one rule for three audiences.

* **instructor**: their own class, exactly: every count, and each learner's answer and reasoning.
  Locally that is whoever opens the class store; on a hub, a member of the instructors' group.
* **class**: a learner's card and the projected dashboard. Anonymous counts and shares, shown as
  they are (as classroom response systems show votes) once at least ``min_class`` learners have
  answered; ``min_class`` is 5 unless the instructor sets it, and never below 3. Never another
  learner's reasoning, and never the reference before the instructor reveals it.
* **public**: anything meant to leave the classroom (shared reports, research exports). Small cells
  and their complements are hidden by :func:`widgets.privacy.gate` (``min_cell`` 10, never below 5).

The card, the class service, the live dashboard and the reports all ask this module; none decides
for itself. :func:`distribution_html` is the one table a distribution is drawn as.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Sequence

from widgets.errors import DualroleError
from widgets.privacy import MIN_CELL, check_min_cell, exact, gate, gate_distribution
from widgets.render import text

# pandas loads when a table is marked, not when the store imports this module for its rules.
if TYPE_CHECKING:
    import pandas as pd

Audience = Literal["instructor", "class", "public"]
AUDIENCES: tuple[str, ...] = ("instructor", "class", "public")

MIN_CLASS = 5
MIN_CLASS_FLOOR = 3


def check_min_class(min_class: int) -> int:
    """``min_class`` if it is allowed (a whole number of at least 3), else raise.

    >>> check_min_class(8)
    8
    """
    if isinstance(min_class, bool) or int(min_class) != min_class or min_class < MIN_CLASS_FLOOR:
        raise DualroleError(f"min_class must be a whole number of at least {MIN_CLASS_FLOOR}, not {min_class!r}")
    return int(min_class)


def check_audience(audience: str) -> str:
    """``audience`` if it is one of instructor, class or public, else raise."""
    if audience not in AUDIENCES:
        raise DualroleError(f"unknown audience {audience!r}: expected one of {', '.join(AUDIENCES)}")
    return audience


@dataclass(frozen=True)
class CohortCounts:
    """How many learners chose each option (their latest answer), as a store or the service reports it.

    ``counts`` may hold None for a count the source withheld; ``min_class`` is the source's own
    threshold (the class service's), or None when the counts come straight from a store.
    """

    counts: dict[str, int | None]
    total: int
    min_class: int | None = None


@dataclass(frozen=True)
class Distribution:
    """What one audience may see of a case's answers."""

    audience: str
    total: int
    threshold: int
    counts: dict[str, int | None] = field(default_factory=dict)

    @property
    def shown(self) -> bool:
        """True once enough learners answered for this audience to see the counts."""
        return self.total >= self.threshold

    @property
    def needed(self) -> int:
        """How many more answers before the counts appear."""
        return max(0, self.threshold - self.total)


def distribution(counts: dict[str, int | None], options: Sequence[str], audience: Audience = "class", *,
                 min_class: int = MIN_CLASS, min_cell: int = MIN_CELL, total: int | None = None) -> Distribution:
    """The counts of one case as ``audience`` may see them.

    Every option is listed, zeros included. A count already withheld upstream (None) stays withheld;
    ``total`` is then how many answered in all (by default, the sum of the counts).

    >>> split = {"a": 8, "b": 4, "c": 2, "d": 1}
    >>> distribution(split, "abcd", "class").counts
    {'a': 8, 'b': 4, 'c': 2, 'd': 1}
    >>> distribution(split, "abcd", "public").counts
    {'a': None, 'b': None, 'c': None, 'd': None}
    >>> distribution({"a": 2}, "ab", "class").shown
    False
    """
    check_audience(audience)
    every = {option: counts.get(option, 0) for option in options}
    if total is None:
        total = sum(n for n in every.values() if n is not None)
    if audience == "instructor":
        return Distribution(audience, total, 0, every)
    if audience == "class":
        threshold = check_min_class(min_class)
        return Distribution(audience, total, threshold, every if total >= threshold else {})
    return Distribution(audience, total, min_cell, gate_distribution(every, min_cell) if total >= min_cell else {})


REPORT_AUDIENCES: tuple[str, ...] = ("instructor", "public")


def check_report_audience(audience: str) -> str:
    """``audience`` if a written report may be made for it (instructor or public), else raise.

    The class sees its counts live, on a card or the projected dashboard, never as a file to keep.
    """
    if audience not in REPORT_AUDIENCES:
        raise DualroleError(f"a report is written for one of {', '.join(REPORT_AUDIENCES)}, not {audience!r}")
    return audience


def gates_small_cells(audience: Audience) -> bool:
    """Whether small cells (and the cells that would give them away) are hidden from ``audience``.

    Only the instructor sees exact counts; the class sees its own counts once ``min_class`` have
    answered (see :func:`distribution`), and anything public passes :func:`widgets.privacy.gate`.

    >>> gates_small_cells("public"), gates_small_cells("instructor")
    (True, False)
    """
    return check_audience(audience) == "public"


def aggregate(table, audience: Audience = "public", min_cell: int = MIN_CELL, **shape):
    """A count, a count table or a statistics table as ``audience`` may see it in a report.

    ``public``: through :func:`widgets.privacy.gate` (``shape`` is its ``n``, ``counts``, ``margins``
    and ``learners``). ``instructor``: the same shape, exact (:func:`widgets.privacy.exact`). A frame
    records its audience in ``attrs["audience"]``; :func:`cleared` checks it.
    """
    import pandas as pd

    check_report_audience(audience)
    shown = gate(table, min_cell, **shape) if gates_small_cells(audience) else exact(table, **shape)
    if isinstance(shown, pd.DataFrame):
        shown.attrs["audience"] = audience
    return shown


def mark(table: pd.DataFrame, audience: Audience, min_cell: int = MIN_CELL) -> pd.DataFrame:
    """Record on ``table``, assembled from pieces that each came through :func:`aggregate` for
    ``audience``, which rule they came through (so :func:`cleared` can tell)."""
    check_report_audience(audience)
    if gates_small_cells(audience):
        table.attrs.update({"gated": True, "min_cell": check_min_cell(min_cell)})
    else:
        table.attrs.update({"exact": True, "min_cell": 0})
    table.attrs["audience"] = audience
    return table


def cleared(table) -> bool:
    """True if a frame came through the disclosure rule: gated, or exact and marked for the instructor."""
    import pandas as pd

    if not isinstance(table, pd.DataFrame):
        return False
    attrs = table.attrs
    return bool(attrs.get("gated")) or (bool(attrs.get("exact")) and attrs.get("audience") == "instructor")


def shows_reference(audience: Audience, revealed: bool) -> bool:
    """Whether a view for ``audience`` may mark the reference answer: the class only after the reveal."""
    return audience == "instructor" or revealed


def distribution_html(labels: dict[str, str], shown: Distribution, *, caption: str,
                      marks: dict[str, str] | None = None, heading: str = "How the class answered") -> str:
    """A distribution as an accessible table with text bars, or a note saying when it will appear.

    ``labels`` maps option ids to their labels, in the order to show; ``marks`` adds a short note
    per option (the reference marks, where the audience may see them).
    """
    region = '<div class="dualrole-histogram" role="region" aria-label="Class distribution">'
    if not shown.shown:
        return (f"{region}<h4>{text(heading)}</h4><p>{shown.total} learner(s) have answered. The distribution "
                f"appears once {shown.threshold} have ({shown.needed} more), so no one's answer can be "
                "singled out.</p></div>")
    rows = []
    for option_id, label in labels.items():
        n = shown.counts.get(option_id, 0)
        mark = text((marks or {}).get(option_id, ""))
        if n is None:
            rows.append(f"<tr><td>{text(label)}</td><td>hidden</td><td>hidden</td><td></td><td>{mark}</td></tr>")
            continue
        share = 100 * n / shown.total if shown.total else 0
        bar = "█" * round(share / 5)
        rows.append(f"<tr><td>{text(label)}</td><td>{n}</td><td>{share:.0f}%</td>"
                    f'<td><span aria-hidden="true">{bar}</span></td><td>{mark}</td></tr>')
    note = ("<p>Counts marked hidden are too small to show outside the class without risking that someone's "
            "answer could be picked out.</p>" if any(v is None for v in shown.counts.values()) else "")
    return (f"{region}<h4>{text(heading)}</h4><table><caption>{text(caption)}</caption>"
            '<thead><tr><th scope="col">Option</th><th scope="col">Learners</th><th scope="col">Share</th>'
            '<th scope="col">Bar</th><th scope="col">Note</th></tr></thead><tbody>'
            + "".join(rows) + "</tbody></table>" + note + "</div>")


def reflections_for(audience: str, rows: list[dict]) -> list[dict]:
    """Learners' saved reflections, for the instructor only.

    A reflection is personal writing: the instructor of the class sees it (once collected), and no
    class view, public report or research export ever does.
    """
    if check_audience(audience) != "instructor":
        raise DualroleError(f"reflections are shown to the instructor only, never to the {audience} audience")
    return rows

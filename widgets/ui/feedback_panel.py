"""Feedback from the instructor on a learner's card, and the import of a feedback file.

:class:`FeedbackPanel` sits under a card's answer and shows what was released for that case,
read from the card's store: the class service on a hub (the learner's own feedback only) or the
learner's own store after :class:`FeedbackImport` has checked and kept a feedback file.
"""

from __future__ import annotations

import tempfile
import weakref
from pathlib import Path

import ipywidgets as ipw

from widgets.errors import DualroleError
from widgets.render import text
from widgets.store.protocol import ResponseStore
from widgets.ui.a11y import LiveStatus


def feedback_html(rows: list[dict], attempts: dict[str, int] | None = None) -> str:
    """Released feedback on one case as safe HTML: one labelled block, every level and comment escaped.

    Storage keeps every release; the learner sees the latest release on each of their answers under
    each rubric (an answer may carry a reasoning score and a written-analysis score), so a re-release
    replaces the earlier one on screen. ``attempts`` ({response_id: 1 or 2}) labels each as the first
    attempt or the revote; where an answer has feedback under two rubrics, each block names its rubric.
    """
    if not rows:
        return ""
    latest: dict[tuple[str, str], dict] = {}
    for row in sorted(rows, key=lambda r: r["released_at"]):
        latest[(row["response_id"], row.get("rubric_id", ""))] = row
    several = len({rubric for _, rubric in latest}) > 1
    attempts = attempts or {}
    parts = ['<section class="dualrole-feedback" aria-label="Feedback from your instructor">',
             "<h4>Feedback from your instructor</h4>"]
    for row in sorted(latest.values(), key=lambda r: attempts.get(r["response_id"], 0)):
        when = row["released_at"].strftime("%d %b %Y") if row.get("released_at") else ""
        which = {1: "your first answer", 2: "your revised answer"}.get(attempts.get(row["response_id"]), "your answer")
        which += f" (rubric: {row['rubric_id'].replace('_', ' ')})" if several else ""
        parts.append(f"<p><em>On {which}: released by {text(row['released_by'])} on {text(when)}.</em></p><ul>")
        for level in row["levels"]:
            parts.append(f"<li><strong>{text(level['label'])}</strong>: {int(level['level'])} of {int(level['top'])}"
                         f" ({text(level['descriptor'])})</li>")
        parts.append("</ul>")
        if row.get("comment"):
            parts.append(f"<p><strong>Comment:</strong> {text(row['comment'])}</p>")
    parts.append("</section>")
    return "".join(parts)


class FeedbackPanel(ipw.HTML):
    """The feedback released to ``learner`` on ``case_id``; empty (and silent) until there is some.

    Every open panel is known to :class:`FeedbackImport`, so a feedback file imported in the
    learner's answers panel shows on the cards already open, without rerunning their cells.
    """

    _open: weakref.WeakSet = weakref.WeakSet()

    def __init__(self, case_id: str, store: ResponseStore, learner: str, **kwargs):
        super().__init__(**kwargs)
        self.case_id = case_id
        self.store = store
        self.learner = learner
        FeedbackPanel._open.add(self)
        self.refresh()

    @classmethod
    def open_panels(cls, learner: str) -> list[FeedbackPanel]:
        """The panels open in this kernel for ``learner``."""
        return [panel for panel in list(cls._open) if panel.learner == learner]

    def refresh(self) -> None:
        """Read the released feedback again (after an import, or when the card redraws)."""
        try:
            rows = self.store.feedback(self.learner, case_id=self.case_id)
            answers = self.store.responses(learner=self.learner, case_id=self.case_id) if rows else []
        except DualroleError:
            rows, answers = [], []
        self.value = feedback_html(rows, {a["response_id"]: a["attempt"] for a in answers})


class FeedbackImport(ipw.VBox):
    """Import a feedback file from the instructor into the learner's own store (default: yours).

    A file for another learner, a changed file, or feedback on a case version the learner did not
    answer is refused with the reason, and nothing from it is kept. ``panels``, and every card's
    panel open for the learner, are refreshed after an import so the feedback shows at once.
    """

    def __init__(self, store=None, learner: str | None = None, panels: list[FeedbackPanel] = ()):
        from widgets.learner import identity
        from widgets.store import open_store

        self.store = store or open_store()
        self.learner = learner or identity.learner_id()
        self.panels = list(panels)
        self.upload = ipw.FileUpload(accept=".jsonl", multiple=False, description="Import feedback file",
                                     tooltip="The feedback-<you>.jsonl file your instructor gave you")
        self.status = LiveStatus()
        self.upload.observe(self._on_upload, names="value")
        super().__init__([self.upload, self.status])

    def import_path(self, path: Path | str) -> int:
        """Import one file; say what happened; return how many feedback items were new."""
        from widgets.exchange.feedback import import_feedback

        try:
            n = import_feedback(path, self.store, self.learner)
        except DualroleError as exc:
            self.status.say(f"Not imported: {exc}", urgent=True)
            return 0
        for panel in {*self.panels, *FeedbackPanel.open_panels(self.learner)}:
            panel.refresh()
        self.status.say(f"Imported {n} new feedback item(s); they are shown under your answers." if n
                        else "This feedback was already imported.")
        return n

    def _on_upload(self, change) -> None:
        for item in change["new"] or ():
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / Path(item["name"]).name
                path.write_bytes(bytes(item["content"]))
                self.import_path(path)

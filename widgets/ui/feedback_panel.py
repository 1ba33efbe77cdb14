"""Feedback from the instructor on a learner's card, and the import of a feedback file.

:class:`FeedbackPanel` sits under a card's answer and shows what was released for that case,
read from the card's store: the class service on a hub (the learner's own feedback only) or the
learner's own store after :class:`FeedbackImport` has checked and kept a feedback file.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import ipywidgets as ipw

from widgets.errors import DualroleError
from widgets.render import text
from widgets.store.protocol import ResponseStore
from widgets.ui.a11y import LiveStatus


def feedback_html(rows: list[dict]) -> str:
    """Released feedback as safe HTML: every level and comment is escaped text, the newest first."""
    if not rows:
        return ""
    parts = ['<section class="dualrole-feedback" aria-label="Feedback from your instructor">',
             "<h4>Feedback from your instructor</h4>"]
    for row in reversed(rows):
        when = row["released_at"].strftime("%d %b %Y") if row.get("released_at") else ""
        parts.append(f"<p><em>Released {text(when)} on your answer (case version {text(row['case_version'])})."
                     "</em></p><ul>")
        for level in row["levels"]:
            parts.append(f"<li><strong>{text(level['label'])}</strong>: {int(level['level'])} of {int(level['top'])}"
                         f" ({text(level['descriptor'])})</li>")
        parts.append("</ul>")
        if row.get("comment"):
            parts.append(f"<p><strong>Comment:</strong> {text(row['comment'])}</p>")
    parts.append("</section>")
    return "".join(parts)


class FeedbackPanel(ipw.HTML):
    """The feedback released to ``learner`` on ``case_id``; empty (and silent) until there is some."""

    def __init__(self, case_id: str, store: ResponseStore, learner: str, **kwargs):
        super().__init__(**kwargs)
        self.case_id = case_id
        self.store = store
        self.learner = learner
        self.refresh()

    def refresh(self) -> None:
        """Read the released feedback again (after an import, or when the card redraws)."""
        try:
            rows = self.store.feedback(self.learner, case_id=self.case_id)
        except DualroleError:
            rows = []
        self.value = feedback_html(rows)


class FeedbackImport(ipw.VBox):
    """Import a feedback file from the instructor into the learner's own store (default: yours).

    A file for another learner, a changed file, or feedback on a case version the learner did not
    answer is refused with the reason, and nothing from it is kept. ``panels`` are refreshed after
    an import so the cards show the feedback at once.
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
        for panel in self.panels:
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

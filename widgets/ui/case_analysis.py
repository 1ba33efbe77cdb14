"""``CaseAnalysis("small_holiday_gift")``: a longer written analysis of one case, in seven parts.

The learner commits an answer on the case's card first (the card is shown here until they have),
then writes facts, roles, risks, standards, options, decision and what they would say. The analysis
is kept as a private reflection of kind ``case_analysis`` (:data:`widgets.responses.contract.ANALYSIS_SECTIONS`):
in the learner's own store, handed in with their bundle, and read by the grader beside their last
answer to the case, on ``data/rubrics/case_analysis.yaml``. Saving again keeps a newer version; the
latest counts.
"""

from __future__ import annotations

import ipywidgets as ipw

from widgets.cases.library import load_case
from widgets.errors import DualroleError
from widgets.grading.files import Rubric, shipped_rubric
from widgets.learner import identity
from widgets.learner.connect import response_store
from widgets.render import markdown, text
from widgets.responses.codec import to_json
from widgets.responses.contract import (
    ANALYSIS_LESSON,
    ANALYSIS_SECTIONS,
    Reflection,
    analysis_sections,
    analysis_text,
    check_reflection,
)
from widgets.store import open_store
from widgets.store.protocol import ReflectionStore, ResponseStore
from widgets.ui.a11y import CommitButton, LiveStatus, guarded
from widgets.ui.card import CaseCard

_WIDE = ipw.Layout(width="100%", max_width="900px")
KIND = "case_analysis"


class CaseAnalysis(ipw.VBox):
    """The case's card, then one text box per part of the analysis and a Save button.

    Parameters
    ----------
    case : str
        A lesson case id.
    store : ResponseStore, optional
        Where the card's answer goes (default: the class service on a hub, else the learner's store).
    analyses : ReflectionStore, optional
        Where the analysis is kept (default: the learner's own store on this machine).
    """

    def __init__(self, case: str, *, store: ResponseStore | None = None, analyses: ReflectionStore | None = None):
        self.case = load_case(case)
        self.learner = identity.learner_id()
        self.responses = store or response_store()
        self.store = analyses or open_store()
        self.card = CaseCard(self.case, store=self.responses)
        saved = self._saved()
        self.parts = {
            key: ipw.Textarea(value=saved.get(key, ""), placeholder=hint, description=f"{heading}:",
                              style={"description_width": "initial"},
                              layout=ipw.Layout(width="100%", max_width="900px", height="90px"))
            for key, heading, hint in ANALYSIS_SECTIONS
        }
        self.save = CommitButton(sources=list(self.parts.values()), description="Save my analysis",
                                 button_style="primary")
        self.status = LiveStatus(layout=_WIDE)
        self.save.on_click(self._on_save)
        heading = ipw.HTML(f"<h4>My analysis of “{text(self.case.title)}”</h4><p>Only you and your instructor "
                           "see it. Commit your answer on the card above first.</p>", layout=_WIDE)
        super().__init__(children=[self.card, heading, *self.parts.values(), self.save, self.status], layout=_WIDE)
        self.add_class("dualrole-case-analysis")
        guarded(self)
        if saved:
            self.status.say("Your last saved analysis is shown.")

    def _saved(self) -> dict[str, str]:
        rows = [r for r in self.store.reflections(learner=self.learner, lesson=ANALYSIS_LESSON, kind=KIND)
                if r["case_id"] == self.case.id]
        return analysis_sections(rows[-1]["text"]) if rows else {}

    def words(self) -> int:
        """How many words the analysis holds, over every part."""
        return sum(len(box.value.split()) for box in self.parts.values())

    def _on_save(self, _button=None) -> None:
        if not self.responses.responses(learner=self.learner, case_id=self.case.id, phase="practice"):
            self.status.say("Not saved yet: commit your answer on the card first; the analysis is read beside it.",
                            urgent=True)
            return
        empty = [heading for key, heading, _ in ANALYSIS_SECTIONS if not self.parts[key].value.strip()]
        body = to_json(Reflection(learner=self.learner, cohort=identity.cohort(), lesson=ANALYSIS_LESSON,
                                  kind=KIND, case_id=self.case.id,
                                  text=analysis_text({k: box.value for k, box in self.parts.items()})).row())
        reflection, problems = check_reflection(body, learner=self.learner)
        if problems:
            field, reason = next(iter(problems.items()))
            self.status.say("Not saved: write something first." if field == "text" and "empty" in reason
                            else f"Not saved: the analysis {reason}.", urgent=True)
            return
        try:
            self.store.add_reflection(reflection)
        except Exception as exc:  # noqa: BLE001 - no save may fail silently: say so, and keep the text in the boxes
            reason = str(exc) if isinstance(exc, DualroleError) else "your answers file could not be written"
            self.status.say(f"Not saved: {reason}. Your text is still in the boxes; try again.", urgent=True)
            return
        left = f" Still empty: {', '.join(empty)}." if empty else ""
        self.status.say(f"Saved ({self.words()} words). It goes to your instructor in your answers file when you "
                        f"download it, and nowhere else.{left}")


class AnalysisRubric(ipw.HTML):
    """The case-analysis rubric as a learner reads it: each criterion's levels, each beside its anchor
    answer for the rubric's anchor case, so the levels are seen in a worked example before writing.

    Parameters
    ----------
    rubric : Rubric, optional
        Default: the shipped ``data/rubrics/case_analysis.yaml``.
    """

    def __init__(self, rubric: Rubric | None = None):
        rubric = rubric or shipped_rubric("case_analysis")
        case = load_case(rubric.anchor_case) if rubric.anchor_case else None
        parts = [f"<h4>{text(rubric.title)}</h4>", markdown(rubric.description)]
        if case is not None:
            parts.append(f"<p>Each level's anchor is an answer about <em>{text(case.title)}</em>.</p>")
        for c in rubric.criteria:
            anchors = c.anchors or ("",) * len(c.levels)
            rows = "".join(f"<tr><th scope='row'>{level}</th><td>{text(descriptor)}</td><td>{text(anchor)}</td></tr>"
                           for level, (descriptor, anchor) in enumerate(zip(c.levels, anchors)))
            parts.append(f"<table><caption>{text(c.label)}</caption><tr><th scope='col'>Level</th>"
                         f"<th scope='col'>What it does</th><th scope='col'>Anchor answer</th></tr>{rows}</table>")
        super().__init__("".join(parts), layout=_WIDE)

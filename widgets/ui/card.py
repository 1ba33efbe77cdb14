"""``CaseCard("cosmetics")``: the one line a lesson shows per case.

The card binds ipywidgets controls to a :class:`~widgets.kernel.session.CaseSession`; every rule lives
there. Feedback goes into widget values (never ``print``), so it behaves the same under nbval.
"""

from __future__ import annotations

import ipywidgets as ipw

from widgets.cases.library import Case, load_case
from widgets.errors import AlreadyAnswered, DualroleError
from widgets.kernel import identity
from widgets.kernel.connect import response_store
from widgets.kernel.session import CaseSession, Draft
from widgets.render import markdown, text
from widgets.responses.disclosure import MIN_CLASS
from widgets.store.protocol import ResponseStore
from widgets.ui.a11y import ChoiceGroup, LiveStatus, RangeInput, RevealPanel
from widgets.ui.classmode import follow_service
from widgets.ui.feedback import FeedbackPanel
from widgets.ui.reveal import reveal_html
from widgets.vocab import KITCHENER_FACTORS, MODULES, RISK_LEVELS

_WIDE = ipw.Layout(width="100%", max_width="900px")
_DESCRIPTION = {"description_width": "initial"}


class CaseCard(ipw.VBox):
    """A case with its options, confidence, Kitchener ratings and reasoning; reveals after commit.

    Parameters
    ----------
    case : str or Case
        A case id from the library (or an instructor's ``DUALROLE_CASES`` folder), or a loaded case.
    phase : {"practice", "pre", "post"}
        Recorded with every response.
    min_class : int
        The cohort distribution is shown only once this many learners have answered.
    store : Store, optional
        Defaults to the learner's own store (``DUALROLE_STORE`` or the data folder).
    """

    def __init__(self, case: str | Case, *, phase: str = "practice", min_class: int = MIN_CLASS,
                 store: ResponseStore | None = None, cohort: str | None = None, learner: str | None = None,
                 client: str = "lab", reveal_ready=None):
        self.case = case if isinstance(case, Case) else load_case(case)
        self.store = store or response_store()
        self.session = CaseSession(
            self.case, self.store,
            learner=learner or identity.learner_id(),
            cohort=cohort or identity.cohort(),
            phase=phase, client=client, consent=identity.research_consent(),
            min_class=min_class, reveal_ready=reveal_ready,
        )
        self._build()
        super().__init__(children=self._children(), layout=_WIDE)
        self.add_class("dualrole-card")
        # On a hub's class service the card follows the instructor's pacing and its outbox.
        self.follower = None
        self.follower = follow_service(self)
        self._show_state()

    # -- layout --------------------------------------------------------------------------------

    def _build(self) -> None:
        c = self.case
        number, module_title = MODULES[c.module]
        self.header = ipw.HTML(
            f"<h3>{text(c.title)}</h3><p><em>Module {number}: {text(module_title)}</em></p>"
        )
        self.vignette = ipw.HTML(markdown(c.vignette), layout=_WIDE)
        # Accessible replacements for RadioButtons, IntSlider and the status/reveal HTML (widgets/a11y.py).
        self.options = ChoiceGroup(
            options=[(o.label, o.id) for o in c.options], value=None, description="Your decision:", layout=_WIDE,
        )
        self.confidence = RangeInput(value=50, min=0, max=100, step=5, unit="%", description="Confidence:")
        self.kitchener = {
            factor: ipw.Dropdown(
                # "" rather than None for "Not rated": ipywidgets shows a None value as a blank select.
                options=[("Not rated", "")] + [(level.capitalize(), level) for level in RISK_LEVELS],
                value="", description=f"{label}:", style=_DESCRIPTION, layout=ipw.Layout(width="520px"),
            )
            for factor, label in KITCHENER_FACTORS.items()
        }
        self.justification = ipw.Textarea(
            placeholder="Why? Name the roles, the risks and what you would say to the client.",
            description="Your reasoning:", style=_DESCRIPTION, layout=ipw.Layout(width="100%", height="110px"),
        )
        self.submit = ipw.Button(description="Commit my answer", button_style="primary", disabled=True,
                                 tooltip="Save your answer; the reference appears after you commit")
        self.revote_button = ipw.Button(description="Change my answer (once)", layout=ipw.Layout(display="none"),
                                        tooltip="Revise your answer after seeing the reference")
        self.status = LiveStatus(layout=_WIDE)
        self.reveal = RevealPanel(layout=_WIDE)
        self.feedback = FeedbackPanel(c.id, self.store, self.session.learner, layout=_WIDE)

        for control in (self.options, self.justification, *self.kitchener.values()):
            control.observe(self._on_change, names="value")
        self.submit.on_click(self._on_submit)
        self.revote_button.on_click(self._on_revote)

    def _children(self) -> list[ipw.Widget]:
        ratings = ipw.VBox(
            [ipw.HTML("<p><strong>Kitchener's factors:</strong> how high is each risk here?</p>"),
             *self.kitchener.values()]
        )
        return [self.header, self.vignette, self.options, self.confidence, ratings, self.justification,
                ipw.HBox([self.submit, self.revote_button]), self.status, self.reveal, self.feedback]

    # -- behaviour -----------------------------------------------------------------------------

    @property
    def draft(self) -> Draft:
        return Draft(
            option_id=self.options.value,
            confidence=self.confidence.value,
            justification=self.justification.value,
            kitchener={f: w.value or None for f, w in self.kitchener.items()},
        )

    def _inputs(self) -> list[ipw.Widget]:
        return [self.options, self.confidence, self.justification, *self.kitchener.values()]

    def _set_locked(self, locked: bool) -> None:
        for w in self._inputs():
            w.disabled = locked

    def _on_change(self, _change=None) -> None:
        if self._editing():
            reason = self.session.blocker(self.draft)
            self.submit.disabled = reason is not None
            self.status.say(reason or "Ready to commit.")

    def _editing(self) -> bool:
        return not self.options.disabled

    def _on_submit(self, _button=None) -> None:
        self.submit.disabled = True
        try:
            self.session.commit(self.draft)
        except AlreadyAnswered:
            self._show_state()
            self.status.say("This answer was already committed in another tab or window; that answer is shown.")
            return
        except DualroleError as exc:
            self._on_change()
            self.status.say(f"Not saved: {exc}", urgent=True)
            return
        self._show_state()
        if self.reveal.value:
            self.reveal.focus()  # the button is now disabled: take the learner to the reveal

    def _on_revote(self, _button=None) -> None:
        if not self.session.can_revote:
            return
        self._set_locked(False)
        self.revote_button.layout.display = "none"
        self.submit.description = "Commit my revised answer"
        self._on_change()
        self.status.say("Revise your answer once. Your first answer stays on record; "
                        "the new one is saved as a second attempt.")
        self.options.focus()  # the button just pressed is now hidden

    def _show_state(self) -> None:
        self._render_state()
        self.feedback.refresh()
        if self.follower is not None:
            self.follower.update_card()

    def _render_state(self) -> None:
        s = self.session
        if not s.committed:
            self._set_locked(False)
            self._on_change()
            return
        self._fill(s.draft_from(s.latest))
        self._set_locked(True)
        self.submit.disabled = True
        self.submit.description = "Committed"
        self.revote_button.layout.display = None if s.can_revote else "none"
        if s.reveal_released:
            self.status.say("Saved. The reference is shown below.")
            self.reveal.value = reveal_html(self.case, s.attempts, s.cohort_view(), stale=s.stale)
        else:
            self.status.say("Saved. The reference for this case is held back until "
                            "the end of the course, so that the later assessment is fair.")
            self.reveal.value = ""

    def _fill(self, draft: Draft) -> None:
        self.options.value = draft.option_id
        self.confidence.value = draft.confidence
        self.justification.value = draft.justification
        for factor, widget in self.kitchener.items():
            widget.value = draft.kitchener.get(factor) or ""

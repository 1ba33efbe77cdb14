"""The pre/post assessment: form A or B at the start of a course (pre), the other form at the end (post).

Which form comes first is randomised in blocks of two within the cohort
(:func:`widgets.learner.progress.learner_forms`). The
pre-test's references are held back until the post-test is done, so the post-test measures what
the course taught rather than what the pre-test revealed. The post-test opens only once the
instructor releases it, or, in self-study, once the learner confirms, in two steps, that they have
finished the course. The gate and the counts are :mod:`widgets.learner.progress`' rules; this module only
shows them.
"""

from __future__ import annotations

import ipywidgets as ipw

from widgets.cases.forms import assessment_forms
from widgets.errors import DualroleError
from widgets.learner import identity
from widgets.learner.connect import response_store
from widgets.learner.progress import (
    ASSESSMENT_PHASES,
    class_post_stages,
    confirm_post_test,
    delayed_test_gate,
    form_for,
    phase_done,
    post_test_gate,
)
from widgets.learner.session import when_committed
from widgets.render import text
from widgets.store.protocol import ResponseStore
from widgets.ui.a11y import LiveStatus, guarded
from widgets.ui.card import CaseCard

_TITLES = {"pre": "Pre-test", "post": "Post-test", "delayed": "Delayed post-test"}


class Assessment(ipw.VBox):
    """One phase of the assessment: ``Assessment("pre")``, ``Assessment("post")`` or ``Assessment("delayed")``.

    The learner sees the eight cases of their form for that phase (``form`` overrides it, for an
    instructor previewing a form). The post-test waits behind a gate
    (:func:`widgets.learner.progress.post_test_gate`); the delayed post-test, where the course offers
    it, behind its own (:func:`widgets.learner.progress.delayed_test_gate`).
    """

    def __init__(self, phase: str, *, store: ResponseStore | None = None, form: str | None = None,
                 **card_options):
        if phase not in ASSESSMENT_PHASES:
            raise DualroleError(f"phase must be one of {', '.join(ASSESSMENT_PHASES)}, not {phase!r}")
        self.phase = phase
        self.config = assessment_forms()
        self.store = store or response_store()
        self.learner = card_options.setdefault("learner", identity.learner_id())
        self.cohort = card_options.setdefault("cohort", identity.cohort())
        self.form = form or form_for(self.store, self.learner, self.cohort, phase)
        if self.form not in self.config.forms:
            raise DualroleError(f"form must be one of {', '.join(self.config.forms)}, not {form!r}")
        self._card_options = card_options
        self.cards: list[CaseCard] = []
        self._held = False
        self.status = LiveStatus()
        self.confirm = ipw.Button(description="I have finished the course: open the post-test",
                                  button_style="primary", layout=ipw.Layout(display="none", width="auto"),
                                  tooltip="Asks you to confirm; the lessons stay open afterwards")
        self.confirm_yes = ipw.Button(description="Yes, open the post-test now", button_style="warning",
                                      layout=ipw.Layout(display="none", width="auto"))
        self.confirm_no = ipw.Button(description="Not yet", layout=ipw.Layout(display="none", width="auto"))
        self.warning = ipw.HTML()
        self.confirm.on_click(self._on_confirm)
        self.confirm_yes.on_click(self._on_confirm_yes)
        self.confirm_no.on_click(self._on_confirm_no)
        super().__init__()
        guarded(self)
        self.gate = None
        if phase == "post":
            self.gate = post_test_gate(self.store, self.learner, class_post_stages(self.store, self.cohort))
            if not self.gate.open:
                self._show_gate()
                return
        if phase == "delayed":
            self.gate = delayed_test_gate(self.store, self.learner)
            if not self.gate.open:
                self.children = [ipw.HTML(f"<p><strong>Delayed post-test: not open.</strong> {text(self.gate.why)}"
                                          "</p>"), self.status]
                return
        self._show_cards()

    def _show_gate(self) -> None:
        gate = self.gate
        message = (f"<p><strong>Post-test: not open yet.</strong> {text(gate.why)} "
                   f"You have answered {gate.done} of {gate.total} lesson cases.</p>")
        if gate.confirmable:
            self.confirm.layout.display = None
            message += ("<p>When you have finished the lessons, confirm below. The post-test then opens, and once "
                        "you finish it the references for your pre-test answers appear.</p>")
        self.children = [ipw.HTML(message), self.confirm, self.warning,
                         ipw.HBox([self.confirm_yes, self.confirm_no]), self.status]

    def _on_confirm(self, _button=None) -> None:
        """The first step: say what is left undone, and ask again."""
        left = self.gate.left
        if not left:
            self._on_confirm_yes()
            return
        self.confirm.layout.display = "none"
        self.confirm_yes.layout.display = None
        self.confirm_no.layout.display = None
        self.warning.value = (f"<p role=\"note\"><strong>Before you open it:</strong> {text(left)}. The post-test "
                              "measures what the course taught you, so it counts most once the lessons are done. "
                              "Once opened it stays open.</p>")
        self.status.say(f"Still to do: {left}. Open the post-test anyway?", urgent=True)

    def _on_confirm_no(self, _button=None) -> None:
        self.confirm.layout.display = None
        self.confirm_yes.layout.display = "none"
        self.confirm_no.layout.display = "none"
        self.warning.value = ""
        self.status.say("The post-test stays closed. Come back when you have finished the lessons.")

    def _on_confirm_yes(self, _button=None) -> None:
        try:
            self.gate = confirm_post_test(self.gate, acknowledged_left=True)
        except DualroleError as exc:
            self.status.say(str(exc), urgent=True)
            return
        self._show_cards()
        self.status.say("The post-test is open below.")

    def _show_cards(self) -> None:
        case_ids = self.config.forms[self.form]
        options = dict(self._card_options)
        held = self.phase == "pre" and self.config.pre_reveal == "after_post"
        if held:
            options["reveal_ready"] = lambda: phase_done(self.store, self.learner, "post")
        self.cards = [CaseCard(case_id, phase=self.phase, store=self.store, **options) for case_id in case_ids]
        done = phase_done(self.store, self.learner, self.phase)
        intro = ipw.HTML(
            f"<p><strong>{_TITLES[self.phase]}</strong> (form {self.form}): "
            f"{len(self.cards)} cases. "
            + ("The reference answers for this part appear after you finish the post-test."
               if held else "Each reference answer appears when you commit.")
            + "</p>"
        )
        self.end = ipw.HTML()
        self._held = held
        when_committed(self._on_card_commit)  # the end of the test is said as soon as the last answer is in
        children: list[ipw.Widget] = [intro]
        for i, card in enumerate(self.cards, start=1):
            children += [ipw.HTML(f"<h4>Case {i} of {len(self.cards)}</h4>"), card]
        self.children = [*children, self.end, self.status]
        self._show_end(done)

    def _on_card_commit(self, _response=None) -> None:
        done = phase_done(self.store, self.learner, self.phase)
        self._show_end(done)
        if done:
            self.status.say(self.end_message)

    @property
    def end_message(self) -> str:
        if self.phase == "pre":
            later = (" The references for these cases appear after the post-test, at the end of the course."
                     if self._held else "")
            return f"You have finished the pre-test: all its answers are saved. Go on to lesson 01.{later}"
        if self.phase == "delayed":
            return "You have finished the delayed post-test: all its answers are saved. Thank you."
        return "You have finished the post-test: all its answers are saved. Your pre-test references are now open."

    def _show_end(self, done: bool) -> None:
        self.end.value = f'<p role="note"><strong>{text(self.end_message)}</strong></p>' if done else ""

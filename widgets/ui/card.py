"""``CaseCard("cosmetics")``: the one line a lesson shows per case.

The card binds ipywidgets controls to a :class:`~widgets.learner.session.CaseSession`; every rule lives
there. Feedback goes into widget values (never ``print``), so it behaves the same under nbval.
"""

from __future__ import annotations

import ipywidgets as ipw

from widgets.cases import course
from widgets.cases.library import Case, load_case
from widgets.errors import AlreadyAnswered, DualroleError
from widgets.learner import identity
from widgets.learner.connect import reaches_class, response_store
from widgets.learner.session import (
    ANSWERING,
    HELD_BACK,
    READING_REFERENCE,
    RECONSIDERING,
    SETTLED,
    CaseSession,
    Draft,
)
from widgets.render import content_note, markdown, text
from widgets.responses.disclosure import MIN_CLASS
from widgets.store.protocol import ResponseStore
from widgets.ui.a11y import ChoiceGroup, CommitButton, LiveStatus, RangeInput, RevealPanel, guarded
from widgets.ui.classmode import SCRIPT_PENDING, follow_service
from widgets.ui.feedback_panel import FeedbackPanel
from widgets.ui.reveal import class_block, first_reasoning_html, reveal_html
from widgets.vocab import KITCHENER_FACTORS, MODULES, RISK_LEVELS

_WIDE = ipw.Layout(width="100%", max_width="900px")
_DESCRIPTION = {"description_width": "initial"}


class CaseCard(ipw.VBox):
    """A case with its options, confidence, ratings and reasoning, taken through peer instruction.

    After a commit the learner sees how the class answered and reconsiders: they change their answer
    once, with new reasoning, or keep it. Only then does "Show the reference" reveal the reference.
    Options appear in the learner's own shuffled order. What the learner types is kept as a draft
    until they commit, so a restart or reload loses nothing.

    Parameters
    ----------
    case : str or Case
        A case id from the library (or an instructor's ``DUALROLE_CASES`` folder), or a loaded case.
    phase : {"practice", "pre", "post"}
        Recorded with every response. Pre- and post-test answers skip the class and reconsider steps.
    min_class : int
        The class distribution is shown once this many learners have answered (at least 3).
    store : ResponseStore, optional
        Defaults to the class service on a hub, else the learner's own store.
    ratings : bool, optional
        Ask for Kitchener's factors; by default where the course asks for them (lessons 2 and 3), and
        only where the case has a second role.
    own_words : bool, optional
        "Own words first": ask for the learner's answer in words before the options appear (practice
        cases only). By default the learner's own setting, chosen in *My answers*.
    """

    def __init__(self, case: str | Case, *, phase: str = "practice", min_class: int = MIN_CLASS,
                 store: ResponseStore | None = None, cohort: str | None = None, learner: str | None = None,
                 client: str = "lab", reveal_ready=None, ratings: bool | None = None,
                 own_words: bool | None = None):
        self.case = case if isinstance(case, Case) else load_case(case)
        self.store = store or response_store()
        self.session = CaseSession(
            self.case, self.store,
            learner=learner or identity.learner_id(),
            cohort=cohort or identity.cohort(),
            phase=phase, client=client, consent=identity.research_consent(),
            min_class=min_class, reveal_ready=reveal_ready,
            own_words=identity.own_words_first() if own_words is None else own_words,
        )
        self.asks_ratings = self.session.asks_ratings if ratings is None else ratings
        # While the card fills its own controls (first render, restoring a draft), nothing is a new draft.
        self._restoring = True
        self._build()
        super().__init__(children=self._children(), layout=_WIDE)
        self.add_class("dualrole-card")
        guarded(self)
        # On a hub's class service the card follows the instructor's pacing and its outbox.
        self.follower = None
        self.follower = follow_service(self)
        self._show_state()
        self._restore_draft()
        self._restoring = False

    # -- layout --------------------------------------------------------------------------------

    def _build(self) -> None:
        c = self.case
        number, module_title = MODULES[c.module]
        # An optional case says so at once: the lesson is complete without it (widgets/cases/course.py).
        optional = (" &middot; <strong>Optional case</strong>: your lesson is complete without it"
                    if course.is_optional(c.id) else "")
        self.header = ipw.HTML(
            f"<h3>{text(c.title)}</h3><p><em>Module {number}: {text(module_title)}</em>{optional}</p>"
        )
        # A loaded case names what it contains before the learner reads it (and may skip it).
        self.content_note = ipw.HTML(content_note(c.content_note) if c.content_note else "", layout=_WIDE)
        self.vignette = ipw.HTML(markdown(c.vignette), layout=_WIDE)
        # Accessible replacements for RadioButtons, IntSlider and the status/reveal HTML (widgets/ui/a11y.py).
        self.options = ChoiceGroup(
            options=[(c.option(i).label, i) for i in self.session.option_order], value=None,
            description="Your decision:", layout=_WIDE,
        )
        self.confidence = RangeInput(value=50, min=0, max=100, step=5, unit="%", description="Confidence:")
        # A row of radios per factor (not a select): arrow keys change the rating, and it wraps on a phone.
        self.kitchener = {
            factor: ChoiceGroup(options=[(level.capitalize(), level) for level in RISK_LEVELS], value=None,
                                description=f"{label}:", inline=True, layout=_WIDE)
            for factor, label in KITCHENER_FACTORS.items()
        }
        # "Own words first": the learner's answer in words, before the options appear (widgets/learner/session.py).
        self.own_words = ipw.Textarea(
            placeholder="What would you do, and why? Write it before you see the options.",
            description="Your own answer:", style=_DESCRIPTION, layout=ipw.Layout(width="100%", height="90px"),
        )
        self.options_button = ipw.Button(description="Show the options", button_style="primary", disabled=True,
                                         tooltip="Your own answer is kept and saved with your reasoning")
        self.own_words_box = ipw.VBox(
            [ipw.HTML("<p><strong>Your own answer first.</strong> Say in a few sentences what you would do and "
                      "why, before you see the options. It is saved at the start of your reasoning.</p>"),
             self.own_words, self.options_button],
            layout=ipw.Layout(display="none"))
        self.justification = ipw.Textarea(
            placeholder="Why? Name the roles, the risks and what you would say to the client.",
            description="Your reasoning:", style=_DESCRIPTION, layout=ipw.Layout(width="100%", height="110px"),
        )
        # The commit carries what the inputs hold in the browser, so a click right after the last
        # keystroke commits it too (widgets/ui/a11y.py, CommitButton).
        self.submit = CommitButton(sources=self._inputs(), description="Commit my answer", button_style="primary",
                                   disabled=True, tooltip="Save your answer; then you see how the class answered")
        self.status = LiveStatus(layout=_WIDE)
        self.peer = ipw.HTML(layout=_WIDE)
        self.revote_button = ipw.Button(description="Change my answer", layout=ipw.Layout(display="none"),
                                        tooltip="Choose again, once, with new reasoning")
        self.keep_button = ipw.Button(description="Keep my answer", layout=ipw.Layout(display="none"),
                                      tooltip="Stay with your answer and go on to the reference")
        self.show_button = ipw.Button(description="Show the reference", button_style="info",
                                      layout=ipw.Layout(display="none"),
                                      tooltip="See the reference answer and its rationale")
        self._build_say()
        self.reveal = RevealPanel(layout=_WIDE)
        self.feedback = FeedbackPanel(c.id, self.store, self.session.learner, layout=_WIDE)

        for control in (self.options, self.justification, self.confidence, *self.kitchener.values()):
            control.observe(self._on_change, names="value")
        self.own_words.observe(self._on_own_words, names="value")
        self.options_button.on_click(self._on_show_options)
        self.submit.on_click(self._on_submit)
        self.revote_button.on_click(self._on_revote)
        self.keep_button.on_click(self._on_keep)
        self.show_button.on_click(self._on_show)

    def _build_say(self) -> None:
        """The "what would you say" step: the case's prompt, a box for the words, the checklist to tick
        against them, Save, and Skip for now. Inside the card's box, so its keys are guarded as the rest."""
        say = self.case.say
        chart = say is not None and say.kind == "chart_note"
        heading = "What would you write in the chart?" if chart else "What would you say?"
        self.say_prompt = ipw.HTML(
            f"<h4>{heading}</h4><p>{text(say.prompt)}</p>" if say else "", layout=_WIDE)
        self.script_text = ipw.Textarea(
            placeholder=("The note you would write for the record." if chart
                         else "The two to four sentences you would say, in your own words."),
            description="Your chart note:" if chart else "Your words:", style=_DESCRIPTION,
            layout=ipw.Layout(width="100%", height="110px"))
        self.say_checks = [ipw.Checkbox(value=False, description=item, indent=False, layout=_WIDE)
                           for item in (say.checklist if say else ())]
        self.say_save = CommitButton(sources=[self.script_text, *self.say_checks], description="Save my words",
                                     button_style="primary", tooltip="Keep your words; saving again keeps a newer copy")
        self.say_skip = ipw.Button(description="Skip for now",
                                   tooltip="Go on without writing; the reference stays open to you")
        self.say_status = LiveStatus(layout=_WIDE)
        for control in (self.script_text, *self.say_checks):
            control.observe(self._on_say_change, names="value")
        self.say_save.on_click(self._on_say_save)
        self.say_skip.on_click(self._on_say_skip)
        checklist = ipw.VBox([ipw.HTML("<p>Tick each point your words cover:</p>"), *self.say_checks],
                             layout=_WIDE)
        checklist.add_class("dualrole-checklist")
        self.say_box = ipw.VBox([self.say_prompt, self.script_text, checklist,
                                 ipw.HBox([self.say_save, self.say_skip]), self.say_status],
                                layout=ipw.Layout(display="none", width="100%", max_width="900px"))
        self.say_box.add_class("dualrole-say")

    def _children(self) -> list[ipw.Widget]:
        self.ratings_box = ipw.VBox(
            [ipw.HTML("<p><strong>Kitchener's factors</strong> (lesson 02): each raises the risk of harm "
                      "when a second role is added. How high is each here?</p>"),
             *self.kitchener.values()],
            layout=ipw.Layout(display=None if self.asks_ratings else "none"),
        )
        self.answer_box = ipw.VBox([self.options, self.confidence, self.ratings_box, self.justification,
                                    ipw.HBox([self.submit])])
        # The own-words box is in the card only in that mode, so a card without it has one answer text box.
        own = [self.own_words_box] if self.session.asks_own_words else []
        return [self.header, self.content_note, self.vignette, *own, self.answer_box, self.status, self.peer,
                self.say_box, ipw.HBox([self.revote_button, self.keep_button, self.show_button]), self.reveal,
                self.feedback]

    # -- behaviour -----------------------------------------------------------------------------

    @property
    def draft(self) -> Draft:
        return Draft(
            option_id=self.options.value,
            confidence=self.confidence.value,
            justification=self.justification.value,
            kitchener={f: (w.value or None) if self.asks_ratings else None for f, w in self.kitchener.items()},
            own_words=self.own_words.value if self.session.asks_own_words else "",
        )

    def _show_own_words(self) -> None:
        """In the "own words first" mode, the options wait until the learner has written their own answer;
        then that answer stays on show, locked, above them."""
        s = self.session
        asking = s.asks_own_words and not s.committed
        self.own_words_box.layout.display = None if asking else "none"
        self.answer_box.layout.display = None if s.options_shown else "none"
        self.own_words.disabled = asking and s.options_shown
        self.options_button.layout.display = "none" if s.options_shown else None

    def _on_own_words(self, _change=None) -> None:
        if self._restoring or self.session.options_shown:
            return
        self.session.save_draft(self.draft)
        reason = self.session.own_words_blocker(self.own_words.value)
        self.options_button.disabled = reason is not None
        self.status.say(reason or "Show the options when you are ready.")

    def _on_show_options(self, _button=None) -> None:
        try:
            self.session.show_options(self.draft)
        except DualroleError as exc:
            self.status.say(str(exc), urgent=True)
            return
        self._show_own_words()
        self._on_change()
        self.options.focus()

    def _inputs(self) -> list[ipw.Widget]:
        return [self.options, self.confidence, self.justification, *self.kitchener.values()]

    def _set_locked(self, locked: bool) -> None:
        for w in self._inputs():
            w.disabled = locked

    def _on_change(self, _change=None) -> None:
        if self._editing():
            if not self._restoring:
                self.session.save_draft(self.draft)
            reason = self.session.blocker(self.draft)
            self.submit.disabled = reason is not None
            self.status.say(reason or "Ready to commit.")

    def _editing(self) -> bool:
        return not self.options.disabled

    def _restore_draft(self) -> None:
        if not self._editing():
            return
        draft = self.session.restored_draft()
        if draft is None:
            return
        self._fill(draft)
        self.own_words.value = draft.own_words
        self._show_own_words()
        if not self.session.options_shown:
            self.options_button.disabled = self.session.own_words_blocker(draft.own_words) is not None
            self.status.say("Your unsaved draft was restored.")
            return
        self._on_change()
        self.status.say("Your unsaved draft was restored. " + (self.session.blocker(self.draft) or "Ready to commit."))

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
        # The commit button is now disabled: take the learner to the next step.
        if self.reveal.value:
            self.reveal.focus()
        elif self.session.step == RECONSIDERING:
            self.revote_button.focus()
        elif self.session.step == SETTLED and not self.session.paced:
            self.show_button.focus()

    def _on_revote(self, _button=None) -> None:
        if not self.session.can_revote:
            return
        self._set_locked(False)
        self.justification.value = ""  # new reasoning for the new answer; the first stays on show
        for button in (self.revote_button, self.keep_button):
            button.layout.display = "none"
        self.peer.value = self.peer.value + first_reasoning_html(self.session.first)
        self.submit.description = "Commit my revised answer"
        self._on_change()
        self.status.say("Choose again and write your reasoning for the change. Your first answer stays on "
                        "record; the new one is saved as a second attempt.")
        self.options.focus()  # the button just pressed is now hidden

    def _on_keep(self, _button=None) -> None:
        try:
            self.session.keep()
        except DualroleError as exc:
            self.status.say(str(exc), urgent=True)
            return
        self._show_state()
        self.show_button.focus()

    def _on_show(self, _button=None) -> None:
        try:
            self.session.show_reference()
        except DualroleError as exc:
            self.status.say(str(exc), urgent=True)
            return
        self._show_state()
        self.reveal.focus()

    # -- what would you say -------------------------------------------------------------------

    @property
    def script_checks(self) -> list[int]:
        """The checklist items ticked, by position."""
        return [i for i, box in enumerate(self.say_checks) if box.value]

    def _on_say_change(self, _change=None) -> None:
        if self._say_filling or not self.session.script_open:
            return
        self.session.save_script_draft(self.script_text.value, self.script_checks)
        reason = self.session.script_blocker(self.script_text.value, self.script_checks)
        self.say_status.say(reason or "Ready to save.")

    def _on_say_save(self, _button=None) -> None:
        try:
            script = self.session.save_script(self.script_text.value, self.script_checks)
        except Exception as exc:  # noqa: BLE001 - no save may fail silently: say so, and keep the words in the box
            reason = str(exc) if isinstance(exc, DualroleError) else "it could not be written"
            self.say_status.say(f"Not saved: {reason.rstrip('.')}. Your words are still in the box and kept "
                                "as a draft; try again.", urgent=True)
            return
        ticked = f"{len(self.script_checks)} of {len(self.say_checks)} points ticked"
        if self.follower is not None and self.follower.script_waiting(script.script_id):
            self.say_status.say(f"{SCRIPT_PENDING} With {ticked}. You can improve it and save again "
                                "(the latest counts), or go on.")
            return
        self.say_status.say(f"Saved, with {ticked}. You can improve it and save again (the latest counts), or go on.")

    def _on_say_skip(self, _button=None) -> None:
        self.session.skip_script()
        self._show_state()
        self.status.say("Skipped for now. " + self.status.value)
        for button in (self.revote_button, self.keep_button, self.show_button):
            if button.layout.display is None:
                button.focus()
                break

    _say_filling = False

    def _fill_say(self) -> None:
        """Put the learner's unsaved words back in the box, else their latest saved ones."""
        s = self.session
        draft = s.script_draft()
        saved = s.script if draft is None else None
        if draft is None and saved is None:
            return
        words, checks = draft if draft is not None else (saved["text"], list(saved.get("checks") or ()))
        self._say_filling = True
        try:
            self.script_text.value = words
            for i, box in enumerate(self.say_checks):
                box.value = i in checks
        finally:
            self._say_filling = False
        self.say_status.say("Your unsaved words were restored." if draft is not None
                            else "Your last saved words are shown: improve them and save again, or go on.")

    def _show_state(self) -> None:
        self._render_state()
        self._show_own_words()
        self.feedback.refresh()
        if self.follower is not None:
            self.follower.update_card()

    def _render_state(self) -> None:
        s = self.session
        step = s.step
        for button in (self.revote_button, self.keep_button, self.show_button):
            button.layout.display = "none"
        was_open = self.say_box.layout.display is None
        self.say_box.layout.display = None if s.script_open else "none"
        if s.script_open and not was_open:
            self._fill_say()
        if step == ANSWERING:
            self._set_locked(False)
            self._on_change()
            return
        self._fill(s.draft_from(s.latest))
        self._set_locked(True)
        self.submit.disabled = True
        self.submit.description = "Committed"
        self.peer.value = ""
        self.reveal.value = ""
        if step == RECONSIDERING:
            self.revote_button.layout.display = None
            self.keep_button.layout.display = None
            if not s.paced:  # in class mode the instructor shows the class histogram
                self.peer.value = self._class_view()
            self.status.say("Saved. See how the class answered, then change your answer once or keep it.")
        elif step == SETTLED:
            if not s.paced:
                self.show_button.layout.display = None
                self.peer.value = self._class_view()
            self.status.say("Your answer is settled. Show the reference when you are ready.")
        elif step == READING_REFERENCE:
            self.status.say("Saved. The reference is shown below.")
            self.reveal.value = reveal_html(self.case, s.attempts, s.saw(s.cohort_view()), stale=s.stale,
                                            order=s.option_order, alone=self._alone(), script=s.script)
        elif step == HELD_BACK:
            self.status.say("Saved. The reference for this case is held back until "
                            "the end of the course, so that the later assessment is fair.")

    def _alone(self) -> bool:
        return self.session.cohort == identity.DEFAULT_COHORT or not reaches_class(self.store)

    def _class_view(self) -> str:
        s = self.session
        return class_block(self.case, s.saw(s.cohort_view()), marks=False, order=s.option_order, alone=self._alone())

    def _fill(self, draft: Draft) -> None:
        self.options.value = draft.option_id
        self.confidence.value = draft.confidence
        self.justification.value = draft.justification
        for factor, widget in self.kitchener.items():
            widget.value = draft.kitchener.get(factor) or None

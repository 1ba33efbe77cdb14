"""The pre/post assessment: form A or B at the start of a course (pre), the other form at the end (post).

Which form comes first is randomised in blocks of two within the cohort (:func:`learner_forms`). The
pre-test's references are held back until the post-test is done, so the post-test measures what
the course taught rather than what the pre-test revealed. The post-test opens only once the
instructor releases it, or, in self-study, once the learner confirms they have finished the course.
"""

from __future__ import annotations

import ipywidgets as ipw

from widgets.cases.course import lesson_case_ids
from widgets.cases.forms import FORMS, assessment_forms, first_form, other_form
from widgets.errors import DualroleError
from widgets.learner import identity
from widgets.learner.connect import response_store
from widgets.store.protocol import ResponseStore
from widgets.ui.a11y import LiveStatus
from widgets.ui.card import CaseCard

FIRST_FORM_SETTING = "first_form"


def learner_forms(store: ResponseStore, learner: str, cohort: str) -> tuple[str, str]:
    """The learner's (pre form, post form), assigned once by blocked randomisation within the cohort.

    The learner's pre-test answers, in any cohort, fix it; before any, the choice kept in their
    settings; before that, :func:`widgets.cases.forms.first_form` on how many of the cohort took
    each form first (the learners who answered each form's cases in the pre-test), kept in the
    settings so that a reload shows the same form.
    """
    forms = assessment_forms()
    answered = [forms.form_of(r["case_id"]) for r in store.responses(learner=learner, phase="pre")]
    answered = [f for f in answered if f]
    if answered:
        pre = answered[0]
        return pre, other_form(pre)
    kept = identity.settings().get(FIRST_FORM_SETTING)
    if isinstance(kept, dict) and kept.get(learner) in FORMS:
        return kept[learner], other_form(kept[learner])
    taken = {form: max((store.cohort_answers(case_id, cohort, "pre").total for case_id in forms.forms[form]),
                       default=0) for form in FORMS}
    pre = first_form(taken)
    identity.save_settings(**{FIRST_FORM_SETTING: (kept if isinstance(kept, dict) else {}) | {learner: pre}})
    return pre, other_form(pre)


def form_for(store: ResponseStore, learner: str, cohort: str, phase: str) -> str:
    """The form the learner takes in ``phase`` ('pre' or 'post')."""
    if phase not in ("pre", "post"):
        raise DualroleError(f"phase must be 'pre' or 'post', not {phase!r}")
    pre, post = learner_forms(store, learner, cohort)
    return pre if phase == "pre" else post


def phase_done(store: ResponseStore, learner: str, cohort: str, phase: str) -> bool:
    """True once the learner has committed an answer to every case of their form for ``phase``."""
    forms = assessment_forms()
    case_ids = forms.forms[form_for(store, learner, cohort, phase)]
    answered = {r["case_id"] for r in store.responses(learner=learner, cohort=cohort, phase=phase)}
    return set(case_ids) <= answered


def lesson_progress(store: ResponseStore, learner: str, cohort: str) -> tuple[int, int]:
    """(lesson cases answered, lesson cases in the course), counting practice answers."""
    course = set(lesson_case_ids())
    answered = {r["case_id"] for r in store.responses(learner=learner, cohort=cohort, phase="practice")}
    return len(course & answered), len(course)


def post_test_open(store: ResponseStore, learner: str, cohort: str) -> tuple[bool, str]:
    """Whether the post-test is open to this learner, and why (or why not), in words for them."""
    policy = assessment_forms().post_test
    if store.responses(learner=learner, cohort=cohort, phase="post"):
        return True, "You have started the post-test."
    if policy == "open":
        return True, "Your instructor has opened the post-test."
    if policy == "held":
        return False, "The post-test opens when your instructor releases it, at the end of the course."
    if identity.settings().get("post_test_confirmed"):
        return True, "You confirmed that you have finished the course."
    return False, "Take the post-test once you have finished the lessons."


class Assessment(ipw.VBox):
    """One phase of the assessment: ``Assessment("pre")`` or ``Assessment("post")``.

    The learner sees the eight cases of their form for that phase (``form`` overrides it, for an
    instructor previewing a form). The post-test waits behind a gate (see :func:`post_test_open`).
    """

    def __init__(self, phase: str, *, store: ResponseStore | None = None, form: str | None = None,
                 **card_options):
        if phase not in ("pre", "post"):
            raise DualroleError(f"phase must be 'pre' or 'post', not {phase!r}")
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
        self.status = LiveStatus()
        self.confirm = ipw.Button(description="I have finished the course: open the post-test",
                                  button_style="primary", layout=ipw.Layout(display="none", width="auto"),
                                  tooltip="Opens the post-test; the lessons stay open afterwards")
        self.confirm.on_click(self._on_confirm)
        super().__init__()
        if phase == "post":
            is_open, why = post_test_open(self.store, self.learner, self.cohort)
            if not is_open:
                self._show_gate(why)
                return
        self._show_cards()

    def _show_gate(self, why: str) -> None:
        done, total = lesson_progress(self.store, self.learner, self.cohort)
        message = (f"<p><strong>Post-test: not open yet.</strong> {why} "
                   f"You have answered {done} of {total} lesson cases.</p>")
        if self.config.post_test == "learner_confirms":
            self.confirm.layout.display = None
            message += ("<p>When you have finished the lessons, confirm below. The post-test then opens, and once "
                        "you finish it the references for your pre-test answers appear.</p>")
        self.children = [ipw.HTML(message), self.confirm, self.status]

    def _on_confirm(self, _button=None) -> None:
        identity.save_settings(post_test_confirmed=True)
        self._show_cards()
        self.status.say("The post-test is open below.")

    def _show_cards(self) -> None:
        case_ids = self.config.forms[self.form]
        options = dict(self._card_options)
        held = self.phase == "pre" and self.config.pre_reveal == "after_post"
        if held:
            options["reveal_ready"] = lambda: phase_done(self.store, self.learner, self.cohort, "post")
        self.cards = [CaseCard(case_id, phase=self.phase, store=self.store, **options) for case_id in case_ids]
        intro = ipw.HTML(
            f"<p><strong>{'Pre' if self.phase == 'pre' else 'Post'}-test</strong> (form {self.form}): "
            f"{len(self.cards)} cases. "
            + ("The reference answers for this part appear after you finish the post-test."
               if held else "Each reference answer appears when you commit.")
            + "</p>"
        )
        children: list[ipw.Widget] = [intro]
        for i, card in enumerate(self.cards, start=1):
            children += [ipw.HTML(f"<h4>Case {i} of {len(self.cards)}</h4>"), card]
        self.children = [*children, self.status]

"""The state of one learner working through one case, step by step, as peer instruction orders it.

A learner commits an answer, sees how the class answered, reconsiders (changes the answer once, with
new reasoning, or keeps it), and only then opens the reference. Where the learner is, ``step``, is
one of :data:`STEPS`:

* ``answering``: nothing committed yet;
* ``reconsidering``: committed; the class distribution is shown and the answer may change once;
* ``settled``: the learner kept or changed their answer; the reference is one click away;
* ``reading_reference``: the reference is shown; nothing more may change;
* ``awaiting_class``: class mode, until the instructor opens the next step; ``held_back``: a pre-test
  answer, whose reference waits until the post-test is done.

Pre- and post-test answers skip the peer steps. In class mode the instructor's stages
(:mod:`widgets.responses.pacing`, kept as ``class_stage``) drive the same steps; the two vocabularies
share no word. Plain Python with no ipywidgets, so the
rules are tested directly and the card only binds controls to them.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from datetime import datetime
from uuid import uuid4

from widgets.cases import course
from widgets.cases.library import Case, Library
from widgets.errors import AlreadyAnswered, DualroleError
from widgets.learner.scratch import Scratch, scratch_key
from widgets.responses import pacing
from widgets.responses.codec import timestamp_text
from widgets.responses.contract import (
    Response,
    Script,
    attempt_clash,
    check_response,
    check_script,
    min_reasoning,
    reasoning_shortfall,
    utcnow,
)
from widgets.responses.disclosure import MIN_CLASS, Distribution, check_min_class, distribution
from widgets.store.protocol import ResponseStore
from widgets.vocab import KITCHENER_FACTORS

# Whoever shows the learner's progress (My answers, the end of a test) hears of every commit in this
# kernel, so it is never out of date. Held weakly: a panel that is gone stops listening.
_LISTENERS: list[weakref.WeakMethod] = []


def when_committed(method) -> None:
    """Call the bound ``method(response)`` after each commit in this kernel, while its object lives."""
    _LISTENERS.append(weakref.WeakMethod(method))


def _tell_listeners(response) -> None:
    for ref in list(_LISTENERS):
        method = ref()
        if method is None:
            _LISTENERS.remove(ref)
        else:
            try:
                method(response)
            except Exception:  # noqa: BLE001 - the answer is saved; a panel that fails to redraw must not say otherwise
                pass


@dataclass
class Draft:
    """What the learner has entered but not yet committed (``own_words``: their answer in words, written
    before the options appeared, in the "own words first" mode)."""

    option_id: str | None = None
    confidence: int = 50
    justification: str = ""
    kitchener: dict[str, str | None] = field(default_factory=lambda: dict.fromkeys(KITCHENER_FACTORS))
    own_words: str = ""


# "Own words first": the learner answers in words before the options appear. That answer is saved as the
# opening paragraph of the reasoning of their first attempt, under this label, so it is exported, graded and
# coded with the reasoning under the same consent, needs no new field in the response contract, and anyone
# reading the reasoning can tell what was written before the options were seen.
OWN_WORDS_LABEL = "My own answer, before I saw the options:"


def with_own_words(own_words: str, reasoning: str) -> str:
    """The reasoning as it is saved in the "own words first" mode: the learner's own answer, labelled, then
    the reasoning they wrote once the options appeared.

    >>> print(with_own_words("I would not buy; I would ask what it means to her.", "Buying adds a customer role."))
    My own answer, before I saw the options: I would not buy; I would ask what it means to her.
    <BLANKLINE>
    Buying adds a customer role.
    """
    return f"{OWN_WORDS_LABEL} {' '.join(own_words.split())}\n\n{reasoning.strip()}"


# The contract's field problems, in the words a learner at a card needs.
_LEARNER_WORDS = {
    "option_id": "Choose one of the options to continue.",
    "justification": "Explain your reasoning in at least {min} characters: {more} more character{s}.",
    "confidence": "Confidence must be between 0 and 100.",
    "case_version": "This case was updated after you opened it: run the cell again to see the current version.",
}
SAME_REASONING = ("Write new reasoning for your revised answer: your first reasoning is shown above, "
                  "and the change needs its own why.")


# Where a learner is on a case, in order: the card's one vocabulary for it. The class's pacing stages
# (widgets.responses.pacing: waiting, voting, histogram, revote, revealed...) are the instructor's,
# and no word is shared between the two.
ANSWERING = "answering"  # nothing committed yet (what they type is kept as a draft)
RECONSIDERING = "reconsidering"  # committed; they may change their answer once, or keep it
SETTLED = "settled"  # kept or changed: the reference may be opened
AWAITING_CLASS = "awaiting_class"  # in class mode, until the instructor opens a revote or the reference
HELD_BACK = "held_back"  # a pre-test answer: the reference is held back until the course ends
READING_REFERENCE = "reading_reference"  # the reference is shown
STEPS = (ANSWERING, RECONSIDERING, SETTLED, AWAITING_CLASS, HELD_BACK, READING_REFERENCE)


class CaseSession:
    """One learner, one case, one phase; resumes from the store and the scratch file, never from kernel globals."""

    def __init__(self, case: Case, store: ResponseStore, *, learner: str, cohort: str, phase: str = "practice",
                 client: str = "lab", consent: bool = False, min_class: int = MIN_CLASS, reveal_ready=None,
                 scratch: Scratch | None = None, own_words: bool = False):
        self.case = case
        self.own_words = own_words
        self.store = store
        self.learner = learner
        self.cohort = cohort
        self.phase = phase
        self.client = client
        self.consent = consent
        self.min_class = check_min_class(min_class)
        # A callable deciding whether the reveal is released yet (pre-test phases hold it back).
        self._reveal_ready = reveal_ready or (lambda: True)
        self.scratch = scratch or Scratch()
        # The learner's work on a case is theirs whatever the class code: a new code hides nothing.
        self.key = scratch_key(learner, phase, case.id)
        # Class mode: the stage the instructor has taken this case to, in pacing's words
        # (widgets.responses.pacing); None while the card follows no class. Where the learner is
        # has its own words (STEPS), so the two never read alike.
        self.class_stage: str | None = None
        self.started_at: datetime = utcnow()
        self.attempts: list[dict] = []
        self.resume()

    # -- state ---------------------------------------------------------------------------------

    def resume(self) -> None:
        """Reload this learner's committed attempts for the case and phase."""
        rows = self.store.responses(learner=self.learner, case_id=self.case.id, phase=self.phase)
        self.attempts = sorted(rows, key=lambda r: r["attempt"])

    @property
    def answer_cohort(self) -> str:
        """The cohort this answer belongs to: the one its first attempt was committed in (a revision stays
        with its first answer even if the class code changed between them), else the current one."""
        return self.first["cohort"] if self.attempts else self.cohort

    @property
    def committed(self) -> bool:
        """True once the learner has committed an answer."""
        return bool(self.attempts)

    @property
    def changed(self) -> bool:
        """True once the learner has changed their answer (their second and last attempt)."""
        return len(self.attempts) >= 2

    @property
    def latest(self) -> dict | None:
        return self.attempts[-1] if self.attempts else None

    @property
    def first(self) -> dict | None:
        return self.attempts[0] if self.attempts else None

    @property
    def paced(self) -> bool:
        """True while an instructor paces this case in class mode."""
        return self.class_stage is not None and self.class_stage != pacing.SELF_PACED

    @property
    def peer_steps(self) -> bool:
        """Practice answers go through the class and reconsider steps; pre- and post-test answers do not."""
        return self.phase == "practice"

    @property
    def asks_ratings(self) -> bool:
        """Kitchener's factors are asked where the course says (:func:`widgets.cases.course.asks_kitchener`:
        the lessons that teach and practise them), never on the pre-test, and only where there is a second
        role to rate."""
        return self.phase != "pre" and self.case.second_role and course.asks_kitchener(self.case.id)

    @property
    def asks_own_words(self) -> bool:
        """In the "own words first" mode, a practice case asks for the learner's answer in words before it
        shows the options (the pre- and post-test stay as every learner takes them)."""
        return self.own_words and self.phase == "practice"

    @property
    def options_shown(self) -> bool:
        """Whether the options are on show: always, except in the "own words first" mode until the learner
        has written their own answer and asked for them (:meth:`show_options`)."""
        return not self.asks_own_words or self.committed or self.scratch.done(self.key, "options")

    def own_words_blocker(self, own_words: str) -> str | None:
        """Why the options cannot be shown yet, in words for the learner; None when they can."""
        more = reasoning_shortfall(own_words)
        if more:
            return (f"Write your own answer in at least {min_reasoning()} characters before the options appear: "
                    f"{more} more character{'' if more == 1 else 's'}.")
        return None

    def show_options(self, draft: Draft) -> None:
        """The learner has written their own answer: keep it with the draft and show the options."""
        if not self.asks_own_words or self.options_shown:
            return
        if reason := self.own_words_blocker(draft.own_words):
            raise DualroleError(reason)
        self.save_draft(draft)
        self.scratch.mark(self.key, "options")

    @property
    def reference_seen(self) -> bool:
        """Whether the learner has seen the reference for this case."""
        if self.paced:
            return pacing.reveal_open(self.class_stage)
        # Answers from before these steps were kept showed the reference at once.
        legacy = any(row.get("reference_seen") is None for row in self.attempts)
        return self.scratch.done(self.key, "seen") or legacy

    @property
    def distribution_seen(self) -> bool:
        """Whether the class's answer counts have been shown to the learner on this case.

        Shown, not merely available: the counts appear only once enough classmates have answered,
        and a card records them as seen (:meth:`saw`) when it draws them.
        """
        return self.scratch.done(self.key, "distribution")

    def saw(self, view: Distribution) -> Distribution:
        """Record that ``view`` is being put in front of the learner, and return it.

        Only a view that shows counts counts as seen; "this appears once more classmates have
        answered" does not.
        """
        if view.shown and self.committed and not self.distribution_seen:
            self.scratch.mark(self.key, "distribution")
        return view

    @property
    def step(self) -> str:
        """Where the learner is on the case: one of :data:`STEPS`."""
        if not self.committed:
            return ANSWERING
        if not self.peer_steps:
            return READING_REFERENCE if self._reveal_ready() else HELD_BACK
        if self.paced:
            if pacing.reveal_open(self.class_stage):
                return READING_REFERENCE
            if pacing.stage_refusal(self.class_stage, 2) is None:
                return RECONSIDERING if self._undecided else SETTLED
            return AWAITING_CLASS
        if self.reference_seen:
            return READING_REFERENCE
        return RECONSIDERING if self._undecided else SETTLED

    @property
    def _undecided(self) -> bool:
        return not self.changed and not self.scratch.done(self.key, "kept")

    @property
    def can_revote(self) -> bool:
        return self.step == RECONSIDERING

    @property
    def reveal_released(self) -> bool:
        return self.step == READING_REFERENCE

    @property
    def stale(self) -> bool:
        """True when the case file changed after the learner answered it."""
        return self.committed and self.latest["case_version"] not in self.case.current_versions

    @property
    def option_order(self) -> tuple[str, ...]:
        """The options in the order this learner sees them."""
        return self.case.order_for(self.learner)

    # -- steps ---------------------------------------------------------------------------------

    def keep(self) -> None:
        """The learner keeps their first answer after seeing the class."""
        if self.step != RECONSIDERING:
            raise DualroleError("There is no answer to keep or change at this step.")
        self.scratch.mark(self.key, "kept")

    def show_reference(self) -> None:
        """The learner opens the reference, once they have kept or changed their answer."""
        if self.step != SETTLED or self.paced:
            raise DualroleError("The reference opens once you have kept or changed your answer.")
        self.scratch.mark(self.key, "seen")

    # -- drafts --------------------------------------------------------------------------------

    def save_draft(self, draft: Draft) -> None:
        """Keep what the learner typed, so a restart or reload does not lose it."""
        if not self.changed:
            self.scratch.save_draft(self.key, len(self.attempts) + 1, {
                "option_id": draft.option_id, "confidence": int(draft.confidence),
                "justification": draft.justification, "kitchener": dict(draft.kitchener),
                "own_words": draft.own_words})

    def restored_draft(self) -> Draft | None:
        """The uncommitted draft of the next attempt, if one was kept."""
        fields = self.scratch.draft(self.key, len(self.attempts) + 1)
        if not fields:
            return None
        option = fields.get("option_id")
        return Draft(option_id=option if option in self.case.option_ids else None,
                     confidence=int(fields.get("confidence", 50)), justification=str(fields.get("justification", "")),
                     kitchener={f: (fields.get("kitchener") or {}).get(f) for f in KITCHENER_FACTORS},
                     own_words=str(fields.get("own_words", "")))

    # -- what would you say ---------------------------------------------------------------------
    # A lesson case's say: block asks, once the first answer is committed and before the reference,
    # for the words the learner would say (or the chart note they would write). The step never holds
    # the reference back: the learner may skip it, and opening the reference closes it.

    @property
    def _say_key(self) -> str:
        return scratch_key(self.learner, self.phase, f"{self.case.id}:say")

    @property
    def asks_script(self) -> bool:
        """Whether this case asks the learner what they would say (a practice answer to a case with a say block)."""
        return self.case.say is not None and self.peer_steps

    @property
    def script_open(self) -> bool:
        """Whether the "what would you say" step is open now: once the answer is final (changed or kept),
        before the reference, unless the learner skipped it. Not while the answer may still change: the
        checklist names what a good answer does, so shown before the revote it would point to the key."""
        return self.asks_script and self._answer_final and not self.scratch.done(self.key, "script_skipped")

    @property
    def _answer_final(self) -> bool:
        """Changed or kept, and the reference not yet open."""
        return self.step == SETTLED or (self.step == AWAITING_CLASS and not self._undecided)

    def skip_script(self) -> None:
        """The learner leaves the step for now; the reference is as near as before."""
        self.scratch.mark(self.key, "script_skipped")

    @property
    def script(self) -> dict | None:
        """The learner's latest saved script for this case (the one that counts; on a class service,
        counting words still waiting in the outbox), or None (also while a class service cannot be asked
        and none wait: the card then offers the box empty, or the learner's draft)."""
        if not self.asks_script:
            return None
        try:
            rows = self.store.latest_scripts(learner=self.learner, case_id=self.case.id)
        except DualroleError:
            return None
        return rows[-1] if rows else None

    def save_script_draft(self, text: str, checks) -> None:
        """Keep the words and ticks typed but not yet saved, so a restart or reload does not lose them."""
        self.scratch.save_draft(self._say_key, 1, {"text": text, "checks": sorted(set(map(int, checks)))})

    def script_draft(self) -> tuple[str, list[int]] | None:
        """The unsaved words and ticks, if any were kept."""
        fields = self.scratch.draft(self._say_key, 1)
        if not fields:
            return None
        n = len(self.case.say.checklist) if self.case.say else 0
        return str(fields.get("text", "")), [i for i in fields.get("checks") or () if isinstance(i, int) and i < n]

    def script_blocker(self, text: str, checks) -> str | None:
        """Why these words cannot be saved yet, in words for the learner; None when they can."""
        return self._script(text, checks)[1]

    def save_script(self, text: str, checks) -> Script:
        """Save what the learner would say (and the items they ticked); a later save is a new row."""
        script, reason = self._script(text, checks)
        if reason:
            raise DualroleError(reason)
        self.store.save_script(script)
        self.scratch.drop_draft(self._say_key)
        return script

    def _script(self, text: str, checks) -> tuple[Script | None, str | None]:
        if not self.asks_script:
            return None, "This case does not ask what you would say."
        if not self.committed:
            return None, "Commit your answer first: your words come after your choice."
        if self.step == READING_REFERENCE:
            return None, "The reference is open: your words were to come before it."
        if not self._answer_final:
            return None, "Keep or change your answer first: your words come once it is final."
        say = self.case.say
        body = {"response_id": self.first["response_id"], "cohort": self.answer_cohort, "case_id": self.case.id,
                "case_version": self.case.case_version, "kind": say.kind, "text": text,
                "checks": sorted(set(checks)), "created_at": timestamp_text(utcnow()), "script_id": str(uuid4())}
        script, problems = check_script(body, learner=self.learner, answer=self.first,
                                        library=Library.of([self.case]))
        if not problems:
            return script, None
        if "text" in problems:
            more = reasoning_shortfall(text)
            if more:
                what = "chart note" if say.kind == "chart_note" else "words"
                return None, (f"Write your {what} in at least {min_reasoning()} characters: "
                              f"{more} more character{'' if more == 1 else 's'}.")
            return None, f"Your text is too long: {problems['text']}."
        name, reason = next(iter(problems.items()))
        return None, f"{name}: {reason}"

    # -- rules ---------------------------------------------------------------------------------

    def blocker(self, draft: Draft) -> str | None:
        """Why the draft cannot be committed yet, in words for the learner; None when it can."""
        return self._check(draft)[1]

    def commit(self, draft: Draft) -> Response:
        """Save the draft as the next attempt. The row is on disk before this returns."""
        response, reason = self._check(draft)
        if reason:
            raise DualroleError(reason)
        try:
            self.store.add(response)
        except AlreadyAnswered:
            # Another kernel (a second tab) committed first: show what is on disk, not our draft.
            self.resume()
            raise
        self.resume()
        self.scratch.drop_draft(self.key)
        self.started_at = utcnow()
        _tell_listeners(response)
        return response

    def _check(self, draft: Draft) -> tuple[Response | None, str | None]:
        """The draft as a valid response, or why not in words for the learner.

        The rules are the response contract's (:mod:`widgets.responses.contract`) and the class's
        pacing (:mod:`widgets.responses.pacing`); this only words them for the learner.
        """
        if self.changed:
            return None, "You have already committed and revised this answer."
        attempt = len(self.attempts) + 1
        if self.paced and (held := pacing.stage_refusal(self.class_stage, attempt)):
            return None, held[0].upper() + held[1:] + "."
        if attempt == 2 and not self.can_revote:
            return None, "Your answer can change once, after you have seen the class and before the reference."
        if attempt == 2 and " ".join(draft.justification.split()) == " ".join(self.first["justification"].split()):
            return None, SAME_REASONING
        if attempt == 1 and self.asks_own_words:
            if not self.options_shown:
                return None, self.own_words_blocker(draft.own_words) or "Show the options to choose one."
            if more := reasoning_shortfall(draft.justification):  # the reasoning needs its own why, too
                return None, _LEARNER_WORDS["justification"].format(min=min_reasoning(), more=more,
                                                                    s="" if more == 1 else "s")
        response, problems = check_response(self._body(draft), learner=self.learner, library=Library.of([self.case]))
        if not problems:
            clash = attempt_clash(response.row(), self.attempts)
            return (None, f"{clash.message[0].upper()}{clash.message[1:]}.") if clash else (response, None)
        name = next((n for n in _LEARNER_WORDS if n in problems), None)
        if name is None:
            name, reason = next(iter(problems.items()))
            return None, f"{name}: {reason}"
        # The reasoning's count shows as the learner types, whatever else is still missing, by the
        # contract's own rule: the one grading counts an answer complete by.
        more = reasoning_shortfall(draft.justification)
        counter = _LEARNER_WORDS["justification"].format(min=min_reasoning(), more=more, s="" if more == 1 else "s")
        if name == "justification":
            return None, counter
        return None, _LEARNER_WORDS[name] + (f" {counter}" if more else "")

    def _body(self, draft: Draft) -> dict:
        """The draft as a response body, as a card would send it to the class service."""
        return {
            "response_id": str(uuid4()), "cohort": self.answer_cohort, "case_id": self.case.id,
            "case_version": self.case.case_version, "option_id": draft.option_id,
            "confidence": int(draft.confidence), "justification": self.saved_reasoning(draft),
            "attempt": len(self.attempts) + 1, "phase": self.phase,
            **{f"kitchener_{factor}": draft.kitchener.get(factor) for factor in KITCHENER_FACTORS},
            "started_at": timestamp_text(self.started_at), "submitted_at": timestamp_text(utcnow()),
            "client": self.client, "consent": self.consent, "option_order": ",".join(self.option_order),
            "reference_seen": self.reference_seen if self.committed else False,
            "distribution_seen": self.distribution_seen if self.committed else False,
            "stage": self.class_stage if self.class_stage not in (None, pacing.UNKNOWN) else pacing.SELF_PACED,
        }

    def saved_reasoning(self, draft: Draft) -> str:
        """The reasoning as it will be saved: in the "own words first" mode the first attempt's starts with the
        learner's own answer (:func:`with_own_words`); otherwise what they wrote."""
        if self.asks_own_words and not self.attempts and draft.own_words.strip():
            return with_own_words(draft.own_words, draft.justification)
        return draft.justification

    def cohort_view(self) -> Distribution:
        """The class's latest answers to this case, as a learner may see them (the class audience)."""
        counts = self.store.cohort_answers(self.case.id, self.answer_cohort, self.phase)
        # On a class service the service's minimum is the class's one minimum (the administrator's
        # MIN_CLASS): a card applies it alone, so a card and the service never disagree.
        min_class = counts.min_class or self.min_class
        return distribution(counts.counts, self.case.option_ids, "class", min_class=min_class, total=counts.total)

    def draft_from(self, row: dict) -> Draft:
        """A committed row turned back into the inputs that produced it (for resume)."""
        return Draft(
            option_id=row["option_id"],
            confidence=row["confidence"],
            justification=row["justification"],
            kitchener={f: row.get(f"kitchener_{f}") for f in KITCHENER_FACTORS},
        )

"""A learner's progress through the course, and the gates in front of the post-test and the delayed post-test.

Progress belongs to the learner, not to a cohort: the class code labels the answers committed under
it, but a learner who sets or changes it keeps every earlier answer in their progress, and a pre-test
already taken is never offered again. Lessons and their cases come from ``data/course.yaml``
(:mod:`widgets.cases.course`); the assessment's forms and its post-test policy from
``data/assessment_forms.yaml`` (:mod:`widgets.cases.forms`). Plain Python with no widgets: ``MyAnswers``
and ``Assessment`` only show what these functions decide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from widgets.cases.course import lesson_case_ids, lessons
from widgets.cases.forms import FORMS, assessment_forms, first_form, other_form
from widgets.errors import DualroleError
from widgets.learner import identity
from widgets.learner.client import ServiceClient
from widgets.responses import pacing
from widgets.responses.contract import utcnow
from widgets.store.protocol import ResponseStore


@dataclass(frozen=True)
class LessonCount:
    """How many of one lesson's cases the learner has answered: ``done`` of the ``total`` core cases
    (what completing the lesson asks, :attr:`widgets.cases.course.Lesson.core`), and apart from them the
    optional ones."""

    stem: str
    title: str
    done: int
    total: int
    optional_done: int = 0
    optional_total: int = 0


@dataclass(frozen=True)
class Progress:
    """Everything the learner's own panel counts, over all their answers whatever the class code."""

    lessons: tuple[LessonCount, ...]
    pre_done: bool
    post_done: bool
    answers: int
    cohorts: tuple[str, ...]

    @property
    def lesson_cases(self) -> tuple[int, int]:
        """(lesson cases answered, lesson cases in the course)."""
        return sum(c.done for c in self.lessons), sum(c.total for c in self.lessons)


FIRST_FORM_SETTING = "first_form"
#: The assessment's phases: the pre-test, the post-test, and the optional delayed post-test.
ASSESSMENT_PHASES = ("pre", "post", "delayed")


def learner_forms(store: ResponseStore, learner: str, cohort: str | None = None) -> tuple[str, str]:
    """The learner's (pre form, post form), assigned once by blocked randomisation within the cohort.

    The learner's pre-test answers, in any cohort, fix it; before any, the choice kept in their
    settings; before that, :func:`widgets.cases.forms.first_form` on how many of the cohort (the
    current class code unless ``cohort`` is given) took each form first, kept in the settings so
    that a reload shows the same form.
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
    cohort = cohort or identity.cohort()
    taken = {form: max((store.cohort_answers(case_id, cohort, "pre").total for case_id in forms.forms[form]),
                       default=0) for form in FORMS}
    pre = first_form(taken)
    identity.save_settings(**{FIRST_FORM_SETTING: (kept if isinstance(kept, dict) else {}) | {learner: pre}})
    return pre, other_form(pre)


def form_for(store: ResponseStore, learner: str, cohort: str | None, phase: str) -> str:
    """The form the learner takes in ``phase``: 'pre', 'post', or 'delayed' (the delayed post-test,
    on the pre-test's form: the same items as the pre-test, the matched ones of the post-test)."""
    if phase not in ASSESSMENT_PHASES:
        raise DualroleError(f"phase must be one of {', '.join(ASSESSMENT_PHASES)}, not {phase!r}")
    pre, post = learner_forms(store, learner, cohort)
    return post if phase == "post" else pre


def _answered(store: ResponseStore, learner: str, phase: str) -> set[str]:
    return {r["case_id"] for r in store.responses(learner=learner, phase=phase)}


def phase_done(store: ResponseStore, learner: str, phase: str) -> bool:
    """True once the learner has committed an answer to every case of their form for ``phase``
    (under any class code)."""
    case_ids = assessment_forms().forms[form_for(store, learner, None, phase)]
    return set(case_ids) <= _answered(store, learner, phase)


def lesson_progress(store: ResponseStore, learner: str) -> tuple[int, int]:
    """(core lesson cases answered, core lesson cases in the course), counting practice answers; optional
    cases count for neither."""
    course = set(lesson_case_ids())
    return len(course & _answered(store, learner, "practice")), len(course)


def progress(store: ResponseStore, learner: str) -> Progress:
    """The learner's progress through every lesson and the assessment."""
    rows = store.responses(learner=learner)
    practice = {r["case_id"] for r in rows if r["phase"] == "practice"}
    counts = tuple(LessonCount(entry.stem, entry.title, len(practice & set(entry.core)), len(entry.core),
                               len(practice & set(entry.optional)), len(entry.optional))
                   for entry in lessons() if entry.cases)
    return Progress(
        lessons=counts,
        pre_done=phase_done(store, learner, "pre"),
        post_done=phase_done(store, learner, "post"),
        answers=len(rows),
        cohorts=tuple(sorted({r["cohort"] for r in rows})),
    )


# -- the post-test gate ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PostTestGate:
    """Whether the post-test is open to this learner, why, and what is left undone before it.

    ``confirmable`` is True where the learner may open it themselves (self-study), after a second step
    that states ``left`` (lesson cases not yet answered, and whether the pre-test is done).
    """

    open: bool
    why: str
    confirmable: bool
    done: int
    total: int
    pre_done: bool

    @property
    def left(self) -> str:
        """What is still undone, in words for the learner ("" when nothing is)."""
        parts = []
        if self.done < self.total:
            parts.append(f"{self.total - self.done} of the {self.total} lesson cases are still unanswered")
        if not self.pre_done:
            parts.append("the pre-test is not finished")
        return "; ".join(parts)


def class_post_stages(store: ResponseStore, cohort: str) -> dict[str, str]:
    """On a hub, the stage of each post-test case the instructor has taken into class mode ({} elsewhere,
    or while the class service is away)."""
    if not isinstance(store, ServiceClient):
        return {}
    try:
        cases = store.class_states(cohort, "post").get("cases", {})
    except DualroleError:  # the service is away or refuses: nothing is released by it
        return {}
    return {case_id: info.get("stage", pacing.SELF_PACED) for case_id, info in cases.items()}


def released_in_class(stages: dict[str, str]) -> bool:
    """Class mode releases the post-test as a stage: once the instructor opens voting on any of its cases
    (in either form), the post-test is open to the class."""
    post_cases = set(assessment_forms().case_ids)
    return any(case_id in post_cases and stage not in (pacing.SELF_PACED, pacing.UNKNOWN, "waiting")
               for case_id, stage in stages.items())


def post_test_gate(store: ResponseStore, learner: str, class_stages: dict[str, str] | None = None) -> PostTestGate:
    """The post-test's gate: the instructor's setting (``post_test`` in the forms file or
    ``DUALROLE_POST_TEST``: ``open``, ``held`` or ``learner_confirms``) or, in class mode, the stage they
    open (``class_stages``, see :func:`released_in_class`); then the learner's own word."""
    policy = assessment_forms().post_test
    done, total = lesson_progress(store, learner)
    pre = phase_done(store, learner, "pre")

    def gate(is_open: bool, why: str, confirmable: bool = False) -> PostTestGate:
        return PostTestGate(is_open, why, confirmable, done, total, pre)

    if store.responses(learner=learner, phase="post"):
        return gate(True, "You have started the post-test.")
    if policy == "open" or released_in_class(class_stages or {}):
        return gate(True, "Your instructor has opened the post-test.")
    if policy == "held":
        return gate(False, "The post-test opens when your instructor releases it, at the end of the course.")
    if identity.settings().get("post_test_confirmed"):
        return gate(True, "You confirmed that you have finished the course.")
    return gate(False, "Take the post-test once you have finished the lessons.", confirmable=True)


def confirm_post_test(gate: PostTestGate, *, acknowledged_left: bool) -> PostTestGate:
    """Open the post-test on the learner's word. Where something is left undone, the learner must
    have been shown it (``acknowledged_left``); an instructor's hold cannot be overridden."""
    if gate.open:
        return gate
    if not gate.confirmable:
        raise DualroleError(gate.why)
    if gate.left and not acknowledged_left:
        raise DualroleError(f"Before the post-test opens, note what is left: {gate.left}.")
    identity.save_settings(post_test_confirmed=True)
    return PostTestGate(True, "You confirmed that you have finished the course.", False,
                        gate.done, gate.total, gate.pre_done)


@dataclass(frozen=True)
class DelayedTestGate:
    """Whether the delayed post-test is open to this learner, why, and when it opens (UTC; None
    when it is not offered, or the post-test is not finished)."""

    open: bool
    why: str
    opens_at: datetime | None = None


def delayed_test_gate(store: ResponseStore, learner: str, now: datetime | None = None) -> DelayedTestGate:
    """The delayed post-test's gate: offered only where the course sets ``delayed_post_test_days``
    (:mod:`widgets.cases.forms`), and then open once that many days have passed since the learner's
    last answer of the post-test they finished. ``now`` is the moment asked about (default: now)."""
    days = assessment_forms().delayed_post_test_days
    if days is None:
        return DelayedTestGate(False, "Your course does not offer a delayed post-test.")
    if store.responses(learner=learner, phase="delayed"):
        return DelayedTestGate(True, "You have started the delayed post-test.")
    if not phase_done(store, learner, "post"):
        return DelayedTestGate(False, f"The delayed post-test is offered {days} days after you finish the post-test.")
    finished = max(r["submitted_at"] for r in store.responses(learner=learner, phase="post"))
    opens = finished + timedelta(days=days)
    if (now or utcnow()) >= opens:
        return DelayedTestGate(True, f"It is {days} days or more since you finished the post-test.", opens)
    return DelayedTestGate(False, f"The delayed post-test opens {days} days after you finished the post-test, "
                                  f"on {opens:%d %B %Y} (UTC).", opens)


# -- the class code --------------------------------------------------------------------------------

_CLASS_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,59}$")


def set_class_code(store: ResponseStore, learner: str, code: str) -> str:
    """Record the learner's class code (cohort) and say, in words for them, what it changes.

    Nothing already committed moves or hides: earlier answers keep the code they were committed under
    and still count in the learner's progress; a pre-test already taken stays taken.
    """
    code = code.strip()
    if not _CLASS_CODE.match(code):
        raise DualroleError("A class code is 1 to 60 letters, digits, dots, dashes or underscores, "
                            "starting with a letter or digit.")
    before = identity.cohort()
    identity.save_settings(cohort=code)
    if code == before:
        return f"Your class code is already {code}; nothing changed."
    mine = progress(store, learner)
    kept = (f"Your {mine.answers} earlier answer{'s' if mine.answers != 1 else ''} stay yours and still count "
            "in your progress" + (", and your pre-test counts as taken" if mine.pre_done else "") + ". "
            if mine.answers else "")
    return (f"Your class code is now {code}. {kept}Answers you commit from now on are recorded for class "
            f"{code}. Run the lesson's cells again so that its cards use the new code.")

"""The state of one learner working through one case: draft, committed, revoted.

Plain Python with no ipywidgets, so the rules (when submit is allowed, what the reveal may show,
when a revote is possible) are tested directly and the card only binds controls to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import uuid4

from widgets.cases.library import Case, Library
from widgets.errors import AlreadyAnswered, DualroleError
from widgets.responses import pacing
from widgets.responses.codec import timestamp_text
from widgets.responses.contract import Response, check_response, response_schema, utcnow
from widgets.responses.disclosure import MIN_CLASS, Distribution, check_min_class, distribution
from widgets.store.protocol import ResponseStore
from widgets.vocab import KITCHENER_FACTORS


@dataclass
class Draft:
    """What the learner has entered but not yet committed."""

    option_id: str | None = None
    confidence: int = 50
    justification: str = ""
    kitchener: dict[str, str | None] = field(default_factory=lambda: dict.fromkeys(KITCHENER_FACTORS))


# The contract's field problems, in the words a learner at a card needs.
_LEARNER_WORDS = {
    "option_id": "Choose one of the options to continue.",
    "justification": "Explain your reasoning in at least {min} characters ({more} more to go).",
    "confidence": "Confidence must be between 0 and 100.",
    "case_version": "This case was updated after you opened it: run the cell again to see the current version.",
}


class CaseSession:
    """One learner, one case, one phase; resumes from the store, never from kernel globals."""

    def __init__(self, case: Case, store: ResponseStore, *, learner: str, cohort: str, phase: str = "practice",
                 client: str = "lab", consent: bool = False, min_class: int = MIN_CLASS, reveal_ready=None):
        self.case = case
        self.store = store
        self.learner = learner
        self.cohort = cohort
        self.phase = phase
        self.client = client
        self.consent = consent
        self.min_class = check_min_class(min_class)
        # A callable deciding whether the reveal is released yet (pre-test phases hold it back).
        self._reveal_ready = reveal_ready or (lambda: True)
        # Class mode: the stage the instructor has taken this case to (widgets.responses.pacing);
        # None while the card follows no class.
        self.stage: str | None = None
        self.started_at: datetime = utcnow()
        self.attempts: list[dict] = []
        self.resume()

    # -- state ---------------------------------------------------------------------------------

    def resume(self) -> None:
        """Reload this learner's committed attempts for the case and phase."""
        rows = self.store.responses(learner=self.learner, case_id=self.case.id, cohort=self.cohort, phase=self.phase)
        self.attempts = sorted(rows, key=lambda r: r["attempt"])

    @property
    def state(self) -> str:
        """'draft' before the first commit, 'committed' after it, 'revoted' after the second."""
        return ("draft", "committed", "revoted")[min(len(self.attempts), 2)]

    @property
    def committed(self) -> bool:
        return bool(self.attempts)

    @property
    def latest(self) -> dict | None:
        return self.attempts[-1] if self.attempts else None

    @property
    def first(self) -> dict | None:
        return self.attempts[0] if self.attempts else None

    @property
    def paced(self) -> bool:
        """True while an instructor paces this case in class mode."""
        return self.stage is not None and self.stage != pacing.SELF_PACED

    @property
    def can_revote(self) -> bool:
        if self.paced:
            return self.state == "committed" and pacing.stage_refusal(self.stage, 2) is None
        return self.state == "committed" and self.reveal_released

    @property
    def reveal_released(self) -> bool:
        return self.committed and self._reveal_ready() and (not self.paced or pacing.reveal_open(self.stage))

    @property
    def stale(self) -> bool:
        """True when the case file changed after the learner answered it."""
        return self.committed and self.latest["case_version"] not in self.case.current_versions

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
        self.started_at = utcnow()
        return response

    def _check(self, draft: Draft) -> tuple[Response | None, str | None]:
        """The draft as a valid response, or why not in words for the learner.

        The rules are the response contract's (:mod:`widgets.responses.contract`) and the class's
        pacing (:mod:`widgets.responses.pacing`); this only words them for the learner.
        """
        if self.state == "revoted":
            return None, "You have already committed and revised this answer."
        attempt = len(self.attempts) + 1
        if self.paced and (held := pacing.stage_refusal(self.stage, attempt)):
            return None, held[0].upper() + held[1:] + "."
        if attempt == 2 and not self.can_revote:
            return None, "The revote opens after the reference is revealed."
        response, problems = check_response(self._body(draft), learner=self.learner, library=Library.of([self.case]))
        if not problems:
            return response, None
        name = next((n for n in _LEARNER_WORDS if n in problems), None)
        if name is None:
            name, reason = next(iter(problems.items()))
            return None, f"{name}: {reason}"
        minimum = response_schema()["properties"]["justification"]["minLength"]
        more = max(1, minimum - len(draft.justification.strip()))
        return None, _LEARNER_WORDS[name].format(min=minimum, more=more)

    def _body(self, draft: Draft) -> dict:
        """The draft as a response body, as a card would send it to the class service."""
        return {
            "response_id": str(uuid4()), "cohort": self.cohort, "case_id": self.case.id,
            "case_version": self.case.case_version, "option_id": draft.option_id,
            "confidence": int(draft.confidence), "justification": draft.justification,
            "attempt": len(self.attempts) + 1, "phase": self.phase,
            **{f"kitchener_{factor}": draft.kitchener.get(factor) for factor in KITCHENER_FACTORS},
            "started_at": timestamp_text(self.started_at), "submitted_at": timestamp_text(utcnow()),
            "client": self.client, "consent": self.consent,
        }

    def cohort_view(self) -> Distribution:
        """The class's latest answers to this case, as a learner may see them (the class audience)."""
        counts = self.store.cohort_answers(self.case.id, self.cohort, self.phase)
        # A class service applies its own minimum too: the stricter of the two holds.
        min_class = max(self.min_class, counts.min_class or 0)
        return distribution(counts.counts, self.case.option_ids, "class", min_class=min_class, total=counts.total)

    def draft_from(self, row: dict) -> Draft:
        """A committed row turned back into the inputs that produced it (for resume)."""
        return Draft(
            option_id=row["option_id"],
            confidence=row["confidence"],
            justification=row["justification"],
            kitchener={f: row.get(f"kitchener_{f}") for f in KITCHENER_FACTORS},
        )

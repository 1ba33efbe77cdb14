"""The state of one learner working through one case: draft, committed, revoted.

Plain Python with no ipywidgets, so the rules (when submit is allowed, what the reveal may show,
when a revote is possible) are tested directly and the card only binds controls to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .cases import Case
from .errors import AlreadyAnswered, DualroleError
from .store import Response, Store, utcnow
from .vocab import KITCHENER_FACTORS, RISK_LEVELS

MIN_JUSTIFICATION = 20
DEFAULT_MIN_COHORT = 10


@dataclass
class Draft:
    """What the learner has entered but not yet committed."""

    option_id: str | None = None
    confidence: int = 50
    justification: str = ""
    kitchener: dict[str, str | None] = field(default_factory=lambda: dict.fromkeys(KITCHENER_FACTORS))


@dataclass(frozen=True)
class CohortView:
    """What the reveal may show of the cohort: counts, or how many more answers are needed."""

    total: int
    min_cohort: int
    counts: dict[str, int | None]

    @property
    def shown(self) -> bool:
        return self.total >= self.min_cohort

    @property
    def visible(self) -> dict[str, int | None]:
        """Each option's count, or None where the small-cell gate hides it (issue 4's one gate)."""
        from .privacy import gate_distribution, learner_min_cell

        return gate_distribution(self.counts, learner_min_cell(self.min_cohort)) if self.shown else {}

    @property
    def needed(self) -> int:
        return max(0, self.min_cohort - self.total)


class CaseSession:
    """One learner, one case, one phase; resumes from the store, never from kernel globals."""

    def __init__(self, case: Case, store: Store, *, learner: str, cohort: str, phase: str = "practice",
                 client: str = "lab", consent: bool = False, min_cohort: int = DEFAULT_MIN_COHORT,
                 min_justification: int = MIN_JUSTIFICATION, reveal_ready=None):
        if min_cohort < 1:
            raise DualroleError("min_cohort must be at least 1")
        self.case = case
        self.store = store
        self.learner = learner
        self.cohort = cohort
        self.phase = phase
        self.client = client
        self.consent = consent
        self.min_cohort = min_cohort
        self.min_justification = min_justification
        # A callable deciding whether the reveal is released yet (pre-test phases hold it back).
        self._reveal_ready = reveal_ready or (lambda: True)
        # Class mode (widgets.classmode.ClassPace): the instructor opens voting, the revote and the reveal.
        self.pace = None
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
    def can_revote(self) -> bool:
        if self.pace is not None and self.pace.paced:
            return self.state == "committed" and self.pace.revote_open
        return self.state == "committed" and self.reveal_released

    @property
    def reveal_released(self) -> bool:
        return self.committed and self._reveal_ready() and (self.pace is None or self.pace.reveal_open)

    @property
    def stale(self) -> bool:
        """True when the case file changed after the learner answered it."""
        return self.committed and self.latest["case_version"] != self.case.case_version

    # -- rules ---------------------------------------------------------------------------------

    def blocker(self, draft: Draft) -> str | None:
        """Why the draft cannot be committed yet, in words for the learner; None when it can."""
        if self.state == "revoted":
            return "You have already committed and revised this answer."
        if self.pace is not None and (held := self.pace.holds(len(self.attempts) + 1)):
            return held
        if draft.option_id is None:
            return "Choose one of the options to continue."
        if draft.option_id not in {o.id for o in self.case.options}:
            return "That option is not part of this case."
        length = len(draft.justification.strip())
        if length < self.min_justification:
            return (f"Explain your reasoning in at least {self.min_justification} characters "
                    f"({self.min_justification - length} more to go).")
        if not 0 <= int(draft.confidence) <= 100:
            return "Confidence must be between 0 and 100."
        for factor, level in draft.kitchener.items():
            if level is not None and level not in RISK_LEVELS:
                return f"Rate {factor} as low, medium or high."
        return None

    def commit(self, draft: Draft) -> Response:
        """Save the draft as the next attempt. The row is on disk before this returns."""
        reason = self.blocker(draft)
        if reason:
            raise DualroleError(reason)
        if self.state == "committed" and not self.can_revote:
            raise DualroleError("The revote opens after the reference is revealed.")
        response = Response(
            learner=self.learner,
            cohort=self.cohort,
            case_id=self.case.id,
            case_version=self.case.case_version,
            option_id=draft.option_id,
            stance=self.case.option(draft.option_id).stance,
            confidence=int(draft.confidence),
            justification=draft.justification.strip(),
            attempt=len(self.attempts) + 1,
            phase=self.phase,
            kitchener_expectations=draft.kitchener.get("expectations"),
            kitchener_obligations=draft.kitchener.get("obligations"),
            kitchener_power=draft.kitchener.get("power"),
            started_at=self.started_at,
            client=self.client,
            consent=self.consent,
        )
        try:
            self.store.add(response)
        except AlreadyAnswered:
            # Another kernel (a second tab) committed first: show what is on disk, not our draft.
            self.resume()
            raise
        self.resume()
        self.started_at = utcnow()
        return response

    def cohort_view(self) -> CohortView:
        """The cohort's latest answers to this case, to be shown only once enough have answered."""
        counts = self.store.cohort_answers(self.case.id, self.cohort, self.phase)
        # The class service sends its total and minimum with the counts it may withhold (widgets.client).
        total = counts.total if hasattr(counts, "total") else sum(counts.values())
        min_cohort = max(self.min_cohort, getattr(counts, "min_cohort", 0))
        # Every option is counted, zeros included: "nobody chose this" is a small cell too.
        every = {o.id: counts.get(o.id, 0) for o in self.case.options}
        return CohortView(total=total, min_cohort=min_cohort, counts=every)

    def draft_from(self, row: dict) -> Draft:
        """A committed row turned back into the inputs that produced it (for resume)."""
        return Draft(
            option_id=row["option_id"],
            confidence=row["confidence"],
            justification=row["justification"],
            kitchener={f: row.get(f"kitchener_{f}") for f in KITCHENER_FACTORS},
        )

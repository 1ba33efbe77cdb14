"""Class mode: the peer-instruction sequence an instructor paces each case through.

Pure rules with no web or database code, so the service, the card and the dashboard agree and the
rules are tested directly. A case with no class state is *self-paced*: the card behaves as it does
on a laptop. Once an instructor takes a case into class mode it moves forward through
:data:`STAGES`, never back; ``release`` returns it to self-paced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from widgets.responses.codec import timestamp_text

#: The stages, in the order a case moves through them.
STAGES: tuple[str, ...] = ("waiting", "voting", "closed", "histogram", "revote", "revealed")

#: What each stage means, in the words the dashboard and the cards use.
STAGE_LABELS: dict[str, str] = {
    "self-paced": "Self-paced (not in class mode)",
    "waiting": "Waiting: voting not open yet",
    "voting": "Voting open",
    "closed": "Voting closed",
    "histogram": "Class histogram shown",
    "revote": "Revote open",
    "revealed": "Reference revealed",
}

#: Instructor actions and the stage each one moves to (``release`` leaves class mode).
ACTIONS: dict[str, str | None] = {
    "hold": "waiting",
    "open_voting": "voting",
    "close": "closed",
    "show_histogram": "histogram",
    "open_revote": "revote",
    "reveal": "revealed",
    "release": None,
}

ACTION_LABELS: dict[str, str] = {
    "hold": "Hold for class",
    "open_voting": "1. Open voting",
    "close": "2. Close",
    "show_histogram": "3. Show histogram",
    "open_revote": "4. Open revote",
    "reveal": "5. Reveal reference",
    "release": "Back to self-paced",
}

SELF_PACED = "self-paced"
#: What a card assumes before the service has told it the stage.
UNKNOWN = "unknown"


class PacingError(ValueError):
    """An instructor action that the current stage does not allow."""


@dataclass(frozen=True)
class ClassState:
    """One case's class-mode state in one cohort (``stage`` is 'self-paced' when there is none)."""

    cohort: str
    case_id: str
    stage: str = SELF_PACED
    updated_at: datetime | None = None
    updated_by: str | None = None
    voting_closed_at: datetime | None = None
    revote_closed_at: datetime | None = None

    @property
    def paced(self) -> bool:
        return self.stage != SELF_PACED

    def as_json(self) -> dict:
        return {
            "cohort": self.cohort,
            "case_id": self.case_id,
            "stage": self.stage,
            "label": STAGE_LABELS[self.stage],
            "updated_at": timestamp_text(self.updated_at),
            "voting_open": self.stage in (SELF_PACED, "voting"),
            "revote_open": self.stage == "revote",
            "histogram_shown": self.stage in (SELF_PACED, "histogram", "revote", "revealed"),
            "reference_shown": self.stage in (SELF_PACED, "revealed"),
            "allowed_actions": allowed_actions(self.stage),
        }


def allowed_actions(stage: str) -> list[str]:
    """The actions an instructor may take from ``stage``: any later stage, or release."""
    here = -1 if stage == SELF_PACED else STAGES.index(stage)
    forward = [a for a, target in ACTIONS.items() if target is not None and STAGES.index(target) > here]
    return forward + (["release"] if stage != SELF_PACED else [])


def advance(state: ClassState, action: str, *, by: str, now: datetime) -> ClassState:
    """The state after an instructor's action; raises :class:`PacingError` if it is not allowed.

    Moving past voting records when voting closed, and moving past the revote records when the
    revote closed: an answer committed before then but held in a learner's outbox still counts.
    """
    if action not in ACTIONS:
        raise PacingError(f"unknown action '{action}'; actions are: {', '.join(ACTIONS)}")
    if action not in allowed_actions(state.stage):
        allowed = ", ".join(allowed_actions(state.stage))
        raise PacingError(f"case '{state.case_id}' is at '{state.stage}'; '{action}' is not possible "
                          f"from there (possible: {allowed})")
    target = ACTIONS[action]
    if target is None:
        return ClassState(state.cohort, state.case_id, SELF_PACED, now, by)
    rank = STAGES.index(target)
    voting_closed = state.voting_closed_at or (now if rank > STAGES.index("voting") else None)
    revote_closed = state.revote_closed_at or (now if rank > STAGES.index("revote") else None)
    return ClassState(state.cohort, state.case_id, target, now, by, voting_closed, revote_closed)


def stage_refusal(stage: str, attempt: int) -> str | None:
    """Why attempt 1 or 2 cannot be given at this stage; None when it can.

    The card asks this before a commit and the service before it records, so both say the same.
    A card that has not yet heard from the service (:data:`UNKNOWN`) lets a first answer through:
    it waits in the outbox, and the service judges it with :func:`refusal` when it arrives.

    >>> stage_refusal("voting", 1) is None
    True
    >>> stage_refusal("closed", 1)
    'voting on this case is closed'
    """
    if attempt == 1:
        if stage in (SELF_PACED, UNKNOWN, "voting"):
            return None
        if stage == "waiting":
            return "voting on this case has not opened yet"
        return "voting on this case is closed"
    if stage in (SELF_PACED, "revote"):
        return None
    return "the revote on this case is not open"


def reveal_open(stage: str) -> bool:
    """Whether a learner may see the reference at this stage."""
    return stage in (SELF_PACED, "revealed")


def refusal(state: ClassState, attempt: int, submitted_at: datetime) -> str | None:
    """Why the service must refuse an answer (attempt 1 or 2) at this stage; None to accept it.

    An answer committed while its round was open is accepted even if it arrives later, from the
    learner's outbox after the service was unreachable.
    """
    if not state.paced:
        return None
    if attempt == 1 and state.voting_closed_at is not None and submitted_at <= state.voting_closed_at:
        return None
    if attempt == 2 and state.stage == "revealed" and state.revote_closed_at is not None \
            and submitted_at <= state.revote_closed_at:
        return None
    return stage_refusal(state.stage, attempt)


def learner_round(state: ClassState) -> str | None:
    """Which distribution a learner who answered may see: 'first', 'latest', or None (not yet).

    During the histogram and the revote the class sees its first votes; after the reveal, and in
    self-paced mode, everyone's latest answer.
    """
    if state.stage in ("histogram", "revote"):
        return "first"
    if state.stage in (SELF_PACED, "revealed"):
        return "latest"
    return None

"""The interface a card's session writes to and reads from, whoever keeps the answers.

:class:`~widgets.store.sql.Store` (a database this machine opens) and
:class:`~widgets.learner.client.ServiceClient` (the class service on a hub) both implement it, so
code that takes a :class:`ResponseStore` never asks which one it has.
"""

from __future__ import annotations

from typing import Protocol

from widgets.responses.contract import Reflection, Response, Script
from widgets.responses.disclosure import CohortCounts


class ResponseStore(Protocol):
    """Where a learner's committed answers go, and where a card reads them back."""

    #: Where the answers are kept, fit to show (a database URL or the service's URL).
    url: str
    #: True when an instructor may pace the class through this store (the class service).
    follows_class: bool

    def add(self, response: Response) -> Response:
        """Keep one committed answer; raise ``AlreadyAnswered`` if its attempt is already kept."""

    def responses(self, learner: str | None = None, case_id: str | None = None,
                  cohort: str | None = None, phase: str | None = None) -> list[dict]:
        """Rows matching every filter given, oldest first."""

    def cohort_answers(self, case_id: str, cohort: str, phase: str) -> CohortCounts:
        """How many learners of ``cohort`` chose each option of the case (their latest answer)."""

    def set_consent(self, learner: str, consent: bool) -> None:
        """Record the learner's research-consent choice."""

    def consent(self, learner: str) -> bool:
        """The learner's latest research-consent choice (False if none)."""

    def erase_learner(self, learner: str) -> int:
        """Delete every answer and consent record of the learner; return how many answers."""

    def feedback(self, learner: str, case_id: str | None = None) -> list[dict]:
        """Feedback an instructor released to ``learner`` (on one case, if given), oldest first."""

    def save_script(self, script: Script) -> Script:
        """Keep one checked script (what the learner would say on a case); a later save is a new row."""

    def latest_scripts(self, learner: str | None = None, cohort: str | None = None,
                       case_id: str | None = None) -> list[dict]:
        """Each learner's latest script for each case, filtered by any of the arguments."""


class ReflectionStore(Protocol):
    """Where a learner's saved reflections and decision-model ratings are kept: a store on this machine.

    Reflections never go to the class service: they stay with the learner until they export
    them in their bundle, and reach the instructor through ``collect``.
    """

    url: str

    def add_reflection(self, reflection: Reflection) -> Reflection:
        """Keep one saved reflection (saving again adds a newer one)."""

    def reflections(self, learner: str | None = None, cohort: str | None = None,
                    lesson: str | None = None, kind: str | None = None) -> list[dict]:
        """Saved reflections matching every filter given, oldest first."""

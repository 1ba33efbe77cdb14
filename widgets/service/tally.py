"""The class's answers to each case, counted once per change and shared by every learner's read.

When an instructor shows the histogram, every card in the room asks for the same distribution
within a few seconds. What the class may see of a case changes only when an answer arrives, an
answer is erased, or the instructor moves the case on; so each read asks the database one cheap
question (:meth:`~widgets.store.class_state.ClassBook.glance`: the case's stage and the version of
its answers, in one statement) and counts the answers again only when that version has moved.
Because the question is asked of the store on every read, an answer recorded by another service
process on the same database, or a stage another process set, shows in the very next read.

What a learner is shown is still decided by the rules, once per version and stage:
:func:`widgets.responses.pacing.learner_round` (which round, if any) and
:func:`widgets.responses.disclosure.distribution` (the class audience's ``min_class``). The
result is kept already serialised, since it is the same bytes for everyone in the class.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable

from widgets.responses.pacing import ClassState
from widgets.store.class_state import ClassBook


@dataclass
class Tally:
    """One case's answers in one cohort and phase, as they stood at ``version``."""

    version: tuple[int, int]
    counts: dict[str, dict[str, int]]
    learners: frozenset[str]
    # The class's view of these counts, serialised, by (stage, round): the same for every learner.
    views: dict[tuple[str, str], bytes] = field(default_factory=dict)

    def answered(self, learner: str) -> bool:
        return learner in self.learners

    def view(self, state: ClassState, which: str, render: Callable[[ClassState, Tally, str], bytes]) -> bytes:
        """The class's view at this stage and round, rendered by ``render`` the first time it is asked."""
        key = (state.stage, which)
        shown = self.views.get(key)
        if shown is None:
            shown = self.views[key] = render(state, self, which)
        return shown


class Tallies:
    """The latest :class:`Tally` of each (cohort, case, phase) this process has read.

    Thread-safe: the service's worker threads share it. Only one thread counts a case's answers at
    a time; the others then find its tally (or a newer one) kept.
    """

    def __init__(self, book: ClassBook, keep: int = 256):
        self.book = book
        self.keep = keep
        self._kept: OrderedDict[tuple[str, str, str], Tally] = OrderedDict()
        self._counting = threading.Lock()

    def current(self, cohort: str, case_id: str, phase: str) -> tuple[ClassState, Tally]:
        """The case's state now, and a tally holding at least every answer stored before this call."""
        state, version = self.book.glance(cohort, case_id, phase)
        key = (cohort, case_id, phase)
        tally = self._fresh(key, version)
        if tally is None:
            with self._counting:
                tally = self._fresh(key, version)
                if tally is None:
                    counted, counts, learners = self.book.tally(cohort, case_id, phase)
                    tally = Tally(counted, counts, learners)
                    self._keep(key, tally)
        return state, tally

    def _fresh(self, key, version: tuple[int, int]) -> Tally | None:
        # A version is (erasures, answers), and both only grow: a kept tally at this version or a
        # later one holds every answer the glance counted.
        tally = self._kept.get(key)
        return tally if tally is not None and tally.version >= version else None

    def _keep(self, key, tally: Tally) -> None:
        kept = self._kept.get(key)
        if kept is None or kept.version <= tally.version:
            self._kept[key] = tally
        self._kept.move_to_end(key)
        while len(self._kept) > self.keep:
            self._kept.popitem(last=False)

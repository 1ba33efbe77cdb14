"""The instructor's view of a class's saved reflections (collected from learners' bundles).

Only the instructor audience of :mod:`widgets.responses.disclosure` sees them; the cohort report
and the research export never read the reflections table.
"""

from __future__ import annotations

import pandas as pd

from widgets.responses.disclosure import reflections_for
from widgets.store.protocol import ReflectionStore


def reflections_view(store: ReflectionStore, cohort: str | None = None, lesson: str | None = None) -> pd.DataFrame:
    """Each learner's latest saved reflection per lesson: learner, cohort, lesson, saved_at, reflection.

    Example::

        >>> reflections_view(open_store("sqlite:///class.sqlite"), lesson="03_social")   # doctest: +SKIP
    """
    rows = reflections_for("instructor", store.reflections(cohort=cohort, lesson=lesson, kind="reflection"))
    frame = pd.DataFrame(rows, columns=["learner", "cohort", "lesson", "saved_at", "text"])
    frame = frame.sort_values("saved_at").drop_duplicates(["learner", "cohort", "lesson"], keep="last")
    return frame.rename(columns={"text": "reflection"}).sort_values(["lesson", "learner"]).reset_index(drop=True)

"""Scores and released feedback, in tables beside the responses (SQLite or PostgreSQL).

A score sheet (an instructor's levels for each rubric criterion on one response, and a comment) is
appended, never updated: the latest sheet of each scorer counts, and every earlier one stays on
record with who gave it, when, and under which rubric version. Releasing feedback copies a
response's latest sheet into the feedback table, which the learner's card reads (through the class
service on a hub, or from their own store after importing a feedback file).
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from widgets.errors import DualroleError
from widgets.grading.files import Rubric
from widgets.responses.contract import utcnow
from widgets.store.engine import describe_url
from widgets.store.schema import feedback_table, scores_table
from widgets.store.sql import Store


class ScoreBook:
    """Score sheets and released feedback on one store's database."""

    def __init__(self, store: Store):
        self.store = store
        self.engine = store.engine

    def record(self, response_id: str, scorer: str, rubric: Rubric, levels: dict, comment: str = "") -> dict:
        """Append one score sheet for a response; return the stored row.

        ``levels`` maps criterion ids to levels; a criterion left out is not yet scored.
        """
        if not scorer.strip():
            raise DualroleError("a score needs the scorer's name (who scored it)")
        try:
            checked = rubric.check_levels(levels)
        except ValueError as exc:
            raise DualroleError(str(exc)) from None
        response = self._response(response_id)
        row = {"score_id": str(uuid.uuid4()), "response_id": response_id, "learner": response["learner"],
               "case_id": response["case_id"], "scorer": scorer.strip(), "rubric_id": rubric.id,
               "rubric_version": rubric.version, "levels": checked, "comment": comment or "",
               "scored_at": utcnow()}
        with self.store.transaction() as conn:
            conn.execute(scores_table.insert(), row)
        return row

    def sheets(self, case_id: str | None = None, scorer: str | None = None, *, latest: bool = True) -> list[dict]:
        """Score sheets, oldest first; with ``latest`` only each scorer's last sheet per response."""
        s = scores_table
        q = sa.select(s)
        if case_id is not None:
            q = q.where(s.c.case_id == case_id)
        if scorer is not None:
            q = q.where(s.c.scorer == scorer)
        with self.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(q.order_by(s.c.scored_at, s.c.score_id))]
        if not latest:
            return rows
        last = {(r["response_id"], r["scorer"]): r for r in rows}
        return sorted(last.values(), key=lambda r: r["scored_at"])

    def release(self, response_id: str, released_by: str, rubric: Rubric, scorer: str | None = None) -> dict:
        """Release a response's latest score sheet (of ``scorer``, else of anyone) to its learner.

        The released levels carry each criterion's label and level descriptor, so the learner's card
        can show them without the instructor's rubric file.
        """
        sheets = [r for r in self.sheets() if r["response_id"] == response_id
                  and (scorer is None or r["scorer"] == scorer)]
        if not sheets:
            raise DualroleError(f"response {response_id} has no score to release yet")
        sheet = sheets[-1]
        if sheet["rubric_version"] != rubric.version:
            raise DualroleError(f"response {response_id} was scored under another version of rubric "
                                f"'{sheet['rubric_id']}': score it again under this one before releasing")
        response = self._response(response_id)
        levels = [{"criterion": c.id, "label": c.label, "level": sheet["levels"][c.id], "top": c.top,
                   "descriptor": c.levels[sheet["levels"][c.id]]}
                  for c in rubric.criteria if c.id in sheet["levels"]]
        row = {"feedback_id": str(uuid.uuid4()), "learner": response["learner"], "response_id": response_id,
               "case_id": response["case_id"], "case_version": response["case_version"],
               "rubric_id": sheet["rubric_id"], "rubric_version": sheet["rubric_version"],
               "levels": levels, "comment": sheet["comment"], "released_by": released_by,
               "released_at": utcnow()}
        with self.store.transaction() as conn:
            conn.execute(feedback_table.insert(), row)
        return row

    def released(self, learner: str | None = None) -> list[dict]:
        """Released feedback (of one learner, if given), oldest first."""
        f = feedback_table
        q = sa.select(f).order_by(f.c.released_at)
        if learner is not None:
            q = q.where(f.c.learner == learner)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def keep_imported(self, rows: list[dict]) -> int:
        """Keep feedback rows read from a checked feedback file; one already kept is skipped."""
        if not rows:
            return 0
        f = feedback_table
        with self.store.transaction() as conn:
            have = set(conn.scalars(sa.select(f.c.feedback_id).where(f.c.feedback_id.in_([r["feedback_id"]
                                                                                         for r in rows]))))
            new = [r for r in rows if r["feedback_id"] not in have]
            if new:
                conn.execute(f.insert(), new)
        return len(new)

    def _response(self, response_id: str) -> dict:
        row = self.store.response(response_id)
        if row is None:
            raise DualroleError(f"no response {response_id} in {describe_url(self.store.url)}")
        return row

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
from widgets.grading.final import FinalScore, final_score
from widgets.responses.contract import utcnow
from widgets.store.engine import describe_url
from widgets.store.schema import feedback_table, final_scores_table, scores_table
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
        """Score sheets, oldest first; with ``latest`` only each scorer's last sheet per response and
        rubric (a grader may score one answer on two rubrics, e.g. its reasoning and its case analysis)."""
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
        last = {(r["response_id"], r["scorer"], r["rubric_id"]): r for r in rows}
        return sorted(last.values(), key=lambda r: r["scored_at"])

    def migrate(self, old: Rubric, new: Rubric, maps: dict[str, dict[int, int]], by: str) -> int:
        """Re-record every latest sheet and reconciled score given under ``old`` under ``new``, with
        each level mapped as :func:`~widgets.grading.files.level_map` says; return how many.

        The old rows stay as they were; the new ones carry ``new``'s version and say who migrated them.
        """
        from widgets.grading.files import level_map

        try:
            mapping = level_map(old, new, maps)
        except ValueError as exc:
            raise DualroleError(str(exc)) from None
        if old.id != new.id:
            raise DualroleError(f"rubric '{new.id}' is not a version of rubric '{old.id}'")
        now = utcnow()
        note = f"[migrated from version {old.number} by {by}]"
        sheets = [{**s, "score_id": str(uuid.uuid4()), "rubric_version": new.version, "scored_at": now,
                   "levels": {c: mapping[c][level] for c, level in s["levels"].items() if c in mapping},
                   "comment": f"{s['comment']}\n{note}".strip()}
                  for s in self.sheets() if s["rubric_id"] == old.id and s["rubric_version"] == old.version]
        latest = {r["response_id"]: r for r in self.reconciled()
                  if r["rubric_id"] == old.id and r["rubric_version"] == old.version}
        finals = [{**r, "final_id": str(uuid.uuid4()), "rubric_version": new.version, "reconciled_at": now,
                   "levels": {c: mapping[c][level] for c, level in r["levels"].items() if c in mapping}}
                  for r in latest.values() if set(mapping) == {c.id for c in new.criteria}]
        with self.store.transaction() as conn:
            if sheets:
                conn.execute(scores_table.insert(), sheets)
            if finals:
                conn.execute(final_scores_table.insert(), finals)
        return len(sheets) + len(finals)

    def reconcile(self, response_id: str, reconciled_by: str, rubric: Rubric, levels: dict,
                  comment: str = "") -> dict:
        """Record the final score of an answer that graders scored apart; return the stored row.

        Every criterion needs a level. The graders' own sheets stay as they were.
        """
        if not reconciled_by.strip():
            raise DualroleError("a reconciled score needs the name of who reconciled it")
        try:
            checked = rubric.check_levels(levels)
        except ValueError as exc:
            raise DualroleError(str(exc)) from None
        if missing := [c.id for c in rubric.criteria if c.id not in checked]:
            raise DualroleError(f"a reconciled score needs every criterion; missing: {', '.join(missing)}")
        response = self._response(response_id)
        row = {"final_id": str(uuid.uuid4()), "response_id": response_id, "learner": response["learner"],
               "case_id": response["case_id"], "rubric_id": rubric.id, "rubric_version": rubric.version,
               "levels": checked, "comment": comment or "", "reconciled_by": reconciled_by.strip(),
               "reconciled_at": utcnow()}
        with self.store.transaction() as conn:
            conn.execute(final_scores_table.insert(), row)
        return row

    def reconciled(self, case_id: str | None = None) -> list[dict]:
        """Reconciled scores, oldest first (the latest of an answer counts)."""
        f = final_scores_table
        q = sa.select(f).order_by(f.c.reconciled_at, f.c.final_id)
        if case_id is not None:
            q = q.where(f.c.case_id == case_id)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def finals(self, rubric: Rubric, case_id: str | None = None) -> dict[str, FinalScore]:
        """Each scored answer's :class:`~widgets.grading.final.FinalScore` (or why it has none)."""
        sheets: dict[str, list[dict]] = {}
        for sheet in self.sheets(case_id):
            if sheet["rubric_id"] == rubric.id:  # a sheet on another rubric scores something else
                sheets.setdefault(sheet["response_id"], []).append(sheet)
        agreed: dict[str, list[dict]] = {}
        for row in self.reconciled(case_id):
            if row["rubric_id"] == rubric.id:
                agreed.setdefault(row["response_id"], []).append(row)
        return {r: final_score(sheets.get(r, []), agreed.get(r, []), rubric) for r in {*sheets, *agreed}}

    def release(self, response_id: str, released_by: str, rubric: Rubric) -> dict:
        """Release an answer's final score (:mod:`widgets.grading.final`) to its learner.

        The released levels carry each criterion's label and level descriptor, so the learner's card
        can show them without the instructor's rubric file. Raises a ``DualroleError`` saying why when
        the answer has no final score under this rubric.
        """
        final = self.finals(rubric).get(response_id)
        if final is None or final.levels is None:
            raise DualroleError(f"response {response_id}: {final.reason if final else 'not scored yet'}")
        response = self._response(response_id)
        levels = [{"criterion": c.id, "label": c.label, "level": final.levels[c.id], "top": c.top,
                   "descriptor": c.levels[final.levels[c.id]]} for c in rubric.criteria]
        row = {"feedback_id": str(uuid.uuid4()), "learner": response["learner"], "response_id": response_id,
               "case_id": response["case_id"], "case_version": response["case_version"],
               "rubric_id": rubric.id, "rubric_version": rubric.version,
               "levels": levels, "comment": final.comment, "released_by": released_by,
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

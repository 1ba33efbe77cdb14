"""Class mode in the store: each case's pacing stage (a table of its own beside the responses) and
the counts the class service reads of a case's answers.

Keeping the stage in the store (not in the service's memory) means a restarted service, or a second
service process, carries on exactly where the instructor left off.
"""

from __future__ import annotations

import sqlalchemy as sa

from widgets.responses.codec import as_utc
from widgets.responses.pacing import SELF_PACED, ClassState
from widgets.store.schema import class_state_table, erasures_table, responses_table
from widgets.store.sql import Store


def _answers_version_query() -> sa.Select:
    """One statement for a distribution read: the case's class state (outer-joined, so a self-paced
    case still gives a row) and the version of its answers (see :meth:`ClassBook.glance`).

    Built once, with bound parameters: building the expression anew cost a read more than running it."""
    r, t, e = responses_table, class_state_table, erasures_table
    cohort, case_id, phase = sa.bindparam("cohort"), sa.bindparam("case_id"), sa.bindparam("phase")
    answers = (sa.select(sa.func.count()).select_from(r)
               .where(r.c.case_id == case_id, r.c.cohort == cohort, r.c.phase == phase).scalar_subquery())
    erasures = sa.select(e.c.erasures).where(e.c.store == "responses").scalar_subquery()
    one = sa.select(sa.literal(1).label("one")).subquery()
    return (sa.select(erasures.label("erasures"), answers.label("answers"), t.c.cohort, t.c.case_id,
                      t.c.stage, t.c.updated_at, t.c.updated_by, t.c.voting_closed_at, t.c.revote_closed_at)
            .select_from(one.outerjoin(t, sa.and_(t.c.cohort == cohort, t.c.case_id == case_id))))


_GLANCE = _answers_version_query()


class ClassBook:
    """Read and write class-mode states, and count answers, on one store's database."""

    def __init__(self, store: Store):
        self.store = store
        self.engine = store.engine
        postgres = self.engine.dialect.name == "postgresql"
        # A glance is one statement, so it needs no transaction: on PostgreSQL that saves the BEGIN
        # and ROLLBACK round trips a pooled connection otherwise makes around it. A tally is several
        # statements that must see one moment (SQLite's read transactions already do).
        self._glancer = self.engine.execution_options(isolation_level="AUTOCOMMIT") if postgres else self.engine
        self._snapshot = (self.engine.execution_options(isolation_level="REPEATABLE READ") if postgres
                          else self.engine)

    def get(self, cohort: str, case_id: str, conn=None) -> ClassState:
        if conn is None:
            with self.engine.connect() as conn:
                return self.get(cohort, case_id, conn)
        t = class_state_table
        row = conn.execute(sa.select(t).where(t.c.cohort == cohort, t.c.case_id == case_id)).first()
        return _state(row) if row else ClassState(cohort, case_id)

    def glance(self, cohort: str, case_id: str, phase: str) -> tuple[ClassState, tuple[int, int]]:
        """The case's state and the version of its answers in ``phase``, in one statement.

        The version is (erasures from the store, answers to the case): answers are only ever added
        except by an erasure, which raises the first number in its own transaction, so an equal
        version means the same answers and a greater one newer answers.
        """
        with self._glancer.connect() as conn:
            row = conn.execute(_GLANCE, {"cohort": cohort, "case_id": case_id, "phase": phase}).one()
        state = ClassState(cohort, case_id) if row.stage is None else _state(row)
        return state, (row.erasures or 0, row.answers)

    def tally(self, cohort: str, case_id: str, phase: str) -> tuple[tuple[int, int], dict, frozenset[str]]:
        """The case's answers counted at one moment: their version (as :meth:`glance` gives it),
        :meth:`counts`, and the learners who have answered."""
        r = responses_table
        learners = sa.select(r.c.learner).where(r.c.case_id == case_id, r.c.cohort == cohort, r.c.phase == phase)
        with self._snapshot.connect() as conn:
            rows = conn.scalars(learners).all()
            counts = self.counts(cohort, case_id, phase, conn)
            erasures = self.store.erasures(conn)
        return (erasures, len(rows)), counts, frozenset(rows)

    def all(self, cohort: str) -> dict[str, ClassState]:
        """Every case of the cohort that is in class mode, by case id."""
        t = class_state_table
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t).where(t.c.cohort == cohort)).all()
        return {r.case_id: _state(r) for r in rows}

    def put(self, state: ClassState) -> None:
        """Save a state (or delete it, for self-paced), replacing the previous one."""
        t = class_state_table
        with self.store.transaction() as conn:
            conn.execute(t.delete().where(t.c.cohort == state.cohort, t.c.case_id == state.case_id))
            if state.stage != SELF_PACED:
                conn.execute(t.insert(), {
                    "cohort": state.cohort, "case_id": state.case_id, "stage": state.stage,
                    "updated_at": state.updated_at, "updated_by": state.updated_by or "",
                    "voting_closed_at": state.voting_closed_at, "revote_closed_at": state.revote_closed_at,
                })

    # -- counts --------------------------------------------------------------------------------

    def counts(self, cohort: str, case_id: str, phase: str, conn=None) -> dict[str, dict[str, int]]:
        """Option counts of a case: ``first`` (everyone's attempt 1) and ``latest`` (each learner's last)."""
        return self.store.answer_counts(case_id, cohort, phase, conn)

    def answered(self, cohort: str, phase: str) -> dict[str, dict[int, int]]:
        """How many answers each case has in a cohort and phase, by attempt: ``{case: {1: n, 2: m}}``."""
        r = responses_table
        q = (sa.select(r.c.case_id, r.c.attempt, sa.func.count())
             .where(r.c.cohort == cohort, r.c.phase == phase).group_by(r.c.case_id, r.c.attempt))
        out: dict[str, dict[int, int]] = {}
        with self.engine.connect() as conn:
            for case_id, attempt, n in conn.execute(q):
                out.setdefault(case_id, {})[attempt] = n
        return out

    def find(self, response_id: str) -> dict | None:
        """The stored response with this id, or None."""
        return self.store.response(response_id)


def _state(row) -> ClassState:
    return ClassState(row.cohort, row.case_id, row.stage, as_utc(row.updated_at), row.updated_by,
                      as_utc(row.voting_closed_at), as_utc(row.revote_closed_at))

"""The store's tables, shared by every backend; a row holds one :class:`~widgets.responses.contract.Response`.

Defined with SQLAlchemy Core so that SQLite and PostgreSQL get the same schema; the store
(:mod:`widgets.store.sql`) writes them, and every change to them since stores were first made is a
migration in :mod:`widgets.store.migrations`.
"""

from __future__ import annotations

from datetime import timezone

import sqlalchemy as sa

metadata = sa.MetaData()


class UTCDateTime(sa.TypeDecorator):
    """A UTC timestamp, timezone-aware in Python on every backend.

    PostgreSQL keeps the offset; SQLite has no timezone type, so the UTC wall time is stored and
    the UTC offset put back on reading. A naive value written by a caller is taken to be UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        """To UTC; naive UTC wall time for SQLite."""
        if value is None:
            return None
        value = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        """Always timezone-aware, in UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


responses_table = sa.Table(
    "responses",
    metadata,
    sa.Column("response_id", sa.String(36), primary_key=True),
    sa.Column("learner", sa.String(200), nullable=False, index=True),
    sa.Column("cohort", sa.String(200), nullable=False, index=True),
    sa.Column("case_id", sa.String(60), nullable=False, index=True),
    sa.Column("case_version", sa.String(64), nullable=False),
    sa.Column("option_id", sa.String(60), nullable=False),
    sa.Column("stance", sa.String(40), nullable=False),
    sa.Column("confidence", sa.Integer, nullable=False),
    sa.Column("kitchener_expectations", sa.String(10)),
    sa.Column("kitchener_obligations", sa.String(10)),
    sa.Column("kitchener_power", sa.String(10)),
    sa.Column("justification", sa.Text, nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("phase", sa.String(10), nullable=False),
    sa.Column("started_at", UTCDateTime()),
    sa.Column("submitted_at", UTCDateTime(), nullable=False),
    sa.Column("client", sa.String(20), nullable=False),
    sa.Column("consent", sa.Boolean, nullable=False, default=False),
    # What the learner was shown: the options in their order, whether they had seen the reference when
    # they committed, and the class-mode stage at the time (null in rows from before these were kept).
    sa.Column("option_order", sa.String(400)),
    sa.Column("reference_seen", sa.Boolean),
    # Whether the class's counts had been shown to them before they committed (null: not recorded).
    sa.Column("distribution_seen", sa.Boolean),
    sa.Column("stage", sa.String(20)),
    # One row per learner, case, phase and attempt: a double click can never write two answers.
    sa.UniqueConstraint("learner", "cohort", "case_id", "phase", "attempt", name="one_answer_per_attempt"),
    sa.CheckConstraint("confidence BETWEEN 0 AND 100", name="confidence_range"),
    sa.CheckConstraint("attempt IN (1, 2)", name="attempt_one_or_two"),
    # The reveal's cohort count (cohort_answers) reads one case, cohort and phase: without this
    # index SQLite walks every answer to the case in every cohort, 80 ms at a million responses
    #; with it, the learners and attempts come from the index alone.
    sa.Index("ix_responses_cohort_answers", "case_id", "cohort", "phase", "learner", "attempt"),
    # A card's own attempts (learner, case, phase): without it SQLite, which keeps no statistics,
    # searched every answer to the case through the case index (about 30 ms a submit at 1M).
    sa.Index("ix_responses_learner_answers", "learner", "case_id", "phase", "attempt"),
    # Every column of a cohort report (ANALYSIS_COLUMNS), so that SQLite reads them from this index
    # alone: about an eighth of the bytes of the rows, whose reasoning makes most of each one. Reading
    # a million responses for a report took a quarter less time. Learners lead, after the cohort,
    # so that two readers can split the index between them. PostgreSQL reads through its own path.
    sa.Index("ix_responses_analysis", "cohort", "learner", "case_id", "phase", "attempt", "option_id", "stance",
             "confidence", "submitted_at", "reference_seen", "distribution_seen").ddl_if(dialect="sqlite"),
)
#: The columns ``ix_responses_analysis`` holds: a read of only these needs no row of the table.
ANALYSIS_COLUMNS = frozenset(next(i for i in responses_table.indexes if i.name == "ix_responses_analysis")
                             .columns.keys())

consents_table = sa.Table(
    "consents",
    metadata,
    sa.Column("learner", sa.String(200), nullable=False, index=True),
    sa.Column("consent", sa.Boolean, nullable=False),
    sa.Column("recorded_at", UTCDateTime(), nullable=False),
)

# A learner's saved reflections and decision-model ratings (widgets.responses.contract.Reflection):
# the learner's and the instructor's only, never in a public report or a research export.
reflections_table = sa.Table(
    "reflections",
    metadata,
    sa.Column("reflection_id", sa.String(36), primary_key=True),
    sa.Column("learner", sa.String(200), nullable=False, index=True),
    sa.Column("cohort", sa.String(200), nullable=False),
    sa.Column("lesson", sa.String(60), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("case_id", sa.String(60)),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("saved_at", UTCDateTime(), nullable=False),
)

# What a learner would say on a lesson case, or the chart note they would write, after their first answer
# (widgets.responses.contract.Script). Private like the reasoning; append-only: a later save is a new
# row, and each learner's latest for a case counts. ``response_id`` is the first answer it follows.
scripts_table = sa.Table(
    "scripts",
    metadata,
    sa.Column("script_id", sa.String(36), primary_key=True),
    sa.Column("response_id", sa.String(36), nullable=False),
    sa.Column("learner", sa.String(200), nullable=False, index=True),
    sa.Column("cohort", sa.String(200), nullable=False),
    sa.Column("case_id", sa.String(60), nullable=False, index=True),
    sa.Column("case_version", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    # The positions (from 0) of the case's checklist items the learner ticked, e.g. [0, 2].
    sa.Column("checks", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

meta_table = sa.Table(
    "dualrole_meta",
    metadata,
    sa.Column("key", sa.String(40), primary_key=True),
    sa.Column("value", sa.String(200), nullable=False),
)

# Grading, beside the responses. An instructor's score sheet for one response is a new row each time
# it is saved (append-only: the latest row of a scorer wins), so two instructors can score the same
# answers independently and every earlier judgement stays on record.
scores_table = sa.Table(
    "dualrole_scores",
    metadata,
    sa.Column("score_id", sa.String(36), primary_key=True),
    sa.Column("response_id", sa.String(36), nullable=False, index=True),
    sa.Column("learner", sa.String(200), nullable=False, index=True),
    sa.Column("case_id", sa.String(60), nullable=False, index=True),
    sa.Column("scorer", sa.String(200), nullable=False),
    sa.Column("rubric_id", sa.String(60), nullable=False),
    sa.Column("rubric_version", sa.String(64), nullable=False),
    # {criterion id: level}; a criterion not yet scored is absent.
    sa.Column("levels", sa.JSON, nullable=False),
    sa.Column("comment", sa.Text, nullable=False, default=""),
    sa.Column("scored_at", UTCDateTime(), nullable=False),
)

# Reconciliation: where two graders scored an answer independently and differ, the final levels
# agreed after seeing both. The graders' own sheets stay as they were (agreement is measured on them);
# this is the score the learner sees and the gradebook counts. Appended; the latest counts.
final_scores_table = sa.Table(
    "dualrole_final_scores",
    metadata,
    sa.Column("final_id", sa.String(36), primary_key=True),
    sa.Column("response_id", sa.String(36), nullable=False, index=True),
    sa.Column("learner", sa.String(200), nullable=False),
    sa.Column("case_id", sa.String(60), nullable=False),
    sa.Column("rubric_id", sa.String(60), nullable=False),
    sa.Column("rubric_version", sa.String(64), nullable=False),
    sa.Column("levels", sa.JSON, nullable=False),
    sa.Column("comment", sa.Text, nullable=False, default=""),
    sa.Column("reconciled_by", sa.String(200), nullable=False),
    sa.Column("reconciled_at", UTCDateTime(), nullable=False),
)

# Feedback released to a learner: what their card shows under their answer. On a hub the class
# service reads it for that learner only; off the hub a learner's imported feedback file lands here
# in their own store.
feedback_table = sa.Table(
    "dualrole_feedback",
    metadata,
    sa.Column("feedback_id", sa.String(36), primary_key=True),
    sa.Column("learner", sa.String(200), nullable=False, index=True),
    sa.Column("response_id", sa.String(36), nullable=False),
    sa.Column("case_id", sa.String(60), nullable=False),
    sa.Column("case_version", sa.String(64), nullable=False),
    sa.Column("rubric_id", sa.String(60), nullable=False),
    sa.Column("rubric_version", sa.String(64), nullable=False),
    # [{criterion, label, level, top, descriptor}]: readable without the instructor's rubric file.
    sa.Column("levels", sa.JSON, nullable=False),
    sa.Column("comment", sa.Text, nullable=False, default=""),
    sa.Column("released_by", sa.String(200), nullable=False),
    sa.Column("released_at", UTCDateTime(), nullable=False),
)

# Qualitative coding of the reasoning, beside the scores and like them append-only: a coder's sheet
# for one answer (the codes they applied, each to the whole answer or to a span of it) is a new row
# each time it is saved, and the latest sheet of each coder counts. A reconciled sheet (the codes two
# or more coders agreed on after discussing their disagreements) is kept the same way, marked so.
codings_table = sa.Table(
    "dualrole_codings",
    metadata,
    sa.Column("coding_id", sa.String(36), primary_key=True),
    sa.Column("response_id", sa.String(36), nullable=False, index=True),
    sa.Column("learner", sa.String(200), nullable=False, index=True),
    sa.Column("case_id", sa.String(60), nullable=False, index=True),
    sa.Column("coder", sa.String(200), nullable=False),
    sa.Column("codebook_id", sa.String(60), nullable=False),
    sa.Column("codebook_version", sa.String(64), nullable=False),
    # [{code, start, end}]: start and end are character offsets into the justification (end
    # excluded), both null when the code applies to the whole answer. [] means "coded: no code applies".
    sa.Column("segments", sa.JSON, nullable=False),
    sa.Column("reconciled", sa.Boolean, nullable=False, default=False),
    # Where the sheet was made: "review" (the coding screen) or "qdpx" (imported from a REFI-QDA project).
    sa.Column("origin", sa.String(20), nullable=False),
    sa.Column("coded_at", UTCDateTime(), nullable=False),
    # What was coded: "reasoning" (null in sheets from before scripts were coded), or "script": then
    # response_id holds the script's id, and start and end are offsets into the script's text.
    sa.Column("unit", sa.String(20)),
)

# How many times answers have been erased from this store: one row, raised in the same transaction
# as every deletion of responses (Store.erase_learner). Answers are otherwise only ever added, so a
# case's answer count together with this number tells a reader (the class service's tallies) whether
# the case's answers changed since it last counted them, without reading them again.
erasures_table = sa.Table(
    "dualrole_erasures",
    metadata,
    sa.Column("store", sa.String(20), primary_key=True),
    sa.Column("erasures", sa.Integer, nullable=False),
)

# Class mode: the stage an instructor has paced each case of a cohort to (a self-paced case has no
# row). In the database, not in the service's memory, so a restarted service, or a second service
# process, carries on exactly where the instructor left off.
class_state_table = sa.Table(
    "dualrole_class_state",
    metadata,
    sa.Column("cohort", sa.String(200), primary_key=True),
    sa.Column("case_id", sa.String(60), primary_key=True),
    sa.Column("stage", sa.String(20), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_by", sa.String(200), nullable=False),
    sa.Column("voting_closed_at", sa.DateTime(timezone=True)),
    sa.Column("revote_closed_at", sa.DateTime(timezone=True)),
)


COLUMNS = [c.name for c in responses_table.columns]

# Each response's place in the order rows were added: SQLite's own ``rowid`` (every table has one),
# and on PostgreSQL an identity column added beside the declared ones. A reader that keeps a copy of
# the responses reads only the rows above the highest it holds. Kept out of the declared columns so
# that no write names it: the database numbers each row as it is inserted.
ROW_ID = {"sqlite": "rowid", "postgresql": "row_id"}
ROW_ID_DDL = ("ALTER TABLE responses ADD COLUMN IF NOT EXISTS row_id BIGINT GENERATED ALWAYS AS IDENTITY",
              "CREATE UNIQUE INDEX IF NOT EXISTS ix_responses_row_id ON responses (row_id)")
for _statement in ROW_ID_DDL:
    sa.event.listen(responses_table, "after_create", sa.DDL(_statement).execute_if(dialect="postgresql"))

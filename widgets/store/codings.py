"""Qualitative codes on learners' reasoning and scripts, in a table beside the responses (SQLite or PostgreSQL).

A coding sheet (the codes one coder applied to one answer's reasoning, or to the script that follows
it, each to the whole text or to a span of it) is appended, never updated: the latest sheet of each
coder counts, and every earlier one stays on record with who coded, when, and under which codebook
version. Coders work blind: :meth:`CodingBook.sheets` with ``coder=`` gives one coder their own sheets
only. A reconciled sheet records the codes agreed after discussing the disagreements, under the
name of whoever recorded it.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from widgets.errors import DualroleError
from widgets.grading.codebook import Codebook
from widgets.responses.contract import utcnow
from widgets.store.engine import describe_url
from widgets.store.schema import codings_table, responses_table, scripts_table
from widgets.store.sql import Store

ORIGINS = ("review", "qdpx")
#: What a sheet codes: an answer's reasoning, or a script (what the learner would say after it).
UNITS = ("reasoning", "script")


def check_segments(segments, codebook: Codebook, text: str) -> list[dict]:
    """``segments`` ([{code, start, end}], or bare code ids for whole answers) checked and put in order.

    A ``ValueError`` names the code that is unknown or the span that falls outside the text.
    """
    out = []
    for segment in segments:
        segment = {"code": segment, "start": None, "end": None} if isinstance(segment, str) else dict(segment)
        code, start, end = segment.get("code"), segment.get("start"), segment.get("end")
        if code not in codebook.ids:
            raise ValueError(f"'{code}' is not a code of codebook '{codebook.id}' (codes: {', '.join(codebook.ids)})")
        if (start is None) != (end is None):
            raise ValueError(f"code '{code}': a span needs both a start and an end")
        if start is not None:
            if isinstance(start, bool) or isinstance(end, bool) or not isinstance(start, int) \
                    or not isinstance(end, int) or not 0 <= start < end <= len(text):
                raise ValueError(f"code '{code}': the span {start}-{end} is not inside the answer "
                                 f"(0-{len(text)} characters)")
        out.append({"code": code, "start": start, "end": end})
    unique = {(s["code"], s["start"], s["end"]): s for s in out}
    return sorted(unique.values(), key=lambda s: (codebook.ids.index(s["code"]),
                                                  -1 if s["start"] is None else s["start"]))


class CodingBook:
    """Coding sheets on one store's database."""

    def __init__(self, store: Store):
        self.store = store
        self.engine = store.engine

    def record(self, response_id: str, coder: str, codebook: Codebook, segments, *, reconciled: bool = False,
               origin: str = "review", unit: str = "reasoning") -> dict:
        """Append one coder's sheet for an answer's reasoning (or, with ``unit="script"`` and a script id
        for ``response_id``, for a script); return the stored row.

        ``segments`` is every code the coder applies now (an empty list: none applies).
        """
        if not coder.strip():
            raise DualroleError("a coding needs the coder's name (who coded it)")
        if origin not in ORIGINS:
            raise DualroleError(f"origin '{origin}' is not one of {', '.join(ORIGINS)}")
        if unit not in UNITS:
            raise DualroleError(f"unit '{unit}' is not one of {', '.join(UNITS)}")
        coded = self._script(response_id) if unit == "script" else self._response(response_id)
        try:
            checked = check_segments(segments, codebook, coded["text"] if unit == "script"
                                     else coded["justification"] or "")
        except ValueError as exc:
            raise DualroleError(str(exc)) from None
        row = {"coding_id": str(uuid.uuid4()), "response_id": response_id, "learner": coded["learner"],
               "case_id": coded["case_id"], "coder": coder.strip(), "codebook_id": codebook.id,
               "codebook_version": codebook.version, "segments": checked, "reconciled": reconciled,
               "origin": origin, "coded_at": utcnow(), "unit": unit}
        with self.store.transaction() as conn:
            conn.execute(codings_table.insert(), row)
        return row

    def record_many(self, rows: list[dict]) -> int:
        """Append sheets already checked (``response_id``, ``coder``, ``segments``...) in one transaction."""
        if not rows:
            return 0
        stamp = utcnow()
        full = [{"coding_id": str(uuid.uuid4()), "reconciled": False, "coded_at": stamp, "unit": "reasoning"} | r
                for r in rows]
        with self.store.transaction() as conn:
            conn.execute(codings_table.insert(), full)
        return len(full)

    def sheets(self, case_id: str | None = None, coder: str | None = None, *, reconciled: bool | None = False,
               codebook: Codebook | None = None, latest: bool = True, unit: str | None = None) -> list[dict]:
        """Coding sheets, oldest first; with ``latest`` only each coder's last sheet per answer.

        ``reconciled`` False (the default) gives the coders' own sheets, True the reconciled ones,
        None both. With ``codebook``, only sheets made under that codebook's version; with ``unit``,
        only sheets of the reasoning or of scripts (every sheet says which: an older one, the reasoning).
        """
        c = codings_table
        q = sa.select(c)
        if case_id is not None:
            q = q.where(c.c.case_id == case_id)
        if coder is not None:
            q = q.where(c.c.coder == coder)
        if reconciled is not None:
            q = q.where(c.c.reconciled == reconciled)
        if codebook is not None:
            q = q.where(c.c.codebook_id == codebook.id, c.c.codebook_version == codebook.version)
        if unit == "reasoning":
            q = q.where(sa.or_(c.c.unit.is_(None), c.c.unit == unit))
        elif unit is not None:
            q = q.where(c.c.unit == unit)
        with self.engine.connect() as conn:
            rows = [dict(r._mapping) | {"unit": r.unit or "reasoning"}
                    for r in conn.execute(q.order_by(c.c.coded_at, c.c.coding_id))]
        if not latest:
            return rows
        last = {(r["response_id"], r["coder"], r["reconciled"]): r for r in rows}
        return sorted(last.values(), key=lambda r: r["coded_at"])

    def reconciled(self, codebook: Codebook | None = None) -> dict[str, dict]:
        """The latest reconciled sheet of each answer, by response id, and of each script, by script id."""
        return {r["response_id"]: r for r in self.sheets(reconciled=True, codebook=codebook)}

    def _script(self, script_id: str) -> dict:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(scripts_table).where(scripts_table.c.script_id == script_id)).first()
        if row is None:
            raise DualroleError(f"no script {script_id} in {describe_url(self.store.url)}")
        return dict(row._mapping)

    def _response(self, response_id: str) -> dict:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(responses_table)
                               .where(responses_table.c.response_id == response_id)).first()
        if row is None:
            raise DualroleError(f"no response {response_id} in {describe_url(self.store.url)}")
        return dict(row._mapping)

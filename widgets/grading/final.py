"""Which score of an answer counts: the rule the gradebook, release and the review screen share.

Graders score blind: each one's sheet is their own, entered without seeing anyone else's. An answer's
final score, the one its learner sees and the gradebook counts, is

- the reconciled score, when one was recorded (the latest);
- else the one grader's complete sheet, when only one grader scored it;
- else the graders' sheets when they are all complete and give the same levels;
- else none yet: graders who differ must reconcile first, and an unfinished sheet counts for nothing.

Only sheets under the rubric's current version count: a score given under another version keeps its
own meaning, and is never rescaled to this one.
"""

from __future__ import annotations

from dataclasses import dataclass

from widgets.grading.files import Rubric


@dataclass(frozen=True)
class FinalScore:
    """An answer's final levels, or why it has none yet (``levels`` is None and ``reason`` says why)."""

    levels: dict | None
    comment: str = ""
    by: tuple[str, ...] = ()
    reconciled: bool = False
    reason: str = ""
    total: float = 0.0
    top: float = 1.0

    @property
    def share(self) -> float | None:
        """The total over the rubric's top (None without a final score)."""
        return None if self.levels is None else self.total / self.top


NOT_SCORED = "not scored yet"
OLD_VERSION = "scored only under another version of the rubric"
INCOMPLETE = "a grader's sheet is unfinished"
DIFFER = "the graders differ: reconcile them"


def final_score(sheets: list[dict], reconciled: list[dict], rubric: Rubric) -> FinalScore:
    """The final score of one answer from its graders' latest ``sheets`` and its ``reconciled`` rows.

    >>> from widgets.grading.files import default_rubric
    >>> rubric = default_rubric()
    >>> full = {c.id: 1 for c in rubric.criteria}
    >>> sheet = {"scorer": "ana", "rubric_id": rubric.id, "rubric_version": rubric.version, "levels": full,
    ...          "comment": ""}
    >>> final_score([sheet], [], rubric).by
    ('ana',)
    >>> final_score([sheet, {**sheet, "scorer": "ben", "levels": {**full, "roles": 2}}], [], rubric).reason
    'the graders differ: reconcile them'
    """
    current = [s for s in sheets if s["rubric_id"] == rubric.id and s["rubric_version"] == rubric.version]
    agreed = [r for r in reconciled if r["rubric_id"] == rubric.id and r["rubric_version"] == rubric.version]
    if agreed:
        last = agreed[-1]
        return _final(rubric, last["levels"], last["comment"], (last["reconciled_by"],), reconciled=True)
    if not current:
        return FinalScore(None, reason=OLD_VERSION if sheets else NOT_SCORED)
    ids = {c.id for c in rubric.criteria}
    if any(set(s["levels"]) != ids for s in current):
        return FinalScore(None, reason=INCOMPLETE)
    if len({tuple(sorted(s["levels"].items())) for s in current}) > 1:
        return FinalScore(None, reason=DIFFER)
    comment = "\n\n".join(s["comment"] for s in current if s.get("comment"))
    return _final(rubric, current[0]["levels"], comment, tuple(s["scorer"] for s in current))


def _final(rubric: Rubric, levels: dict, comment: str, by: tuple[str, ...], reconciled: bool = False) -> FinalScore:
    return FinalScore(dict(levels), comment, by, reconciled, "",
                      float(sum(levels.get(c.id, 0) for c in rubric.criteria)), float(rubric.top))

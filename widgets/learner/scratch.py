"""What a learner has in hand on this machine but has not committed: drafts, and the steps they took.

A draft (choice, confidence, ratings, reasoning) typed before a commit survives a kernel restart or a
reload, and so does the learner's word that they keep their answer or have opened the reference. None
of it is a response: it is never counted, never sent to the class service and never exported. It is
one small JSON file in the learner's data folder, readable only by them, written atomically.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from widgets.paths import home, write_private

FILE_NAME = "scratch.json"


def scratch_key(learner: str, phase: str, case_id: str) -> str:
    """The key of one learner's work on one case in one phase (whatever their class code)."""
    return "\x1f".join((learner, phase, case_id))


class Scratch:
    """Drafts and steps, kept per case in ``scratch.json`` in the data folder (or ``path``)."""

    def __init__(self, path: Path | str | None = None):
        self.path = Path(path) if path is not None else home() / FILE_NAME

    # -- drafts --------------------------------------------------------------------------------

    def draft(self, key: str, attempt: int) -> dict | None:
        """The uncommitted draft of this attempt, or None."""
        found = self._read()["drafts"].get(key)
        return found["fields"] if found and found.get("attempt") == attempt else None

    def save_draft(self, key: str, attempt: int, fields: dict) -> None:
        """Keep the draft of this attempt (replacing an earlier one)."""
        self._update(lambda data: data["drafts"].__setitem__(key, {"attempt": attempt, "fields": fields}))

    def drop_draft(self, key: str) -> None:
        """Forget the draft: it has been committed."""
        self._update(lambda data: data["drafts"].pop(key, None))

    # -- steps ---------------------------------------------------------------------------------

    def done(self, key: str, step: str) -> bool:
        """Whether the learner took ``step`` ("kept" their answer, "seen" the reference, or was shown the
        class's counts: "distribution")."""
        return step in self._read()["steps"].get(key, {})

    def mark(self, key: str, step: str) -> None:
        """Record that the learner took ``step`` now."""
        now = datetime.now(timezone.utc).isoformat()
        self._update(lambda data: data["steps"].setdefault(key, {}).setdefault(step, now))

    # -- the file ------------------------------------------------------------------------------

    def _read(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            data = {}
        except (OSError, ValueError):
            # A damaged file must not stop a learner working: set it aside and start afresh.
            self.path.replace(self.path.with_suffix(".damaged"))
            data = {}
        if not isinstance(data, dict):
            data = {}
        return {"drafts": _without_cohort(data.get("drafts")), "steps": _without_cohort(data.get("steps"))}

    def _update(self, change) -> None:
        data = self._read()
        change(data)
        write_private(self.path, json.dumps(data, ensure_ascii=False).encode("utf-8"))


def _without_cohort(entries) -> dict:
    """Entries by key; keys written when the class code was part of them (learner, cohort, phase, case)
    are read under today's key, so a draft kept before that change is not lost."""
    found = {}
    for key, value in dict(entries or {}).items():
        parts = key.split("\x1f")
        if len(parts) == 4:
            key = scratch_key(parts[0], parts[2], parts[3])
            if key in found:
                continue
        found[key] = value
    return found

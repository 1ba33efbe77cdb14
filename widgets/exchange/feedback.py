"""Feedback files: the feedback released to one learner, to hand back without a hub.

The format follows learner bundles (:mod:`widgets.exchange.bundle`): JSON Lines headed by a
manifest with the format version, the learner, the count, a SHA-256 over the feedback lines and the
SHA-256 of each line. A learner's import is all or nothing, and refuses a file for another learner,
a file changed after it was written, and feedback on a case version the learner did not answer.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from widgets.errors import DualroleError
from widgets.exchange.bundle import MAX_BUNDLE_BYTES, checksum, line_digest
from widgets.paths import write_private
from widgets.responses.codec import jsonable, parse_timestamp
from widgets.responses.contract import utcnow
from widgets.store.scores import ScoreBook
from widgets.store.sql import Store

FEEDBACK_FORMAT = 1
FEEDBACK_FIELDS = ("feedback_id", "learner", "response_id", "case_id", "case_version", "rubric_id",
                   "rubric_version", "levels", "comment", "released_by", "released_at")


class FeedbackRefused(DualroleError):
    """A feedback file that cannot be imported; nothing from it was kept."""


def feedback_text(learner: str, rows: list[dict]) -> str:
    """A whole feedback file: the manifest line, then one line per released feedback."""
    lines = [json.dumps(jsonable({k: r[k] for k in FEEDBACK_FIELDS}), sort_keys=True, ensure_ascii=False)
             for r in rows]
    manifest = {"dualrole_feedback": FEEDBACK_FORMAT, "learner": learner, "count": len(lines),
                "sha256": checksum(lines), "line_sha256": [line_digest(line) for line in lines],
                "exported_at": utcnow().isoformat()}
    return "\n".join([json.dumps(manifest, sort_keys=True), *lines]) + "\n"


def file_name(learner: str) -> str:
    """A safe file name for a learner's feedback file."""
    return "feedback-" + re.sub(r"[^A-Za-z0-9._-]+", "_", learner) + ".jsonl"


def export_feedback(store: Store, out_dir: Path | str, learners: list[str] | None = None) -> dict[str, Path]:
    """Write one feedback file per learner with released feedback; return ``{learner: path}``."""
    out_dir = Path(out_dir)
    by_learner: dict[str, list[dict]] = {}
    for row in ScoreBook(store).released():
        by_learner.setdefault(row["learner"], []).append(row)
    written = {}
    for learner, rows in sorted(by_learner.items()):
        if learners is not None and learner not in learners:
            continue
        path = out_dir / file_name(learner)
        # Mode 600, replaced atomically: never a half-written file for a learner to import.
        write_private(path, feedback_text(learner, rows).encode("utf-8"))
        written[learner] = path
    return written


def read_feedback(path: Path | str, learner: str, answers: list[dict]) -> list[dict]:
    """The feedback in a file, checked for ``learner`` against their own ``answers`` (store rows).

    Raises :class:`FeedbackRefused`, naming the file (and line), when the file is not a feedback
    file, is for someone else, was changed after it was written, or holds feedback on a case
    version the learner did not answer.
    """
    path = Path(path)
    name = path.name
    try:
        if path.stat().st_size > MAX_BUNDLE_BYTES:
            raise FeedbackRefused(f"{name}: too large to be a feedback file")
        raw = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise FeedbackRefused(f"{name}: cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise FeedbackRefused(f"{name}: not a dualrole feedback file (it is not UTF-8 text)") from None
    lines = raw.splitlines()
    try:
        manifest = json.loads(lines[0]) if lines else None
    except json.JSONDecodeError:
        manifest = None
    if not isinstance(manifest, dict) or "dualrole_feedback" not in manifest:
        raise FeedbackRefused(f"{name}: not a dualrole feedback file (line 1 is not its manifest); "
                              "your instructor makes them with 'dualrole feedback-export'")
    if not isinstance(manifest["dualrole_feedback"], int) or manifest["dualrole_feedback"] > FEEDBACK_FORMAT:
        raise FeedbackRefused(f"{name}: feedback format {manifest['dualrole_feedback']} is newer than this "
                              "dualrole reads: upgrade with: pip install -U dualrole")
    if manifest.get("learner") != learner:
        raise FeedbackRefused(f"{name}: this feedback is for learner '{manifest.get('learner')}', not for you "
                              f"('{learner}'): ask your instructor for your own file")
    body = [line for line in lines[1:] if line.strip()]
    digests = manifest.get("line_sha256") or []
    if checksum(body) != manifest.get("sha256") or len(body) != manifest.get("count"):
        changed = [n for n, line in enumerate(body, start=2) if n - 2 >= len(digests) or
                   line_digest(line) != digests[n - 2]]
        where = f" (line {changed[0]})" if changed else ""
        raise FeedbackRefused(f"{name}: the file was changed after your instructor wrote it{where}; "
                              "its checksum does not match, so none of it was imported")
    versions: dict[str, set[str]] = {}
    for answer in answers:
        if answer["learner"] == learner:
            versions.setdefault(answer["case_id"], set()).add(answer["case_version"])
    rows = []
    for number, line in enumerate(body, start=2):
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise FeedbackRefused(f"{name}:{number}: not valid JSON ({exc.msg})") from None
        missing = [f for f in FEEDBACK_FIELDS if f not in row] if isinstance(row, dict) else list(FEEDBACK_FIELDS)
        if missing:
            raise FeedbackRefused(f"{name}:{number}: not a feedback line (missing {', '.join(missing)})")
        if row["learner"] != learner:
            raise FeedbackRefused(f"{name}:{number}: this line is feedback for '{row['learner']}', not for you")
        if row["case_version"] not in versions.get(row["case_id"], set()):
            answered = ", ".join(sorted(versions.get(row["case_id"], set()))) or "none"
            raise FeedbackRefused(
                f"{name}:{number}: feedback on case '{row['case_id']}' version {row['case_version']}, which you "
                f"did not answer here (your answers to it: {answered}); nothing was imported")
        rows.append(row)
    return rows


def import_feedback(path: Path | str, store: Store, learner: str) -> int:
    """Check a learner's feedback file and keep it in their store; return how many were new.

    Example::

        >>> import_feedback("feedback-ana.jsonl", open_store(), "ana")    # doctest: +SKIP
        3
    """
    rows = read_feedback(path, learner, store.responses(learner=learner))
    for row in rows:
        row["released_at"] = parse_timestamp(row["released_at"])
    return ScoreBook(store).keep_imported(rows)

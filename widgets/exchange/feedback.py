"""Feedback files: the feedback released to one learner, to hand back without a hub.

The format follows learner bundles (:mod:`widgets.exchange.bundle`): JSON Lines headed by a
manifest with the format version, the learner, the count, a SHA-256 over the feedback lines and the
SHA-256 of each line, and an HMAC-SHA256 signature over the learner and those lines with the class's
feedback key. A learner's import is all or nothing, and refuses an unsigned file, a file for another
learner, a file changed after it was written, and feedback on a case version the learner did not
answer.

The class's key is made on the first export and kept beside the class store (``class.sqlite`` has
``class.sqlite.feedback-key``; a PostgreSQL store's key is in the instructor's data folder), readable
by its owner only (0600), and never written into any export. Only who holds it can check a
signature: :func:`verify_feedback` is the instructor's check of a file a learner shows them, for
the learner's own machine cannot hold the key without being able to sign.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import unicodedata
from pathlib import Path

from widgets.errors import DualroleError
from widgets.exchange.bundle import MAX_BUNDLE_BYTES, checksum, line_digest
from widgets.paths import private_folder, write_private
from widgets.responses.codec import jsonable, parse_timestamp
from widgets.responses.contract import utcnow
from widgets.store.scores import ScoreBook
from widgets.store.sql import Store

FEEDBACK_FORMAT = 2  # 2: signed with the class's feedback key
FEEDBACK_FIELDS = ("feedback_id", "learner", "response_id", "case_id", "case_version", "rubric_id",
                   "rubric_version", "levels", "comment", "released_by", "released_at")


class FeedbackRefused(DualroleError):
    """A feedback file that cannot be imported; nothing from it was kept."""


def key_path(store: Store) -> Path:
    """Where the class's feedback key lives: beside a SQLite store, else in the data folder."""
    from sqlalchemy.engine import make_url

    from widgets.paths import home

    url = make_url(store.url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database).with_name(Path(url.database).name + ".feedback-key")
    name = hashlib.sha256(url.render_as_string(hide_password=True).encode("utf-8")).hexdigest()[:16]
    return home() / "feedback-keys" / f"{name}.key"


def feedback_key(store: Store, *, create: bool = True) -> bytes:
    """The class's feedback key (made on first use, 0600 in its folder); raises when absent and not ``create``."""
    path = key_path(store)
    if path.exists():
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    if not create:
        raise DualroleError(f"there is no feedback key at {path}: files are signed with the key of the class "
                            "store that exported them")
    private_folder(path.parent)
    key = secrets.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another export made it first: use theirs
        return feedback_key(store, create=False)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key.hex() + "\n")
    return key


def _signature(key: bytes, learner: str, lines: list[str]) -> str:
    message = json.dumps({"learner": learner, "sha256": checksum(lines)}, sort_keys=True).encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def feedback_text(learner: str, rows: list[dict], key: bytes) -> str:
    """A whole feedback file: the signed manifest line, then one line per released feedback."""
    lines = [json.dumps(jsonable({k: r[k] for k in FEEDBACK_FIELDS}), sort_keys=True, ensure_ascii=False)
             for r in rows]
    manifest = {"dualrole_feedback": FEEDBACK_FORMAT, "learner": learner, "count": len(lines),
                "sha256": checksum(lines), "line_sha256": [line_digest(line) for line in lines],
                "hmac_sha256": _signature(key, learner, lines), "exported_at": utcnow().isoformat()}
    return "\n".join([json.dumps(manifest, sort_keys=True), *lines]) + "\n"


def file_name(learner: str) -> str:
    """A file name for a learner's feedback file, unique to them: a readable slug and a short hash.

    >>> file_name("zo\u00eb") != file_name("zo\u00e9")
    True
    >>> file_name("zo\u00eb")[:13]
    'feedback-zoe-'
    """
    slug = unicodedata.normalize("NFKD", learner).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", slug).strip("._")[:60] or "learner"
    digest = hashlib.sha256(learner.encode("utf-8")).hexdigest()[:8]
    return f"feedback-{slug}-{digest}.jsonl"


def export_feedback(store: Store, out_dir: Path | str, learners: list[str] | None = None) -> dict[str, Path]:
    """Write one signed feedback file per learner with released feedback; return ``{learner: path}``."""
    out_dir = Path(out_dir)
    key = feedback_key(store)
    by_learner: dict[str, list[dict]] = {}
    for row in ScoreBook(store).released():
        by_learner.setdefault(row["learner"], []).append(row)
    written = {}
    for learner, rows in sorted(by_learner.items()):
        if learners is not None and learner not in learners:
            continue
        path = out_dir / file_name(learner)
        # Mode 600, replaced atomically: never a half-written file for a learner to import.
        write_private(path, feedback_text(learner, rows, key).encode("utf-8"))
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
    if not isinstance(manifest.get("hmac_sha256"), str):
        raise FeedbackRefused(f"{name}: this feedback file is not signed by your instructor; nothing was imported: "
                              "ask them for the file 'dualrole feedback-export' writes")
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


def verify_feedback(path: Path | str, store: Store) -> str:
    """The instructor's check of a feedback file against the class's key; return its learner.

    Raises :class:`FeedbackRefused` when the file is unsigned, or was changed after it was signed.
    """
    path = Path(path)
    try:
        lines = path.read_bytes().decode("utf-8-sig").splitlines()
        manifest = json.loads(lines[0])
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, IndexError):
        raise FeedbackRefused(f"{path.name}: not a dualrole feedback file") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("hmac_sha256"), str):
        raise FeedbackRefused(f"{path.name}: not signed: it was not written by dualrole feedback-export")
    body = [line for line in lines[1:] if line.strip()]
    expected = _signature(feedback_key(store, create=False), str(manifest.get("learner")), body)
    if not hmac.compare_digest(expected, manifest["hmac_sha256"]):
        raise FeedbackRefused(f"{path.name}: the signature does not match: the file was changed after it was "
                              "exported, or comes from another class")
    return str(manifest["learner"])


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

"""The learner's outbox: answers and scripts kept on this machine while the class service cannot be reached.

An append-only JSON Lines file in the learner's data folder. Each answer (keyed by its
``response_id``) or saved script (what the learner would say, keyed by its ``script_id``) is one
line, written and fsynced before the card says it is saved; a later line marks it sent (or refused,
with the reason, and the refused row is copied to ``outbox-refused.jsonl`` so it is never lost).
Once nothing is waiting the file is emptied. A lock file keeps two kernels of the same learner from
interleaving. Every file here is mode 600 in a folder made 700, whatever the umask: they hold the
learner's reasoning and words.
"""

from __future__ import annotations

import json
import os
import threading
from contextlib import contextmanager
from pathlib import Path

from widgets.paths import open_private, private_folder, write_private
from widgets.responses.contract import utcnow

try:  # POSIX; a hub's servers run on Linux
    import fcntl
except ImportError:  # pragma: no cover - Windows: one kernel at a time is assumed
    fcntl = None


_registry: dict[str, "Outbox"] = {}
_registry_lock = threading.Lock()


# What an outbox line holds, and the field that names it: a script carries the ``response_id`` of
# the answer it follows, so each kind is keyed by its own id.
ANSWER, SCRIPT = "response", "script"
_KEYS = {ANSWER: "response_id", SCRIPT: "script_id"}


def entry_id(entry: dict) -> str | None:
    """The id of the answer or script a refused entry holds (what :meth:`Outbox.mark_told` takes)."""
    kind = SCRIPT if SCRIPT in entry else ANSWER
    row = entry.get(kind)
    return row.get(_KEYS[kind]) if isinstance(row, dict) else None


class Outbox:
    """Answers (by ``response_id``) and scripts (by ``script_id``) waiting to be sent, in the order
    they were saved."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.refused_path = self.path.with_name(self.path.stem + "-refused.jsonl")
        self._lock_path = self.path.with_suffix(".lock")
        self._thread_lock = threading.RLock()
        self._depth = 0  # the file lock is taken once, by the outermost holder in this process

    @classmethod
    def at(cls, path: Path | str) -> "Outbox":
        """The one Outbox object of this process for ``path`` (cards in one kernel share it)."""
        key = str(Path(path).resolve())
        with _registry_lock:
            return _registry.setdefault(key, cls(path))

    @contextmanager
    def locked(self):
        """Hold the outbox against other threads and other processes of the same learner; re-entrant."""
        with self._thread_lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            private_folder(self.path.parent)
            with os.fdopen(open_private(self._lock_path, os.O_RDWR), "r+b") as handle:
                if fcntl is not None:
                    fcntl.flock(handle, fcntl.LOCK_EX)
                self._depth = 1
                try:
                    yield
                finally:
                    self._depth = 0
                    if fcntl is not None:
                        fcntl.flock(handle, fcntl.LOCK_UN)

    def put(self, row: dict) -> None:
        """Keep one answer (a JSON-ready row); it is on disk when this returns."""
        self._put(ANSWER, row)

    def put_script(self, row: dict) -> None:
        """Keep one saved script (a JSON-ready row); it is on disk when this returns."""
        self._put(SCRIPT, row)

    def pending(self) -> list[dict]:
        """Answers not yet sent or refused, oldest first."""
        return self._waiting(ANSWER)

    def pending_scripts(self) -> list[dict]:
        """Scripts not yet sent or refused, oldest first (sent after the answers: a script follows one)."""
        return self._waiting(SCRIPT)

    def mark_sent(self, row_id: str) -> None:
        """Record that the answer or script with this id reached the service."""
        with self.locked():
            self._append(self.path, {"sent": row_id})

    def refuse(self, row: dict, reason: str, code: str | None = None) -> None:
        """Record that the service refused an answer for good; the answer is kept, with the reason
        (and the service's ``code``, e.g. ``already_answered``)."""
        self._refuse(ANSWER, row, reason, code)

    def refuse_script(self, row: dict, reason: str, code: str | None = None) -> None:
        """Record that the service refused a script for good; it is kept, with the reason."""
        self._refuse(SCRIPT, row, reason, code)

    def compact(self) -> None:
        """Empty the file once every answer and script in it has been sent or refused."""
        with self.locked():
            if self.path.exists() and not self.pending() and not self.pending_scripts():
                write_private(self.path, b"")

    def refused(self) -> list[dict]:
        """Answers and scripts the service refused, with the reasons (for the learner or instructor to see)."""
        return [e for e in _read_lines(self.refused_path) if isinstance(e, dict) and (ANSWER in e or SCRIPT in e)]

    def untold(self) -> list[dict]:
        """Refused answers and scripts the learner has not yet been told about (see :meth:`mark_told`)."""
        with self.locked():
            entries = [e for e in _read_lines(self.refused_path) if isinstance(e, dict)]
            told = {e["told"] for e in entries if "told" in e}
            return [e for e in entries if (ANSWER in e or SCRIPT in e) and entry_id(e) not in told]

    def mark_told(self, row_id: str) -> None:
        """Record that the learner has been told about this refused answer or script, so they are told once."""
        with self.locked():
            self._append(self.refused_path, {"told": row_id})

    def _put(self, kind: str, row: dict) -> None:
        with self.locked():
            self._append(self.path, {kind: row, "queued_at": utcnow().isoformat()})

    def _waiting(self, kind: str) -> list[dict]:
        key = _KEYS[kind]
        with self.locked():
            waiting: dict[str, dict] = {}
            for entry in self._entries():
                if not isinstance(entry, dict):
                    continue
                row = entry.get(kind)
                if isinstance(row, dict) and isinstance(row.get(key), str):
                    waiting.setdefault(row[key], row)
                elif "sent" in entry or "refused" in entry:
                    waiting.pop(entry.get("sent") or entry.get("refused"), None)
            return list(waiting.values())

    def _refuse(self, kind: str, row: dict, reason: str, code: str | None) -> None:
        with self.locked():
            self._append(self.refused_path, {kind: row, "reason": reason, "code": code,
                                             "refused_at": utcnow().isoformat()})
            self._append(self.path, {"refused": row[_KEYS[kind]], "reason": reason})

    # -- file ----------------------------------------------------------------------------------

    def _entries(self):
        return _read_lines(self.path)

    @staticmethod
    def _append(path: Path, entry: dict) -> None:
        line = json.dumps(entry, sort_keys=True, ensure_ascii=False).encode("utf-8") + b"\n"
        new = not path.exists()
        fd = open_private(path, os.O_WRONLY | os.O_APPEND)
        try:
            # A crash mid-write can leave a last line without its newline: never glue onto it.
            if not new and os.fstat(fd).st_size and not _ends_with_newline(path):
                line = b"\n" + line
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        if new:
            _fsync_dir(path.parent)


def _read_lines(path: Path):
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return
    for raw in data.split(b"\n"):
        if not raw.strip():
            continue
        try:
            yield json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue  # only a line cut short by a crash, before the card said "saved"


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
